"""PAdES signatures on decisions (ký số): server-side signing with pyHanko, and checking a PDF signed
elsewhere. A decision counts as signed only when a valid signature exists on exactly the PDF nomflow
rendered for it.

Server-side: the signer's key from a PKCS#12 file or from a PKCS#11 token or HSM (pyHanko's
PKCS11Signer, through python-pkcs11), a PAdES baseline signature with an RFC 3161 timestamp from the
configured TSA, and the revocation information embedded (LTV) when the CA publishes it. The visible
signature follows Decree 30 for electronic documents: the signer's signature image at the
signature place, the seal over its left third, and the organisation's name with the signing time in
ISO 8601 with +07:00.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from asn1crypto import pem, x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)

from service.documents.stamp import SignaturePlace, appearance, decree30_stamp

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIELD = "ChuKyChuTich"
TSA_ATTEMPTS = 2


class SigningError(Exception):
    """Signing refused or failed; the message is for the user, in Vietnamese. Nothing is stored."""


@dataclass(frozen=True)
class Pkcs11Slot:
    """A key on a PKCS#11 token or HSM: the vendor's module, the token's label, the key's label (its
    certificate carries the same label, or is the signer's configured certificate)."""

    module: str
    token_label: str
    key_label: str


@dataclass(frozen=True)
class SigningKey:
    pkcs12: bytes  # empty for a key on a token
    passphrase: bytes  # the PKCS#12 passphrase, or the token's user PIN
    organisation: str  # printed in the visible signature, e.g. "Ủy ban nhân dân tỉnh Hưng Yên"
    signature_image: bytes | None = None  # PNG
    seal_image: bytes | None = None  # PNG
    pkcs11: Pkcs11Slot | None = None
    certificate: bytes | None = None  # the signer's certificate, when the token holds none


@dataclass(frozen=True)
class Trust:
    roots: tuple[bytes, ...]  # PEM or DER certificates of the trusted CAs (the Government CA in production)
    tsa_url: str | None = None

    def context(self, moment: datetime | None = None) -> ValidationContext:
        return ValidationContext(trust_roots=[_certificate(c) for c in self.roots], allow_fetching=True,
                                 revocation_mode="soft-fail", moment=moment)


@dataclass(frozen=True)
class SignatureReport:
    valid: bool  # intact, trusted, unmodified after signing: the bottom line
    intact: bool
    trusted: bool
    timestamped: bool
    signer: str  # the certificate's common name
    signer_fingerprint: str  # sha256 of the signer's certificate
    signed_at: datetime | None
    covers: bytes  # the revision the signature covers (what was signed)


def _certificate(data: bytes) -> x509.Certificate:
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return x509.Certificate.load(data)


def fingerprint(certificate: bytes) -> str:
    return hashlib.sha256(_certificate(certificate).dump()).hexdigest()


def load_signer(key: SigningKey) -> signers.Signer:
    """The signer for this key; one on a token holds an open session until release()."""
    if key.pkcs11 is not None:
        return _token_signer(key, key.pkcs11)
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(key.pkcs12, other_certs=[], passphrase=key.passphrase)
    except (ValueError, TypeError) as exc:
        raise SigningError("Sai mật khẩu hoặc tệp khóa chữ ký số (PKCS#12) không đọc được") from exc
    if signer is None:
        raise SigningError("Sai mật khẩu hoặc tệp khóa chữ ký số (PKCS#12) không đọc được")
    return signer


def _token_signer(key: SigningKey, slot: Pkcs11Slot) -> signers.Signer:
    # imported here: python-pkcs11 loads the vendor's module, which only a token signer needs
    from pkcs11 import exceptions as token_errors
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    try:
        session = open_pkcs11_session(slot.module, token_criteria=TokenCriteria(label=slot.token_label),
                                      user_pin=key.passphrase.decode())
    except (token_errors.PinIncorrect, token_errors.PinInvalid, token_errors.PinLenRange) as exc:
        raise SigningError("Sai mã PIN của thiết bị ký số (PKCS#11): không ký được") from exc
    except token_errors.PinLocked as exc:
        raise SigningError("Thiết bị ký số (PKCS#11) đã bị khóa mã PIN: không ký được") from exc
    except (OSError, RuntimeError, token_errors.PKCS11Error, PyhankoSigningError) as exc:
        raise SigningError(f"Không mở được thiết bị ký số (PKCS#11) “{slot.token_label}”: {exc}") from exc
    certificate = _certificate(key.certificate) if key.certificate else None
    signer = PKCS11Signer(session, key_label=slot.key_label, cert_label=None if certificate else slot.key_label,
                          signing_cert=certificate)
    try:
        signer.signing_cert  # noqa: B018 - reads the key and certificate now, to fail here and not mid-signing
    except (token_errors.PKCS11Error, PyhankoSigningError) as exc:
        release(signer)
        raise SigningError(f"Không tìm thấy khóa “{slot.key_label}” trên thiết bị ký số: {exc}") from exc
    return signer


def release(signer: signers.Signer) -> None:
    """Close a token signer's session (nothing to do for a key from a file)."""
    session = getattr(signer, "pkcs11_session", None)
    if session is not None:
        session.close()


def check_certificate(signer: signers.Signer, trust: Trust) -> None:
    """Refuse to sign with a certificate that is expired, revoked or not from a trusted CA."""
    validator = CertificateValidator(signer.signing_cert, intermediate_certs=list(signer.cert_registry),
                                     validation_context=ValidationContext(
                                         trust_roots=[_certificate(c) for c in trust.roots], allow_fetching=True,
                                         revocation_mode="hard-fail"))
    try:
        asyncio.run(validator.async_validate_usage({"digital_signature"}))
    except RevokedError as exc:
        raise SigningError("Chứng thư số của người ký đã bị thu hồi: không ký được") from exc
    except (ExpiredError, NotYetValidError) as exc:
        raise SigningError("Chứng thư số của người ký đã hết hạn hoặc chưa có hiệu lực: không ký được") from exc
    except InvalidCertificateError as exc:
        raise SigningError(f"Chứng thư số của người ký không hợp lệ: {exc}") from exc
    except (PathBuildingError, PathValidationError) as exc:
        raise SigningError(f"Chứng thư số của người ký không được tổ chức chứng thực tin cậy cấp: {exc}") from exc


def sign(pdf: bytes, key: SigningKey, trust: Trust, place: SignaturePlace, now: datetime) -> bytes:
    """The PDF with the signer's PAdES signature, timestamped, LTV information embedded."""
    if not trust.tsa_url:
        raise SigningError("Chưa cấu hình máy chủ cấp dấu thời gian (TSA)")
    signer = load_signer(key)
    try:
        return _sign(pdf, signer, key, trust, place, now)
    finally:
        release(signer)


def _sign(pdf: bytes, signer: signers.Signer, key: SigningKey, trust: Trust, place: SignaturePlace,
          now: datetime) -> bytes:
    check_certificate(signer, trust)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD, subfilter=fields.SigSeedSubFilter.PADES, embed_validation_info=True,
        validation_context=trust.context(), md_algorithm="sha256", location=place.location)
    stamp_style = decree30_stamp(appearance(key.signature_image, key.seal_image, key.organisation,
                                            now.astimezone(VN).isoformat(timespec="seconds")))
    last: Exception | None = None
    for _ in range(TSA_ATTEMPTS):
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        pdf_signer = signers.PdfSigner(
            meta, signer=signer, timestamper=timestamps.HTTPTimeStamper(trust.tsa_url, timeout=10),
            stamp_style=stamp_style,
            new_field_spec=fields.SigFieldSpec(FIELD, on_page=place.page, box=place.int_box))
        try:
            out = pdf_signer.sign_pdf(writer)
        except (timestamps.TimestampRequestError, PyhankoSigningError, OSError) as exc:
            last = exc
            continue
        return out.getvalue()
    raise SigningError(f"Máy chủ cấp dấu thời gian không trả lời sau {TSA_ATTEMPTS} lần thử: {last}")


def verify(pdf: bytes, trust: Trust) -> SignatureReport:
    """The first signature of the PDF, checked: integrity, trust chain, timestamp, later changes."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except Exception as exc:  # noqa: BLE001 - any unreadable upload is the same answer to the user
        raise SigningError(f"Không đọc được tệp PDF: {exc}") from exc
    if not embedded:
        raise SigningError("Tệp PDF không có chữ ký số")
    signature = embedded[0]
    status = validate_pdf_signature(signature, signer_validation_context=trust.context(),
                                    ts_validation_context=trust.context())
    cert = status.signing_cert
    start, length = signature.byte_range[0], signature.byte_range[1]
    covers = pdf[start:start + length] if start == 0 else b""
    return SignatureReport(
        valid=bool(status.bottom_line), intact=bool(status.intact), trusted=bool(status.trusted),
        timestamped=status.timestamp_validity is not None and bool(status.timestamp_validity.intact),
        signer=cert.subject.native.get("common_name", ""), signer_fingerprint=hashlib.sha256(cert.dump()).hexdigest(),
        signed_at=status.timestamp_validity.timestamp if status.timestamp_validity else status.signer_reported_dt,
        covers=covers)


def signs_exactly(pdf: bytes, draft: bytes, trust: Trust, signer_certificate: bytes) -> SignatureReport:
    """A PDF signed elsewhere is accepted only if its signature is valid, it was made on exactly the
    draft nomflow rendered (the signed revision starts with the draft's bytes, and nothing but the
    signature was added), and the signer is the configured one."""
    report = verify(pdf, trust)
    if not report.valid:
        raise SigningError("Chữ ký số không hợp lệ hoặc tệp đã bị sửa sau khi ký")
    if not pdf.startswith(draft) or not report.covers.startswith(draft):
        raise SigningError("Tệp đã ký không phải bản dự thảo nomflow đã tạo cho quyết định này")
    if report.signer_fingerprint != fingerprint(signer_certificate):
        raise SigningError(f"Tệp được ký bởi {report.signer}, không phải người ký đã cấu hình cho quyết định này")
    return report
