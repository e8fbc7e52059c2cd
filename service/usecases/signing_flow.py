"""The one signing flow of a numbered decision, shared by the Chairman's decision on a batch (decisions.py,
the province's register) and a unit head's Giấy khen decision (unit_awards.py and unit_award_external.py,
the unit's own register). Each caller passes what differs: how its plan is read, how its documents are
made, how the register entry and files are kept, and the words of its refusals.

The number comes from the register and is inside the signed PDF. Rendering and signing take seconds,
so they run before the write transaction, on the number the register will give next; the transaction
then takes that number and keeps the files only if it got that very number (another signing in between
means one more round, then one made inside the write, holding the number). A signing that fails
anywhere stores nothing and consumes no number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, Forbidden, InvalidInput
from service.core.runtime import Runtime
from service.db.models import InboxRow, InstanceRow, RegisterCounter
from service.documents import signers, signing
from service.documents.stamp import signature_place
from service.security.access import Actor, can_act
from service.usecases.audit import audit
from service.usecases.files import check_upload
from service.usecases.instances import (
    InstanceFailed,
    keep_instances,
    load_instance,
    record,
    record_incident,
    resolve_incident,
)
from service.usecases.locks import fresh_task, lock_nomination_instances, locks_rows
from service.usecases.tasks import _commit as commit_or_conflict
from service.usecases.tasks import deliver_to_nomination
from workflows.engine import EngineError, ProcessInstance, TaskNotFound

ROUNDS = 2  # rounds made outside the write before one made inside it

P = TypeVar("P")  # what a signing needs, read before the write (each caller's plan)
M = TypeVar("M")  # the files one round makes


@dataclass(frozen=True)
class Signed:
    number: int
    symbol: str
    signed_on: date
    sha256: str

    @property
    def citation(self) -> str:
        return f"{self.number:02d}/{self.symbol}"


def expected_number(session: Session, authority_id: str, year: int) -> int:
    """The number the authority's register will give next in that year (if no one signs first)."""
    last = session.scalar(select(RegisterCounter.last_number).where(
        RegisterCounter.authority_id == authority_id, RegisterCounter.year == year))
    return (last or 0) + 1


def task_at(session: Session, actor: Actor, owner: ColumnElement[bool], stage: str, absent: str,
            not_theirs: str) -> InboxRow:
    """The open task of `owner` (the batch's, the nomination's) at `stage`, for an actor who may act on
    it: 409 with `absent` when none is open there, 403 with `not_theirs` when it is not theirs."""
    task = session.scalars(select(InboxRow).where(owner, InboxRow.stage == stage)).first()
    if task is None:
        raise Conflict(absent)
    if not can_act(actor, task):
        raise Forbidden(not_theirs)
    return task


# --- signing on the server ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerKey:
    """The key configured for an authority's signer (PKCS#11 token or key file), checked once."""

    setup: signers.SigningSetup
    signer: signers.Signer
    key: signing.SigningKey

    @property
    def name(self) -> str:
        return self.signer.name

    def sign(self, runtime: Runtime, final: bytes, place_name: str, unplaced: Callable[[ValueError], str]) -> bytes:
        """PAdES with a timestamp, at the place the PDF names the signer; `unplaced` words the refusal
        of a PDF that does not name them."""
        try:
            place = signature_place(final, self.signer.name, place_name)
        except ValueError as exc:
            raise signing.SigningError(unplaced(exc)) from exc
        return signing.sign(final, self.key, self.setup.trust, place, runtime.clock.now())


def server_key(runtime: Runtime, authority_id: str, passphrase: str | None) -> ServerKey:
    """The authority's configured key: a wrong passphrase or a revoked, expired or untrusted certificate
    stops here (SigningError), before any number is taken."""
    setup = signers.load(runtime.config.instance_dir)
    signer = setup.signer(authority_id)
    key = signer.key(passphrase)
    checked = signing.load_signer(key)
    try:
        signing.check_certificate(checked, setup.trust)
    finally:
        signing.release(checked)  # a token's session; signing opens its own
    return ServerKey(setup, signer, key)


# --- signing elsewhere -----------------------------------------------------------------------------------

def check_signed_upload(runtime: Runtime, filename: str, content: bytes) -> None:
    """An upload that claims to be the signed decision: a file within the limits, and a PDF."""
    check_upload(filename, content, runtime.config.max_attachment_bytes)
    if not content.startswith(b"%PDF-"):
        raise InvalidInput("Chỉ nhận tệp PDF đã ký số")


def signer_of_upload(runtime: Runtime, authority_id: str, content: bytes, to_sign: bytes) -> signers.Signer:
    """The authority's configured signer, once `content` is a valid signature by their certificate on
    exactly the PDF nomflow made to be signed (`to_sign`); SigningError otherwise."""
    setup = signers.load(runtime.config.instance_dir)
    signer = setup.signer(authority_id)
    signing.signs_exactly(content, to_sign, setup.trust, signer.certificate)
    return signer


# --- the rounds and the write ------------------------------------------------------------------------------

def guarded(runtime: Runtime, step: Callable[..., Any], *args: Any) -> Any:
    """A failing engine run (of the signing's instance, or of one the decision is sent to) keeps nothing
    of the signing, no number and no file, and marks that instance as an incident admins can see."""
    try:
        return step(*args)
    except InstanceFailed as failed:
        raise record_incident(runtime, failed) from failed


Keep = Callable[[P, M | None, Callable[[P], M] | None], Signed | None]


def in_rounds(runtime: Runtime, plan: P, replan: Callable[[], P], make: Callable[[P], M], keep: Keep[P, M],
              taken: str) -> Signed:
    """Made outside the write on the plan's number; `keep` gives None back if the register gave another
    (nothing kept). Then once more on a new plan; then, so that a busy register still ends, `keep` makes
    them inside the write, holding the number. `taken` words the conflict if even that finds it gone."""
    for _ in range(ROUNDS):
        done = guarded(runtime, keep, plan, make(plan), None)
        if done is not None:
            return done
        plan = replan()
    done = guarded(runtime, keep, plan, None, make)
    if done is None:
        raise Conflict(taken)
    return done


@dataclass(frozen=True)
class Step:
    """The signing task with its instance's row and engine instance, the row locked."""

    task: InboxRow
    row: InstanceRow
    instance: ProcessInstance


def locked_step(session: Session, runtime: Runtime, task: InboxRow) -> Step:
    """Lock the task's instance row (the one lock order: the signing's instance first, then the register's
    counter, then any other instance), then read the task again: a return committed meanwhile counts."""
    row, instance = load_instance(session, runtime, task.instance_id, lock=True)
    if locks_rows(session):
        task = fresh_task(session, task.id)
    return Step(task, row, instance)


def complete_step(session: Session, runtime: Runtime, actor: Actor, uow: Any, step: Step, data: dict[str, Any],
                  gone: str, audited: tuple[str, dict[str, Any]], *, deliver: bool = False) -> None:
    """Complete the signing task with `data` (the register's number and day), record it, audit it and
    commit: one commit. With `deliver`, the messages the step sends go to the nominations' instances,
    locked together in the one order. `gone` words the conflict of a task done meanwhile."""
    row, instance = step.row, step.instance
    try:
        outcome = instance.complete(step.task.id, data, actor.username, "vi")
    except TaskNotFound as exc:
        raise Conflict(gone) from exc
    except EngineError as exc:
        raise InstanceFailed(row.id, exc, "complete") from exc
    resolve_incident(session, runtime, row, actor.user_id)
    written: list[tuple[Any, ProcessInstance]] = [(row, instance)]
    if deliver:
        if outcome.messages:
            lock_nomination_instances(session, [m.nomination_id for m in outcome.messages])
        record(session, runtime, row, instance, outcome, actor.user_id,
               deliver=lambda name, nid, payload: deliver_to_nomination(session, runtime, name, nid, payload,
                                                                        actor.user_id, written))
    else:
        record(session, runtime, row, instance, outcome, actor.user_id)
    event, fields = audited
    audit(session, runtime, event, actor_id=actor.user_id, **fields)
    commit_or_conflict(uow)
    keep_instances(runtime, written)
