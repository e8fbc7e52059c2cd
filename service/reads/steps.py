"""The "steps" view of a nomination: the stages of its path in order, each done, current or to come,
with the day it was reached; a plain list beside the full diagram, in the page's language (the
stage keys are the statuses the pages already translate)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.core.runtime import Runtime
from service.db.models import AuditEvent
from workflows.contract import DRAFT, NOMINATION
from workflows.diagrams import ProcessDefinition

AWAITING = "awaiting_decision"  # between the last review and the Chairman's decision (a message, not a task)
EXPECTED_END = "awarded"  # what the path leads to while it runs
RETURNED = "returned"  # the status of a nomination back with its unit (usecases/instances.py)


def steps(runtime: Runtime, definition: ProcessDefinition | None, history: list[AuditEvent],
          status: str) -> list[dict[str, Any]]:
    # The nomination's own process: a Giấy khen's path stays inside its unit.
    contract = runtime.loader.contracts.get(definition.process_id if definition is not None else NOMINATION)
    if contract is None:
        return []
    reached: dict[str, datetime] = {}
    latest: dict[str, datetime] = {}
    for event in history:
        if event.kind == "task_opened" and definition is not None:
            stage = definition.stage_of((event.detail or {}).get("task"))
            if stage and stage not in reached:
                reached[stage] = event.at
            if stage:
                latest[stage] = event.at
    path = [*contract.task_stages, *([AWAITING] if contract.catches else [])]
    ended = status in contract.end_stages or status not in (*path, RETURNED)
    if ended and reached:
        # An early end (withdrawn, declined at a desk) passed only the stages it reached: the stages
        # after them were never done. The decision's wait is reached when the decision arrived.
        decided = any(event.kind == "decision_received" for event in history)
        path = [stage for stage in path if stage in reached or (stage == AWAITING and decided)]
    expected = EXPECTED_END if EXPECTED_END in contract.end_stages else next(iter(contract.end_stages))
    path.append(status if ended else expected)
    current = DRAFT if status == RETURNED else status
    index = path.index(current) if current in path else len(path) - 1

    def shown(stage: str) -> tuple[str, datetime | None]:
        # Back with the unit after a return: the step says so, dated by the return, not the first draft.
        if status == RETURNED and stage == DRAFT:
            return RETURNED, latest.get(DRAFT)
        return stage, reached.get(stage)

    return [{"stage": label, "at": at,
             "state": "done" if i < index or (ended and i == index) else "current" if i == index else "todo"}
            for i, stage in enumerate(path) for label, at in [shown(stage)]]
