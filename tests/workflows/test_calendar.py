"""Tests of the Vietnamese working-day calendar on real 2026 dates."""

from __future__ import annotations

import time as _time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflows.calendar import CalendarError, WorkingCalendar

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def cal() -> WorkingCalendar:
    """Library data only, so the tests do not depend on config/holidays.toml."""
    return WorkingCalendar()


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "holidays.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- Tết Bính Ngọ 2026 -------------------------------------------------------


@pytest.mark.parametrize("day", range(14, 23))
def test_tet_2026_is_nine_rest_days(cal: WorkingCalendar, day: int) -> None:
    assert not cal.is_working_day(date(2026, 2, day))


@pytest.mark.parametrize("d", [date(2026, 2, 13), date(2026, 2, 23)])
def test_days_around_tet_2026_are_working(cal: WorkingCalendar, d: date) -> None:
    assert cal.is_working_day(d)
    assert cal.rest_day_name(d) is None


def test_one_working_day_after_friday_before_tet(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)


def test_rest_day_names(cal: WorkingCalendar) -> None:
    assert "Tết" in (cal.rest_day_name(date(2026, 2, 17)) or "")
    assert "Hùng Vương" in (cal.rest_day_name(date(2026, 4, 26)) or "")  # on a Sunday
    assert "nghỉ bù" in (cal.rest_day_name(date(2026, 4, 27)) or "")
    assert cal.rest_day_name(date(2026, 3, 7)) == "Thứ Bảy"
    assert cal.rest_day_name(date(2026, 3, 8)) == "Chủ nhật"
    assert cal.rest_day_name(date(2026, 3, 9)) is None


# --- April-May 2026: Giỗ Tổ in lieu, 30/4, 1/5 --------------------------------


def test_twenty_working_days_over_april_may_holidays(cal: WorkingCalendar) -> None:
    for d in (date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1)):
        assert not cal.is_working_day(d), d
    assert cal.add_working_days(date(2026, 4, 13), 20) == date(2026, 5, 14)


def test_library_swap_of_august_2026(cal: WorkingCalendar) -> None:
    # holidays 0.109 records Sat 22/8/2026 worked in exchange for Mon 31/8.
    assert cal.is_working_day(date(2026, 8, 22))
    assert not cal.is_working_day(date(2026, 8, 31))
    assert cal.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)
    assert cal.add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)


# --- counting rules ------------------------------------------------------------


def test_start_day_is_not_counted(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 3)  # Mon -> Tue


def test_friday_plus_one_is_monday(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)


def test_zero_days(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 3, 4), 0) == date(2026, 3, 4)  # working Wed
    assert cal.add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 9)  # Sat -> Mon
    assert cal.add_working_days(date(2026, 2, 14), 0) == date(2026, 2, 23)  # Tết


def test_next_working_day(cal: WorkingCalendar) -> None:
    assert cal.next_working_day(date(2026, 3, 4)) == date(2026, 3, 4)
    assert cal.next_working_day(date(2026, 4, 30)) == date(2026, 5, 4)


@pytest.mark.parametrize("n", [-1, 1001])
def test_n_out_of_range(cal: WorkingCalendar, n: int) -> None:
    with pytest.raises(ValueError):
        cal.add_working_days(date(2026, 3, 2), n)


def test_n_at_limit_is_accepted(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 3, 2), 1000) > date(2030, 1, 1)


def test_datetime_is_rejected_where_a_date_is_expected(cal: WorkingCalendar) -> None:
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2026, 2, 17, 9, 0))


def test_add_working_days_is_cheap(cal: WorkingCalendar) -> None:
    cal.add_working_days(date(2026, 4, 13), 20)  # warm the per-year cache
    t0 = _time.perf_counter()
    for _ in range(1000):
        cal.add_working_days(date(2026, 4, 13), 20)
    per_call = (_time.perf_counter() - t0) / 1000
    assert per_call < 1e-3, f"{per_call * 1e6:.0f} µs per call"


# --- working_days_between ------------------------------------------------------


def test_between_across_weekend(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(date(2026, 3, 6), date(2026, 3, 9)) == 1
    assert cal.working_days_between(date(2026, 3, 9), date(2026, 3, 16)) == 5
    assert cal.working_days_between(date(2026, 3, 9), date(2026, 3, 9)) == 0


def test_between_across_tet(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert cal.working_days_between(date(2026, 2, 12), date(2026, 2, 24)) == 3


def test_between_reversed_is_negative(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(date(2026, 2, 23), date(2026, 2, 13)) == -1
    assert cal.working_days_between(date(2026, 3, 16), date(2026, 3, 9)) == -5


# --- deadline ------------------------------------------------------------------


def test_deadline_twenty_days_at_five_pm_local(cal: WorkingCalendar) -> None:
    start = datetime(2026, 4, 13, 9, 0, tzinfo=VN_TZ)
    due = cal.deadline(start, 20)
    assert due == datetime(2026, 5, 14, 17, 0, tzinfo=VN_TZ)
    assert due == datetime(2026, 5, 14, 10, 0, tzinfo=UTC)
    assert due.utcoffset() == timedelta(0)


def test_deadline_custom_hour(cal: WorkingCalendar) -> None:
    start = datetime(2026, 3, 6, 9, 0, tzinfo=VN_TZ)
    assert cal.deadline(start, 1, hour=11, minute=30) == datetime(2026, 3, 9, 4, 30, tzinfo=UTC)


def test_deadline_rejects_naive_datetime(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError):
        cal.deadline(datetime(2026, 4, 13, 9, 0), 20)


def test_deadline_uses_local_date(cal: WorkingCalendar) -> None:
    start = datetime(2026, 2, 12, 20, 0, tzinfo=UTC)  # 13/2 03:00 in Hà Nội
    # The UTC date (12/2) would give 13/2 17:00 local instead.
    assert cal.deadline(start, 1) == datetime(2026, 2, 23, 17, 0, tzinfo=VN_TZ)


# --- TOML extras ---------------------------------------------------------------


def test_toml_working_saturday_counts(tmp_path: Path) -> None:
    path = write_toml(tmp_path, '[[working_day]]\ndate = 2026-03-07\nname = "Làm bù"\n')
    cal = WorkingCalendar.from_toml(path)
    assert cal.is_working_day(date(2026, 3, 7))
    assert cal.rest_day_name(date(2026, 3, 7)) is None
    assert cal.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 7)
    assert cal.working_days_between(date(2026, 3, 6), date(2026, 3, 9)) == 2


def test_toml_day_off_on_wednesday(tmp_path: Path) -> None:
    path = write_toml(tmp_path, '[[day_off]]\ndate = "2026-03-11"\nname = "Nghỉ thêm"\n')
    cal = WorkingCalendar.from_toml(path)
    assert not cal.is_working_day(date(2026, 3, 11))
    assert cal.rest_day_name(date(2026, 3, 11)) == "Nghỉ thêm"
    assert cal.add_working_days(date(2026, 3, 10), 1) == date(2026, 3, 12)


def test_extras_win_over_library() -> None:
    cal = WorkingCalendar(
        extra_days_off={date(2026, 8, 22): "Hủy làm bù"},
        extra_working_days={date(2026, 4, 26): "Làm việc"},
    )
    assert not cal.is_working_day(date(2026, 8, 22))
    assert cal.rest_day_name(date(2026, 8, 22)) == "Hủy làm bù"
    assert cal.is_working_day(date(2026, 4, 26))
    assert cal.rest_day_name(date(2026, 4, 26)) is None


def test_same_date_in_both_lists_is_rejected(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        '[[day_off]]\ndate = 2026-03-11\nname = "a"\n'
        '[[working_day]]\ndate = 2026-03-14\nname = "b"\n'
        '[[working_day]]\ndate = 2026-03-14\nname = "c"\n',
    )
    with pytest.raises(CalendarError, match="listed twice"):
        WorkingCalendar.from_toml(path)
    with pytest.raises(CalendarError, match="both"):
        WorkingCalendar(extra_days_off={date(2026, 3, 11): "a"}, extra_working_days={date(2026, 3, 11): "b"})


def test_toml_empty_file_is_library_only(tmp_path: Path) -> None:
    assert WorkingCalendar.from_toml(write_toml(tmp_path, "")) == WorkingCalendar()


def test_default_config_loads() -> None:
    cal = WorkingCalendar.default()
    assert cal.add_working_days(date(2026, 4, 13), 20) == date(2026, 5, 14)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[[day_off]]\ndate = "2026-13-01"\nname = "x"\n', "[[day_off]] #1"),
        ('[[day_off]]\ndate = "11/03/2026"\nname = "x"\n', "bad date"),
        ('[[day_off]]\ndate = 2026-03-11T08:00:00\nname = "x"\n', "bad date"),
        ('[[day_off]]\ndate = 2026-03-11\nname = "x"\nnote = "y"\n', "unknown key"),
        ('[[holiday]]\ndate = 2026-03-11\nname = "x"\n', "unknown key"),
        ("[[day_off]]\ndate = 2026-03-11\n", "'name'"),
        ('[[working_day]]\ndate = 2026-03-11\nname = "x"\n', "Saturday or Sunday"),
        ('[[day_off]]\ndate = 2026-03-07\nname = "x"\n', "weekend"),
        ("day_off = 3\n", "array of tables"),
        ("[[day_off]\n", "invalid TOML"),
    ],
)
def test_malformed_toml_names_file(tmp_path: Path, text: str, fragment: str) -> None:
    path = write_toml(tmp_path, text)
    with pytest.raises(CalendarError) as info:
        WorkingCalendar.from_toml(path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


def test_missing_file_names_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(CalendarError, match="nope.toml"):
        WorkingCalendar.from_toml(path)


def test_calendar_error_is_a_value_error() -> None:
    assert issubclass(CalendarError, ValueError)
