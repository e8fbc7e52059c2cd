"""Row lookups shared by reads and use cases, so neither imports the other."""
from __future__ import annotations

from sqlalchemy.orm import Session

from service.core.errors import NotFound
from service.db.models import Batch


def batch_of(session: Session, batch_id: str) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"Không tìm thấy đợt trình {batch_id}")
    return batch
