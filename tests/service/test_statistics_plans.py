"""A province role's statistics are counted from the nomination table's statistics indexes alone
(EXPLAIN QUERY PLAN on SQLite): its scope reads unit_id, status and within_unit, so each index must
hold them, or every counted row is fetched from the table (docs/performance.md)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text

from service.core.runtime import Runtime
from service.db.models import Nomination, User
from service.reads import statistics as stats
from service.security.access import load_actor


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("login", ["lanhdao.khcn", "quantri"])
def test_a_province_roles_counts_read_the_indexes_alone(runtime: Runtime, login: str) -> None:
    with runtime.uow() as uow:
        user = uow.session.scalars(select(User).where(User.username == login)).one()
        actor = load_actor(uow.session, user, date.today(), runtime.roles)
        scope = stats.scope_for(runtime, actor, 1)
        counts = [select(Nomination.unit_id, func.count()).where(scope.nominations).group_by(Nomination.unit_id),
                  select(Nomination.nominee_kind, Nomination.award, Nomination.status, func.count())
                  .where(scope.nominations).group_by(Nomination.nominee_kind, Nomination.award, Nomination.status)]
        for query in counts:
            sql = str(query.compile(runtime.db.engine, compile_kwargs={"literal_binds": True}))
            plan = " ".join(row[-1] for row in uow.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "COVERING INDEX ix_nomination_stats" in plan, plan
