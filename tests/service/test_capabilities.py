"""What a role may do besides its lanes' tasks comes from config/roles.toml (`may`), never from a
role key in the code: giving or taking a capability there changes what the service lets one do."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from service.db.models import User
from service.security.access import can_view_batches, load_actor
from workflows.settings import CAPABILITIES, CONFIG_DIR, RoleCatalog, SettingsError

from .helpers import HA_LEAD, HEAD, STAFF


def catalog_with(runtime, role: str, may: frozenset[str]) -> RoleCatalog:
    roles = dict(runtime.roles.roles)
    roles[role] = dataclasses.replace(roles[role], may=may)
    return RoleCatalog(roles)


def actor_of(runtime, username: str, roles: RoleCatalog):
    with runtime.read() as uow:
        user = uow.session.scalars(select(User).where(User.username == username)).one()
        return load_actor(uow.session, user, date(2026, 4, 13), roles)


def test_the_shipped_roles_give_what_the_plan_gives(runtime):
    assert can_view_batches(actor_of(runtime, HA_LEAD, runtime.roles))
    assert not can_view_batches(actor_of(runtime, STAFF, runtime.roles))
    head = actor_of(runtime, HEAD, runtime.roles)
    assert head.units_where("unit_statistics") == head.units_where("approve_substitutes") == {"phuong-hien-nam"}
    assert set(runtime.roles.keys_that_may("unit_reports")) == {"unit_staff", "unit_head"}


def test_a_capability_given_or_taken_in_the_config_changes_what_one_may_do(runtime):
    given = catalog_with(runtime, "unit_staff", frozenset({"view_batches"}))
    assert can_view_batches(actor_of(runtime, STAFF, given))
    taken = catalog_with(runtime, "home_affairs_lead", frozenset())
    lead = actor_of(runtime, HA_LEAD, taken)
    assert not can_view_batches(lead) and not lead.may("bulk_claim") and not lead.may("draft_decisions")


def test_an_unknown_capability_is_refused_when_the_roles_are_read(tmp_path: Path):
    text = (CONFIG_DIR / "roles.toml").read_text(encoding="utf-8")
    broken = tmp_path / "roles.toml"
    broken.write_text(text.replace('may = ["view_batches", "read_register"]', 'may = ["sign_anything"]'),
                      encoding="utf-8")
    with pytest.raises(SettingsError, match="sign_anything"):
        RoleCatalog.from_toml(broken)


def test_every_capability_is_documented_and_given_to_some_role():
    shipped = RoleCatalog.default()
    assert all(CAPABILITIES.values())
    assert {c for role in shipped.roles.values() for c in role.may} == set(CAPABILITIES)
