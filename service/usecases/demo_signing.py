"""`nomflow demo` signs with a demo PKI, so the signing path works on a fresh machine: a CA, a TSA,
OCSP and CRL served on loopback by certomancer (service/documents/demo_pki.py) and a signing setup
for the province's Chairman and for each unit's head (the Giấy khen), with their accounts' names.
Never for a real decision."""

from __future__ import annotations

import os
import socket
from contextlib import ExitStack

from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.models import RoleAssignment, Unit, User
from service.documents import demo_pki, signers
from workflows.contract import AWARD_DECISION, DECISION_SIGNING, UNIT_AWARD, UNIT_DECISION_SIGNING


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
        # Each unit's head signs its Giấy khen: one demo certificate per head (the first one of a unit).
        heads: dict[str, tuple[str, str]] = {}
        head_role = runtime.stage_task(uow.session, UNIT_AWARD, UNIT_DECISION_SIGNING).role
        for full_name, unit_id, unit_name in uow.session.execute(
                select(User.full_name, Unit.id, Unit.name).select_from(User)
                .join(RoleAssignment, RoleAssignment.user_id == User.id)
                .join(Unit, Unit.id == RoleAssignment.unit_id)
                .where(RoleAssignment.role == head_role, User.active.is_(True)).order_by(User.id)):
            heads.setdefault(unit_id, (full_name, unit_name))
    if not name:
        return None
    folder = runtime.config.instance_dir / "signing"
    labels = {f"head-{unit_id}": head for unit_id, head in heads.items()}
    pki = keep.enter_context(demo_pki.local_pki(folder / "pki", _free_port(), chairman=name, signers=labels))
    signers.write_demo_setup(folder, tsa_url=pki.tsa_url, root_pem=pki.root_pem, pkcs12=pki.pkcs12("chairman"),
                             certificate=pki.cert_pem("chairman"), name=name,
                             organisation="Ủy ban nhân dân tỉnh Hưng Yên", signature_png=demo_pki.signature_png(),
                             seal_png=demo_pki.seal_png())
    for unit_id, (head, unit_name) in heads.items():
        signers.add_demo_signer(folder, unit_id, pkcs12=pki.pkcs12(f"head-{unit_id}"),
                                certificate=pki.cert_pem(f"head-{unit_id}"), name=head, organisation=unit_name,
                                signature_png=demo_pki.signature_png(), seal_png=demo_pki.seal_png(unit_name.upper()))
    return demo_pki.PASSPHRASE.decode()
