"""The Giấy khen path inside a unit (issue 11, section 5), over the API on SQLite and PostgreSQL: the staff
drafts, the unit's council reviews with minutes, the head signs on the server with a real local PKI; the
number comes from the unit's own register (…/QĐ-<unit symbol>), the PDF is valid for pyHanko's validator
and says the unit, the number and the date; province roles never see any of it."""

from __future__ import annotations

import io
import subprocess
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select, update

from service.core.runtime import Runtime
from service.db.models import Attachment, Movement, RegisterEntry
from service.documents import signers, signing
from service.documents.demo_pki import PASSPHRASE, LocalPki, seal_png, signature_png
from service.usecases import unit_awards
from tests.service.helpers import (
    ADMIN,
    CHAIRMAN,
    DOST_OFFICER,
    HA_OFFICER,
    HEAD,
    HIEN_NAM,
    OTHER_HEAD,
    OTHER_STAFF,
    STAFF,
    TAI_CHINH,
    Auth,
    actor,
    assert_problem,
    complete,
    detail,
    open_task,
)
from tests.service.test_statistics import log_in, page_tables
from tests.support.signing import write_setup
from tests.workflows.conftest import draft_data

COUNCIL, WARD_COUNCIL = "thuky.taichinh", "thuky.hiennam"
HEADS = {TAI_CHINH: "Phạm Quốc Hùng", HIEN_NAM: "Trần Văn Minh"}
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "unit_award"


def unit_signers(runtime: Runtime, pki: LocalPki) -> None:
    """The Chairman's setup, and the heads of two units signing with the demo PKI's unit head key."""
    folder = write_setup(runtime, pki).parent
    for unit_id, name in HEADS.items():
        signers.add_demo_signer(folder, unit_id, pkcs12=pki.pkcs12("unit_head"), certificate=pki.cert_pem("unit_head"),
                                name=name, organisation=unit_id, signature_png=signature_png(),
                                seal_png=seal_png())


def set_criteria(client: FlaskClient, auth: Auth, unit_id: str, head: str) -> None:
    response = client.put(f"/api/v1/units/{unit_id}/award-criteria", headers=auth(head), json={
        "movement_id": 1, "criteria": ["Hoàn thành xuất sắc nhiệm vụ chuyển đổi số của đơn vị",
                                       "Có sáng kiến được áp dụng trong đơn vị"]})
    assert response.status_code == 200, response.get_json()
    assert [c["code"] for c in response.get_json()] == ["gk1", "gk2"]


def giay_khen(name: str = "Nguyễn Văn An") -> dict[str, Any]:
    data = draft_data("ca_nhan", "giay_khen")
    report = data["dossier"]["bao_cao_thanh_tich"]
    data.update(nominee_name=name, criteria=["gk1"], dossier={"bao_cao_thanh_tich": report})
    return data


def to_council(client: FlaskClient, auth: Auth, staff: str = OTHER_STAFF, unit_id: str = TAI_CHINH,
               name: str = "Nguyễn Văn An") -> str:
    response = client.post("/api/v1/nominations", headers=auth(staff),
                           json={"unit_id": unit_id, "data": giay_khen(name)})
    assert response.status_code == 201, response.get_json()
    nomination_id = str(response.get_json()["id"])
    response = client.post(f"/api/v1/nominations/{nomination_id}/submit", headers=auth(staff), json={"data": {}})
    assert response.status_code == 200, response.get_json()
    assert detail(client, auth, nomination_id)["status"] == "council_review"
    return nomination_id


def council_approves(client: FlaskClient, auth: Auth, nomination_id: str, council: str = COUNCIL) -> str:
    upload = client.post(f"/api/v1/nominations/{nomination_id}/minutes", headers=auth(council),
                         data={"file": (_minutes_pdf(), "bien-ban-hop-hoi-dong.pdf")},
                         content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_json()
    sha = upload.get_json()["sha256"]
    task = open_task(client, auth, nomination_id, "council_review")
    response = complete(client, auth, council, task["id"], {
        "decision": "approve", "meeting_date": "2026-04-10", "members_present": 7, "votes_for": 7,
        "votes_against": 0, "minutes_file": sha})
    assert response.status_code == 200, response.get_json()
    assert detail(client, auth, nomination_id)["status"] == "unit_decision_signing"
    return str(sha)


def _minutes_pdf() -> Any:
    return io.BytesIO(b"%PDF-1.4\n% bien ban hop Hoi dong Thi dua - Khen thuong\n%%EOF\n")


def sign(client: FlaskClient, auth: Auth, nomination_id: str, head: str = OTHER_HEAD) -> Any:
    return client.post(f"/api/v1/nominations/{nomination_id}/unit-decision", headers=auth(head),
                       json={"passphrase": PASSPHRASE.decode()})


@pytest.fixture
def criteria_set(client: FlaskClient, auth: Auth) -> None:
    set_criteria(client, auth, TAI_CHINH, OTHER_HEAD)
    set_criteria(client, auth, HIEN_NAM, HEAD)


def test_the_giay_khen_path_inside_a_unit_numbers_from_the_units_register(
        client: FlaskClient, auth: Auth, runtime: Runtime, pki: LocalPki, criteria_set: None) -> None:
    unit_signers(runtime, pki)
    with runtime.uow() as uow:  # the decision cites the nomination's movement's own plan
        uow.session.execute(update(Movement).values(plan_number="88/KH-UBND", plan_date=date(2026, 2, 2)))
        uow.commit()
    first = to_council(client, auth)
    council_approves(client, auth, first)
    response = sign(client, auth, first)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["citation"] == "01/QĐ-STC" and response.get_json()["number"] == 1
    assert detail(client, auth, first)["status"] == "unit_certificate"

    second = to_council(client, auth, name="Trần Thị Bình")
    council_approves(client, auth, second)
    assert sign(client, auth, second).get_json()["citation"] == "02/QĐ-STC"

    # Another unit, its own register from 1 (a ward's People's Committee: QĐ-UBND, its own sequence).
    other = to_council(client, auth, STAFF, HIEN_NAM, name="Lê Văn Cường")
    council_approves(client, auth, other, council=WARD_COUNCIL)
    assert sign(client, auth, other, HEAD).get_json()["citation"] == "01/QĐ-UBND"

    with runtime.read() as uow:
        rows = uow.session.execute(select(RegisterEntry.authority_id, RegisterEntry.number, RegisterEntry.symbol,
                                          RegisterEntry.nomination_id).order_by(RegisterEntry.id)).all()
        signed_pdf = uow.session.scalars(select(Attachment).where(
            Attachment.nomination_id == first, Attachment.filename.like("%-da-ky.pdf"))).one()
        certificate = uow.session.scalars(select(Attachment).where(
            Attachment.nomination_id == first, Attachment.filename.like("giay-khen-%.pdf"))).one()
    assert [tuple(r) for r in rows] == [(TAI_CHINH, 1, "QĐ-STC", first), (TAI_CHINH, 2, "QĐ-STC", second),
                                         (HIEN_NAM, 1, "QĐ-UBND", other)]
    pdf = client.get(f"/api/v1/nominations/{first}/attachments/{signed_pdf.sha256}", headers=auth(OTHER_STAFF)).data
    report = signing.verify(pdf, signers.load(runtime.config.instance_dir).trust)
    assert report.valid and report.intact and report.trusted and report.timestamped
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    assert "SỞ TÀI CHÍNH TỈNH HƯNG YÊN" in " ".join(text.split())
    assert "Số: 01/QĐ-STC" in text and "ngày 13 tháng 4 năm 2026" in text and HEADS[TAI_CHINH] in text
    assert "Về việc tặng Giấy khen" in text and "Nguyễn Văn An" in text
    assert "Căn cứ Kế hoạch số 88/KH-UBND ngày 2/2/2026 của Ủy ban nhân dân tỉnh Hưng Yên phát động phong " \
           "trào thi đua" in " ".join(text.split())
    card = client.get(f"/api/v1/nominations/{first}/attachments/{certificate.sha256}", headers=auth(OTHER_STAFF)).data
    card_text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=card, capture_output=True,
                                        check=True).stdout.decode().split())
    assert "GIÁM ĐỐC SỞ TÀI CHÍNH TỈNH HƯNG YÊN" in card_text and "GIẤY KHEN" in card_text
    assert "Nguyễn Văn An" in card_text and "Quyết định số 01/QĐ-STC ngày 13/4/2026" in card_text
    # The decision then its annex: no blank page between them when the signature ends the first page.
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2
    # The unit's results count in the movement's statistics, for the province too (counts, not dossiers).
    web = client.application.test_client()
    log_in(web, "lanhdao.khcn")
    by_award = {row[0]: row[1:] for row in page_tables(web.get("/statistics").text)["by_award"][1:]}
    assert by_award["Giấy khen của Thủ trưởng các cơ quan, tổ chức, đơn vị"] == ["3", "3"]
    # The unit's register is its own: its people and admins read it, the province's register page omits it.
    for user, status in ((OTHER_STAFF, 200), (COUNCIL, 200), (ADMIN, 200), (HA_OFFICER, 404), (HEAD, 404)):
        reader = client.application.test_client()
        log_in(reader, user)
        page = reader.get(f"/don-vi/{TAI_CHINH}/giay-khen")
        assert page.status_code == status, user
        assert ("01/QĐ-STC" in page.text and "02/QĐ-STC" in page.text) == (status == 200)
    log_in(ha := client.application.test_client(), HA_OFFICER)
    assert "QĐ-STC" not in ha.get("/so-dang-ky").text
    log_in(admin := client.application.test_client(), ADMIN)
    assert "01/QĐ-STC" in admin.get("/so-dang-ky").text
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "quyet-dinh-01-qd-stc.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(OUTPUT / "quyet-dinh-01-qd-stc.pdf"),
                    str(OUTPUT / "quyet-dinh-01-qd-stc")], check=True)


def test_province_roles_never_see_a_giay_khen(client: FlaskClient, auth: Auth, criteria_set: None) -> None:
    nomination_id = to_council(client, auth)
    for user in (DOST_OFFICER, HA_OFFICER, CHAIRMAN):
        assert_problem(client.get(f"/api/v1/nominations/{nomination_id}", headers=auth(user)), 404)
        listed = client.get("/api/v1/nominations", headers=auth(user)).get_json()
        assert nomination_id not in {n["id"] for n in listed}
        assert not [t for t in client.get("/api/v1/tasks", headers=auth(user)).get_json()
                    if t.get("nomination_id") == nomination_id]
        assert client.post(f"/api/v1/nominations/{nomination_id}/minutes", headers=auth(user),
                           data={"file": (_minutes_pdf(), "b.pdf")}, content_type="multipart/form-data"
                           ).status_code == 404
        assert sign(client, auth, nomination_id, user).status_code == 404
    assert detail(client, auth, nomination_id, OTHER_STAFF)["status"] == "council_review"


def test_a_bang_khen_still_runs_the_province_path(client: FlaskClient, auth: Auth) -> None:
    response = client.post("/api/v1/nominations", headers=auth(OTHER_STAFF),
                           json={"unit_id": TAI_CHINH, "data": draft_data("ca_nhan")})
    nomination_id = response.get_json()["id"]
    client.post(f"/api/v1/nominations/{nomination_id}/submit", headers=auth(OTHER_STAFF), json={"data": {}})
    assert detail(client, auth, nomination_id)["status"] == "unit_review"


def test_the_award_kind_cannot_switch_the_process_of_a_draft(client: FlaskClient, auth: Auth,
                                                             criteria_set: None) -> None:
    response = client.post("/api/v1/nominations", headers=auth(OTHER_STAFF),
                           json={"unit_id": TAI_CHINH, "data": giay_khen()})
    nomination_id = response.get_json()["id"]
    changed = client.patch(f"/api/v1/nominations/{nomination_id}/draft", headers=auth(OTHER_STAFF),
                           json={"data": {"award": "bang_khen"}})
    assert_problem(changed, 422)
    submitted = client.post(f"/api/v1/nominations/{nomination_id}/submit", headers=auth(OTHER_STAFF),
                            json={"data": {"award": "bang_khen"}})
    assert_problem(submitted, 422)
    assert detail(client, auth, nomination_id)["award"] == "giay_khen"


def test_the_council_needs_its_minutes_uploaded_and_the_head_signs_only_digitally(
        client: FlaskClient, auth: Auth, criteria_set: None) -> None:
    nomination_id = to_council(client, auth)
    task = open_task(client, auth, nomination_id, "council_review")
    approve = {"decision": "approve", "meeting_date": "2026-04-10", "members_present": 7, "votes_for": 6,
               "votes_against": 1}
    assert_problem(complete(client, auth, COUNCIL, task["id"], approve), 422)  # no minutes at all
    assert_problem(complete(client, auth, COUNCIL, task["id"], {**approve, "minutes_file": "a" * 64}), 422)
    council_approves(client, auth, nomination_id)
    signing_task = open_task(client, auth, nomination_id, "unit_decision_signing")
    typed = complete(client, auth, OTHER_HEAD, signing_task["id"], {"decision": "sign", "decision_number": "5/QĐ-STC"})
    assert_problem(typed, 422)
    assert_problem(sign(client, auth, nomination_id, OTHER_STAFF), 403)


def test_returns_from_the_council_are_bounded(client: FlaskClient, auth: Auth, criteria_set: None) -> None:
    nomination_id = to_council(client, auth)
    for _ in range(5):
        task = open_task(client, auth, nomination_id, "council_review")
        response = complete(client, auth, COUNCIL, task["id"], {"decision": "return",
                                                                 "reason": "Bổ sung minh chứng về kết quả."})
        assert response.status_code == 200, response.get_json()
        if detail(client, auth, nomination_id)["status"] == "not_awarded":
            break
        assert detail(client, auth, nomination_id)["status"] == "returned"
        # The returned draft is a task of its own, due in the working days its diagram's timers say.
        returned = open_task(client, auth, nomination_id, "draft")
        assert returned["task_id"] == "revise_unit_award" and returned["due_at"] is not None
        assert client.post(f"/api/v1/nominations/{nomination_id}/submit", headers=auth(OTHER_STAFF),
                           json={"data": {}}).status_code == 200
    assert detail(client, auth, nomination_id)["status"] == "not_awarded"


def test_only_the_units_head_or_an_admin_sets_its_criteria_and_an_admin_its_symbol(
        client: FlaskClient, auth: Auth) -> None:
    body = {"movement_id": 1, "criteria": ["Một tiêu chuẩn"]}
    for user in (OTHER_STAFF, HA_OFFICER, "chutich.hiennam"):
        assert client.put(f"/api/v1/units/{TAI_CHINH}/award-criteria", headers=auth(user), json=body
                          ).status_code == 403
    assert client.put(f"/api/v1/units/{TAI_CHINH}/award-criteria", headers=auth(ADMIN), json=body).status_code == 200
    assert client.get(f"/api/v1/units/{TAI_CHINH}/award-criteria?movement_id=1", headers=auth(OTHER_STAFF)
                      ).get_json() == [{"code": "gk1", "title": "Một tiêu chuẩn"}]
    assert_problem(client.put(f"/api/v1/units/{TAI_CHINH}/register-symbol", headers=auth(OTHER_HEAD),
                              json={"symbol": "TC"}), 403)
    assert_problem(client.put(f"/api/v1/units/{TAI_CHINH}/register-symbol", headers=auth(ADMIN),
                              json={"symbol": "q đ"}), 422)
    assert client.put(f"/api/v1/units/{TAI_CHINH}/register-symbol", headers=auth(ADMIN),
                      json={"symbol": "stc"}).get_json() == {"unit_id": TAI_CHINH, "symbol": "STC"}


THREADS = 4


def test_heads_signing_at_once_get_consecutive_numbers_of_their_units_register(
        client: FlaskClient, auth: Auth, runtime: Runtime, pki: LocalPki, criteria_set: None) -> None:
    """Several Giấy khen decisions of one unit signed at the same moment: each signing renders and signs
    on the number it expects, the register hands out each number once, the losers make theirs again."""
    unit_signers(runtime, pki)
    waiting = []
    for i in range(THREADS):
        nomination_id = to_council(client, auth, name=f"Người được khen số {i + 1}")
        council_approves(client, auth, nomination_id)
        waiting.append(nomination_id)
    head = actor(runtime, OTHER_HEAD)
    barrier = threading.Barrier(THREADS)

    def one(nomination_id: str) -> Any:
        barrier.wait()
        return unit_awards.sign_on_server(runtime, head, nomination_id, PASSPHRASE.decode())

    outcomes: dict[str, Any] = {}
    threads = [threading.Thread(target=lambda n=n: outcomes.__setitem__(n, _capture(one, n))) for n in waiting]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    assert not [o for o in outcomes.values() if isinstance(o, BaseException)], outcomes
    assert sorted(o.number for o in outcomes.values()) == list(range(1, THREADS + 1))
    with runtime.read() as uow:
        rows = uow.session.execute(select(RegisterEntry.number, RegisterEntry.nomination_id, RegisterEntry.pdf_sha256)
                                   .where(RegisterEntry.authority_id == TAI_CHINH)).all()
    assert sorted(r.number for r in rows) == list(range(1, THREADS + 1))  # no gap, no double, nothing half-kept
    assert {r.nomination_id: r.number for r in rows} == {n: o.number for n, o in outcomes.items()}
    assert all(r.pdf_sha256 for r in rows)
    for nomination_id, signed in outcomes.items():
        assert detail(client, auth, nomination_id)["status"] == "unit_certificate"
        assert signed.citation == f"{signed.number:02d}/QĐ-STC"


def _capture(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        return exc


def test_the_demo_makes_a_certificate_for_each_unit_head(runtime: Runtime) -> None:
    from contextlib import ExitStack

    from service.usecases.demo_signing import start_demo_signing

    with ExitStack() as keep:
        passphrase = start_demo_signing(runtime, keep)
        assert passphrase is not None
        setup = signers.load(runtime.config.instance_dir)
        for unit_id, name in HEADS.items():
            signer = setup.signer(unit_id)
            assert signer.name == name
            signing.check_certificate(signing.load_signer(signer.key(passphrase)), setup.trust)
        assert setup.signer("province").name == "Nguyễn Mạnh Quyền"


def test_an_award_naming_a_process_not_deployed_is_a_clear_422(client: FlaskClient, auth: Auth,
                                                               runtime: Runtime) -> None:
    from service.db.models import Movement

    with runtime.uow() as uow:
        for movement in uow.session.scalars(select(Movement)):
            movement.awards = [{**a, "process": "no_such_process"} if a["code"] == "giay_khen" else a
                               for a in movement.awards]
        uow.commit()
    response = client.post("/api/v1/nominations", headers=auth(OTHER_STAFF),
                           json={"unit_id": TAI_CHINH, "data": {"award": "giay_khen"}})
    assert "no_such_process" in assert_problem(response, 422)["detail"]
