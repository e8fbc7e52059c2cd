"""A demo PKI, so that `nomflow demo` shows the whole signing path on a fresh machine, and the
tests sign against a real one: certomancer builds a root CA, a time-stamping authority, an OCSP
responder and a CRL, and its Animator serves them over HTTP on loopback. Never for a real decision:
production keys and certificates come from the Government's CA.

Certificates: `chairman` (valid), `expired`, `revoked` (revoked on 2026-01-01), `other` (a valid
certificate of someone who is not the configured Chairman), `unit_head` (a unit head's, for the Giấy
khen a unit decides) and one per label given in `signers` (the demo's unit heads). Keys are made once
per folder.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from PIL import Image, ImageDraw, ImageFont
from werkzeug.serving import make_server

ARCH = "nomflow-test"
KEYS = ("root", "tsa", "ocsp", "chairman", "expired", "revoked", "other", "unit_head")
PASSPHRASE = b"mat-khau-ky-so"


def _signer(subject: str, valid_to: str) -> dict:
    return {
        "subject": subject, "issuer": "root",
        "validity": {"valid-from": "2020-01-01T00:00:00+0000", "valid-to": valid_to},
        "extensions": [
            {"id": "key_usage", "critical": True,
             "smart-value": {"schema": "key-usage", "params": ["digital_signature", "non_repudiation"]}},
            {"id": "crl_distribution_points", "smart-value": {"schema": "crl-dist-url",
                                                              "params": {"crl-repo-names": ["root"]}}},
            {"id": "authority_information_access",
             "smart-value": {"schema": "aia-urls", "params": {"ocsp-responder-names": ["root"]}}},
        ],
    }


def config(key_dir: Path, url: str, chairman: str = "Trần Văn Quyết",
           signers: Mapping[str, tuple[str, str]] | None = None) -> dict:
    """`signers`: more signer certificates, label → (common name, organisation)."""
    with_names = {"country-name": "VN", "organization-name": "Ban Cơ yếu Chính phủ (thử nghiệm)"}
    extra = dict(signers or {})
    return {
        "external-url-prefix": url,
        "keysets": {ARCH: {"path-prefix": str(key_dir),
                           "keys": {k: {"path": f"{k}.key.pem"} for k in (*KEYS, *extra)}}},
        "pki-architectures": {ARCH: {
            "keyset": ARCH,
            "entity-defaults": with_names,
            "entities": {
                "root": {"common-name": "CA thử nghiệm nomflow"},
                "tsa": {"common-name": "TSA thử nghiệm"},
                "ocsp": {"common-name": "OCSP thử nghiệm"},
                "chairman": {"common-name": chairman, "organization-name": "UBND tỉnh Hưng Yên"},
                "expired": {"common-name": "Người ký hết hạn", "organization-name": "UBND tỉnh Hưng Yên"},
                "revoked": {"common-name": "Người ký bị thu hồi", "organization-name": "UBND tỉnh Hưng Yên"},
                "other": {"common-name": "Nguyễn Văn Khác", "organization-name": "Sở Nội vụ"},
                "unit_head": {"common-name": "Thủ trưởng đơn vị thử nghiệm", "organization-name": "Sở Tài chính"},
                **{label: {"common-name": name, "organization-name": org} for label, (name, org) in extra.items()},
            },
            "certs": {
                "root": {"subject": "root", "issuer": "root",
                         "validity": {"valid-from": "2000-01-01T00:00:00+0000",
                                      "valid-to": "2500-01-01T00:00:00+0000"},
                         "extensions": [
                             {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                             {"id": "key_usage", "critical": True, "smart-value": {
                                 "schema": "key-usage", "params": ["digital_signature", "key_cert_sign", "crl_sign"]}},
                         ]},
                "tsa": {"subject": "tsa", "issuer": "root",
                        "validity": {"valid-from": "2000-01-01T00:00:00+0000", "valid-to": "2400-01-01T00:00:00+0000"},
                        "extensions": [
                            {"id": "key_usage", "critical": True,
                             "smart-value": {"schema": "key-usage", "params": ["digital_signature"]}},
                            {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                            {"id": "crl_distribution_points", "smart-value": {
                                "schema": "crl-dist-url", "params": {"crl-repo-names": ["root"]}}},
                        ]},
                "ocsp": {"subject": "ocsp", "issuer": "root",
                         "validity": {"valid-from": "2000-01-01T00:00:00+0000", "valid-to": "2400-01-01T00:00:00+0000"},
                         "extensions": [
                             {"id": "key_usage", "critical": True,
                              "smart-value": {"schema": "key-usage", "params": ["digital_signature"]}},
                             {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                             {"id": "ocsp_no_check"},
                         ]},
                "chairman": _signer("chairman", "2400-01-01T00:00:00+0000"),
                "expired": _signer("expired", "2021-01-01T00:00:00+0000"),
                "revoked": {**_signer("revoked", "2400-01-01T00:00:00+0000"),
                            "revocation": {"revoked-since": "2026-01-01T00:00:00+0000", "reason": "key_compromise"}},
                "other": _signer("other", "2400-01-01T00:00:00+0000"),
                "unit_head": _signer("unit_head", "2400-01-01T00:00:00+0000"),
                **{label: _signer(label, "2400-01-01T00:00:00+0000") for label in extra},
            },
            "services": {
                "ocsp": {"root": {"for-issuer": "root", "responder-cert": "ocsp", "signing-key": "ocsp"}},
                "crl-repo": {"root": {"for-issuer": "root", "signing-key": "root",
                                      "simulated-update-schedule": "P30D"}},
                "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
            },
        }},
    }


@dataclass
class LocalPki:
    url: str
    arch: object
    root_pem: bytes

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/{ARCH}/tsa/tsa"

    def pkcs12(self, label: str, passphrase: bytes = PASSPHRASE) -> bytes:
        return self.arch.package_pkcs12(CertLabel(label), password=passphrase)  # type: ignore[attr-defined]

    def cert_pem(self, label: str) -> bytes:
        from asn1crypto import pem

        cert = self.arch.get_cert(CertLabel(label))  # type: ignore[attr-defined]
        return pem.armor("CERTIFICATE", cert.dump())


@contextmanager
def local_pki(work: Path, port: int, chairman: str = "Trần Văn Quyết",
              signers: Mapping[str, tuple[str, str]] | None = None) -> Iterator[LocalPki]:
    key_dir = work / "keys"
    key_dir.mkdir(parents=True, exist_ok=True)
    for label in (*KEYS, *(signers or {})):
        path = key_dir / f"{label}.key.pem"
        if path.exists():
            continue
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        path.chmod(0o600)
    url = f"http://127.0.0.1:{port}"
    cfg = CertomancerConfig(config(key_dir, url, chairman, signers), key_search_dir=str(key_dir))
    arch = cfg.get_pki_arch(ArchLabel(ARCH))
    server = make_server("127.0.0.1", port, Animator(AnimatorArchStore({ArchLabel(ARCH): arch}), with_web_ui=False),
                         threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        from asn1crypto import pem

        yield LocalPki(url, arch, pem.armor("CERTIFICATE", arch.get_cert(CertLabel("root")).dump()))
    finally:
        server.shutdown()
        thread.join(timeout=5)


FONT = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf"


def seal_png(text: str = "ỦY BAN NHÂN DÂN TỈNH HƯNG YÊN", size: int = 300) -> bytes:
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    red = (200, 20, 20, 220)
    draw.ellipse((6, 6, size - 6, size - 6), outline=red, width=8)
    draw.ellipse((40, 40, size - 40, size - 40), outline=red, width=3)
    font = ImageFont.truetype(FONT, size // 14)
    for i, letter in enumerate(text):  # the authority's name around the ring
        angle = math.pi * (1.1 + 1.8 * i / max(1, len(text) - 1))
        x = size / 2 + (size / 2 - 24) * math.cos(angle)
        y = size / 2 + (size / 2 - 24) * math.sin(angle)
        draw.text((x, y), letter, fill=red, font=font, anchor="mm")
    draw.regular_polygon((size / 2, size / 2, size / 8), 5, fill=red)
    return _png(image)


def signature_png(width: int = 360, height: int = 180) -> bytes:
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    blue = (20, 40, 160, 255)
    points = [(20 + i * 8, height / 2 + 40 * math.sin(i / 2.2) * math.cos(i / 7)) for i in range(40)]
    draw.line(points, fill=blue, width=5, joint="curve")
    draw.line([(40, height * 0.75), (width - 30, height * 0.6)], fill=blue, width=4)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
