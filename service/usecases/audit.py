"""The append-only audit log: every use case writes its rows here, inside its own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.core.runtime import Runtime
from service.db.models import AuditEvent


def audit(session: Session, runtime: Runtime, kind: str, *, actor_id: int | None = None,
          nomination_id: str | None = None, instance_id: str | None = None, **detail: Any) -> None:
    session.add(AuditEvent(at=runtime.clock.now(), actor_id=actor_id, nomination_id=nomination_id,
                           instance_id=instance_id, kind=kind, detail=detail))
