"""A unit head's Giấy khen (plan III.1) as documents: the decision (config/documents/unit_award_decision.toml)
and the certificate (unit_certificate.toml), built by the same code as the Chairman's (award_decision.py,
certificate.py, decree30.py) with the unit as the issuing authority and its own register's symbol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from service.documents import certificate
from service.documents.award_decision import AwardDocument, Awardee, render_docx
from service.documents.batch_documents import DECISION_KIND, Issuers
from service.documents.decree30 import Issuer
from service.documents.register import Authority, authorities
from service.documents.wording import Wording

DECISION_WORDING, CERTIFICATE_WORDING = "unit_award_decision", "unit_certificate"


class NoRegister(ValueError):
    """The unit has no register symbol yet: nothing can be numbered in its name."""


@dataclass(frozen=True)
class IssuingUnit:
    id: str
    name: str
    kind: str
    register_symbol: str | None


def unit_authority(unit: IssuingUnit, wording: Wording | None = None) -> Authority:
    """The unit as an issuing authority: the one authorities.toml names with its id (its register is then
    shared with its other outgoing documents, as Decree 30 keeps one per authority), else built from the
    units table: its name, the symbol an admin set, its parent body and head's title by its kind."""
    known = authorities()
    if unit.id in known:
        return known[unit.id]
    if not unit.register_symbol:
        raise NoRegister(unit.id)
    wording = wording or Wording.load(DECISION_WORDING)
    province = known[Issuers.load().decision_authority]
    ctx = {"province": province.province}
    parents: Mapping[str, str] = wording.data.get("issuer_parents", {})
    parent = wording.text(f"issuer_parents.{unit.kind}", ctx, parents[unit.kind]) if unit.kind in parents else None
    title = wording.data.get("signer_titles", {}).get(unit.kind, "THỦ TRƯỞNG ĐƠN VỊ")
    return Authority(unit.id, Issuer(parent, unit.name.upper(), province.issuer.place), unit.register_symbol,
                     province.province, str(title))


def decision_document(authority: Authority, unit: IssuingUnit, movement: Mapping[str, Any],
                      awardees: Sequence[Awardee], year: int, signer_name: str, council: Mapping[str, Any],
                      number: int | None = None, signed_on: date | None = None) -> AwardDocument:
    """`movement`: the nomination's movement as batch_documents.movement_facts gives it."""
    return AwardDocument(
        issuer=authority.issuer, province=authority.province, symbol=authority.symbol(DECISION_KIND), year=year,
        signer_authority=authority.signer_title, signer_name=signer_name, movement=dict(movement),
        submission={}, awardees=list(awardees), number=number, signed_on=signed_on,
        extra={"unit": {"name": unit.name, "signer_title": authority.signer_title}, "council": dict(council)})


def render_decision(document: AwardDocument) -> bytes:
    return render_docx(document, Wording.load(DECISION_WORDING))


def render_certificates(document: AwardDocument) -> tuple[bytes, list[bytes]]:
    return certificate.render_pdfs(document, Wording.load(CERTIFICATE_WORDING))
