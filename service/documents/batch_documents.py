"""The facts of a batch as documents: the Chairman's decision and Home Affairs' Tờ trình, from the
batch's nominations and its movement's record (name, year, plan number and date, launching authority:
next year's movement cites its own plan). Who issues and submits them is config/documents/issuers.toml."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from service.documents.award_decision import INDIVIDUAL, AwardDocument, Awardee
from service.documents.decree30 import short_date
from service.documents.register import Authority, authorities
from service.documents.wording import DOCUMENTS_DIR

DECISION_KIND, SUBMISSION_KIND = "QĐ", "TTr"
KINDS = ("co_quan_don_vi", "mat_tran_to_chuc", "doanh_nghiep", "ca_nhan")


@dataclass(frozen=True)
class Issuers:
    """Who issues a movement's award decision and who submits it: the same for every movement."""

    decision_authority: str  # an authority of authorities.toml: who issues the decision
    submission_authority: str  # who submits it (Tờ trình)
    submission_signer_title: str

    @classmethod
    def load(cls, path: Path = DOCUMENTS_DIR / "issuers.toml") -> Issuers:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls(data["decision"]["authority"], data["submission"]["authority"], data["submission"]["signer_title"])

    def authority(self, which: str) -> Authority:
        return authorities()[self.decision_authority if which == "decision" else self.submission_authority]


def movement_facts(movement: Any) -> dict[str, Any]:
    """What a document cites of its movement record (service/db/models.py Movement), as the wording
    files' movement.*: name, year, plan_number, plan_date ('5/5/2026', '' when not set), authority."""
    plan_date: date | None = movement.plan_date
    return {"name": movement.name, "year": movement.year, "plan_number": movement.plan_number or "",
            "plan_date": short_date(plan_date) if plan_date else "", "authority": movement.authority}


@dataclass(frozen=True)
class Terms:
    """What the batch's movement (a stored record: next year's may differ) says about its documents:
    its nominee kinds in order, (code, title, is a person), and the title of the award granted."""

    kinds: tuple[tuple[str, str, bool], ...]
    award_title: str

    @classmethod
    def of(cls, nominee_kinds: Sequence[Any], awards: Sequence[Any], award_codes: Sequence[str | None]) -> Terms:
        """`award_codes`: the awards the batch's nominations ask for (one, in a well-formed batch)."""
        titles = {str(a["code"]): str(a["title"]) for a in awards}
        granted = [titles.get(code, code) for code in dict.fromkeys(c for c in award_codes if c)]
        return cls(tuple((str(k["code"]), str(k["title"]), bool(k.get("individual"))) for k in nominee_kinds),
                   "; ".join(granted))

    def is_person(self, kind: str | None) -> bool:
        return any(code == kind and person for code, _, person in self.kinds)


def awardee(kind: str | None, name: str | None, data: dict[str, Any], unit_name: str,
            terms: Terms | None = None) -> Awardee:
    """One annex row from a nomination: a person carries a position and a unit, a collective neither."""
    if terms is None:  # no movement at hand: the 2026 plan's kinds
        kind = kind if kind in KINDS else KINDS[0]
        individual = kind == INDIVIDUAL
    else:
        kind = kind or ""
        individual = terms.is_person(kind)
    return Awardee(kind, name or "", str(data.get("achievement_summary") or ""),
                   position=(data.get("position") or None) if individual else None,
                   unit=(data.get("work_unit") or unit_name) if individual else None)


def decision_document(issuers: Issuers, movement: Mapping[str, Any], awardees: Sequence[Awardee], year: int,
                      signer_name: str, submission: dict[str, str], number: int | None = None,
                      signed_on: date | None = None, terms: Terms | None = None) -> AwardDocument:
    """`movement`: the batch's movement as movement_facts gives it."""
    authority = issuers.authority("decision")
    return AwardDocument(issuer=authority.issuer, province=authority.province,
                         symbol=authority.symbol(DECISION_KIND), year=year,
                         signer_authority=authority.signer_title, signer_name=signer_name,
                         movement=dict(movement), submission=submission, awardees=list(awardees),
                         number=number, signed_on=signed_on, **_terms(terms))


def submission_document(issuers: Issuers, movement: Mapping[str, Any], awardees: Sequence[Awardee], year: int,
                        signer_name: str, submission: dict[str, str], number: int | None = None,
                        signed_on: date | None = None, terms: Terms | None = None) -> AwardDocument:
    authority = issuers.authority("submission")
    return AwardDocument(issuer=authority.issuer, province=authority.province,
                         symbol=authority.symbol(SUBMISSION_KIND), year=year,
                         signer_authority=issuers.submission_signer_title, signer_name=signer_name,
                         movement=dict(movement), submission=submission, awardees=list(awardees),
                         number=number, signed_on=signed_on, **_terms(terms))


def _terms(terms: Terms | None) -> dict[str, Any]:
    return {"kinds": terms.kinds, "award_title": terms.award_title} if terms is not None else {}
