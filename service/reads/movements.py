"""Movements for pages: the list to filter by, one movement's lists for its forms, and all movements'
lists together for labels (a list of nominations may span movements)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.core.runtime import Runtime, local_date
from service.db.lookups import choices_of, movement_of
from service.db.models import Movement, MovementUnit, Nomination
from workflows.form_choices import Choice, MovementChoices, NomineeKind


def movement_list(runtime: Runtime) -> list[dict[str, Any]]:
    """Newest first, with how many units take part."""
    with runtime.read() as uow:
        session = uow.session
        units = dict(session.execute(select(MovementUnit.movement_id, func.count())
                                     .group_by(MovementUnit.movement_id)).all())
        return [{"id": m.id, "name": m.name, "year": m.year, "plan_number": m.plan_number, "plan_date": m.plan_date,
                 "authority": m.authority, "opens_on": m.opens_on, "closes_on": m.closes_on,
                 "units": units.get(m.id, 0), "copied_from": m.copied_from}
                for m in session.scalars(select(Movement).order_by(Movement.year.desc(), Movement.id.desc()))]


def movement_detail(runtime: Runtime, movement_id: int) -> dict[str, Any]:
    with runtime.read() as uow:
        movement = movement_of(uow.session, movement_id)
        units = list(uow.session.scalars(select(MovementUnit.unit_id).where(MovementUnit.movement_id == movement_id)))
        view = {c.name: getattr(movement, c.name) for c in Movement.__table__.columns}
        view["units"] = units
        return view


def choices(runtime: Runtime, movement_id: int | None = None) -> MovementChoices:
    """One movement's lists; without one, every movement's (newest title of a code first)."""
    with runtime.read() as uow:
        if movement_id is not None:
            return choices_of(movement_of(uow.session, movement_id))
        every = [choices_of(m) for m in uow.session.scalars(
            select(Movement).order_by(Movement.year.desc(), Movement.id.desc()))]
    return merged(every)


def merged(every: list[MovementChoices]) -> MovementChoices:
    kinds: dict[str, NomineeKind] = {}
    awards: dict[str, Choice] = {}
    for one in every:
        for kind in one.nominee_kinds:
            known = kinds.get(kind.code)
            if known is None:
                kinds[kind.code] = kind
            else:  # a criterion only an older movement had still gets its label
                extra = tuple(c for c in kind.criteria if c.code not in {k.code for k in known.criteria})
                kinds[kind.code] = NomineeKind(known.code, known.title, known.criteria + extra, known.individual)
        for award in one.awards:
            awards.setdefault(award.code, award)
    return MovementChoices(tuple(kinds.values()), tuple(awards.values()))


def movement_id_of(runtime: Runtime, nomination_id: str) -> int | None:
    with runtime.read() as uow:
        found: int | None = uow.session.scalar(select(Nomination.movement_id).where(Nomination.id == nomination_id))
        return found


def current_movement_id(runtime: Runtime) -> int | None:
    """The movement whose window holds today (the newest such), else the newest one."""
    today = local_date(runtime, runtime.clock.now())
    with runtime.read() as uow:
        order = (Movement.year.desc(), Movement.id.desc())
        running: int | None = uow.session.scalar(select(Movement.id).where(
            Movement.opens_on <= today, Movement.closes_on >= today).order_by(*order).limit(1))
        return running if running is not None else uow.session.scalar(select(Movement.id).order_by(*order).limit(1))


def open_movements(runtime: Runtime) -> list[dict[str, Any]]:
    """The movements taking nominations today, newest first (a new nomination joins one of them)."""
    today = local_date(runtime, runtime.clock.now())
    with runtime.read() as uow:
        return [{"id": m.id, "name": m.name, "year": m.year} for m in uow.session.scalars(
            select(Movement).where(Movement.opens_on <= today, Movement.closes_on >= today)
            .order_by(Movement.year.desc(), Movement.id.desc()))]
