"""A Giấy khen decided inside a unit (plan III.1): the council secretary's minutes, the head's digitally
signed decision numbered by the unit's own register (…/QĐ-<unit symbol>), the certificate per awardee.

The same signing flow as the Chairman's decision (signing_flow.py): the documents are rendered and signed
before the write transaction, on the number the unit's register will give next; a signing that fails
anywhere stores nothing and consumes no number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Forbidden, InvalidInput, NotFound, catalogued
from service.core.runtime import Runtime
from service.db.lookups import cited_movement, movement_of
from service.db.models import Attachment, InboxRow, Nomination, RegisterEntry, Unit, UnitCriteria
from service.documents import batch_documents, signing, unit_award
from service.documents.decree30 import short_date
from service.documents.pdf import PdfError, docx_to_pdf
from service.documents.register import Authority, file_stem, register
from service.documents.wording import WordingError
from service.security.access import Actor, require_admin, require_view
from service.usecases import signing_flow
from service.usecases.audit import audit
from service.usecases.files import NewFile, StoredFile, check_file, check_upload, store_files
from service.usecases.instances import load_instance
from service.usecases.signing_flow import Signed, Step, locked_step
from service.usecases.tasks import _commit as commit_or_conflict
from workflows.contract import COUNCIL_REVIEW, UNIT_DECISION_SIGNING
from workflows.forms import FieldError

SUBJECT = "Về việc tặng Giấy khen"
NO_SYMBOL = ("Đơn vị chưa có ký hiệu sổ đăng ký văn bản (ví dụ SYT trong QĐ-SYT): quản trị hệ thống đặt ký hiệu ở "
             "trang Giấy khen của đơn vị trước khi ký")


@dataclass(frozen=True)
class _Plan:
    """What a signing needs, read before the write: the facts and the number it expects."""

    nomination_id: str
    unit: unit_award.IssuingUnit
    authority: Authority
    number: int
    signed_on: date
    awardee: Any
    council: dict[str, Any]
    reserved_id: int | None = None  # a number given already for signing elsewhere (unit_award_external.py)
    movement: dict[str, Any] = field(kw_only=True)  # what the decision cites of the nomination's movement


Made = tuple[bytes, bytes, bytes | None, bytes]  # DOCX, PDF, signed PDF (None: to sign elsewhere), certificate


def _nomination_task(session: Session, runtime: Runtime, actor: Actor, nomination_id: str, stage: str, absent: str,
                     not_theirs: str) -> tuple[Nomination, InboxRow]:
    nomination = session.get(Nomination, nomination_id)
    if nomination is None:
        raise NotFound(f"Không tìm thấy hồ sơ {nomination_id}")
    require_view(actor, nomination, runtime.roles)  # 404 for province roles: it never leaves its unit
    return nomination, signing_flow.task_at(session, actor, InboxRow.nomination_id == nomination_id, stage, absent,
                                            not_theirs)


def _signing_task(session: Session, runtime: Runtime, actor: Actor, nomination_id: str) -> tuple[Nomination, InboxRow]:
    return _nomination_task(session, runtime, actor, nomination_id, UNIT_DECISION_SIGNING,
                            catalogued("Hồ sơ không ở bước thủ trưởng đơn vị ký quyết định tặng Giấy khen"),
                            catalogued("Chỉ thủ trưởng của đơn vị ký quyết định tặng Giấy khen của đơn vị mình"))


def issuing_unit(session: Session, unit_id: str) -> unit_award.IssuingUnit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"Không tìm thấy đơn vị {unit_id}")
    return unit_award.IssuingUnit(unit.id, unit.name, unit.kind, unit.register_symbol)


def authority_of(unit: unit_award.IssuingUnit) -> Authority:
    try:
        return unit_award.unit_authority(unit)
    except unit_award.NoRegister as exc:
        raise InvalidInput(NO_SYMBOL) from exc


def reserved(session: Session, nomination_id: str) -> RegisterEntry | None:
    """The number given for this nomination's decision to be signed elsewhere, not signed yet."""
    return session.scalars(select(RegisterEntry).where(RegisterEntry.nomination_id == nomination_id,
                                                       RegisterEntry.pdf_sha256.is_(None))).first()


def _plan(runtime: Runtime, actor: Actor, nomination_id: str) -> _Plan:
    signed_on = runtime.clock.now().astimezone(signing.VN).date()
    with runtime.read() as uow:
        session = uow.session
        nomination, task = _signing_task(session, runtime, actor, nomination_id)
        unit = issuing_unit(session, nomination.unit_id)
        authority = authority_of(unit)
        _, instance = load_instance(session, runtime, task.instance_id)
        facts = instance.data
        awardee = batch_documents.awardee(nomination.nominee_kind, nomination.nominee_name, nomination.data,
                                          unit.name)
        council = {"meeting_date": _short(facts.get("meeting_date")), "members_present": facts.get("members_present"),
                   "votes_for": facts.get("votes_for"), "votes_against": facts.get("votes_against")}
        movement = cited_movement(session, nomination.movement_id)
        given = reserved(session, nomination_id)
        if given is not None:  # its number stays this decision's; its day too if another year began since
            return _Plan(nomination_id, unit, authority, given.number,
                         signed_on if given.year == signed_on.year else given.signed_on, awardee, council, given.id,
                         movement=movement)
        return _Plan(nomination_id, unit, authority,
                     signing_flow.expected_number(session, authority.id, signed_on.year), signed_on, awardee, council,
                     movement=movement)


def _short(iso: Any) -> str:
    try:
        return short_date(date.fromisoformat(str(iso)))
    except ValueError:
        return str(iso or "")


def sign_on_server(runtime: Runtime, actor: Actor, nomination_id: str, passphrase: str | None) -> Signed:
    """The unit head signs with the key configured for the unit: the number and date written in, then
    PAdES with a timestamp. Wrong passphrase, bad certificate, silent TSA: a clear 422, nothing stored."""
    plan = _plan(runtime, actor, nomination_id)
    try:
        key = signing_flow.server_key(runtime, plan.authority.id, passphrase)

        def make(plan: _Plan) -> Made:
            docx, final, certificate = render(plan, key.name)
            signed = key.sign(runtime, final, plan.authority.issuer.place,
                              lambda exc: f"Không tạo được quyết định: {exc}")
            return docx, final, signed, certificate

        return rounds(runtime, actor, plan, key.name, make)
    except signing.SigningError as exc:
        raise InvalidInput(str(exc)) from exc


def render(plan: _Plan, signer_name: str) -> tuple[bytes, bytes, bytes]:
    """The decision (DOCX, and the PDF made from it) and the certificate, with the plan's number and day."""
    document = unit_award.decision_document(plan.authority, plan.unit, plan.movement, [plan.awardee],
                                            plan.signed_on.year, signer_name, plan.council, plan.number, plan.signed_on)
    try:
        docx = unit_award.render_decision(document)
        certificate, _ = unit_award.render_certificates(document)
        return docx, docx_to_pdf(docx), certificate
    except (PdfError, WordingError, ValueError) as exc:
        raise signing.SigningError(f"Không tạo được quyết định: {exc}") from exc


def rounds(runtime: Runtime, actor: Actor, plan: _Plan, signer_name: str, make: Any) -> Signed:
    """Made outside the write on the number expected; if another signing of the unit took it meanwhile,
    once more; then made inside the write, holding the number."""
    def keep(plan: _Plan, made: Made | None, make: Any) -> Signed | None:
        return _keep(runtime, actor, plan, signer_name, made, make)

    return signing_flow.in_rounds(runtime, plan, lambda: _plan(runtime, actor, plan.nomination_id), make, keep,
                                  catalogued("Quyết định này vừa được ký ở nơi khác; hãy tải lại trang"))


def locked_signing_step(session: Session, runtime: Runtime, actor: Actor, nomination_id: str) -> Step:
    """The head's signing step, its instance row locked (see signing_flow.locked_step)."""
    _, task = _signing_task(session, runtime, actor, nomination_id)
    return locked_step(session, runtime, task)


def _keep(runtime: Runtime, actor: Actor, plan: _Plan, signer_name: str, made: Made | None,
          make: Any) -> Signed | None:
    """One transaction: the number, the files, the task's completion (or, to be signed elsewhere, the
    number kept with the PDF to sign). With files `made` on the plan's number, None back if the register
    gave another (nothing kept); else `make` makes them here."""
    with runtime.uow() as uow:
        session = uow.session
        step = locked_signing_step(session, runtime, actor, plan.nomination_id)
        given = reserved(session, plan.nomination_id)
        if (given.id if given is not None else None) != plan.reserved_id:
            return None  # numbered or signed meanwhile: one more round, on what is there now
        if given is not None:
            entry = given
            entry.signed_on = plan.signed_on
        else:
            entry = register(session, plan.authority, batch_documents.DECISION_KIND, plan.signed_on, SUBJECT,
                             signer_name, 1, runtime.clock.now())
            entry.nomination_id = plan.nomination_id
            if made is not None and entry.number != plan.number:
                return None  # leaving the block rolls the number back
        docx, final, signed, certificate = made if made is not None else make(replace(plan, number=entry.number))
        stem = file_stem(entry)
        if signed is None:  # numbered for signing elsewhere: the PDF to sign is kept to compare the upload with
            kept = keep_files(session, runtime, actor, plan.nomination_id, [(f"{stem}.docx", docx),
                                                                            (f"{stem}.pdf", final)])
            entry.docx_sha256 = kept[0].sha256
            audit(session, runtime, "unit_decision_numbered", actor_id=actor.user_id,
                  nomination_id=plan.nomination_id, number=entry.number, symbol=entry.symbol)
            commit_or_conflict(uow)
            return Signed(entry.number, entry.symbol, entry.signed_on, kept[1].sha256)
        entry.docx_sha256 = keep_files(session, runtime, actor, plan.nomination_id, [(f"{stem}.docx", docx)])[0].sha256
        return finish(session, runtime, actor, uow, step, entry, signed, certificate, "server")


def keep_files(session: Session, runtime: Runtime, actor: Actor, nomination_id: str,
               files: list[tuple[str, bytes]]) -> list[StoredFile]:
    """Store made files as the nomination's (one it already holds, same name and bytes, is not doubled)."""
    checked = [(check_upload(name, content, max(len(content), runtime.config.max_attachment_bytes)), content)
               for name, content in files]
    held = set(session.execute(select(Attachment.sha256, Attachment.filename).where(
        Attachment.nomination_id == nomination_id)).tuples())
    store_files(session, runtime, actor.user_id, nomination_id,
                [NewFile(s, c) for s, c in checked if (s.sha256, s.filename) not in held], runtime.clock.now())
    return [s for s, _ in checked]


def finish(session: Session, runtime: Runtime, actor: Actor, uow: Any, step: Step, entry: RegisterEntry,
           signed: bytes, certificate: bytes, how: str) -> Signed:
    """Keep the signed decision and the certificate, and complete the head's step (its instance row locked
    by the caller) with the register's number and day: one commit."""
    nomination_id = str(step.task.nomination_id)
    stem = file_stem(entry)
    stored = keep_files(session, runtime, actor, nomination_id, [
        (f"{stem}-da-ky.pdf", signed), (f"giay-khen-{nomination_id}.pdf".lower(), certificate)])
    entry.pdf_sha256 = stored[0].sha256
    data = {"decision": "sign", "decision_number": f"{entry.number:02d}/{entry.symbol}",
            "signed_on": entry.signed_on.isoformat()}
    signing_flow.complete_step(
        session, runtime, actor, uow, step, data, catalogued("Hồ sơ vừa được xử lý ở nơi khác; hãy tải lại trang"),
        ("unit_decision_signed", {"nomination_id": nomination_id, "instance_id": step.row.id,
                                  "number": entry.number, "symbol": entry.symbol,
                                  "signed_on": entry.signed_on.isoformat(), "sha256": entry.pdf_sha256,
                                  "certificate": stored[1].sha256, "how": how}))
    return Signed(entry.number, entry.symbol, entry.signed_on, entry.pdf_sha256 or "")


# --- the council's minutes --------------------------------------------------------------------------------

def add_minutes(runtime: Runtime, actor: Actor, nomination_id: str, filename: str, content: bytes) -> StoredFile:
    """The council secretary uploads the meeting's minutes while the council's step is open: into the one
    upload store, as a file of the nomination; the step's form then names it by its sha256."""
    with runtime.uow() as uow:
        session = uow.session
        _council_task(session, runtime, actor, nomination_id)
        stored = check_file(runtime, filename, content)
        store_files(session, runtime, actor.user_id, nomination_id, [NewFile(stored, content, "minutes_file")],
                    runtime.clock.now())
        commit_or_conflict(uow)
        return stored


def _council_task(session: Session, runtime: Runtime, actor: Actor, nomination_id: str) -> InboxRow:
    return _nomination_task(session, runtime, actor, nomination_id, COUNCIL_REVIEW,
                            catalogued("Hồ sơ không ở bước Hội đồng Thi đua – Khen thưởng xét"),
                            catalogued("Chỉ thư ký Hội đồng Thi đua – Khen thưởng của đơn vị tải biên bản họp lên"))[1]


# --- the unit's own criteria and register symbol ---------------------------------------------------------

MAX_CRITERIA = 50


def unit_criteria(runtime: Runtime, actor: Actor, unit_id: str, movement_id: int) -> list[dict[str, str]]:
    """The criteria the unit's head set for its Giấy khen in the movement (empty: none yet)."""
    if unit_id not in actor.units() and not actor.is_admin:
        raise NotFound(f"Không tìm thấy đơn vị {unit_id}")
    with runtime.read() as uow:
        own = uow.session.get(UnitCriteria, (movement_id, unit_id))
        return list(own.criteria) if own is not None else []


def set_unit_criteria(runtime: Runtime, actor: Actor, unit_id: str, movement_id: int,
                      titles: list[str]) -> list[dict[str, str]]:
    """Plan III.2.2: the head of the unit (or an admin) sets its Giấy khen criteria, one per line; the
    codes are stable per position (gk1, gk2...) so drafts that ticked one keep meaning it."""
    if not actor.is_admin and unit_id not in actor.units_where("unit_award_criteria"):
        raise Forbidden("Chỉ thủ trưởng đơn vị hoặc quản trị đặt tiêu chuẩn Giấy khen của đơn vị")
    cleaned = [" ".join(t.split()) for t in titles if t and t.strip()]
    problems = [FieldError(f"criteria.{i}", "Tối đa 1000 ký tự") for i, t in enumerate(cleaned) if len(t) > 1000]
    if len(cleaned) > MAX_CRITERIA:
        problems.append(FieldError("criteria", f"Tối đa {MAX_CRITERIA} tiêu chuẩn"))
    if problems:
        raise InvalidInput("Tiêu chuẩn Giấy khen không hợp lệ", problems)
    criteria = [{"code": f"gk{i + 1}", "title": t} for i, t in enumerate(cleaned)]
    with runtime.uow() as uow:
        session = uow.session
        if session.get(Unit, unit_id) is None:
            raise NotFound(f"Không tìm thấy đơn vị {unit_id}")
        movement_of(session, movement_id)
        own = session.get(UnitCriteria, (movement_id, unit_id))
        if own is None:
            session.add(UnitCriteria(movement_id=movement_id, unit_id=unit_id, criteria=criteria))
        else:
            own.criteria = criteria
        audit(session, runtime, "unit_criteria_set", actor_id=actor.user_id, unit_id=unit_id,
              movement_id=movement_id, count=len(criteria))
        uow.commit()
    return criteria


SYMBOL = re.compile(r"^[A-ZĐ0-9]{2,12}(-[A-ZĐ0-9]{1,12})?$")


def set_register_symbol(runtime: Runtime, actor: Actor, unit_id: str, symbol: str) -> str:
    """An admin sets the unit's register symbol (SYT in QĐ-SYT). Numbers already given keep theirs."""
    require_admin(actor)
    symbol = symbol.strip().upper()
    if not SYMBOL.match(symbol):
        raise InvalidInput("Ký hiệu sổ đăng ký không hợp lệ",
                           [FieldError("symbol", "Chữ in hoa và số, 2–12 ký tự, ví dụ SYT hoặc UBND")])
    with runtime.uow() as uow:
        unit = uow.session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(f"Không tìm thấy đơn vị {unit_id}")
        unit.register_symbol = symbol
        audit(uow.session, runtime, "unit_register_symbol_set", actor_id=actor.user_id, unit_id=unit_id,
              symbol=symbol)
        uow.commit()
    return symbol
