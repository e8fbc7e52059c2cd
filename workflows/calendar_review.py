"""The `holidays` library proposes a year's list; a person accepts it with the legal sources.

Nothing here changes what the calendar decides: it prints a draft ``config/calendar/<year>.toml``
and the differences between the library and a reviewed list, for an admin to check against the
Prime Minister's notices before committing the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import holidays

from .calendar import DayEntry, ReviewedYear, statutory_year

UNVERIFIED = "CẦN XÁC MINH: ghi số, ngày và cơ quan ban hành văn bản"


@dataclass(frozen=True)
class Proposal:
    year: int
    rest: dict[date, DayEntry]
    work: dict[date, DayEntry]

    def is_verified(self, entry: DayEntry) -> bool:
        return entry.source != UNVERIFIED


def propose(year: int, country: str = "VN") -> Proposal:
    """Everything the library knows of the year, each day with the source it can be traced to."""
    lib = holidays.country_holidays(country, years=year, language="vi")
    statutory = statutory_year(country, year)
    rest = {}
    for d, name in sorted(lib.items()):
        if d.year != year:
            continue
        known = statutory.rest.get(d)
        rest[d] = DayEntry(d, str(name), known.source if known else UNVERIFIED)
    work = {d: DayEntry(d, "Ngày làm việc (hoán đổi)", UNVERIFIED)
            for d in sorted(getattr(lib, "weekend_workdays", ())) if d.year == year}
    return Proposal(year, rest, work)


def differences(reviewed: ReviewedYear, proposal: Proposal) -> list[str]:
    """One line per day on which the reviewed list and the library disagree."""
    lines = []
    for kind, ours, theirs in (("rest_day", reviewed.rest, proposal.rest),
                               ("working_day", reviewed.work, proposal.work)):
        for d in sorted(theirs.keys() - ours.keys()):
            lines.append(f"+ {kind} {d.isoformat()} {theirs[d].name}: thư viện có, danh sách đã duyệt không có")
        for d in sorted(ours.keys() - theirs.keys()):
            lines.append(f"- {kind} {d.isoformat()} {ours[d].name}: danh sách đã duyệt có ({ours[d].source}), "
                         "thư viện không có")
    return lines


def to_toml(proposal: Proposal) -> str:
    """A draft year file; days with no traceable source are commented out, never accepted silently."""
    out = [f"# Đề xuất từ thư viện holidays {holidays.__version__} cho năm {proposal.year}: kiểm tra từng ngày",
           "# với văn bản của Thủ tướng Chính phủ / Bộ Nội vụ trước khi lưu thành config/calendar/"
           f"{proposal.year}.toml.", "", f"year = {proposal.year}"]
    for kind, entries in (("rest_day", proposal.rest), ("working_day", proposal.work)):
        for entry in entries.values():
            prefix = "" if proposal.is_verified(entry) else "# "
            out += ["", f"{prefix}[[{kind}]]", f"{prefix}date = {entry.day.isoformat()}",
                    f'{prefix}name = "{entry.name}"', f'{prefix}source = "{entry.source}"']
    return "\n".join(out) + "\n"


__all__ = ["UNVERIFIED", "Proposal", "differences", "propose", "to_toml"]
