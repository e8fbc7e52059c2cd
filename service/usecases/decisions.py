"""A batch's decision as a legal record: Home Affairs drafts the Tờ trình and the Quyết định from the
batch's nominations and may upload edited versions (decision_drafts.py); the Chairman signs (on the server with the
configured key, or elsewhere and uploads the signed PDF). Every file is kept with its sha256.

The number comes from the register and is inside the signed PDF; the rounds, the key's checks and the
completion of the step are the flow every numbered decision shares (signing_flow.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, InvalidInput, catalogued
from service.core.runtime import Runtime
from service.db.models import DecisionExclusion, DecisionFile, InboxRow, RegisterEntry
from service.documents import batch_documents, fill, signing
from service.documents.pdf import PdfError, docx_to_pdf
from service.documents.pdf_fill import fill_pdf
from service.documents.register import register
from service.security.access import Actor
from service.usecases import signing_flow
from service.usecases.audit import audit
from service.usecases.decision_drafts import (
    DECISION,
    add_file,
    batch_or_404,
    check_signed_after_submission,
    generate_drafts,
    members,
    next_version,
    open_batch,
    upload_version,
)
from service.usecases.signing_flow import Signed, Step, locked_step
from service.usecases.tasks import _commit as commit_or_conflict
from workflows.contract import DECISION_SIGNING

__all__ = ["Signed", "accept_external", "generate_drafts", "prepare_external", "sign_on_server",
           "upload_version"]


# --- the Chairman: signing --------------------------------------------------------------------------

def locked_signing_task(session: Session, runtime: Runtime, actor: Actor, batch_id: str) -> InboxRow:
    """The batch's signing task once its instance row is locked (the one lock order: the batch's
    instance first, then the register's counter, then the nominations' instances)."""
    return _locked_step(session, runtime, actor, batch_id).task


def _locked_step(session: Session, runtime: Runtime, actor: Actor, batch_id: str) -> Step:
    return locked_step(session, runtime, signing_task(session, actor, batch_id))


def signing_task(session: Session, actor: Actor, batch_id: str) -> InboxRow:
    return signing_flow.task_at(session, actor, InboxRow.batch_id == batch_id, DECISION_SIGNING,
                                catalogued("Đợt trình không ở bước ký quyết định"),
                                catalogued("Chỉ Chủ tịch Ủy ban nhân dân tỉnh ký quyết định này"))


def _reserved(session: Session, batch_id: str) -> RegisterEntry | None:
    """A number given for this batch's decision to be signed elsewhere, not signed yet: it is this batch's.
    (The batch's Tờ trình has its own entry, under Home Affairs' symbol.)"""
    symbol = batch_documents.Issuers.load().authority("decision").symbol(batch_documents.DECISION_KIND)
    return session.scalars(select(RegisterEntry).where(RegisterEntry.batch_id == batch_id,
                                                       RegisterEntry.symbol == symbol,
                                                       RegisterEntry.pdf_sha256.is_(None))).first()


def _latest(session: Session, batch_id: str, *stages: str) -> dict[str, DecisionFile]:
    """The newest version of the decision among these stages, by format."""
    query = select(DecisionFile).where(DecisionFile.batch_id == batch_id, DecisionFile.document == DECISION,
                                       DecisionFile.stage.in_(stages))
    rows = list(session.scalars(query.order_by(DecisionFile.version.desc(), DecisionFile.id)))
    if not rows:
        return {}
    return {f.format: f for f in rows if f.version == rows[0].version}


def draft_version(session: Session, batch_id: str) -> int:
    """The newest draft or uploaded version of the decision: a final made before it is stale."""
    drafts = _latest(session, batch_id, "draft", "uploaded")
    return max((f.version for f in drafts.values()), default=0)


Made = tuple[bytes | None, bytes, bytes | None]  # final DOCX (if any), final PDF, signed PDF (if signed)


@dataclass(frozen=True)
class _Plan:
    """What a signing needs, read before the write: the draft, the number it expects, the facts."""

    number: int
    reserved_id: int | None
    signed_on: date
    draft: dict[str, bytes]  # format -> content
    awardees: int
    subject: str


def _plan(runtime: Runtime, actor: Actor, batch_id: str, movement: batch_documents.Issuers) -> _Plan:
    authority = movement.authority("decision")
    signed_on = runtime.clock.now().astimezone(signing.VN).date()
    with runtime.read() as uow:
        session = uow.session
        open_batch(session, batch_id)
        signing_task(session, actor, batch_id)
        files = _latest(session, batch_id, "draft", "uploaded")  # a final one is re-made from its draft
        if not files:
            raise InvalidInput("Chưa có dự thảo quyết định: Sở Nội vụ cần tạo dự thảo trước khi ký")
        check_signed_after_submission(session, batch_id, signed_on)
        reserved = _reserved(session, batch_id)
        number = reserved.number if reserved is not None and reserved.year == signed_on.year else \
            signing_flow.expected_number(session, authority.id, signed_on.year)
        return _Plan(number, reserved.id if reserved is not None and reserved.number == number else None, signed_on,
                     {fmt: f.content for fmt, f in files.items()}, len(members(session, batch_id)),
                     batch_or_404(session, batch_id).title or "")


def _final(plan: _Plan, symbol: str) -> tuple[bytes | None, bytes]:
    """The draft with its number and date: DOCX filled then converted, or a PDF written into."""
    try:
        if "docx" in plan.draft:
            docx = fill.fill(plan.draft["docx"], symbol, plan.number, plan.signed_on)
            return docx, docx_to_pdf(docx)
        return None, fill_pdf(plan.draft["pdf"], symbol, plan.number, plan.signed_on)
    except (fill.FillError, PdfError, ValueError) as exc:
        raise signing.SigningError(str(exc)) from exc


def sign_on_server(runtime: Runtime, actor: Actor, batch_id: str, passphrase: str | None) -> Signed:
    """The Chairman signs with the configured key: the number and date written in, then PAdES with a
    timestamp. Wrong passphrase, bad certificate, silent TSA: SigningError, nothing stored."""
    movement = batch_documents.Issuers.load()
    authority = movement.authority("decision")
    symbol = authority.symbol(batch_documents.DECISION_KIND)
    try:
        key = signing_flow.server_key(runtime, authority.id, passphrase)

        def unplaced(_: ValueError) -> str:
            return (f"Bản dự thảo không ghi tên người ký đã cấu hình ({key.name}) ở chỗ ký: Sở Nội vụ cần tạo lại "
                    "hoặc sửa dự thảo")

        def make(plan: _Plan) -> Made:
            docx, final = _final(plan, symbol)
            return docx, final, key.sign(runtime, final, authority.issuer.place, unplaced)

        return _rounds(runtime, actor, batch_id, movement, key.name, make, "server")
    except signing.SigningError as exc:
        raise InvalidInput(str(exc)) from exc


def _rounds(runtime: Runtime, actor: Actor, batch_id: str, movement: batch_documents.Issuers, signer_name: str,
            make: Any, how: str) -> Signed:
    def replan() -> _Plan:
        return _plan(runtime, actor, batch_id, movement)

    def keep(plan: _Plan, made: Made | None, make: Any) -> Signed | None:
        return _keep(runtime, actor, batch_id, plan, signer_name, how, made, make)

    return signing_flow.in_rounds(runtime, replan(), replan, make, keep,
                                  catalogued("Quyết định của đợt trình này vừa được cấp số hoặc ký; hãy tải lại trang"))


def prepare_external(runtime: Runtime, actor: Actor, batch_id: str) -> Signed:
    """For signing elsewhere: the number is given now (it must be inside the PDF that is signed) and
    stays this batch's; the final PDF is kept to compare the signed upload with."""
    movement = batch_documents.Issuers.load()
    symbol = movement.authority("decision").symbol(batch_documents.DECISION_KIND)

    def make(plan: _Plan) -> Made:
        return (*_final(plan, symbol), None)

    try:
        return _rounds(runtime, actor, batch_id, movement, "", make, "external")
    except signing.SigningError as exc:
        raise InvalidInput(str(exc)) from exc


def accept_external(runtime: Runtime, actor: Actor, batch_id: str, filename: str, content: bytes) -> Signed:
    """A PDF signed elsewhere: valid, on exactly the final PDF nomflow made, by the configured signer."""
    signing_flow.check_signed_upload(runtime, filename, content)
    movement = batch_documents.Issuers.load()
    authority = movement.authority("decision")
    with runtime.read() as uow:
        session = uow.session
        open_batch(session, batch_id)
        signing_task(session, actor, batch_id)
        final = _latest(session, batch_id, "final").get("pdf")
        entry = _reserved(session, batch_id)
        if final is None or entry is None:
            raise InvalidInput("Chưa lấy số và tạo bản để ký ngoài hệ thống cho đợt trình này")
        if final.version < draft_version(session, batch_id):
            raise InvalidInput("Dự thảo quyết định đã thay đổi (loại hồ sơ hoặc bản mới) sau khi tạo bản PDF để "
                               "ký: hãy tạo lại bản PDF để ký rồi ký bản đó")
        draft, entry_id = final.content, entry.id
    try:
        signer = signing_flow.signer_of_upload(runtime, authority.id, content, draft)
    except signing.SigningError as exc:
        raise InvalidInput(str(exc)) from exc
    return signing_flow.guarded(runtime, _accept, runtime, actor, batch_id, entry_id, content, signer.name)


def _accept(runtime: Runtime, actor: Actor, batch_id: str, entry_id: int, content: bytes, signer_name: str) -> Signed:
    with runtime.uow() as uow:
        session = uow.session
        open_batch(session, batch_id)
        step = _locked_step(session, runtime, actor, batch_id)
        entry = session.get(RegisterEntry, entry_id)
        if entry is None or entry.pdf_sha256 is not None:
            raise Conflict("Quyết định này vừa được ký; hãy tải lại trang")
        return _complete(session, runtime, actor, step, entry, content, signer_name, "external", uow)


def _keep(runtime: Runtime, actor: Actor, batch_id: str, plan: _Plan, signer_name: str, how: str,
          made: Made | None, make: Any) -> Signed | None:
    """One transaction: the number, the files and, when signed, the task's completion. With files
    `made` on the plan's number, None back if the register gave another (nothing kept); else `make`
    makes them here, on the number taken."""
    authority = batch_documents.Issuers.load().authority("decision")
    symbol = authority.symbol(batch_documents.DECISION_KIND)
    with runtime.uow() as uow:
        session = uow.session
        open_batch(session, batch_id)
        step = _locked_step(session, runtime, actor, batch_id)
        if plan.reserved_id is not None:
            entry = session.get(RegisterEntry, plan.reserved_id)
            if entry is None or entry.pdf_sha256 is not None:
                return None
            entry.signed_on = plan.signed_on
        else:
            if _reserved(session, batch_id) is not None:
                return None
            entry = register(session, authority, batch_documents.DECISION_KIND, plan.signed_on, plan.subject,
                             signer_name, plan.awardees, runtime.clock.now(), batch_id=batch_id)
            if made is not None and entry.number != plan.number:
                return None  # leaving the block rolls the number back
        docx, final, signed = made if made is not None else make(replace(plan, number=entry.number))
        version = next_version(session, batch_id, DECISION)
        stem = f"quyet-dinh-{entry.number:02d}-{symbol}-{plan.signed_on.year}".replace("Đ", "D").lower()
        if docx is not None:
            entry.docx_sha256 = add_file(session, runtime, batch_id, DECISION, version, "docx", "final",
                                          f"{stem}.docx", docx, actor.user_id, entry.id)
        add_file(session, runtime, batch_id, DECISION, version, "pdf", "final", f"{stem}.pdf", final, actor.user_id,
                  entry.id)
        if signed is None:
            audit(session, runtime, "decision_numbered", actor_id=actor.user_id, batch_id=batch_id,
                  number=entry.number, symbol=entry.symbol)
            commit_or_conflict(uow)
            return Signed(entry.number, entry.symbol, entry.signed_on, "")
        entry.signer_name = signer_name
        return _complete(session, runtime, actor, step, entry, signed, signer_name, how, uow)


def _complete(session: Session, runtime: Runtime, actor: Actor, step: Step, entry: RegisterEntry,
              signed: bytes, signer_name: str, how: str, uow: Any) -> Signed:
    """Store the signed PDF and complete the signing task with the register's number and date."""
    batch_id = str(step.task.batch_id)
    version = next_version(session, batch_id, DECISION)
    stem = f"quyet-dinh-{entry.number:02d}-{entry.symbol}-{entry.year}".replace("Đ", "D").lower()
    entry.pdf_sha256 = add_file(session, runtime, batch_id, DECISION, version, "pdf", "signed",
                                 f"{stem}-da-ky.pdf", signed, actor.user_id, entry.id)
    entry.signer_name = signer_name
    left_out = session.execute(select(DecisionExclusion.nomination_id, DecisionExclusion.reason)
                               .where(DecisionExclusion.batch_id == batch_id)
                               .order_by(DecisionExclusion.nomination_id)).all()
    data = {"decision": "sign", "decision_number": f"{entry.number:02d}/{entry.symbol}",
            "signed_on": entry.signed_on.isoformat(),
            "excluded": [{"nomination_id": nid, "reason": reason} for nid, reason in left_out]}
    signing_flow.complete_step(
        session, runtime, actor, uow, step, data, catalogued("Đợt trình vừa được xử lý ở nơi khác; hãy tải lại trang"),
        ("decision_signed", {"instance_id": step.row.id, "batch_id": batch_id, "number": entry.number,
                             "symbol": entry.symbol, "signed_on": entry.signed_on.isoformat(), "how": how,
                             "sha256": entry.pdf_sha256}),
        deliver=True)
    return Signed(entry.number, entry.symbol, entry.signed_on, entry.pdf_sha256 or "")
