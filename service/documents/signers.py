"""Who signs for each issuing authority, with which key, trusting which CA and time-stamping authority.

Read from a TOML file (NOMFLOW_SIGNING_CONFIG, default <instance>/signing/signing.toml); relative
paths are from the file's folder. `nomflow demo` writes one for its demo PKI (demo_setup below).

    tsa_url = "https://tsa.example.vn/"          # RFC 3161 time-stamping authority
    trust_roots = ["ca.pem"]                     # the CAs whose certificates are trusted

    [signers.province]                           # an authority of config/documents/authorities.toml
    name = "Nguyễn Mạnh Quyền"                   # printed under the signature
    organisation = "Ủy ban nhân dân tỉnh Hưng Yên"  # printed in the visible signature
    pkcs12 = "chairman.p12"                      # the key for server-side signing
    passphrase_env = "NOMFLOW_SIGNER_PROVINCE_PASSPHRASE"  # unset: the signer types it at signing
    certificate = "chairman.pem"                 # a PDF signed elsewhere must be signed with this one
    signature_image = "signature.png"            # optional
    seal_image = "seal.png"                      # optional

A key on a PKCS#11 token or HSM instead of `pkcs12` (the PIN, like a passphrase, from the
environment or typed by the signer; the certificate is `certificate`, as for a PDF signed elsewhere):

    pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so"  # the vendor's PKCS#11 library
    pkcs11_token = "CHU TICH"                    # the token's label
    pkcs11_key = "chairman"                      # the key's label on it
    passphrase_env = "NOMFLOW_SIGNER_PROVINCE_PIN"

The passphrase is never written in the file: it comes from the environment or from the signer.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from service.documents.signing import Pkcs11Slot, SigningError, SigningKey, Trust

ENV_PATH = "NOMFLOW_SIGNING_CONFIG"


@dataclass(frozen=True)
class Signer:
    authority_id: str
    name: str
    organisation: str
    pkcs12_path: Path | None
    passphrase_env: str | None
    certificate: bytes
    signature_image: bytes | None
    seal_image: bytes | None
    pkcs11: Pkcs11Slot | None = None

    def key(self, typed: str | None) -> SigningKey:
        """The signing key, unlocked with the typed passphrase or the configured one."""
        if self.pkcs12_path is None and self.pkcs11 is None:
            raise SigningError("Người ký chưa được cấu hình khóa ký số trên máy chủ: hãy ký bằng công cụ "
                               "ký số của mình và tải tệp đã ký lên")
        secret = typed if typed else (os.environ.get(self.passphrase_env) if self.passphrase_env else None)
        if not secret:
            raise SigningError("Hãy nhập mật khẩu (mã PIN) của khóa ký số")
        if self.pkcs11 is not None:
            return SigningKey(b"", secret.encode(), self.organisation, self.signature_image, self.seal_image,
                              pkcs11=self.pkcs11, certificate=self.certificate)
        assert self.pkcs12_path is not None
        try:
            pkcs12 = self.pkcs12_path.read_bytes()
        except OSError as exc:
            raise SigningError(f"Không đọc được tệp khóa ký số đã cấu hình: {exc.strerror}") from exc
        return SigningKey(pkcs12, secret.encode(), self.organisation, self.signature_image, self.seal_image)


@dataclass(frozen=True)
class SigningSetup:
    trust: Trust
    signers: dict[str, Signer]

    def signer(self, authority_id: str) -> Signer:
        found = self.signers.get(authority_id)
        if found is None:
            raise SigningError("Chưa cấu hình người ký và chứng thư số cho cơ quan ban hành quyết định")
        return found


def config_path(instance_dir: Path) -> Path:
    return Path(os.environ.get(ENV_PATH) or instance_dir / "signing" / "signing.toml")


def load(instance_dir: Path) -> SigningSetup:
    """The configured setup, or SigningError saying what is missing (nothing configured yet is one)."""
    path = config_path(instance_dir)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SigningError("Chưa cấu hình chữ ký số (tệp cấu hình người ký không có): "
                           "không ký được quyết định") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SigningError(f"Tệp cấu hình chữ ký số không đọc được: {exc}") from exc
    folder = path.parent

    def read(name: str | None) -> bytes | None:
        if not name:
            return None
        try:
            return (folder / name).read_bytes()
        except OSError as exc:
            raise SigningError(f"Không đọc được tệp {name} trong cấu hình chữ ký số: {exc.strerror}") from exc

    roots = tuple(r for r in (read(name) for name in data.get("trust_roots", [])) if r)
    signers = {}
    for authority_id, entry in (data.get("signers") or {}).items():
        certificate = read(entry.get("certificate"))
        if certificate is None:
            raise SigningError(f"Cấu hình chữ ký số của {authority_id} thiếu chứng thư số ở khóa “certificate”")
        signers[authority_id] = Signer(
            authority_id, entry["name"], entry.get("organisation", ""),
            folder / entry["pkcs12"] if entry.get("pkcs12") else None, entry.get("passphrase_env"),
            certificate, read(entry.get("signature_image")), read(entry.get("seal_image")), _slot(authority_id, entry))
    return SigningSetup(Trust(roots, data.get("tsa_url")), signers)


def _slot(authority_id: str, entry: dict[str, str]) -> Pkcs11Slot | None:
    if not entry.get("pkcs11_module"):
        return None
    missing = [key for key in ("pkcs11_token", "pkcs11_key") if not entry.get(key)]
    if missing:
        raise SigningError(f"Cấu hình chữ ký số của {authority_id} thiếu khóa “{missing[0]}” của thiết bị PKCS#11")
    return Pkcs11Slot(entry["pkcs11_module"], entry["pkcs11_token"], entry["pkcs11_key"])


def write_demo_setup(folder: Path, *, tsa_url: str, root_pem: bytes, pkcs12: bytes, certificate: bytes,
                     name: str, organisation: str, signature_png: bytes, seal_png: bytes) -> Path:
    """The setup `nomflow demo` signs with: its demo CA, TSA and the Chairman's demo certificate."""
    folder.mkdir(parents=True, exist_ok=True)
    for filename, content in (("ca.pem", root_pem), ("chairman.p12", pkcs12), ("chairman.pem", certificate),
                              ("signature.png", signature_png), ("seal.png", seal_png)):
        (folder / filename).write_bytes(content)
    (folder / "chairman.p12").chmod(0o600)
    path = folder / "signing.toml"
    path.write_text(
        "# Written by `nomflow demo` for its demo PKI: never for a real decision.\n"
        f'tsa_url = "{tsa_url}"\ntrust_roots = ["ca.pem"]\n\n[signers.province]\n'
        f'name = "{name}"\norganisation = "{organisation}"\npkcs12 = "chairman.p12"\n'
        'certificate = "chairman.pem"\nsignature_image = "signature.png"\nseal_image = "seal.png"\n',
        encoding="utf-8")
    return path


def add_demo_signer(folder: Path, authority_id: str, *, pkcs12: bytes, certificate: bytes, name: str,
                    organisation: str, signature_png: bytes, seal_png: bytes) -> Path:
    """Another signer in the demo setup (a unit head, for the Giấy khen of his unit): its key, certificate
    and images beside the Chairman's, keyed by the authority (the unit's id)."""
    stem = "".join(c if c.isalnum() else "-" for c in authority_id)
    for suffix, content in ((".p12", pkcs12), (".pem", certificate), ("-signature.png", signature_png),
                            ("-seal.png", seal_png)):
        (folder / f"{stem}{suffix}").write_bytes(content)
    (folder / f"{stem}.p12").chmod(0o600)
    path = folder / "signing.toml"
    with path.open("a", encoding="utf-8") as out:
        out.write(f'\n[signers."{authority_id}"]\nname = "{name}"\norganisation = "{organisation}"\n'
                  f'pkcs12 = "{stem}.p12"\ncertificate = "{stem}.pem"\nsignature_image = "{stem}-signature.png"\n'
                  f'seal_image = "{stem}-seal.png"\n')
    return path
