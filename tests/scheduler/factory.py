"""Many due instances, fast: copies of one real instance's rows with fresh ids (tests and bench).

Each copy gets its own instance id, nomination id and task uuids (rewritten inside the engine state
too), so the copies are independent instances as far as the engine and the service can tell.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select

from service.core.runtime import Runtime
from service.db.models import InboxRow, InstanceRow, Nomination

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _columns(row: Any) -> dict[str, Any]:
    """Column name → value, for a Core insert of a copy (whatever columns the model has by now)."""
    return {attr.columns[0].name: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}


def clone_instances(runtime: Runtime, nomination_id: str, count: int, tag: str = "C",
                    next_wake_at: datetime | None = None, chunk: int = 500) -> list[str]:
    """`count` copies of the nomination's instance; returns the new nomination ids."""
    with runtime.uow() as uow:
        session = uow.session
        nomination = session.get(Nomination, nomination_id)
        assert nomination is not None and nomination.instance_id
        source = session.get(InstanceRow, nomination.instance_id)
        assert source is not None
        tasks = list(session.scalars(select(InboxRow).where(InboxRow.instance_id == source.id)))
        base_nomination, base_instance = _columns(nomination), _columns(source)
        base_tasks = [_columns(t) for t in tasks]
        state_text = json.dumps(source.state)
    ids = []
    for start in range(0, count, chunk):
        instances, nominations, open_tasks = [], [], []
        for n in range(start, min(start + chunk, count)):
            new_nomination = f"DN{tag}{n:08d}"
            new_instance = str(uuid.uuid4())
            mapping = {old: str(uuid.uuid4()) for old in set(UUID.findall(state_text))}
            text = UUID.sub(lambda m: mapping[m.group(0)], state_text)  # noqa: B023 - used at once
            text = text.replace(nomination_id, new_nomination)
            instance = {**base_instance, "id": new_instance, "state": json.loads(text)}
            if next_wake_at is not None:
                instance["next_wake_at"] = next_wake_at
            instances.append(instance)
            nominations.append({**base_nomination, "id": new_nomination, "instance_id": new_instance})
            for task in base_tasks:
                open_tasks.append({**task, "id": mapping.get(task["id"], str(uuid.uuid4())),
                                   "instance_id": new_instance, "nomination_id": new_nomination})
            ids.append(new_nomination)
        with runtime.uow() as uow:
            session = uow.session
            # The instance rows first: nominations reference them.
            session.execute(InstanceRow.__table__.insert(), instances)
            session.execute(Nomination.__table__.insert(), nominations)
            if open_tasks:
                session.execute(InboxRow.__table__.insert(), open_tasks)
            uow.commit()
    return ids
