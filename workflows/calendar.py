"""Vietnamese working-day calendar ("ngày làm việc") for workflow deadlines.

Rest days are Saturdays, Sundays, the Labour Code public holidays as the
``holidays`` library knows them (lunar Tết and Hùng Kings, days in lieu, the
Government swaps it has recorded) and the extra entries of
``config/holidays.toml``. Nothing here reads the clock: callers pass dates.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = ["CalendarError", "WorkingCalendar", "DEFAULT_CONFIG", "MAX_WORKING_DAYS"]

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "holidays.toml"
MAX_WORKING_DAYS = 1000
_WEEKEND_NAMES = {5: "Thứ Bảy", 6: "Chủ nhật"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ENTRY_KEYS = frozenset({"date", "name"})
_ONE_DAY = timedelta(days=1)


class CalendarError(ValueError):
    """Invalid holidays file or entry; the message names the file and entry."""


@dataclass(frozen=True)
class _Year:
    rest: dict[date, str]  # holidays and extra days off, with their names
    work: frozenset[date]  # weekend days turned into working days


@lru_cache(maxsize=256)
def _library_year(country: str, year: int) -> tuple[dict[date, str], frozenset[date]]:
    """Holidays and swapped working weekend days the library knows for one year."""
    lib = holidays.country_holidays(country, years=year, language="vi")
    names = {d: str(n) for d, n in lib.items() if d.year == year}
    # weekend_workdays also carries cross-year swaps (27/12/2014, 05/01/2019)
    # whatever year was asked for, so keep only this year's.
    work = frozenset(d for d in getattr(lib, "weekend_workdays", ()) if d.year == year)
    return names, work


def _require_date(d: object) -> date:
    # A datetime is a date subclass but never equals a date key, so holidays
    # would silently count as working days.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a datetime.date, got {type(d).__name__}")
    return d


def _parse_date(value: Any, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarError(f"{where}: bad date {value!r}, expected YYYY-MM-DD")


def _parse_section(path: Path, data: dict[str, Any], section: str) -> dict[date, str]:
    entries = data.get(section, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CalendarError(f"{path}: '{section}' must be an array of tables [[{section}]]")
    out: dict[date, str] = {}
    for i, entry in enumerate(entries, 1):
        where = f"{path}: [[{section}]] #{i}"
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        if unknown:
            raise CalendarError(f"{where}: unknown key(s) {', '.join(unknown)}")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise CalendarError(f"{where}: 'name' must be a non-empty string")
        d = _parse_date(entry.get("date"), where)
        where = f"{where} ({d.isoformat()} {name.strip()!r})"
        # Both checks catch typos in a swap, which would otherwise be no-ops.
        if section == "working_day" and d.weekday() < 5:
            raise CalendarError(f"{where}: only a Saturday or Sunday can become a working day")
        if section == "day_off" and d.weekday() >= 5:
            raise CalendarError(f"{where}: already a weekend rest day")
        if d in out:
            raise CalendarError(f"{where}: date listed twice")
        out[d] = name.strip()
    return out


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days of the Vietnamese public sector; all dates are local dates."""

    extra_days_off: dict[date, str] = field(default_factory=dict)
    extra_working_days: dict[date, str] = field(default_factory=dict)
    country: str = "VN"
    timezone: str = "Asia/Ho_Chi_Minh"
    _years: dict[int, _Year] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Fail at start-up, not at the first deadline, when tzdata is missing.
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"unknown timezone {self.timezone!r} (is tzdata installed?)") from exc
        clash = sorted(self.extra_days_off.keys() & self.extra_working_days.keys())
        if clash:
            raise CalendarError(f"{clash[0].isoformat()} is both a day off and a working day")

    @classmethod
    def from_toml(cls, path: str | Path) -> WorkingCalendar:
        """Load ``[[day_off]]`` and ``[[working_day]]`` entries from a TOML file."""
        path = Path(path)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise CalendarError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise CalendarError(f"{path}: invalid TOML: {exc}") from exc
        unknown = sorted(set(data) - {"day_off", "working_day"})
        if unknown:
            raise CalendarError(
                f"{path}: unknown key(s) {', '.join(unknown)}; expected [[day_off]] or [[working_day]]"
            )
        days_off = _parse_section(path, data, "day_off")
        working = _parse_section(path, data, "working_day")
        clash = sorted(days_off.keys() & working.keys())
        if clash:
            raise CalendarError(f"{path}: {clash[0].isoformat()} is both a day_off and a working_day")
        return cls(extra_days_off=days_off, extra_working_days=working)

    @classmethod
    def default(cls) -> WorkingCalendar:
        """The calendar of the repository's ``config/holidays.toml``."""
        return cls.from_toml(DEFAULT_CONFIG)

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            names, lib_work = _library_year(self.country, year)
            # The TOML file records later Government decisions, so it wins.
            rest = dict(names)
            rest.update((d, n) for d, n in self.extra_days_off.items() if d.year == year)
            extra_work = frozenset(d for d in self.extra_working_days if d.year == year)
            # Callers test `work` before `rest`, so an extra working day also
            # overrides a library holiday that falls on a weekend.
            work = frozenset(d for d in lib_work if d not in rest) | extra_work
            cached = self._years[year] = _Year(rest=rest, work=work)
        return cached

    def _working(self, d: date) -> bool:
        y = self._year(d.year)
        if d in y.work:
            return True
        return d not in y.rest and d.weekday() < 5

    def is_working_day(self, d: date) -> bool:
        """True unless ``d`` is a weekend day, a public holiday or an extra day off."""
        return self._working(_require_date(d))

    def rest_day_name(self, d: date) -> str | None:
        """Vietnamese name of the rest day, or None for a working day."""
        y = self._year(_require_date(d).year)
        if d in y.work:
            return None
        # A holiday on a weekend keeps its own name (e.g. Giỗ Tổ on Sunday 26/4/2026).
        return y.rest.get(d) or _WEEKEND_NAMES.get(d.weekday())

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
