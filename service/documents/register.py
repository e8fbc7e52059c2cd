"""The decision register (sổ đăng ký văn bản đi): numbers given by nomflow at signing, never typed.

One sequence per issuing authority and calendar year. The number is taken inside the signing's own
transaction, by an UPDATE of the authority's counter row: concurrent signings queue on that row (its
lock on PostgreSQL, the single writer on SQLite), so numbers come out consecutive with no double;
a signing that fails rolls the counter back with everything else, so it consumes no number.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.db.models import RegisterCounter, RegisterEntry
from service.documents.decree30 import Issuer
from service.documents.wording import DOCUMENTS_DIR


@dataclass(frozen=True)
class Authority:
    id: str
    issuer: Issuer
    abbreviation: str  # UBND, SNV
    province: str
    signer_title: str

    def symbol(self, kind: str) -> str:
        """The ký hiệu of a document of this kind (QĐ, TTr) from this authority: QĐ-UBND."""
        return f"{kind}-{self.abbreviation}"


def authorities(path: Path = DOCUMENTS_DIR / "authorities.toml") -> dict[str, Authority]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {key: Authority(key, Issuer(entry.get("parent"), entry["name"], entry["place"]), entry["abbreviation"],
                           entry.get("province", entry["place"]), entry["signer_title"])
            for key, entry in data.items()}


def next_number(session: Session, authority_id: str, year: int) -> int:
    """The authority's next number in `year`, held by the caller's transaction until it commits."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(RegisterCounter).values(authority_id=authority_id, year=year, last_number=0)
                    .on_conflict_do_nothing(index_elements=["authority_id", "year"]))
    return session.execute(
        update(RegisterCounter)
        .where(RegisterCounter.authority_id == authority_id, RegisterCounter.year == year)
        .values(last_number=RegisterCounter.last_number + 1)
        .returning(RegisterCounter.last_number)).scalar_one()


def register(session: Session, authority: Authority, kind: str, signed_on: date, subject: str, signer_name: str,
             awardee_count: int, created_at: datetime, batch_id: str | None = None) -> RegisterEntry:
    """Allocate the next number and record the document under it, in the caller's transaction."""
    number = next_number(session, authority.id, signed_on.year)
    entry = RegisterEntry(authority_id=authority.id, year=signed_on.year, number=number, symbol=authority.symbol(kind),
                          signed_on=signed_on, subject=subject, signer_name=signer_name,
                          awardee_count=awardee_count, batch_id=batch_id, created_at=created_at)
    session.add(entry)
    session.flush()
    return entry


def file_stem(entry: RegisterEntry) -> str:
    """The file name of a registered document, without its extension: quyet-dinh-01-qd-ubnd-2026."""
    return f"quyet-dinh-{entry.number:02d}-{entry.symbol}-{entry.year}".replace("Đ", "D").lower()
