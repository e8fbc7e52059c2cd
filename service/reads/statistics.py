"""The figures of the statistics page, by movement: nominations by unit, nominee kind, award, stage and
outcome; awards per unit kind; working days at each desk (median, p90); overdue tasks per desk and
person; reports sent, sent late and missing per reporting round. Codes only: the web layer puts
labels on them, and the page and its .xlsx share these rows.

Each figure is one GROUP BY over an indexed projection (nomination, open_task, desk_time): none
reads instance state or pairs audit events at request time, so the page costs the same at 100,000
nominations as at 100 (see bench/statistics.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, not_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import True_

from service.core.errors import Forbidden
from service.core.runtime import Runtime
from service.db.models import DeskTime, InboxRow, Nomination, ReportRound, Unit, UnitReport, User
from service.security.access import (
    Actor,
    can_view_batches,
    counted_scope,
    has_province_role,
    hidden_nominations,
    nomination_scope,
    own_hidden_units,
)

# How a nomination ended; any other status is still on its way.
OUTCOMES = ("awarded", "unit_certificate", "not_awarded", "closed")
AWARDED = ("awarded", "unit_certificate")
SENT = ("submitted", "accepted")  # a unit report the province has received


@dataclass(frozen=True)
class Scope:
    """Whose figures: the province's (province roles, admins) or the actor's own units (unit heads)."""

    movement_id: int | None
    nominations: ColumnElement[bool]
    unit_ids: frozenset[str] | None  # None: every unit
    batches: bool  # batch tasks (Home Affairs and the Chairman) count too
    # The movement's nominations this scope does not see (a province role: other units' drafts), or
    # None when it sees them all: open tasks are counted for the whole movement from open_task's own
    # index, less the few tasks of these nominations.
    hidden: ColumnElement[bool] | None = None
    # The nominations whose rows the actor may read (the list export): what it sees, never more. A
    # province role counts a unit's Giấy khen in the figures, but its dossier stays the unit's.
    listed: ColumnElement[bool] | None = None
    # When `hidden` is exactly the unit-only nominations (drafts, decided inside) of other units: the
    # units whose unit-only nominations the scope still sees (its own). The open tasks are then counted
    # from their `unit_only` flag, with no join at all.
    unit_only_seen: frozenset[str] | None = None


def scope_for(runtime: Runtime, actor: Actor, movement_id: int | None) -> Scope:
    province = actor.is_admin or has_province_role(actor, runtime.roles)
    if not province and not actor.units_where("unit_statistics"):
        raise Forbidden("Chỉ lãnh đạo đơn vị và các vai trò cấp tỉnh xem được thống kê")
    own = None if province else actor.units_where("unit_statistics")
    ended_inside = tuple(s for c in runtime.loader.contracts.processes.values() if c.within_unit for s in c.end_stages)
    visible = counted_scope(actor, runtime.roles, ended_inside) if own is None else Nomination.unit_id.in_(own)
    hidden = hidden_nominations(actor, runtime.roles) if own is None else None
    unit_only_seen = own_hidden_units(actor, runtime.roles) if hidden is not None else None
    if own is None and hidden is None and not isinstance(visible, True_):
        hidden = not_(visible)  # any other restriction: the same figures, found more slowly
    where = visible
    listed = nomination_scope(actor, runtime.roles) if own is None else visible
    if movement_id is not None:
        where = and_(where, Nomination.movement_id == movement_id)
        listed = and_(listed, Nomination.movement_id == movement_id)
        hidden = and_(hidden, Nomination.movement_id == movement_id) if hidden is not None else None
    return Scope(movement_id, where, own, province and can_view_batches(actor), hidden, listed, unit_only_seen)


@dataclass
class Figures:
    by_unit: list[tuple[str, str, str, int, int, int, int]] = field(default_factory=list)
    by_kind: list[tuple[str, int, int]] = field(default_factory=list)
    by_award: list[tuple[str, int, int]] = field(default_factory=list)
    by_status: list[tuple[str, int]] = field(default_factory=list)
    by_outcome: list[tuple[str, int]] = field(default_factory=list)
    awards_by_unit_kind: list[tuple[str, str, int]] = field(default_factory=list)
    desk_times: list[tuple[str, int, float, int, int]] = field(default_factory=list)
    overdue_by_desk: list[tuple[str, int, int]] = field(default_factory=list)
    overdue_by_person: list[tuple[str, str, int]] = field(default_factory=list)
    open_by_stage: list[tuple[str, str, int, int]] = field(default_factory=list)
    # Per reporting round: (id, title, kind, due at, units, sent, of them late, not sent).
    rounds: list[tuple[str, str, str, datetime, int, int, int, int]] = field(default_factory=list)


def figures(runtime: Runtime, scope: Scope) -> Figures:
    now = runtime.clock.now()
    with runtime.read() as uow:
        session = uow.session
        found = Figures()
        _nomination_figures(session, scope, found)
        found.desk_times = _desk_times(session, scope)
        found.overdue_by_desk, found.overdue_by_person, found.open_by_stage = _overdue(session, scope, now)
        found.rounds = _rounds(session, scope)
        return found


def _nomination_figures(session: Session, scope: Scope, found: Figures) -> None:
    """Two GROUP BYs, each one scan of a covering index (the nomination table's statistics indexes),
    the database doing the counting: per (unit, award) the total, in progress, awarded and not
    awarded, with the unit's name and kind; and per (kind, award, status). Every table of nominations
    is summed from these two, so their totals always agree, and no figure scans the rows twice (the
    awards per unit kind are the per-unit rows' awarded counts, not a third scan)."""
    won, lost = Nomination.status.in_(AWARDED), Nomination.status == "not_awarded"
    going = Nomination.status.not_in(OUTCOMES)
    # Grouped in the index's order (movement, unit, award, ...): the groups stream, no hash table.
    counts = (select(Nomination.unit_id.label("unit_id"), Nomination.award.label("award"),
                     func.count().label("total"), _count(going).label("going"), _count(won).label("won"),
                     _count(lost).label("lost"))
              .where(scope.nominations).group_by(Nomination.unit_id, Nomination.award).subquery())
    # Each unit's name and kind joined to its counts: one lookup per group, never an IN list of
    # thousands of unit ids (binding and planning 2,000 parameters cost more than the count itself).
    units: dict[str, list[Any]] = {}
    by_unit_kind: dict[tuple[str, str], int] = defaultdict(int)
    for unit_id, name, kind, award, total, going_n, won_n, lost_n in session.execute(
            select(counts.c.unit_id, Unit.name, Unit.kind, counts.c.award, counts.c.total, counts.c.going,
                   counts.c.won, counts.c.lost).outerjoin(Unit, Unit.id == counts.c.unit_id)):
        row = units.get(unit_id)
        if row is None:
            row = units[unit_id] = [unit_id, name or unit_id, kind or "", 0, 0, 0, 0]
        row[3] += total
        row[4] += int(going_n or 0)
        row[5] += int(won_n or 0)
        row[6] += int(lost_n or 0)
        if won_n:
            by_unit_kind[(kind or "", award or "")] += int(won_n)
    found.by_unit = sorted(((u, name, kind, total, going_n, won_n, lost_n)
                            for u, name, kind, total, going_n, won_n, lost_n in units.values()),
                           key=lambda row: (-row[3], row[1]))
    statuses: dict[str, int] = defaultdict(int)
    kinds: dict[str, list[int]] = {}
    awards: dict[str, list[int]] = {}
    for kind, award, status, count in session.execute(
            select(Nomination.nominee_kind, Nomination.award, Nomination.status, func.count())
            .where(scope.nominations).group_by(Nomination.nominee_kind, Nomination.award, Nomination.status)):
        statuses[status] += count
        for totals, key in ((kinds, kind or ""), (awards, award or "")):
            pair = totals.setdefault(key, [0, 0])
            pair[0] += count
            pair[1] += count if status in AWARDED else 0
    found.by_status = list(statuses.items())
    outcomes: dict[str, int] = defaultdict(int)
    for status, count in statuses.items():
        outcomes[status if status in OUTCOMES else "in_progress"] += count
    found.by_outcome = list(outcomes.items())
    found.by_kind = [(k, total, n) for k, (total, n) in kinds.items()]
    found.by_award = [(a, total, n) for a, (total, n) in awards.items()]
    found.awards_by_unit_kind = sorted((kind, award, count) for (kind, award), count in by_unit_kind.items())


def _count(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _desk_times(session: Session, scope: Scope) -> list[tuple[str, int, float, int, int]]:
    """Per desk (role): tasks done, mean, median and 90th percentile of working days at the desk.
    Working days are small whole numbers, so the database returns a histogram per desk (an index
    scan of ix_desk_time_movement_role) and the percentiles are read off it (nearest rank)."""
    where: list[ColumnElement[bool]] = []
    if scope.movement_id is not None:
        where.append(DeskTime.movement_id == scope.movement_id)
    if scope.unit_ids is not None:
        where.append(DeskTime.unit_id.in_(scope.unit_ids))
    histogram: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for role, days, count in session.execute(
            select(DeskTime.role, DeskTime.working_days, func.count()).where(*where)
            .group_by(DeskTime.role, DeskTime.working_days).order_by(DeskTime.role, DeskTime.working_days)):
        histogram[role].append((days, count))
    rows = []
    for role, bins in histogram.items():
        total = sum(n for _, n in bins)
        mean = sum(d * n for d, n in bins) / total
        rows.append((role, total, round(mean, 1), nearest_rank(bins, total, 0.5), nearest_rank(bins, total, 0.9)))
    return rows


def nearest_rank(bins: list[tuple[int, int]], total: int, q: float) -> int:
    """The value at rank ceil(q * total) of the sorted values the (value, count) bins hold."""
    rank = max(1, math.ceil(round(q * total, 9)))  # round: 0.9 * 10 is 9.000000000000002 in floats
    seen = 0
    for value, count in bins:
        seen += count
        if seen >= rank:
            return value
    return bins[-1][0]


def _overdue(session: Session, scope: Scope, now: datetime) -> tuple[
        list[tuple[str, int, int]], list[tuple[str, str, int]], list[tuple[str, str, int, int]]]:
    """Open tasks and overdue ones per desk, and per stage (the stage each task's diagram declares,
    recorded on the open task, never its element id); overdue ones per person holding them.

    The province's figures are one GROUP BY over ix_open_task_stats (each task carries its movement,
    and whether its nomination is its unit's own: a draft, or decided inside the unit), leaving out the
    unit-only tasks but those of the role's own units (a join to their nominations, a few hundred at
    most); its cost does not grow with the tasks it leaves out. A unit head's are a join to their units'
    nominations, a few hundred at most."""
    late = case((InboxRow.due_at < now, 1), else_=0)
    columns = (InboxRow.process_id, InboxRow.stage, InboxRow.role, InboxRow.assignee_id)
    counted = (*columns, func.count(), func.sum(late))
    added: list[Any] = []
    taken: list[Any] = []
    if scope.unit_ids is not None:
        added.append(select(*counted).join(Nomination, Nomination.id == InboxRow.nomination_id)
                     .where(scope.nominations).group_by(*columns))
    else:
        # Nomination and batch tasks carry a movement, a report's tasks none; a batch's have a batch_id.
        where = [InboxRow.movement_id == scope.movement_id if scope.movement_id is not None
                 else InboxRow.movement_id.is_not(None)]
        if not scope.batches:  # the decision's tasks belong to a batch, not to a nomination
            where.append(InboxRow.batch_id.is_(None))
        if scope.unit_only_seen is not None:
            added.append(select(*counted).where(*where, InboxRow.unit_only.is_(False)).group_by(*columns))
            if scope.unit_only_seen:
                added.append(select(*counted).join(Nomination, Nomination.id == InboxRow.nomination_id)
                             .where(*where, InboxRow.unit_only.is_(True),
                                    Nomination.unit_id.in_(scope.unit_only_seen)).group_by(*columns))
        else:
            added.append(select(*counted).where(*where).group_by(*columns))
            if scope.hidden is not None:  # any other restriction: the same figures, found more slowly
                taken.append(select(*counted).join(Nomination, Nomination.id == InboxRow.nomination_id)
                             .where(scope.hidden).group_by(*columns))
    groups: dict[tuple[str, str | None, str, int | None], list[int]] = {}
    for sign, queries in ((1, added), (-1, taken)):
        for query in queries:
            for process_id, stage, role, assignee, count, overdue in session.execute(query):
                pair = groups.setdefault((process_id, stage, role, assignee), [0, 0])
                pair[0] += sign * int(count)
                pair[1] += sign * int(overdue or 0)
    desks: dict[str, list[int]] = {}
    stages: dict[tuple[str, str], list[int]] = {}
    persons: dict[tuple[int | None, str], int] = defaultdict(int)
    for (process_id, stage, role, assignee), (count, overdue) in groups.items():
        if not count:
            continue
        for pair in (desks.setdefault(role, [0, 0]), stages.setdefault((process_id, stage or ""), [0, 0])):
            pair[0] += count
            pair[1] += overdue
        if overdue:
            persons[(assignee, role)] += overdue
    ids = {a for a, _ in persons if a is not None}
    people = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all()) if ids else {}
    by_desk = sorted(((role, n, k) for role, (n, k) in desks.items()), key=lambda r: (-r[2], r[0]))
    by_stage = sorted(((p, st, n, k) for (p, st), (n, k) in stages.items()), key=lambda r: (r[0], -r[2]))
    by_person = sorted(((people.get(a, "") if a is not None else "", role, n) for (a, role), n in persons.items()),
                       key=lambda r: (-r[2], r[0], r[1]))
    return by_desk, by_person, by_stage


def _rounds(session: Session, scope: Scope) -> list[tuple[str, str, str, datetime, int, int, int, int]]:
    """Per reporting round of the movement, its units' reports: sent (submitted or accepted), of them
    sent after the due date, and not sent (still being written, returned or stopped). One GROUP BY
    over the rounds' reports; a unit head counts their own units' reports only."""
    sent = UnitReport.status.in_(SENT)
    query = (select(ReportRound.id, ReportRound.title, ReportRound.kind, ReportRound.due_at, func.count(),
                    func.sum(case((sent, 1), else_=0)), func.sum(case((and_(sent, UnitReport.late), 1), else_=0)))
             .join(UnitReport, UnitReport.round_id == ReportRound.id)
             .group_by(ReportRound.id, ReportRound.title, ReportRound.kind, ReportRound.due_at)
             .order_by(ReportRound.due_at, ReportRound.title))
    if scope.movement_id is not None:
        query = query.where(ReportRound.movement_id == scope.movement_id)
    if scope.unit_ids is not None:
        query = query.where(UnitReport.unit_id.in_(scope.unit_ids))
    return [(round_id, title, kind, due_at, units, int(done or 0), int(late or 0), units - int(done or 0))
            for round_id, title, kind, due_at, units, done, late in session.execute(query)]


def nomination_rows(runtime: Runtime, scope: Scope) -> Iterator[tuple[Any, ...]]:
    """Every nomination the scope may list (not merely count), one row each, for the full export:
    streamed from the database in chunks, so memory stays flat at 100,000 rows."""
    query = (select(Nomination.id, Unit.name, Unit.kind, Nomination.nominee_kind, Nomination.nominee_name,
                    Nomination.award, Nomination.status, Nomination.created_at, Nomination.updated_at)
             .join(Unit, Unit.id == Nomination.unit_id)
             .where(scope.nominations if scope.listed is None else scope.listed).order_by(Nomination.id))
    with runtime.read() as uow:
        yield from uow.session.execute(query.execution_options(yield_per=2000))
