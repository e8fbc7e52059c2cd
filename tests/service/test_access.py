"""The access rules themselves: the SQL scopes (lists, inbox) agree with the per-row checks."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from service.db.models import InboxRow, Nomination, User
from service.security.access import can_act, can_view, load_actor, nomination_scope, task_scope
from service.usecases.setup import add_user
from service.usecases.substitutes import add_substitute

from .helpers import (
    ADMIN,
    CHAIRMAN,
    DOST_LEAD,
    DOST_OFFICER,
    HA_LEAD,
    HA_OFFICER,
    HEAD,
    OTHER_HEAD,
    OTHER_STAFF,
    STAFF,
    TAI_CHINH,
    actor,
    create_nomination,
    drive,
    submitted_nomination,
    user_id,
)

EVERYONE = [STAFF, HEAD, OTHER_STAFF, OTHER_HEAD, DOST_OFFICER, DOST_LEAD, HA_OFFICER, HA_LEAD, CHAIRMAN, ADMIN]


@pytest.fixture
def nominations(client, auth) -> dict[str, str]:
    return {
        "draft_a": create_nomination(client, auth),
        "sent_a": submitted_nomination(client, auth),
        "draft_b": create_nomination(client, auth, staff=OTHER_STAFF, unit_id=TAI_CHINH),
        "sent_b": submitted_nomination(client, auth, staff=OTHER_STAFF, unit_id=TAI_CHINH),
    }


def visible(runtime, username: str, nominations: dict[str, str]) -> tuple[set[str], set[str]]:
    who = actor(runtime, username)
    names = {v: k for k, v in nominations.items()}
    with runtime.uow() as uow:
        by_query = {names[n.id] for n in uow.session.scalars(
            select(Nomination).where(nomination_scope(who, runtime.roles)))}
        by_row = {names[n.id] for n in uow.session.scalars(select(Nomination))
                  if can_view(who, n, runtime.roles)}
    return by_query, by_row


@pytest.mark.parametrize("username,expected", [
    (STAFF, {"draft_a", "sent_a"}),
    (HEAD, {"draft_a", "sent_a"}),
    (OTHER_STAFF, {"draft_b", "sent_b"}),
    (OTHER_HEAD, {"draft_b", "sent_b"}),
    (DOST_OFFICER, {"sent_a", "sent_b"}),
    (DOST_LEAD, {"sent_a", "sent_b"}),
    (HA_OFFICER, {"sent_a", "sent_b"}),
    (HA_LEAD, {"sent_a", "sent_b"}),
    (CHAIRMAN, {"sent_a", "sent_b"}),
    (ADMIN, {"draft_a", "sent_a", "draft_b", "sent_b"}),
])
def test_who_sees_which_nomination(runtime, nominations, username, expected):
    by_query, by_row = visible(runtime, username, nominations)
    assert by_query == by_row == expected


def acting(runtime, username: str) -> tuple[set[str], set[str]]:
    """Open tasks (as "nomination:task") the inbox scope shows, and those can_act allows."""
    who = actor(runtime, username)
    with runtime.uow() as uow:
        scoped = {f"{t.nomination_id}:{t.task_id}" for t in uow.session.scalars(select(InboxRow).where(
            task_scope(who)))}
        allowed = {f"{t.nomination_id}:{t.task_id}" for t in uow.session.scalars(select(InboxRow))
                   if can_act(who, t)}
    return scoped, allowed


def test_inbox_scope_and_can_act_agree_and_stay_inside_the_unit(client, auth, runtime, nominations):
    drive(client, auth, nominations["sent_a"], until="dost_selection")
    a, b = nominations["sent_a"], nominations["sent_b"]
    expected = {
        STAFF: {f"{nominations['draft_a']}:draft_nomination"},
        HEAD: set(),  # A's review is done
        OTHER_HEAD: {f"{b}:unit_head_review"},
        OTHER_STAFF: {f"{nominations['draft_b']}:draft_nomination"},
        DOST_LEAD: {f"{a}:dost_select"},
        DOST_OFFICER: set(),
        CHAIRMAN: set(),
        ADMIN: set(),
    }
    for username, tasks in expected.items():
        scoped, allowed = acting(runtime, username)
        assert scoped == allowed == tasks, username


def test_a_province_role_recorded_with_a_unit_still_gets_the_province_tasks(client, auth, runtime):
    add_user(runtime, "chuyenvien3.khcn", "Phan Thị Hà", "dost_officer", "so-khcn", password="long-password-1")
    nomination_id = submitted_nomination(client, auth)
    drive(client, auth, nomination_id, until="dost_review")
    scoped, allowed = acting(runtime, "chuyenvien3.khcn")
    assert scoped == allowed == {f"{nomination_id}:dost_check_dossier"}


def test_a_substitute_gets_the_roles_but_never_admin(runtime):
    add_user(runtime, HEAD, "Trần Văn Minh", "admin", None, password="long-password-2")
    add_substitute(runtime, actor(runtime, ADMIN), user_id(runtime, HEAD), user_id(runtime, OTHER_HEAD),
                   date(2026, 4, 13), date(2026, 4, 13))
    with runtime.uow() as uow:
        stand_in = uow.session.get(User, user_id(runtime, OTHER_HEAD))
        on_the_day = load_actor(uow.session, stand_in, date(2026, 4, 13))
        day_after = load_actor(uow.session, stand_in, date(2026, 4, 14))
    assert ("unit_head", "phuong-hien-nam") in on_the_day.grants
    assert not on_the_day.is_admin
    assert on_the_day.acting_for == {user_id(runtime, HEAD)}
    assert day_after.grants == {("unit_head", TAI_CHINH)} and day_after.acting_for == frozenset()
