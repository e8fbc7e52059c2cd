"""The Chairman leaves single nominations out of a batch's decision at his signing step, each with
his reason, instead of sending the whole batch back.

A signed decision is a legal record that lists exactly who is awarded, so an excluded nomination
cannot simply be "ignored" at signing: the decision is re-drafted from the batch's data without it
(a new draft version; Home Affairs' Tờ trình, their proposal, stays as it was), and that draft is
what is numbered and signed, on the server or elsewhere. At the signing the excluded ones end
"Không được khen thưởng" with the Chairman's reason (the batch diagram's send_decision action).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, InvalidInput, NotFound
from service.core.runtime import Runtime
from service.db.lookups import cited_movement
from service.db.models import DecisionExclusion, Nomination
from service.documents import award_decision, batch_documents
from service.security.access import Actor
from service.usecases.audit import audit
from service.usecases.decision_drafts import (
    DECISION,
    SUBMISSION,
    add_file,
    batch_terms,
    members,
    next_version,
    open_batch,
    pdf_of,
    render_decision,
    signer_name,
    submission_cited,
    submission_entry,
)
from service.usecases.decisions import locked_signing_task, signing_task
from service.usecases.tasks import _commit as commit_or_conflict

REASON_MIN, REASON_MAX = 10, 2000


def excluded(session: Session, batch_id: str) -> dict[str, str]:
    """nomination id -> the Chairman's reason, for the batch's exclusions so far."""
    return dict(session.execute(select(DecisionExclusion.nomination_id, DecisionExclusion.reason)
                                .where(DecisionExclusion.batch_id == batch_id)).all())


def exclude(runtime: Runtime, actor: Actor, batch_id: str, nomination_id: str, reason: str) -> int:
    """Leave one nomination out of the decision; returns the re-drafted decision's version."""
    reason = (reason or "").strip()
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise InvalidInput("Hãy nêu lý do không khen thưởng hồ sơ này (từ 10 đến 2.000 ký tự)")
    issuers = batch_documents.Issuers.load()
    with runtime.read() as uow:
        session = uow.session
        movement = cited_movement(session, open_batch(session, batch_id).movement_id)
        signing_task(session, actor, batch_id)
        nomination = session.get(Nomination, nomination_id)
        if nomination is None or nomination.batch_id != batch_id:
            raise NotFound("Hồ sơ này không có trong đợt trình")
        before = excluded(session, batch_id)
        if nomination_id in before:
            raise Conflict("Hồ sơ này đã được loại khỏi quyết định")
        left = members(session, batch_id, leaving_out=frozenset({nomination_id}))
        if not left:
            raise InvalidInput("Không loại được hồ sơ cuối cùng của quyết định: nếu không khen thưởng hồ sơ nào, "
                               "hãy trả lại tờ trình, nêu lý do")
        entry = submission_entry(session, batch_id)
        cited = submission_cited(entry) if entry is not None else {
            "number": f"{award_decision.decree30.BLANK}/TTr-SNV",
            "date": f"{award_decision.decree30.BLANK}/{runtime.clock.now().year}"}
        signer = signer_name(session, runtime, issuers)
        terms = batch_terms(session, batch_id)
    docx = render_decision(runtime, issuers, movement, left, signer, cited, terms)
    pdf = pdf_of(docx)
    with runtime.uow() as uow:
        session = uow.session
        open_batch(session, batch_id)
        locked_signing_task(session, runtime, actor, batch_id)
        if excluded(session, batch_id) != before:  # another exclusion meanwhile: this draft would miss it
            raise Conflict("Danh sách hồ sơ bị loại vừa thay đổi; hãy tải lại trang rồi làm lại")
        session.add(DecisionExclusion(batch_id=batch_id, nomination_id=nomination_id, reason=reason,
                                      excluded_by=actor.user_id, excluded_at=runtime.clock.now()))
        version = max(next_version(session, batch_id, DECISION), next_version(session, batch_id, SUBMISSION))
        for fmt, content in (("docx", docx), ("pdf", pdf)):
            add_file(session, runtime, batch_id, DECISION, version, fmt, "draft",
                     f"quyet-dinh-{batch_id}-v{version}.{fmt}", content, actor.user_id)
        audit(session, runtime, "nomination_excluded", actor_id=actor.user_id, batch_id=batch_id,
              nomination_id=nomination_id, reason=reason, version=version, awardees=len(left))
        commit_or_conflict(uow)
        return version

