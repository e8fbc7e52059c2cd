"""Signing decisions with a real local PKI (certomancer: CA, TSA, OCSP and CRL on loopback), checked
with pyHanko's own validator: intact, trusted, timestamped; tampering, a revoked or expired signer,
a wrong passphrase, a silent TSA and a PDF signed elsewhere that is not the draft are refused."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from service.core.config import ROOT
from service.documents.award_decision import render_docx
from service.documents.demo_pki import seal_png, signature_png
from service.documents.pdf import docx_to_pdf
from service.documents.signing import SigningError, SigningKey, Trust, sign, signs_exactly, verify
from service.documents.stamp import signature_place
from tests.support.pki import PASSPHRASE, LocalPki, local_pki
from tests.support.postgres import free_port

from .test_award_decision import decision

PAGES = ROOT / "test-output" / "documents"
NOW = datetime(2026, 5, 15, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPki]:
    with local_pki(tmp_path_factory.mktemp("pki"), free_port()) as running:
        yield running


@pytest.fixture(scope="module")
def draft() -> bytes:
    return docx_to_pdf(render_docx(decision(6)))


@pytest.fixture(scope="module")
def other_draft() -> bytes:
    return docx_to_pdf(render_docx(decision(7)))


def key(pki: LocalPki, label: str = "chairman", passphrase: bytes = PASSPHRASE) -> SigningKey:
    return SigningKey(pki.pkcs12(label), passphrase, "Ủy ban nhân dân tỉnh Hưng Yên", signature_png(), seal_png())


def trust(pki: LocalPki, tsa_url: str | None = None) -> Trust:
    return Trust((pki.root_pem,), tsa_url or pki.tsa_url)


def signed_by(pki: LocalPki, pdf: bytes, label: str = "chairman") -> bytes:
    return sign(pdf, key(pki, label), trust(pki), signature_place(pdf, "Trần Văn Quyết", "Hưng Yên"), NOW)


@pytest.fixture(scope="module")
def signed(pki: LocalPki, draft: bytes) -> bytes:
    out = signed_by(pki, draft)
    PAGES.mkdir(parents=True, exist_ok=True)
    (PAGES / "award-decision-signed.pdf").write_bytes(out)
    subprocess.run(["pdftoppm", "-r", "80", "-f", "2", "-l", "2", "-png", str(PAGES / "award-decision-signed.pdf"),
                    str(PAGES / "award-decision-signed")], check=True)
    return out


def test_a_server_side_signature_is_valid_trusted_and_timestamped(pki: LocalPki, signed: bytes) -> None:
    report = verify(signed, trust(pki))
    assert (report.valid, report.intact, report.trusted, report.timestamped) == (True, True, True, True)
    assert report.signer == "Trần Văn Quyết"
    text = subprocess.run(["pdftotext", "-", "-"], input=signed, capture_output=True, check=True).stdout.decode()
    assert "Số: 05/QĐ-UBND" in text  # the register's number is inside what was signed


def test_the_signature_carries_revocation_information(signed: bytes) -> None:
    assert b"/DSS" in signed  # LTV: the OCSP/CRL answers are embedded for later validation


def test_one_changed_byte_breaks_the_signature(pki: LocalPki, draft: bytes, signed: bytes) -> None:
    at = len(draft) // 2  # inside the signed byte range
    tampered = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1:]
    try:
        report = verify(tampered, trust(pki))
    except SigningError:
        return  # unreadable after the change: refused as well
    assert not report.valid and not report.intact


@pytest.mark.parametrize(("label", "message"), [("revoked", "thu hồi"), ("expired", "hết hạn")])
def test_a_revoked_or_expired_certificate_cannot_sign(pki: LocalPki, draft: bytes, label: str, message: str) -> None:
    with pytest.raises(SigningError, match=message):
        signed_by(pki, draft, label)


def test_a_wrong_passphrase_is_a_clear_message(pki: LocalPki, draft: bytes) -> None:
    with pytest.raises(SigningError, match="Sai mật khẩu"):
        sign(draft, key(pki, passphrase=b"sai"), trust(pki), signature_place(draft, "Trần Văn Quyết"), NOW)


def test_a_tsa_that_does_not_answer_stops_the_signing(pki: LocalPki, draft: bytes) -> None:
    silent = f"http://127.0.0.1:{free_port()}/tsa"
    with pytest.raises(SigningError, match="dấu thời gian không trả lời"):
        sign(draft, key(pki), trust(pki, silent), signature_place(draft, "Trần Văn Quyết"), NOW)


def test_a_pdf_signed_elsewhere_on_the_draft_by_the_chairman_is_accepted(pki: LocalPki, draft: bytes,
                                                                        signed: bytes) -> None:
    report = signs_exactly(signed, draft, trust(pki), pki.cert_pem("chairman"))
    assert report.valid


def test_a_signed_pdf_that_is_not_this_draft_is_refused(pki: LocalPki, draft: bytes, other_draft: bytes) -> None:
    with pytest.raises(SigningError, match="không phải bản dự thảo"):
        signs_exactly(signed_by(pki, other_draft), draft, trust(pki), pki.cert_pem("chairman"))


def test_a_pdf_signed_by_someone_else_is_refused(pki: LocalPki, draft: bytes) -> None:
    with pytest.raises(SigningError, match="không phải người ký"):
        signs_exactly(signed_by(pki, draft, "other"), draft, trust(pki), pki.cert_pem("chairman"))


def test_an_unsigned_pdf_is_refused(pki: LocalPki, draft: bytes) -> None:
    with pytest.raises(SigningError, match="không có chữ ký số"):
        signs_exactly(draft, draft, trust(pki), pki.cert_pem("chairman"))

