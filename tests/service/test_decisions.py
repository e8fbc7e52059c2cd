"""The decision as a record, through the use cases and pages: Home Affairs drafts and uploads versions,
the Chairman signs on the server or elsewhere, the register numbers it, /xac-thuc and /cong-khai
show it. Real parts: LibreOffice, a certomancer PKI with TSA and OCSP on loopback, pyHanko's validator,
SQLite and PostgreSQL."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import func, select

from service.core.errors import Forbidden, InvalidInput
from service.core.runtime import Runtime
from service.db.models import DecisionFile, RegisterEntry
from service.documents.signing import Trust, sign, verify
from service.documents.stamp import signature_place
from service.reads import decisions as reads
from service.usecases import decisions
from tests.support.pki import PASSPHRASE, LocalPki
from tests.support.postgres import free_port
from tests.support.signing import SIGNER, write_setup
from tests.support.threads import at_once

from .helpers import CHAIRMAN, HA_LEAD, HA_OFFICER, actor, assert_problem, awaiting_decision
from .test_api_batches import batch_task, new_batch, prepare


@pytest.fixture
def signing_setup(runtime: Runtime, pki: LocalPki) -> Path:
    return write_setup(runtime, pki)


def batch_at_signing(client, auth, count: int = 2) -> str:
    ids = [awaiting_decision(client, auth) for _ in range(count)]
    batch_id = new_batch(client, auth)
    assert prepare(client, auth, batch_id, ids).status_code == 200
    return batch_id


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.read() as uow:
        return (int(uow.session.scalar(select(func.count()).select_from(RegisterEntry)) or 0),
                int(uow.session.scalar(select(func.count()).select_from(DecisionFile)) or 0))


def edited(docx: bytes, line: str) -> bytes:
    doc = Document(io.BytesIO(docx))
    doc.add_paragraph(line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def latest(runtime: Runtime, batch_id: str, stage: str, fmt: str = "pdf") -> bytes:
    with runtime.read() as uow:
        return uow.session.scalars(select(DecisionFile.content).where(
            DecisionFile.batch_id == batch_id, DecisionFile.stage == stage, DecisionFile.format == fmt)
            .order_by(DecisionFile.version.desc())).first()


def test_drafted_edited_signed_on_the_server_numbered_and_verified(client, auth, runtime, signing_setup, pki):
    batch_id = batch_at_signing(client, auth)
    ha, chairman = actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN)
    assert decisions.generate_drafts(runtime, ha, batch_id) == 1
    draft_docx = latest(runtime, batch_id, "draft", "docx")
    assert "Số: " + "\u00a0" * 6 + "/QĐ-UBND" in "\n".join(p.text for t in Document(io.BytesIO(draft_docx)).tables
                                    for c in t._cells for p in c.paragraphs)
    assert decisions.upload_version(runtime, ha, batch_id, "quyet-dinh-sua.docx",
                                    edited(draft_docx, "Đoạn do Sở Nội vụ sửa trong Word.")) == 2

    done = decisions.sign_on_server(runtime, chairman, batch_id, PASSPHRASE.decode())
    assert done.number == 1 and done.symbol == "QĐ-UBND"
    signed = latest(runtime, batch_id, "signed")
    report = verify(signed, Trust((pki.root_pem,), pki.tsa_url))  # pyHanko's validator
    assert (report.valid, report.intact, report.trusted, report.timestamped) == (True, True, True, True)
    text = pdf_text(signed)
    assert "Số: 01/QĐ-UBND" in text and "Đoạn do Sở Nội vụ sửa trong Word." in text  # the edited version
    assert f"ngày {done.signed_on.day:02d} tháng" in text

    view = reads.batch_decision(runtime, batch_id)
    assert view["citation"] == f"Quyết định số 01/QĐ-UBND ngày {done.signed_on.strftime('%d/%m/%Y')}"
    stages = [(f["version"], f["document"], f["format"], f["stage"]) for f in view["files"]]
    assert (1, "submission", "pdf", "draft") in stages and (2, "decision", "docx", "uploaded") in stages
    assert (3, "decision", "pdf", "final") in stages and (4, "decision", "pdf", "signed") in stages
    assert all(len(f["sha256"]) == 64 for f in view["files"])
    shown = client.get(f"/api/v1/batches/{batch_id}", headers=auth(HA_LEAD)).get_json()
    assert (shown["status"], shown["decision_number"]) == ("signed", "01/QĐ-UBND")

    # Certificates: the batch's in one PDF, and each awardee's, citing the decision.
    cited = f"Quyết định số 01/QĐ-UBND ngày {done.signed_on.day}/{done.signed_on.month}/{done.signed_on.year}"
    combined = client.get(f"/batches/{batch_id}/bang-khen.pdf", headers=auth(HA_LEAD))
    assert combined.status_code == 200 and pdf_text(combined.data).count("BẰNG KHEN") == 2
    one = client.get(f"/batches/{batch_id}/bang-khen/{shown['nominations'][0]['id']}.pdf", headers=auth(HA_LEAD))
    assert pdf_text(one.data).count("BẰNG KHEN") == 1 and cited in " ".join(pdf_text(one.data).split())

    # The public page and the check of a number and of the file itself.
    public = client.get("/cong-khai").text
    assert view["citation"] in public and f'/decision-files/{view["signed_file"]["id"]}' in public
    assert client.get(f'/decision-files/{view["signed_file"]["id"]}').data == signed
    by_number = client.post("/xac-thuc", data={"number": "1/QĐ-UBND"})
    assert view["citation"] in by_number.text and "Có trong sổ đăng ký" in by_number.text
    by_file = client.post("/xac-thuc", data={"file": (io.BytesIO(signed), "qd.pdf")},
                          content_type="multipart/form-data")
    assert "Quyết định thật, còn nguyên vẹn" in by_file.text and SIGNER in by_file.text
    at = len(signed) // 3
    forged = signed[:at] + bytes([signed[at] ^ 1]) + signed[at + 1:]
    changed = client.post("/xac-thuc", data={"file": (io.BytesIO(forged), "qd.pdf")},
                          content_type="multipart/form-data")
    assert "Quyết định thật" not in changed.text

    # A second batch gets the next number.
    second = batch_at_signing(client, auth, 1)
    decisions.generate_drafts(runtime, ha, second)
    assert decisions.sign_on_server(runtime, chairman, second, PASSPHRASE.decode()).number == 2


def test_refused_signings_and_uploads_store_nothing_and_take_no_number(client, auth, runtime, signing_setup):
    batch_id = batch_at_signing(client, auth, 1)
    ha, chairman = actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN)
    with pytest.raises(InvalidInput, match="Chưa có dự thảo"):
        decisions.sign_on_server(runtime, chairman, batch_id, PASSPHRASE.decode())
    decisions.generate_drafts(runtime, ha, batch_id)
    before = counts(runtime)
    with pytest.raises(InvalidInput, match="Sai mật khẩu"):
        decisions.sign_on_server(runtime, chairman, batch_id, "sai-mat-khau")
    with pytest.raises(Forbidden):
        decisions.sign_on_server(runtime, ha, batch_id, PASSPHRASE.decode())
    with pytest.raises(Forbidden):
        decisions.generate_drafts(runtime, chairman, batch_id)
    draft = latest(runtime, batch_id, "draft", "docx")
    with pytest.raises(InvalidInput, match="PDF, DOCX"):
        decisions.upload_version(runtime, ha, batch_id, "quyet-dinh.docm", draft)
    with pytest.raises(InvalidInput, match="macro"):
        decisions.upload_version(runtime, ha, batch_id, "quyet-dinh.docx", with_macro(draft))
    with pytest.raises(InvalidInput, match="chỗ trống cho số"):
        decisions.upload_version(runtime, ha, batch_id, "go-tay.docx", typed_number(draft))
    with pytest.raises(InvalidInput, match="quá lớn"):
        decisions.upload_version(runtime, ha, batch_id, "lon.pdf", b"%PDF-1.7\n" + b"0" * (21 * 1024 * 1024))
    assert counts(runtime) == before
    # The diagram's own form cannot sign with a typed number any more.
    task = batch_task(client, auth, batch_id, "decision_signing")
    typed = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=auth(CHAIRMAN), json={"data": {
        "decision": "sign", "decision_number": "2458/QĐ-UBND", "signed_on": "2026-12-01", "excluded": []}})
    assert "chữ ký số" in assert_problem(typed, 422)["detail"]
    assert counts(runtime) == before


def test_signed_elsewhere_only_on_the_numbered_pdf_by_the_configured_signer(client, auth, runtime, signing_setup,
                                                                           pki):
    batch_id = batch_at_signing(client, auth, 1)
    ha, chairman = actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN)
    decisions.generate_drafts(runtime, ha, batch_id)
    assert decisions.prepare_external(runtime, chairman, batch_id).number == 1
    assert decisions.prepare_external(runtime, chairman, batch_id).number == 1  # the batch keeps its number
    final = latest(runtime, batch_id, "final")
    assert "Số: 01/QĐ-UBND" in pdf_text(final)
    trust = Trust((pki.root_pem,), pki.tsa_url)

    def signed_by(pdf: bytes, label: str) -> bytes:
        from tests.documents.test_signing import NOW, key
        return sign(pdf, key(pki, label), trust, signature_place(pdf, SIGNER), NOW)

    before = counts(runtime)
    with pytest.raises(InvalidInput, match="không phải người ký đã cấu hình"):
        decisions.accept_external(runtime, chairman, batch_id, "qd.pdf", signed_by(final, "other"))
    with pytest.raises(InvalidInput, match="không phải bản dự thảo"):
        decisions.accept_external(runtime, chairman, batch_id, "qd.pdf",
                                  signed_by(latest(runtime, batch_id, "draft"), "chairman"))
    assert counts(runtime) == before
    done = decisions.accept_external(runtime, chairman, batch_id, "qd.pdf", signed_by(final, "chairman"))
    assert done.number == 1
    with runtime.read() as uow:
        entries = list(uow.session.scalars(select(RegisterEntry).where(RegisterEntry.symbol == "QĐ-UBND")))
    assert [(e.number, e.signer_name, e.pdf_sha256 is not None) for e in entries] == [(1, SIGNER, True)]
    register = client.get("/so-dang-ky.xlsx", headers=auth(HA_LEAD))
    assert register.status_code == 200 and register.data[:2] == b"PK"


def with_macro(docx: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("word/vbaProject.bin", b"macro")
    return out.getvalue()


def typed_number(docx: bytes) -> bytes:
    doc = Document(io.BytesIO(docx))
    for table in doc.tables:
        for cell in table._cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.text = run.text.replace("Số: " + "\u00a0" * 6, "Số: 2458")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_a_bad_certificate_a_silent_tsa_or_no_setup_refuse_the_signing(client, auth, runtime, pki):
    batch_id = batch_at_signing(client, auth, 1)
    ha, chairman = actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN)
    with pytest.raises(InvalidInput, match="Chưa cấu hình chữ ký số"):
        decisions.sign_on_server(runtime, chairman, batch_id, PASSPHRASE.decode())
    write_setup(runtime, pki, "revoked")
    decisions.generate_drafts(runtime, ha, batch_id)  # names the configured signer under the signature
    before = counts(runtime)
    for label, refusal in (("revoked", "bị thu hồi"), ("expired", "hết hạn")):
        write_setup(runtime, pki, label)
        with pytest.raises(InvalidInput, match=refusal):
            decisions.sign_on_server(runtime, chairman, batch_id, PASSPHRASE.decode())
    write_setup(runtime, pki, tsa_url=f"http://127.0.0.1:{free_port()}/tsa")  # nobody answers there
    with pytest.raises(InvalidInput, match="dấu thời gian không trả lời"):
        decisions.sign_on_server(runtime, chairman, batch_id, PASSPHRASE.decode())
    assert counts(runtime) == before  # no number, no file
    write_setup(runtime, pki)
    assert decisions.sign_on_server(runtime, chairman, batch_id, PASSPHRASE.decode()).number == 1


def test_batches_signed_at_once_get_consecutive_numbers(client, auth, runtime, pki, signing_setup):
    batches = [batch_at_signing(client, auth, 1) for _ in range(3)]
    ha, chairman = actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN)
    for batch_id in batches:
        decisions.generate_drafts(runtime, ha, batch_id)
    got, errors = at_once(lambda batch_id: decisions.sign_on_server(runtime, chairman, batch_id,
                                                                    PASSPHRASE.decode()).number, batches)
    assert errors == []
    assert sorted(got) == [1, 2, 3]
    with runtime.read() as uow:
        signed = uow.session.scalars(select(RegisterEntry.number).where(RegisterEntry.pdf_sha256.is_not(None)))
        assert sorted(signed) == [1, 2, 3]
