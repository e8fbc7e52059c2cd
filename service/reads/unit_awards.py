"""Reading a unit's Giấy khen: its register (the decisions its head signed) and its settings page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.core.errors import NotFound
from service.core.runtime import Runtime
from service.db.models import Attachment, Movement, RegisterEntry, Unit, UnitCriteria
from service.documents.register import file_stem
from service.security.access import Actor


def may_read_unit(actor: Actor, unit_id: str) -> bool:
    """A unit's register and settings are its own: its people's (staff, council, head) and admins'."""
    return actor.is_admin or unit_id in actor.units_where("read_unit_register")


def unit_page(runtime: Runtime, actor: Actor, unit_id: str, movement_id: int | None) -> dict[str, Any]:
    if not may_read_unit(actor, unit_id):
        raise NotFound(f"Không tìm thấy đơn vị {unit_id}")
    with runtime.read() as uow:
        session = uow.session
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(f"Không tìm thấy đơn vị {unit_id}")
        movements = list(session.scalars(select(Movement).order_by(Movement.year.desc(), Movement.id.desc())))
        chosen = next((m for m in movements if m.id == movement_id), movements[0] if movements else None)
        own = session.get(UnitCriteria, (chosen.id, unit_id)) if chosen is not None else None
        entries = list(session.scalars(select(RegisterEntry).where(
            RegisterEntry.authority_id == unit_id, RegisterEntry.nomination_id.is_not(None))
            .order_by(RegisterEntry.year.desc(), RegisterEntry.number.desc()).limit(2000)))
        return {"unit": {"id": unit.id, "name": unit.name, "symbol": unit.register_symbol},
                "movements": [{"id": m.id, "title": f"{m.name} ({m.year})"} for m in movements],
                "movement_id": chosen.id if chosen is not None else None,
                "criteria": list(own.criteria) if own is not None else [],
                "may_set_criteria": actor.is_admin or unit_id in actor.units_where("unit_award_criteria"),
                "may_set_symbol": actor.is_admin,
                "register": [{"number": f"{e.number:02d}/{e.symbol}", "signed_on": e.signed_on, "subject": e.subject,
                              "signer": e.signer_name, "nomination_id": e.nomination_id, "sha256": e.pdf_sha256}
                             for e in entries]}


def to_sign_elsewhere(runtime: Runtime, nomination_id: str) -> dict[str, Any] | None:
    """The number given for this Giấy khen decision to be signed elsewhere and the PDF to sign (its
    sha256 among the nomination's files), or None while none is given. Shown to whoever may sign it."""
    with runtime.read() as uow:
        session = uow.session
        entry = session.scalars(select(RegisterEntry).where(RegisterEntry.nomination_id == nomination_id,
                                                            RegisterEntry.pdf_sha256.is_(None))).first()
        if entry is None:
            return None
        sha256 = session.scalar(select(Attachment.sha256).where(Attachment.nomination_id == nomination_id,
                                                                Attachment.filename == f"{file_stem(entry)}.pdf"))
        return {"number": f"{entry.number:02d}/{entry.symbol}", "signed_on": entry.signed_on, "sha256": sha256}
