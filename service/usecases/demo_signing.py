"""`nomflow demo` signs with a demo PKI, so the signing path works on a fresh machine: a CA, a TSA,
OCSP and CRL served on loopback by certomancer (service/documents/demo_pki.py) and a signing setup
for the province's Chairman, with his account's name. Never for a real decision."""

from __future__ import annotations

import os
import socket
from contextlib import ExitStack

from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.models import RoleAssignment, User
from service.documents import demo_pki, signers
from workflows.contract import AWARD_DECISION, DECISION_SIGNING


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_demo_signing(runtime: Runtime, keep: ExitStack) -> str | None:
    """Serve the demo PKI until `keep` closes and write the setup; None when a real one is configured."""
    if os.environ.get(signers.ENV_PATH):
        return None
    with runtime.read() as uow:
        name = uow.session.scalars(select(User.full_name).join(RoleAssignment).where(
            RoleAssignment.role == runtime.stage_task(uow.session, AWARD_DECISION, DECISION_SIGNING).role,
            User.active.is_(True)).order_by(User.id)).first()
    if not name:
        return None
    folder = runtime.config.instance_dir / "signing"
    pki = keep.enter_context(demo_pki.local_pki(folder / "pki", _free_port(), chairman=name))
    signers.write_demo_setup(folder, tsa_url=pki.tsa_url, root_pem=pki.root_pem, pkcs12=pki.pkcs12("chairman"),
                             certificate=pki.cert_pem("chairman"), name=name,
                             organisation="Ủy ban nhân dân tỉnh Hưng Yên", signature_png=demo_pki.signature_png(),
                             seal_png=demo_pki.seal_png())
    return demo_pki.PASSPHRASE.decode()
