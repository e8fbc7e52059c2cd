"""Reading decisions: a batch's files and citation, the register, the files themselves, and the
public check of a decision (by its number, or by the PDF someone holds)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from service.core.errors import Forbidden, InvalidInput, NotFound
from service.core.media_types import DOCX, PDF
from service.core.runtime import Runtime
from service.db.lookups import award_terms, cited_movement
from service.db.models import Batch, DecisionExclusion, DecisionFile, Nomination, RegisterEntry, Unit, User
from service.documents import batch_documents, signers, signing
from service.documents.award_decision import AwardDocument
from service.documents.register import authorities
from service.security.access import Actor, can_view_batches


def citation(entry: RegisterEntry | None) -> str | None:
    """'Quyết định số 05/QĐ-UBND ngày 15/05/2026': the number AND the date, wherever it is cited."""
    if entry is None or entry.pdf_sha256 is None:
        return None
    return citation_of(entry)


def citation_of(entry: Any) -> str:
    """As citation(), for anything with number, symbol and signed_on (a register entry, a signing)."""
    return f"Quyết định số {entry.number:02d}/{entry.symbol} ngày {entry.signed_on.strftime('%d/%m/%Y')}"


def submission_citation(entry: RegisterEntry | None) -> str | None:
    """'Tờ trình số 03/TTr-SNV ngày 10/05/2026': number AND date, as the decision cites it."""
    if entry is None:
        return None
    return f"Tờ trình số {entry.number:02d}/{entry.symbol} ngày {entry.signed_on.strftime('%d/%m/%Y')}"


def signed_entries(session: Session, batch_ids: set[str]) -> dict[str, RegisterEntry]:
    if not batch_ids:
        return {}
    rows = session.scalars(select(RegisterEntry).where(RegisterEntry.batch_id.in_(batch_ids),
                                                       RegisterEntry.pdf_sha256.is_not(None)))  # a Tờ trình has none
    return {str(e.batch_id): e for e in rows}


def public_decisions(runtime: Runtime, batch_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Each batch's signed decision: its citation and the signed PDF's file id."""
    with runtime.read() as uow:
        session = uow.session
        return {batch_id: {"citation": citation(entry), "file_id": signed_file_id(session, entry)}
                for batch_id, entry in signed_entries(session, batch_ids).items()}


def signed_file_id(session: Session, entry: RegisterEntry) -> int | None:
    return session.scalar(select(DecisionFile.id).where(DecisionFile.register_entry_id == entry.id,
                                                        DecisionFile.stage == "signed"))


def batch_decision(runtime: Runtime, batch_id: str) -> dict[str, Any]:
    """The batch's decision files by version (newest first), its number and the signed file."""
    with runtime.read() as uow:
        session = uow.session
        files = list(session.scalars(select(DecisionFile).options(defer(DecisionFile.content))
                                     .where(DecisionFile.batch_id == batch_id)
                                     .order_by(DecisionFile.version.desc(), DecisionFile.document,
                                               DecisionFile.format)))
        people = dict(session.execute(select(User.id, User.full_name).where(
            User.id.in_({f.created_by for f in files if f.created_by}))).all()) if files else {}
        entries = list(session.scalars(select(RegisterEntry).where(RegisterEntry.batch_id == batch_id)))
        decision_symbol = batch_documents.Issuers.load().authority("decision").symbol(batch_documents.DECISION_KIND)
        submission = next((e for e in entries if e.symbol != decision_symbol), None)
        entries = [e for e in entries if e.symbol == decision_symbol]
        signed = next((e for e in entries if e.pdf_sha256), None)
        reserved = next((e for e in entries if not e.pdf_sha256), None)
        left_out = session.execute(select(DecisionExclusion.nomination_id, Nomination.nominee_name,
                                          DecisionExclusion.reason)
                                   .join(Nomination, Nomination.id == DecisionExclusion.nomination_id)
                                   .where(DecisionExclusion.batch_id == batch_id)
                                   .order_by(DecisionExclusion.excluded_at)).all()
        rows: list[dict[str, Any]] = [
            {"id": f.id, "document": f.document, "version": f.version, "format": f.format, "stage": f.stage,
             "filename": f.filename, "sha256": f.sha256, "size": f.size, "created_at": f.created_at,
             "by": people.get(f.created_by or 0, "")} for f in files]
        # a final PDF made before the newest draft (the Chairman excluded someone since) is stale
        final = next((r for r in rows if r["stage"] == "final" and r["format"] == "pdf"), None)
        newest_draft = max((r["version"] for r in rows if r["document"] == "decision"
                            and r["stage"] in ("draft", "uploaded")), default=0)
        return {"files": rows, "citation": citation(signed), "submission": submission_citation(submission),
                "number": f"{signed.number:02d}/{signed.symbol}" if signed else None,
                "signed_on": signed.signed_on if signed else None,
                "signed_file": next((r for r in rows if r["stage"] == "signed"), None),
                "reserved": f"{reserved.number:02d}/{reserved.symbol}" if reserved else None,
                "has_draft": any(r["document"] == "decision" and r["stage"] in ("draft", "uploaded") for r in rows),
                "final_pdf": final if final and final["version"] > newest_draft else None,
                "excluded": [{"nomination_id": nid, "nominee_name": name, "reason": reason}
                             for nid, name, reason in left_out]}


def decision_file(runtime: Runtime, actor: Actor | None, file_id: int) -> tuple[str, str, bytes]:
    """(filename, content type, bytes). A signed decision is public; drafts are for the batch's readers."""
    with runtime.read() as uow:
        found = uow.session.get(DecisionFile, file_id)
        if found is None:
            raise NotFound("Không tìm thấy tệp")
        if found.stage != "signed" and (actor is None or not can_view_batches(actor)):
            raise Forbidden("Chỉ Sở Nội vụ, Chủ tịch và quản trị xem được dự thảo")
        return found.filename, PDF if found.format == "pdf" else DOCX, found.content


def can_read_register(actor: Actor) -> bool:
    return actor.may("read_register")


def register_rows(runtime: Runtime, actor: Actor, year: int | None, authority: str | None,
                  movement_id: int | None = None, entry_id: int | None = None) -> list[dict[str, Any]]:
    if not can_read_register(actor):
        raise Forbidden("Chỉ Sở Nội vụ, Văn phòng/Chủ tịch UBND tỉnh và quản trị xem sổ đăng ký")
    with runtime.read() as uow:
        session = uow.session
        query = select(RegisterEntry).order_by(RegisterEntry.year.desc(), RegisterEntry.authority_id,
                                               RegisterEntry.number.desc())
        if year:
            query = query.where(RegisterEntry.year == year)
        if authority:
            query = query.where(RegisterEntry.authority_id == authority)
        if entry_id is not None:
            query = query.where(RegisterEntry.id == entry_id)
        if movement_id is not None:  # an entry belongs to its batch's movement
            query = query.where(RegisterEntry.batch_id.in_(select(Batch.id).where(Batch.movement_id == movement_id)))
        if not actor.is_admin:  # a unit's Giấy khen register is its own (its Giấy khen page), never the province's
            query = query.where(RegisterEntry.nomination_id.is_(None))
        entries = list(session.scalars(query.limit(5000)))
        # the signed decision's PDF; for a Tờ trình (not signed in nomflow) its latest drafted PDF
        files = dict(session.execute(select(DecisionFile.register_entry_id, DecisionFile.id).where(
            (DecisionFile.stage == "signed")
            | ((DecisionFile.document == "submission") & (DecisionFile.format == "pdf")),
            DecisionFile.register_entry_id.in_([e.id for e in entries])).order_by(DecisionFile.id)).all()) \
            if entries else {}
        names = {k: a.issuer.name.replace("\n", " ") for k, a in authorities().items()}
        return [{"id": e.id, "authority_id": e.authority_id, "sha256": e.pdf_sha256,
                 "kind": "submission" if e.symbol.startswith(batch_documents.SUBMISSION_KIND + "-") else "decision",
                 "number": f"{e.number:02d}/{e.symbol}", "signed_on": e.signed_on, "subject": e.subject,
                 "signer": e.signer_name, "awardees": e.awardee_count, "authority": names.get(e.authority_id,
                                                                                              e.authority_id),
                 "batch_id": e.batch_id, "signed": e.pdf_sha256 is not None, "file_id": files.get(e.id),
                 "submission": e.symbol.startswith(batch_documents.SUBMISSION_KIND + "-"),
                 "nomination_id": e.nomination_id, "pdf_sha256": e.pdf_sha256,
                 "year": e.year} for e in entries]


def register_row(runtime: Runtime, actor: Actor, entry_id: int) -> dict[str, Any]:
    """One entry of the register, as the register lists it."""
    found = register_rows(runtime, actor, None, None, entry_id=entry_id)
    if not found:
        raise NotFound("Không có văn bản này trong sổ đăng ký")
    return found[0]


def batch_record(runtime: Runtime, actor: Actor, batch_id: str) -> dict[str, Any]:
    """A batch's decision record for those who may see the batch (its page shows the same)."""
    if not can_view_batches(actor):
        raise Forbidden("Chỉ Sở Nội vụ, Chủ tịch và quản trị xem được hồ sơ quyết định của đợt trình")
    with runtime.read() as uow:
        if uow.session.get(Batch, batch_id) is None:
            raise NotFound(f"Không tìm thấy đợt trình {batch_id}")
    return batch_decision(runtime, batch_id)


def register_years(runtime: Runtime) -> list[int]:
    with runtime.read() as uow:
        return sorted({int(y) for y in uow.session.scalars(select(RegisterEntry.year).distinct())}, reverse=True)


# --- the public check (/xac-thuc) -----------------------------------------------------------------------

def _authority_names(session: Session) -> dict[str, str]:
    """Every issuing authority's name: the province's from authorities.toml, a unit's (its Giấy khen
    register) from the units table."""
    names = {unit_id: name for unit_id, name in session.execute(select(Unit.id, Unit.name))}
    names.update({k: a.issuer.name.replace("\n", " ") for k, a in authorities().items()})
    return names


def _entry_view(session: Session, entry: RegisterEntry, names: dict[str, str] | None = None) -> dict[str, Any]:
    names = _authority_names(session) if names is None else names
    return {"citation": citation(entry), "number": f"{entry.number:02d}/{entry.symbol}",
            "signed_on": entry.signed_on, "subject": entry.subject, "signer": entry.signer_name,
            "authority_id": entry.authority_id, "authority": names.get(entry.authority_id, entry.authority_id),
            "awardees": entry.awardee_count, "file_id": signed_file_id(session, entry), "sha256": entry.pdf_sha256}


def verifiable_authorities(runtime: Runtime) -> list[tuple[str, str]]:
    """(id, name) of every authority with a signed decision in the register: the check's choice."""
    with runtime.read() as uow:
        session = uow.session
        names = _authority_names(session)
        ids = session.scalars(select(RegisterEntry.authority_id).where(RegisterEntry.pdf_sha256.is_not(None))
                              .distinct())
        return sorted(((i, names.get(i, i)) for i in ids), key=lambda pair: pair[1])


def check_number(runtime: Runtime, typed: str, authority_id: str | None = None) -> dict[str, Any]:
    """'5/QĐ-UBND', '05/QĐ-UBND/2026' or '05/QĐ-UBND', optionally of one issuing authority: every signed
    entry of the register that carries it. A number names a decision only with its authority and year
    (a ward's People's Committee numbers its own QĐ-UBND from 1 too), so all matches are returned, each
    with its authority, and none is picked for the reader."""
    text = " ".join(typed.split()).upper().replace(" ", "")
    parts = text.split("/")
    if len(parts) < 2 or not parts[0].isdigit() or len(text) > 60:
        raise InvalidInput("Hãy nhập số quyết định dạng 05/QĐ-UBND (có thể thêm năm: 05/QĐ-UBND/2026)")
    number, symbol = int(parts[0]), parts[1]
    year = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
    with runtime.read() as uow:
        session = uow.session
        query = select(RegisterEntry).where(RegisterEntry.number == number, RegisterEntry.symbol == symbol,
                                            RegisterEntry.pdf_sha256.is_not(None))
        if year:
            query = query.where(RegisterEntry.year == year)
        if authority_id:
            query = query.where(RegisterEntry.authority_id == authority_id)
        names = _authority_names(session)
        matches = [_entry_view(session, e, names) for e in session.scalars(
            query.order_by(RegisterEntry.year.desc(), RegisterEntry.authority_id).limit(100))]
        return {"found": bool(matches), "matches": matches,
                "entry": matches[0] if len(matches) == 1 else None}


def check_pdf(runtime: Runtime, content: bytes) -> dict[str, Any]:
    """Is this PDF a decision of the register, exactly as signed, with a valid signature?"""
    digest = hashlib.sha256(content).hexdigest()
    with runtime.read() as uow:
        session = uow.session
        entry = session.scalars(select(RegisterEntry).where(RegisterEntry.pdf_sha256 == digest)).first()
        view = _entry_view(session, entry) if entry else None
    result: dict[str, Any] = {"registered": entry is not None, "entry": view, "sha256": digest,
                              "valid": False, "signer": None, "signed_at": None, "problem": None}
    try:
        setup = signers.load(runtime.config.instance_dir)
        report = signing.verify(content, setup.trust)
    except signing.SigningError as exc:
        result["problem"] = str(exc)
        return result
    except Exception as exc:  # noqa: BLE001 - a broken upload is an answer, not a server fault
        result["problem"] = f"Không kiểm tra được chữ ký: {exc}"
        return result
    result.update(valid=report.valid, intact=report.intact, trusted=report.trusted, signer=report.signer,
                  signed_at=report.signed_at, timestamped=report.timestamped)
    return result


# --- certificates (Bằng khen) ----------------------------------------------------------------------------

def certificate_document(runtime: Runtime, actor: Actor, batch_id: str) -> tuple[AwardDocument, list[str]]:
    """The signed decision's facts for printing its certificates, and the nominations in annex order."""
    if not can_view_batches(actor):
        raise Forbidden("Chỉ Sở Nội vụ, Chủ tịch và quản trị in Bằng khen")
    issuers = batch_documents.Issuers.load()
    with runtime.read() as uow:
        session = uow.session
        batch = session.get(Batch, batch_id)
        entry = signed_entries(session, {batch_id}).get(batch_id) if batch else None
        if batch is None or entry is None:
            raise NotFound("Đợt trình chưa có quyết định đã ký: chưa in được Bằng khen")
        rows = session.execute(select(Nomination, Unit.name).join(Unit, Unit.id == Nomination.unit_id).where(
            Nomination.batch_id == batch_id, Nomination.status == "awarded").order_by(Nomination.id)).all()
        terms = award_terms(session, batch, [n.award for n, _ in rows])
        awardees = [batch_documents.awardee(n.nominee_kind, n.nominee_name, n.data or {}, u, terms) for n, u in rows]
        ids = [n.id for n, _ in rows]
        document = batch_documents.decision_document(issuers, cited_movement(session, batch.movement_id), awardees,
                                                     entry.year, entry.signer_name, {},
                                                     number=entry.number, signed_on=entry.signed_on, terms=terms)
    # The annex's order: collectives by the movement's kinds, then people.
    kinds = [code for code, _ in document.collective_groups()] + sorted(document.individual_kinds())
    order = sorted(range(len(ids)), key=lambda i: (awardees[i].kind in document.individual_kinds(),
                                                   kinds.index(awardees[i].kind) if awardees[i].kind in kinds
                                                   else len(kinds)))
    return (AwardDocument(**{**document.__dict__, "awardees": [awardees[i] for i in order]}),
            [ids[i] for i in order])

