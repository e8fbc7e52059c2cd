"""Vietnamese working-day calendar ("ngày làm việc") for workflow deadlines.

The source of truth is a reviewed list per year in ``config/calendar/<year>.toml``: each rest day
and each swapped working day with the legal text that creates it (Labour Code art. 111-112, the
Prime Minister's yearly decisions on Tết and 2/9). Saturdays and Sundays are rest days.

A year with no reviewed list falls back to the Labour Code's own holidays (art. 112, with days in
lieu under art. 111(3)) as the ``holidays`` library dates them (it knows the lunar calendar);
anything else the library carries (a swap, a day no enacted text makes a holiday) is left out
until a reviewed list names its source. ``workflows.calendar_review`` proposes next year's list.
Nothing here reads the clock: callers pass dates.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = ["CalendarError", "DayEntry", "ReviewedYear", "WorkingCalendar", "DEFAULT_DIR", "MAX_WORKING_DAYS",
           "statutory_year"]

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "config" / "calendar"
MAX_WORKING_DAYS = 1000
_WEEKEND_NAMES = {5: "Thứ Bảy", 6: "Chủ nhật"}
_ENTRY_KEYS = frozenset({"date", "name", "source"})
_ONE_DAY = timedelta(days=1)
# Fixed-date holidays of Labour Code art. 112(1): a reviewed year that lacks one has a typo.
_FIXED_STATUTORY = ((1, 1), (4, 30), (5, 1), (9, 2))
STATUTORY_SOURCE = "Bộ luật Lao động 2019, Điều 112 khoản 1"
_PM_CHOOSES = "; khoản 3: ngày nghỉ cụ thể do Thủ tướng Chính phủ quyết định hằng năm"
# How the library names the holidays of art. 112(1), in its Vietnamese localisation (the library is
# pinned exactly in pyproject.toml for this reason), and the point of the article for each.
_STATUTORY_POINTS = (
    ("Tết Dương lịch", " điểm a"),
    ("Tết", " điểm b" + _PM_CHOOSES),
    ("Chiến thắng", " điểm c"),
    ("Quốc tế Lao động", " điểm d"),
    ("Quốc khánh", " điểm đ" + _PM_CHOOSES),
    ("Hùng Vương", " điểm e"),
)
IN_LIEU_SOURCE = "Bộ luật Lao động 2019, Điều 111 khoản 3"


class CalendarError(ValueError):
    """Invalid calendar file or entry; the message names the file and entry."""


@dataclass(frozen=True)
class DayEntry:
    day: date
    name: str
    source: str  # the legal text that makes this day a rest day or a working day


@dataclass(frozen=True)
class ReviewedYear:
    year: int
    rest: Mapping[date, DayEntry]
    work: Mapping[date, DayEntry]  # Saturdays or Sundays that are working days

    @classmethod
    def from_toml(cls, path: str | Path) -> ReviewedYear:
        path = Path(path)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise CalendarError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise CalendarError(f"{path}: invalid TOML: {exc}") from exc
        unknown = sorted(set(data) - {"year", "rest_day", "working_day"})
        if unknown:
            raise CalendarError(f"{path}: unknown key(s) {', '.join(unknown)}; "
                                "expected year, [[rest_day]] and [[working_day]]")
        year = data.get("year")
        if isinstance(year, bool) or not isinstance(year, int):
            raise CalendarError(f"{path}: 'year' must be an integer")
        rest = _parse_section(path, data, "rest_day", year)
        work = _parse_section(path, data, "working_day", year)
        clash = sorted(rest.keys() & work.keys())
        if clash:
            raise CalendarError(f"{path}: {clash[0].isoformat()} is both a rest_day and a working_day")
        missing = [date(year, m, d) for m, d in _FIXED_STATUTORY if date(year, m, d) not in rest]
        if missing:
            raise CalendarError(f"{path}: {missing[0].isoformat()} is a holiday under {STATUTORY_SOURCE} "
                                "but is not listed as a rest_day")
        return cls(year, rest, work)


def _parse_section(path: Path, data: dict[str, Any], section: str, year: int) -> dict[date, DayEntry]:
    entries = data.get(section, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CalendarError(f"{path}: '{section}' must be an array of tables [[{section}]]")
    out: dict[date, DayEntry] = {}
    for i, entry in enumerate(entries, 1):
        where = f"{path}: [[{section}]] #{i}"
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        if unknown:
            raise CalendarError(f"{where}: unknown key(s) {', '.join(unknown)}")
        d = entry.get("date")
        if isinstance(d, datetime) or not isinstance(d, date):
            raise CalendarError(f"{where}: bad date {d!r}, expected a TOML date such as 2026-09-02")
        texts = {}
        for key in ("name", "source"):
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise CalendarError(f"{where} ({d.isoformat()}): '{key}' must be a non-empty string")
            texts[key] = value.strip()
        where = f"{where} ({d.isoformat()} {texts['name']!r})"
        if d.year != year:
            raise CalendarError(f"{where}: not in year {year}")
        if section == "working_day" and d.weekday() < 5:
            raise CalendarError(f"{where}: only a Saturday or Sunday can become a working day")
        if d in out:
            raise CalendarError(f"{where}: date listed twice")
        out[d] = DayEntry(d, texts["name"], texts["source"])
    return out


def _statutory_source(name: str) -> str | None:
    if "nghỉ bù" in name:
        return IN_LIEU_SOURCE
    return next((STATUTORY_SOURCE + point for part, point in _STATUTORY_POINTS if part in name), None)


@lru_cache(maxsize=256)
def statutory_year(country: str, year: int) -> ReviewedYear:
    """The Labour Code's holidays of one year as the library dates them, without anything else."""
    lib = holidays.country_holidays(country, years=year, language="vi")
    rest = {}
    for d, name in lib.items():
        source = _statutory_source(str(name))
        if d.year == year and source:
            rest[d] = DayEntry(d, str(name), source)
    return ReviewedYear(year, rest, {})


def _require_date(d: object) -> date:
    # A datetime is a date subclass but never equals a date key, so holidays
    # would silently count as working days.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a datetime.date, got {type(d).__name__}")
    return d


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days of the Vietnamese public sector; all dates are local dates."""

    reviewed: Mapping[int, ReviewedYear] = field(default_factory=dict)
    country: str = "VN"
    timezone: str = "Asia/Ho_Chi_Minh"
    _years: dict[int, ReviewedYear] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Fail at start-up, not at the first deadline, when tzdata is missing.
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"unknown timezone {self.timezone!r} (is tzdata installed?)") from exc

    @classmethod
    def from_dir(cls, path: str | Path, timezone: str = "Asia/Ho_Chi_Minh") -> WorkingCalendar:
        """Load every ``<year>.toml`` of a folder; the file's name must be its year."""
        path = Path(path)
        if not path.is_dir():
            raise CalendarError(f"{path}: not a folder of reviewed years")
        years: dict[int, ReviewedYear] = {}
        for file in sorted(path.glob("*.toml")):
            reviewed = ReviewedYear.from_toml(file)
            if file.stem != str(reviewed.year):
                raise CalendarError(f"{file}: says year = {reviewed.year}; name the file {reviewed.year}.toml")
            years[reviewed.year] = reviewed
        return cls(reviewed=years, timezone=timezone)

    @classmethod
    def default(cls, timezone: str = "Asia/Ho_Chi_Minh") -> WorkingCalendar:
        """The calendar of the repository's ``config/calendar/``, in the engine settings' time zone."""
        return cls.from_dir(DEFAULT_DIR, timezone)

    def is_reviewed(self, year: int) -> bool:
        return year in self.reviewed

    def _year(self, year: int) -> ReviewedYear:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = self.reviewed.get(year) or statutory_year(self.country, year)
        return cached

    def _working(self, d: date) -> bool:
        y = self._year(d.year)
        if d in y.work:
            return True
        return d not in y.rest and d.weekday() < 5

    def is_working_day(self, d: date) -> bool:
        """True unless ``d`` is a weekend day or a rest day of the year's list."""
        return self._working(_require_date(d))

    def rest_day(self, d: date) -> DayEntry | None:
        """The listed rest day with its legal source; None for weekends and working days."""
        y = self._year(_require_date(d).year)
        return None if d in y.work else y.rest.get(d)

    def rest_day_name(self, d: date) -> str | None:
        """Vietnamese name of the rest day, or None for a working day."""
        y = self._year(_require_date(d).year)
        if d in y.work:
            return None
        # A holiday on a weekend keeps its own name (e.g. Giỗ Tổ on Sunday 26/4/2026).
        entry = y.rest.get(d)
        return entry.name if entry else _WEEKEND_NAMES.get(d.weekday())

    def next_working_day(self, d: date) -> date:
        """``d`` itself if it is a working day, else the first working day after it."""
        _require_date(d)
        while not self._working(d):
            d += _ONE_DAY
        return d

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (never counted); n == 0 gives next_working_day."""
        _require_date(start)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if not 0 <= n <= MAX_WORKING_DAYS:
            raise ValueError(f"n must be between 0 and {MAX_WORKING_DAYS}, got {n}")
        if n == 0:
            return self.next_working_day(start)
        d = start
        while n:
            d += _ONE_DAY
            if self._working(d):
                n -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative (minus those in (end, start]) if end < start."""
        _require_date(start)
        _require_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        d = start
        while d < end:
            d += _ONE_DAY
            count += self._working(d)
        return count

    def deadline(self, start: datetime, n: int, hour: int = 17, minute: int = 0) -> datetime:
        """UTC instant of hour:minute local time, n working days after start's local date."""
        if not isinstance(start, datetime):
            raise TypeError(f"start must be a datetime, got {type(start).__name__}")
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("deadline() needs a timezone-aware start datetime")
        tz = ZoneInfo(self.timezone)
        # The working day is decided by the local date, not the UTC date.
        due = self.add_working_days(start.astimezone(tz).date(), n)
        return datetime.combine(due, time(hour, minute), tzinfo=tz).astimezone(UTC)
