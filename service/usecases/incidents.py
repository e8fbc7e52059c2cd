"""Incidents: instances whose engine run failed, for admins to see and retry (as Camunda's Cockpit).

An engine run fails on a diagram that validated but breaks when it runs (a timer value the library
cannot read, a run past its step or time budget, an expression that fails on the data). The step
is never half kept: the instance keeps its last good state, carries the error (instances.py:
mark_incident) and the user who triggered it is told. After the diagram is fixed (a new version,
and the instance migrated onto it) or the cause is gone, an admin retries: the instance runs
whatever can run now, and the incident is over when that run goes through.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.core.errors import Conflict
from service.core.runtime import Runtime
from service.db.models import Batch, InstanceRow, Nomination, ProcessVersion
from service.security.access import Actor, require_admin
from service.usecases.audit import audit
from service.usecases.instances import (
    InstanceFailed,
    incident_error,
    keep_instances,
    load_instance,
    record,
    record_incident,
    resolve_incident,
)
from service.usecases.tasks import _commit, deliver_to_nomination
from workflows.engine import EngineError, ProcessInstance

MAX_LISTED = 200


def open_incidents(runtime: Runtime, actor: Actor) -> list[dict[str, Any]]:
    """Instances in incident, newest first, with the nomination or batch they run and their version."""
    require_admin(actor)
    with runtime.read() as uow:
        rows = uow.session.execute(
            select(InstanceRow.id, InstanceRow.process_id, ProcessVersion.version, InstanceRow.incident,
                   InstanceRow.incident_at, Nomination.id, Batch.id)
            .join(ProcessVersion, ProcessVersion.id == InstanceRow.process_version_id)
            .outerjoin(Nomination, Nomination.instance_id == InstanceRow.id)
            .outerjoin(Batch, Batch.instance_id == InstanceRow.id)
            .where(InstanceRow.incident.is_not(None))
            .order_by(InstanceRow.incident_at.desc()).limit(MAX_LISTED)).all()
    return [{"instance_id": i, "process_id": p, "version": v, "error": e, "at": at, "nomination_id": n,
             "batch_id": b} for i, p, v, e, at, n, b in rows]


def retry(runtime: Runtime, actor: Actor, instance_id: str) -> dict[str, Any]:
    """Run the instance again under its current version; 409 with the error when it fails again."""
    require_admin(actor)
    try:
        return _retry(runtime, actor, instance_id)
    except InstanceFailed as failed:
        raise record_incident(runtime, failed) from failed


def _retry(runtime: Runtime, actor: Actor, instance_id: str) -> dict[str, Any]:
    with runtime.uow() as uow:
        session = uow.session
        row, instance = load_instance(session, runtime, instance_id, lock=True)
        if row.incident is None:
            raise Conflict(f"Quy trình {instance_id} không có sự cố nào")
        try:
            outcome = instance.resume()
        except EngineError as exc:
            raise InstanceFailed(row.id, exc, "retry") from exc
        audit(session, runtime, "incident_retried", actor_id=actor.user_id, instance_id=row.id, error=row.incident)
        resolve_incident(session, runtime, row, actor.user_id)
        written: list[tuple[Any, ProcessInstance]] = [(row, instance)]
        record(session, runtime, row, instance, outcome, actor.user_id,
               deliver=lambda name, nid, payload: deliver_to_nomination(session, runtime, name, nid, payload,
                                                                        actor.user_id, written))
        _commit(uow)
        keep_instances(runtime, written)
        return {"instance_id": row.id, "status": row.status, "opened": [t.id for t in outcome.opened]}


__all__ = ["incident_error", "open_incidents", "retry"]
