"""Home Affairs drafts a batch's decision: the Tờ trình and the Quyết định (DOCX + PDF) rendered from
the batch's nominations, and edited versions uploaded back (DOCX or PDF, no macros), each kept with
its sha256, who made it and when. The helpers here are shared with the signing (decisions.py).

The Tờ trình is Home Affairs' own outgoing document: its number and date come from Home Affairs'
register when it is first drafted (never typed), and stay the batch's through every new draft, so
the decision always cites the submission the Chairman actually received."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.core.media_types import DOCX, PDF
from service.core.runtime import Runtime
from service.db.lookups import award_terms, cited_movement
from service.db.models import Batch, DecisionExclusion, DecisionFile, InstanceRow, Nomination, RegisterEntry, Unit, User
from service.documents import award_decision, batch_documents, fill, signers, signing
from service.documents.pdf import PdfError, docx_to_pdf
from service.documents.pdf_fill import PdfFillError, check_pdf_gaps
from service.documents.register import register
from service.security.access import Actor
from service.usecases.audit import audit
from service.usecases.files import check_upload
from service.usecases.locks import locks_rows
from service.usecases.tasks import _commit as commit_or_conflict
from workflows.contract import AWARD_DECISION, DECISION_SIGNING

DECISION, SUBMISSION = "decision", "submission"


def require_drafter(actor: Actor) -> None:
    if not actor.may("draft_decisions"):
        raise Forbidden("Chỉ Sở Nội vụ được lập và tải lên dự thảo quyết định")


def batch_or_404(session: Session, batch_id: str) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"Không tìm thấy đợt trình {batch_id}")
    return batch


def open_batch(session: Session, batch_id: str) -> Batch:
    batch = batch_or_404(session, batch_id)
    if batch.status != "open":
        raise Conflict("Đợt trình đã kết thúc (đã ký hoặc dừng trình): không sửa dự thảo được nữa")
    return batch


def batch_terms(session: Session, batch_id: str) -> batch_documents.Terms:
    """What the batch's movement says of its kinds and the award its nominations ask for."""
    awards = session.scalars(select(Nomination.award).where(
        Nomination.batch_id == batch_id, Nomination.status != "not_awarded")).all()
    return award_terms(session, batch_or_404(session, batch_id), list(awards))


def members(session: Session, batch_id: str, *, with_excluded: bool = False,
            leaving_out: frozenset[str] = frozenset()) -> list[batch_documents.Awardee]:
    """The batch's awardees as the decision lists them: without those the Chairman excluded (the
    Tờ trình, Home Affairs' proposal, lists them all: `with_excluded`) nor `leaving_out`."""
    query = (select(Nomination, Unit.name).join(Unit, Unit.id == Nomination.unit_id)
             .where(Nomination.batch_id == batch_id, Nomination.status != "not_awarded").order_by(Nomination.id))
    if not with_excluded:
        query = query.where(Nomination.id.not_in(select(DecisionExclusion.nomination_id)
                                                 .where(DecisionExclusion.batch_id == batch_id)))
    if leaving_out:
        query = query.where(Nomination.id.not_in(leaving_out))
    rows = session.execute(query).all()
    terms = batch_terms(session, batch_id)
    return [batch_documents.awardee(n.nominee_kind, n.nominee_name, n.data or {}, unit, terms) for n, unit in rows]


def signer_name(session: Session, runtime: Runtime, issuers: batch_documents.Issuers) -> str:
    """The configured signer's name (his certificate's), or the Chairman's account name."""
    try:
        return signers.load(runtime.config.instance_dir).signer(issuers.decision_authority).name
    except signing.SigningError:
        signer_role = runtime.stage_task(session, AWARD_DECISION, DECISION_SIGNING).role
        found = session.scalars(select(User.full_name).join(User.roles).where(User.active.is_(True))
                                .where(User.roles.any(role=signer_role)).order_by(User.id)).first()
        return found or ""


def next_version(session: Session, batch_id: str, document: str) -> int:
    return int(session.scalar(select(func.coalesce(func.max(DecisionFile.version), 0)).where(
        DecisionFile.batch_id == batch_id, DecisionFile.document == document)) or 0) + 1


def add_file(session: Session, runtime: Runtime, batch_id: str, document: str, version: int, fmt: str,
              stage: str, filename: str, content: bytes, actor_id: int | None, entry_id: int | None = None) -> str:
    digest = hashlib.sha256(content).hexdigest()
    session.add(DecisionFile(batch_id=batch_id, document=document, version=version, format=fmt, stage=stage,
                             filename=filename, sha256=digest, size=len(content), content=content,
                             register_entry_id=entry_id, created_by=actor_id, created_at=runtime.clock.now()))
    return digest


def pdf_of(docx: bytes) -> bytes:
    try:
        return docx_to_pdf(docx)
    except PdfError as exc:
        raise InvalidInput(str(exc)) from exc


# --- Home Affairs: drafts and uploaded versions --------------------------------------------------------

def submission_entry(session: Session, batch_id: str) -> RegisterEntry | None:
    """The batch's Tờ trình in Home Affairs' register, once it has been drafted."""
    symbol = batch_documents.Issuers.load().authority("submission").symbol(batch_documents.SUBMISSION_KIND)
    return session.scalars(select(RegisterEntry).where(RegisterEntry.batch_id == batch_id,
                                                       RegisterEntry.symbol == symbol)).first()


def submission_cited(entry: RegisterEntry) -> dict[str, str]:
    """How the decision and the Tờ trình itself cite it: '05/TTr-SNV', '12/5/2026'."""
    return {"number": f"{entry.number:02d}/{entry.symbol}", "date": award_decision.decree30.short_date(entry.signed_on)}


def check_signed_after_submission(session: Session, batch_id: str, signed_on: date) -> None:
    """A decision answers the Tờ trình: it cannot be dated before it (a clock set back, a register
    date from another day), whatever the path to the signature."""
    entry = submission_entry(session, batch_id)
    if entry is not None and entry.signed_on > signed_on:
        cited = f"{entry.number:02d}/{entry.symbol} ({entry.signed_on:%d/%m/%Y})"
        message = (f"Ngày ký quyết định ({signed_on:%d/%m/%Y}) trước ngày Tờ trình số {cited} mà quyết định "
                   "trả lời: không ký được; hãy kiểm tra ngày giờ của hệ thống")
        raise InvalidInput(message)


def register_submission(runtime: Runtime, actor: Actor, batch_id: str, issuers: batch_documents.Issuers,
                         awardees: int, signer: str) -> RegisterEntry:
    """The batch's Tờ trình number: taken from Home Affairs' register on the first draft, in its own
    short transaction (the number is issued with its register entry, so a failed rendering leaves no
    gap: the next draft uses the same number), and the same one for every later draft."""
    today = runtime.clock.now().astimezone(signing.VN).date()
    with runtime.uow() as uow:
        session = uow.session
        batch = open_batch(session, batch_id)
        if locks_rows(session):  # two drafts of one batch at once take one number, not two; the batch's
            # instance row is what every writer of the batch locks first (usecases/locks.py), then the counter
            session.execute(select(InstanceRow.id).where(InstanceRow.id == batch.instance_id).with_for_update())
        entry = submission_entry(session, batch_id)
        if entry is None:
            wording = award_decision.Wording.load("award_submission")
            entry = register(session, issuers.authority("submission"), batch_documents.SUBMISSION_KIND, today,
                             str(wording.raw("subject")), signer, awardees, runtime.clock.now(), batch_id=batch_id)
            audit(session, runtime, "submission_registered", actor_id=actor.user_id, batch_id=batch.id,
                  number=entry.number, symbol=entry.symbol, signed_on=today.isoformat())
        session.expunge(entry)
        commit_or_conflict(uow)
        return entry


def render_decision(runtime: Runtime, issuers: batch_documents.Issuers, movement: dict[str, Any],
                    awardees: list[batch_documents.Awardee], signer: str, cited: dict[str, str],
                    terms: batch_documents.Terms) -> bytes:
    """The decision's DOCX draft: no number, no date (the register gives both at signing). `movement`:
    the batch's movement as cited_movement gives it."""
    year = runtime.clock.now().year
    return award_decision.render_docx(batch_documents.decision_document(issuers, movement, awardees, year, signer,
                                                                        cited, terms=terms))


def generate_drafts(runtime: Runtime, actor: Actor, batch_id: str) -> int:
    """Tờ trình and Quyết định (DOCX + PDF) from the batch's nominations; returns the new version."""
    require_drafter(actor)
    issuers = batch_documents.Issuers.load()
    with runtime.read() as uow:
        session = uow.session
        movement = cited_movement(session, open_batch(session, batch_id).movement_id)
        awardees = members(session, batch_id)
        proposed = members(session, batch_id, with_excluded=True)
        terms = batch_terms(session, batch_id)
        signer = signer_name(session, runtime, issuers)
        head = session.get(User, actor.user_id)
        head_name = head.full_name if head else ""
    if not awardees:
        raise InvalidInput("Đợt trình chưa có hồ sơ nào: hãy chọn hồ sơ ở bước lập tờ trình trước")
    entry = register_submission(runtime, actor, batch_id, issuers, len(proposed), head_name)
    cited = submission_cited(entry)
    decision = render_decision(runtime, issuers, movement, awardees, signer, cited, terms)
    proposal = award_decision.render_docx(
        batch_documents.submission_document(issuers, movement, proposed, entry.year, head_name, cited, entry.number,
                                            entry.signed_on, terms),
        award_decision.Wording.load("award_submission"))
    files = {(DECISION, "docx"): decision, (DECISION, "pdf"): pdf_of(decision),
             (SUBMISSION, "docx"): proposal, (SUBMISSION, "pdf"): pdf_of(proposal)}
    with runtime.uow() as uow:
        session = uow.session
        open_batch(session, batch_id)
        version = max(next_version(session, batch_id, DECISION), next_version(session, batch_id, SUBMISSION))
        for (document, fmt), content in files.items():
            name = f"{'quyet-dinh' if document == DECISION else 'to-trinh'}-{batch_id}-v{version}.{fmt}"
            add_file(session, runtime, batch_id, document, version, fmt, "draft", name, content, actor.user_id,
                     entry.id if document == SUBMISSION else None)
        audit(session, runtime, "decision_drafted", actor_id=actor.user_id, batch_id=batch_id, version=version,
              awardees=len(awardees), submission=cited["number"])
        commit_or_conflict(uow)
        return version


def upload_version(runtime: Runtime, actor: Actor, batch_id: str, filename: str, content: bytes) -> int:
    """An edited decision (DOCX, or PDF) as the version the Chairman will sign."""
    require_drafter(actor)
    stored = check_upload(filename, content, runtime.config.max_attachment_bytes)
    if stored.content_type not in (DOCX, PDF):
        raise InvalidInput("Dự thảo quyết định chỉ nhận tệp DOCX hoặc PDF")
    authority = batch_documents.Issuers.load().authority("decision")
    symbol, year = authority.symbol(batch_documents.DECISION_KIND), runtime.clock.now().year
    pdf = content
    if stored.content_type == DOCX:
        try:
            fill.check_gaps(content, symbol, year)
        except fill.FillError as exc:
            raise InvalidInput(str(exc)) from exc
        pdf = pdf_of(content)
    else:
        check_pdf_gaps_or_refuse(content, symbol, year)
    with runtime.uow() as uow:
        session = uow.session
        open_batch(session, batch_id)
        version = next_version(session, batch_id, DECISION)
        if stored.content_type == DOCX:
            add_file(session, runtime, batch_id, DECISION, version, "docx", "uploaded", stored.filename, content,
                      actor.user_id)
        add_file(session, runtime, batch_id, DECISION, version, "pdf", "uploaded",
                  stored.filename.rsplit(".", 1)[0] + ".pdf", pdf, actor.user_id)
        audit(session, runtime, "decision_uploaded", actor_id=actor.user_id, batch_id=batch_id, version=version,
              filename=stored.filename, sha256=stored.sha256)
        commit_or_conflict(uow)
        return version


def check_pdf_gaps_or_refuse(pdf: bytes, symbol: str, year: int) -> None:
    try:
        check_pdf_gaps(pdf, symbol, year)
    except PdfFillError as exc:
        raise InvalidInput(str(exc)) from exc
