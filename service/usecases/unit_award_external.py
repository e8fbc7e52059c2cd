"""A unit's Giấy khen decision signed elsewhere: the head (or the unit's office) takes the number and the
PDF nomflow renders with it, signs that PDF in their own signing tool and uploads it. It is accepted only
as the province's decision is (signing.signs_exactly, the one check both paths share): a valid signature,
on exactly the PDF kept for this decision, by the certificate configured for the unit's head. A refused
upload stores nothing; the number given stays this decision's."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from service.core.errors import Conflict, InvalidInput
from service.core.runtime import Runtime
from service.db.models import Attachment, RegisterEntry
from service.documents import signers, signing
from service.documents.register import file_stem
from service.security.access import Actor
from service.usecases import signing_flow
from service.usecases.files import attachment_path
from service.usecases.unit_awards import (
    Made,
    Signed,
    _Plan,
    _plan,
    finish,
    locked_signing_step,
    render,
    reserved,
    rounds,
)


def prepare_external(runtime: Runtime, actor: Actor, nomination_id: str) -> Signed:
    """The number is given now (it must be inside the PDF that is signed) and stays this decision's; the
    PDF is kept as the nomination's file to download, sign and compare the upload with. Asked again, the
    same number and PDF (sha256 of the PDF to sign)."""
    plan = _plan(runtime, actor, nomination_id)
    with runtime.read() as uow:
        session = uow.session
        given = reserved(session, nomination_id)
        if given is not None:
            kept = session.scalar(select(Attachment.sha256).where(Attachment.nomination_id == nomination_id,
                                                                  Attachment.filename == f"{file_stem(given)}.pdf"))
            if kept is not None:
                return Signed(given.number, given.symbol, given.signed_on, kept)
    try:
        signer = signers.load(runtime.config.instance_dir).signer(plan.authority.id)

        def make(numbered: _Plan) -> Made:
            docx, final, certificate = render(numbered, signer.name)
            return docx, final, None, certificate  # no signature here: it is signed elsewhere

        return rounds(runtime, actor, plan, signer.name, make)
    except signing.SigningError as exc:
        raise InvalidInput(str(exc)) from exc


def accept_external(runtime: Runtime, actor: Actor, nomination_id: str, filename: str, content: bytes) -> Signed:
    """A PDF signed elsewhere: valid, on exactly the PDF kept for this decision, by the unit head's
    configured certificate; then kept as the signed decision, with its certificate, and the step done."""
    signing_flow.check_signed_upload(runtime, filename, content)
    plan = _plan(runtime, actor, nomination_id)  # the head's open step, the unit and its authority
    with runtime.read() as uow:
        session = uow.session
        entry = reserved(session, nomination_id)
        kept = session.scalar(select(Attachment.sha256).where(
            Attachment.nomination_id == nomination_id, Attachment.filename == f"{file_stem(entry)}.pdf")) \
            if entry is not None else None
        if entry is None or kept is None:
            raise InvalidInput("Chưa lấy số và tạo bản PDF để ký ngoài hệ thống cho quyết định này")
        entry_id, number, signed_on = entry.id, entry.number, entry.signed_on
    try:
        signer = signing_flow.signer_of_upload(runtime, plan.authority.id, content,
                                               attachment_path(runtime, kept).read_bytes())
        # the certificate cites the number and the day written in the signed PDF
        _, _, certificate = render(replace(plan, number=number, signed_on=signed_on), signer.name)
    except signing.SigningError as exc:
        raise InvalidInput(str(exc)) from exc
    return signing_flow.guarded(runtime, _accept, runtime, actor, nomination_id, entry_id, content, signer.name,
                                certificate)


def _accept(runtime: Runtime, actor: Actor, nomination_id: str, entry_id: int, content: bytes, signer_name: str,
            certificate: bytes) -> Signed:
    with runtime.uow() as uow:
        session = uow.session
        step = locked_signing_step(session, runtime, actor, nomination_id)
        entry = session.get(RegisterEntry, entry_id)
        if entry is None or entry.pdf_sha256 is not None:
            raise Conflict("Quyết định này vừa được ký; hãy tải lại trang")
        entry.signer_name = signer_name
        return finish(session, runtime, actor, uow, step, entry, content, certificate, "external")
