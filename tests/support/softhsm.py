"""A SoftHSM2 token holding the demo Chairman's key and certificate, for the PKCS#11 signing tests
(Debian's softhsm2, installed by `make test-system-packages`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from asn1crypto import pem, x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from service.documents.signing import Pkcs11Slot
from tests.support.pki import PASSPHRASE, LocalPki

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN, KEY, PIN, SO_PIN = "CHU TICH", "chairman", "246810", "13579111"


def available() -> bool:
    return Path(MODULE).is_file() and shutil.which("softhsm2-util") is not None


@contextmanager
def token_with_chairman(folder: Path, pki: LocalPki, label: str = "chairman") -> Iterator[Pkcs11Slot]:
    """A fresh token under `folder` with the key and certificate of `label` (SOFTHSM2_CONF set for the
    duration: the module reads it when first loaded, and python-pkcs11 keeps it loaded)."""
    (folder / "tokens").mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    try:
        util = ["softhsm2-util"]
        subprocess.run([*util, "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN],
                       check=True, capture_output=True)
        key, cert, _ = pkcs12.load_key_and_certificates(pki.pkcs12(label), PASSPHRASE)
        assert key is not None and cert is not None
        key_file = folder / "key.pem"
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        subprocess.run([*util, "--import", str(key_file), "--token", TOKEN, "--label", KEY, "--id", "01",
                        "--pin", PIN], check=True, capture_output=True)
        key_file.unlink()
        _store_certificate(pki.cert_pem(label))
        yield Pkcs11Slot(MODULE, TOKEN, KEY)
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


def _store_certificate(certificate_pem: bytes) -> None:
    """The certificate beside its key, under the same label and id, as a CA's token carries it."""
    import pkcs11
    from pkcs11 import Attribute, CertificateType, ObjectClass

    _, _, der = pem.unarmor(certificate_pem)
    cert = x509.Certificate.load(der)
    token = pkcs11.lib(MODULE).get_token(token_label=TOKEN)
    with token.open(rw=True, user_pin=PIN) as session:
        session.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE,
                               Attribute.CERTIFICATE_TYPE: CertificateType.X_509, Attribute.TOKEN: True,
                               Attribute.LABEL: KEY, Attribute.ID: b"\x01",
                               Attribute.SUBJECT: cert.subject.dump(), Attribute.VALUE: der})
