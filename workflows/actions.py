"""The fixed list of named actions a service task may call.

Actions never do I/O: each one records an effect (a notification, a message to other instances) or
returns a value into the task data. The service persists and delivers the effects after the
transaction commits, so a rolled-back step sends nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.task import Task


@dataclass(frozen=True)
class Notification:
    """Something a person must be told: the service turns it into mail from a template."""

    action: str  # send_reminder | escalate | notify_unit | publish_award | remind_report
    process_id: str
    nomination_id: str | None
    unit_id: str | None
    task: str | None = None  # bpmn id of the task it is about
    to_role: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutgoingMessage:
    """A BPMN message for another instance, correlated by nomination id."""

    name: str
    nomination_id: str
    payload: dict[str, Any]


@dataclass
class Effects:
    notifications: list[Notification] = field(default_factory=list)
    messages: list[OutgoingMessage] = field(default_factory=list)


# The only BPMN messages nomflow delivers: those its actions send (send_decision). A diagram that
# waits for any other name would wait for ever, so the validator refuses it.
AWARD_DECISION = "award_decision"
DELIVERED_MESSAGES = (AWARD_DECISION,)

ActionFn = Callable[[Task, dict[str, Any], Effects, Callable[[str], str | None]], Any]


def _notification(task: Task, action: str, params: dict[str, Any], role_of: Callable[[str], str | None],
                  **extra: Any) -> Notification:
    data = task.data
    about = params.get("task")
    return Notification(
        action=action,
        process_id=task.workflow.spec.name,
        nomination_id=data.get("nomination_id"),
        unit_id=data.get("unit_id"),
        task=about,
        to_role=params.get("to_role") or (role_of(about) if about else None),
        params={k: v for k, v in params.items() if k not in ("task", "to_role")},
        **extra,
    )


def count_return(task: Task, params: dict[str, Any], effects: Effects, role_of: Callable[[str], str | None]) -> int:
    return int(task.data.get("return_count", 0)) + 1


def notify(action: str) -> ActionFn:
    def run(task: Task, params: dict[str, Any], effects: Effects, role_of: Callable[[str], str | None]) -> None:
        effects.notifications.append(_notification(task, action, params, role_of))

    run.__name__ = action
    return run


def send_decision(task: Task, params: dict[str, Any], effects: Effects, role_of: Callable[[str], str | None]) -> int:
    """One message per nomination of the batch; those the Chairman excluded are not awarded."""
    data = task.data
    outcome = params.get("outcome", "not_awarded")
    excluded = {e["nomination_id"]: e.get("reason", "") for e in data.get("excluded") or []}
    for nomination_id in data.get("nomination_ids") or []:
        awarded = outcome == "awarded" and nomination_id not in excluded
        effects.messages.append(OutgoingMessage(
            name=AWARD_DECISION,
            nomination_id=nomination_id,
            payload={
                "outcome": "awarded" if awarded else "not_awarded",
                "reason": "" if awarded else (excluded.get(nomination_id) or params.get("reason", "")),
                "decision_number": data.get("decision_number") if awarded else None,
                "signed_on": data.get("signed_on") if awarded else None,
                "decision_title": data.get("decision_title"),
            },
        ))
    return len(data.get("nomination_ids") or [])


ACTIONS: dict[str, ActionFn] = {
    "count_return": count_return,
    "send_reminder": notify("send_reminder"),
    "escalate": notify("escalate"),
    "notify_unit": notify("notify_unit"),
    "publish_award": notify("publish_award"),
    # A unit's report or plan of a reporting round: to_role and kind (before_due | overdue) as params.
    "remind_report": notify("remind_report"),
    "send_decision": send_decision,
}


def run_action(name: str, task: Task, params: dict[str, Any], effects: Effects,
               role_of: Callable[[str], str | None]) -> str:
    action = ACTIONS.get(name)
    if action is None:
        raise KeyError(f"unknown service action {name!r}")
    # SpiffWorkflow json-decodes what a service returns into the task data.
    return json.dumps(action(task, {k: v["value"] for k, v in params.items()}, effects, role_of))
