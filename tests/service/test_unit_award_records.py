"""A unit's Giấy khen decision as a record beside the province's (issue 11, sections 3 and 5): the public
check by number names the issuing authority when a ward's QĐ-UBND and the province's share a number; the
statistics export's rows follow what the reader may see; a head may sign elsewhere and upload. SQLite and
PostgreSQL, a real local PKI (certomancer), pyHanko as the external signing tool."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import html
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers as ph_signers
from pyhanko.sign import timestamps
from pyhanko.sign.fields import SigSeedSubFilter
from pypdf import PdfWriter
from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.models import Attachment, RegisterEntry
from service.documents import signers, signing
from service.documents.batch_documents import Issuers
from service.documents.demo_pki import PASSPHRASE, LocalPki
from service.documents.register import authorities, register
from tests.service.helpers import (
    ADMIN,
    CHAIRMAN,
    DOST_LEAD,
    HA_OFFICER,
    HEAD,
    HIEN_NAM,
    OTHER_HEAD,
    STAFF,
    Auth,
    assert_problem,
    detail,
    open_task,
)
from tests.service.test_statistics import log_in, page_tables, workbook_tables
from tests.service.test_unit_award import (  # noqa: F401 - criteria_set is a fixture
    HEADS,
    WARD_COUNCIL,
    council_approves,
    criteria_set,
    sign,
    to_council,
    unit_signers,
)

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "unit_award"
PROVINCE_SUBJECT = "Về việc tặng Bằng khen của Chủ tịch UBND tỉnh"


def ward_decision(client: FlaskClient, auth: Auth) -> str:
    """The ward Hiền Nam's first Giấy khen decision: 01/QĐ-UBND of its own register."""
    nomination_id = to_council(client, auth, STAFF, HIEN_NAM, name="Lê Văn Cường")
    council_approves(client, auth, nomination_id, council=WARD_COUNCIL)
    response = sign(client, auth, nomination_id, HEAD)
    assert response.get_json()["citation"] == "01/QĐ-UBND", response.get_json()
    return nomination_id


def province_entry(runtime: Runtime, number_on: date) -> None:
    """The province's own 01/QĐ-UBND in the register (its signing is proven in test_decisions)."""
    with runtime.uow() as uow:
        entry = register(uow.session, authorities()[Issuers.load().decision_authority], "QĐ", number_on,
                         PROVINCE_SUBJECT, "Nguyễn Văn Chủ", 3, datetime(2026, 5, 1, tzinfo=UTC))
        entry.pdf_sha256 = "ab" * 32
        uow.commit()


def verdicts(client: FlaskClient, **form: str) -> tuple[str, list[str]]:
    page = client.post("/xac-thuc", data=form)
    assert page.status_code == 200, page.text
    tree = html.fromstring(page.text)
    shown = [" ".join(dd.text_content().split()) for dd in tree.xpath(
        "//section[contains(@class,'result')]//dt[.='Cơ quan ban hành']/following-sibling::dd[1]")]
    return " ".join(tree.xpath("string(//section[contains(@class,'result')])").split()), shown


@pytest.mark.usefixtures("criteria_set")
def test_a_number_shared_by_two_authorities_lists_both_and_the_authority_narrows_it(
        client: FlaskClient, auth: Auth, runtime: Runtime, pki: LocalPki) -> None:
    unit_signers(runtime, pki)
    ward_decision(client, auth)
    province_entry(runtime, date(2026, 5, 1))
    with runtime.read() as uow:
        assert len(uow.session.scalars(select(RegisterEntry).where(RegisterEntry.symbol == "QĐ-UBND")).all()) == 2
    web = client.application.test_client()
    text, shown = verdicts(web, number="01/QĐ-UBND")
    assert "Có 2 quyết định đã ký mang số này" in text
    assert len(shown) == 2 and sum("Hiến Nam" in name for name in shown) == 1
    assert "Có trong sổ đăng ký:" not in text  # no single verdict is given for an ambiguous number
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "xac-thuc-trung-so.html").write_text(web.post("/xac-thuc", data={"number": "01/QĐ-UBND"}).text)
    # The page offers the authorities with signed decisions; choosing one gives its decision only.
    choices = html.fromstring(web.get("/xac-thuc").text).xpath("//select[@name='authority']/option/@value")
    assert HIEN_NAM in choices and Issuers.load().decision_authority in choices
    text, shown = verdicts(web, number="01/QĐ-UBND", authority=HIEN_NAM)
    assert len(shown) == 1 and "Hiến Nam" in shown[0] and "Có trong sổ đăng ký:" in text
    assert PROVINCE_SUBJECT not in text
    text, shown = verdicts(web, number="01/QĐ-UBND/2026", authority=Issuers.load().decision_authority)
    assert len(shown) == 1 and "Hiến Nam" not in shown[0] and PROVINCE_SUBJECT in text
    text, shown = verdicts(web, number="02/QĐ-UBND", authority=HIEN_NAM)
    assert not shown and "Không có quyết định đã ký nào mang số này" in text


@pytest.mark.usefixtures("criteria_set")
def test_the_list_export_shows_a_given_giay_khen_to_its_unit_and_only_counts_it_for_the_province(
        client: FlaskClient, auth: Auth, runtime: Runtime, pki: LocalPki) -> None:
    unit_signers(runtime, pki)
    given = ward_decision(client, auth)
    for user, listed in ((DOST_LEAD, False), (HA_OFFICER, False), (CHAIRMAN, False), (STAFF, True),
                         (HEAD, True), (ADMIN, True)):
        web = client.application.test_client()
        log_in(web, user)
        export = web.get("/statistics/nominations.xlsx?movement=1")
        if export.status_code == 403:  # a unit role without statistics: nothing to list
            continue
        assert export.status_code == 200, user
        rows = next(iter(workbook_tables(export.data).values()))[1:]
        assert (given in {row[0] for row in rows}) is listed, user
        if not listed:  # the province still counts the unit's result
            by_award = {row[0]: row[1:] for row in page_tables(web.get("/statistics?movement=1").text)["by_award"][1:]}
            assert by_award["Giấy khen của Thủ trưởng các cơ quan, tổ chức, đơn vị"] == ["1", "1"], user


def signed_elsewhere(pdf: bytes, pki: LocalPki, label: str, folder: Path) -> bytes:
    """The head's own signing tool: pyHanko with the person's PKCS#12 and the TSA, nothing of nomflow."""
    p12 = folder / f"{label}.p12"
    p12.write_bytes(pki.pkcs12(label))
    signer = ph_signers.SimpleSigner.load_pkcs12(str(p12), passphrase=PASSPHRASE)
    assert signer is not None
    out = ph_signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), ph_signers.PdfSignatureMetadata(
        field_name="ChuKyThuTruong", subfilter=SigSeedSubFilter.PADES), signer=signer,
        timestamper=timestamps.HTTPTimeStamper(pki.tsa_url))
    return out.getvalue()


def upload(client: FlaskClient, auth: Auth, nomination_id: str, pdf: bytes, user: str = HEAD) -> Any:
    return client.post(f"/api/v1/nominations/{nomination_id}/unit-decision/signed", headers=auth(user),
                       data={"file": (io.BytesIO(pdf), "qd-da-ky.pdf")}, content_type="multipart/form-data")


def stored(runtime: Runtime, nomination_id: str) -> tuple[int, int, list[str]]:
    with runtime.read() as uow:
        session = uow.session
        return (len(session.scalars(select(Attachment).where(Attachment.nomination_id == nomination_id)).all()),
                len(session.scalars(select(RegisterEntry).where(RegisterEntry.pdf_sha256.is_not(None))).all()),
                [e.symbol for e in session.scalars(select(RegisterEntry))])


@pytest.mark.usefixtures("criteria_set")
def test_a_head_signs_elsewhere_and_only_the_exact_pdf_signed_by_the_configured_head_is_accepted(
        client: FlaskClient, auth: Auth, runtime: Runtime, pki: LocalPki, tmp_path: Path) -> None:
    unit_signers(runtime, pki)
    nomination_id = to_council(client, auth, STAFF, HIEN_NAM, name="Lê Văn Cường")
    council_approves(client, auth, nomination_id, council=WARD_COUNCIL)
    assert_problem(upload(client, auth, nomination_id, b"%PDF-1.4\n%%EOF\n"), 422)  # no number given yet
    given = client.post(f"/api/v1/nominations/{nomination_id}/unit-decision/external", headers=auth(HEAD))
    assert given.status_code == 201, given.get_json()
    assert given.get_json()["citation"] == "01/QĐ-UBND"
    again = client.post(f"/api/v1/nominations/{nomination_id}/unit-decision/external", headers=auth(HEAD)).get_json()
    assert again == given.get_json()  # the decision keeps its number and its PDF
    assert detail(client, auth, nomination_id, STAFF)["status"] == "unit_decision_signing"
    pdf = client.get(f"/api/v1/nominations/{nomination_id}/attachments/{again['sha256']}", headers=auth(HEAD)).data
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    assert "Số: 01/QĐ-UBND" in text.decode() and HEADS[HIEN_NAM] in text.decode()
    # The head's task page: the number given, the PDF to download, the upload.
    task = open_task(client, auth, nomination_id, "unit_decision_signing")["id"]
    log_in(head_web := client.application.test_client(), HEAD)
    task_page = head_web.get(f"/tasks/{task}").text
    assert "01/QĐ-UBND" in task_page and f"/files/{again['sha256']}" in task_page
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "ky-ngoai-he-thong.html").write_text(task_page)

    before = stored(runtime, nomination_id)
    other_pdf = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.write(other_pdf)
    good = signed_elsewhere(pdf, pki, "unit_head", tmp_path)
    at = len(good) // 3
    for refused, says in ((signed_elsewhere(pdf, pki, "other", tmp_path), "không phải người ký đã cấu hình"),
                          (signed_elsewhere(other_pdf.getvalue(), pki, "unit_head", tmp_path), "không phải bản"),
                          (good[:at] + bytes([good[at] ^ 1]) + good[at + 1:], "không hợp lệ")):
        response = upload(client, auth, nomination_id, refused)
        assert_problem(response, 422)
        assert says in response.get_json()["detail"], response.get_json()
    assert_problem(upload(client, auth, nomination_id, good, OTHER_HEAD), 404)  # another unit's head
    assert stored(runtime, nomination_id) == before  # nothing kept, no number taken
    assert detail(client, auth, nomination_id, STAFF)["status"] == "unit_decision_signing"

    done = upload(client, auth, nomination_id, good)
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["citation"] == "01/QĐ-UBND"
    assert detail(client, auth, nomination_id, STAFF)["status"] == "unit_certificate"
    kept = client.get(f"/api/v1/nominations/{nomination_id}/attachments/{done.get_json()['sha256']}",
                      headers=auth(HEAD)).data
    assert kept == good
    report = signing.verify(kept, signers.load(runtime.config.instance_dir).trust)
    assert report.valid and report.intact and report.trusted and report.timestamped
    with runtime.read() as uow:
        entries = uow.session.scalars(select(RegisterEntry).where(RegisterEntry.authority_id == HIEN_NAM)).all()
        names = set(uow.session.scalars(select(Attachment.filename).where(Attachment.nomination_id == nomination_id)))
    assert [(e.number, e.pdf_sha256, e.signer_name) for e in entries] == [
        (1, done.get_json()["sha256"], HEADS[HIEN_NAM])]
    assert f"giay-khen-{nomination_id}.pdf".lower() in names
    # The public check by file confirms the decision the head signed elsewhere.
    web = client.application.test_client()
    check = web.post("/xac-thuc", data={"file": (io.BytesIO(kept), "qd.pdf")}, content_type="multipart/form-data")
    assert "Quyết định thật, còn nguyên vẹn" in check.text


@pytest.mark.usefixtures("criteria_set")
def test_signing_on_the_server_after_a_number_was_given_keeps_that_number(
        client: FlaskClient, auth: Auth, runtime: Runtime, pki: LocalPki) -> None:
    unit_signers(runtime, pki)
    nomination_id = to_council(client, auth, STAFF, HIEN_NAM, name="Lê Văn Cường")
    council_approves(client, auth, nomination_id, council=WARD_COUNCIL)
    given = client.post(f"/api/v1/nominations/{nomination_id}/unit-decision/external", headers=auth(HEAD))
    assert given.get_json()["citation"] == "01/QĐ-UBND"
    signed = sign(client, auth, nomination_id, HEAD)
    assert signed.status_code == 201 and signed.get_json()["citation"] == "01/QĐ-UBND", signed.get_json()
    with runtime.read() as uow:
        entries = uow.session.scalars(select(RegisterEntry).where(RegisterEntry.authority_id == HIEN_NAM)).all()
    assert [(e.number, e.pdf_sha256) for e in entries] == [(1, signed.get_json()["sha256"])]
    assert_problem(upload(client, auth, nomination_id, b"%PDF-1.4\n%%EOF\n"), 409)  # the step is done
