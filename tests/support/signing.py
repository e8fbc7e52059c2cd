"""Signing a batch's decision in tests the way the Chairman does: Home Affairs drafts it, the
Chairman signs on the server with the demo PKI's key (real LibreOffice, TSA, OCSP)."""

from __future__ import annotations

from pathlib import Path

from service.core.runtime import Runtime
from service.documents import signers
from service.documents.demo_pki import PASSPHRASE, LocalPki, seal_png, signature_png
from service.security.access import Actor
from service.usecases import decisions

SIGNER = "Trần Văn Quyết"


def write_setup(runtime: Runtime, pki: LocalPki, label: str = "chairman", tsa_url: str | None = None) -> Path:
    """The Chairman's signing setup, with the key of certificate `label` (expired, revoked...)."""
    return signers.write_demo_setup(
        runtime.config.instance_dir / "signing", tsa_url=tsa_url or pki.tsa_url, root_pem=pki.root_pem,
        pkcs12=pki.pkcs12(label), certificate=pki.cert_pem(label), name=SIGNER,
        organisation="Ủy ban nhân dân tỉnh Hưng Yên", signature_png=signature_png(), seal_png=seal_png())


def sign_batch(runtime: Runtime, pki: LocalPki, batch_id: str, drafter: Actor, chairman: Actor) -> decisions.Signed:
    write_setup(runtime, pki)
    decisions.generate_drafts(runtime, drafter, batch_id)
    return decisions.sign_on_server(runtime, chairman, batch_id, PASSPHRASE.decode())
