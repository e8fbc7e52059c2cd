"""Tests of the Vietnamese working-day calendar on real 2026 dates.

Each date is checked against the text that makes it a rest or working day (the reviewed list in
config/calendar/2026.toml cites it), never against the holidays library, which only proposes.
"""

from __future__ import annotations

import time as _time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflows.calendar import CalendarError, ReviewedYear, WorkingCalendar, statutory_year
from workflows.calendar_review import UNVERIFIED, differences, propose, to_toml

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LABOUR_CODE = "Bộ luật Lao động 2019"


@pytest.fixture
def cal() -> WorkingCalendar:
    """The shipped, reviewed calendar: what the service decides deadlines with."""
    return WorkingCalendar.default()


def write_year(tmp_path: Path, text: str, name: str = "2026.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


FIXED_2026 = "year = 2026\n" + "".join(
    f'[[rest_day]]\ndate = {d}\nname = "x"\nsource = "{LABOUR_CODE}, Điều 112"\n'
    for d in ("2026-01-01", "2026-04-30", "2026-05-01", "2026-09-02"))


# --- each 2026 rest day with the text that creates it -------------------------------------------------

# (date, the article or notice that makes it a rest day)
REST_DAYS_2026 = [
    (date(2026, 1, 1), "Điều 112 khoản 1 điểm a"),  # Tết Dương lịch
    (date(2026, 2, 16), "Điều 112 khoản 1 điểm b"),  # Tết: 29 Chạp, PM's choice (ý kiến 13/10/2025)
    (date(2026, 2, 17), "Điều 112 khoản 1 điểm b"),
    (date(2026, 2, 18), "Điều 112 khoản 1 điểm b"),
    (date(2026, 2, 19), "Điều 112 khoản 1 điểm b"),
    (date(2026, 2, 20), "Điều 112 khoản 1 điểm b"),
    (date(2026, 4, 27), "Điều 111 khoản 3"),  # Giỗ Tổ on Sunday 26/4: day in lieu
    (date(2026, 4, 30), "Điều 112 khoản 1 điểm c"),
    (date(2026, 5, 1), "Điều 112 khoản 1 điểm d"),
    (date(2026, 8, 31), "hoán đổi thứ Hai 31/8 với thứ Bảy 22/8"),  # PM's swap for Quốc khánh
    (date(2026, 9, 1), "Điều 112 khoản 1 điểm đ"),
    (date(2026, 9, 2), "Điều 112 khoản 1 điểm đ"),
]


@pytest.mark.parametrize(("day", "source"), REST_DAYS_2026)
def test_rest_days_of_2026_cite_their_source(cal: WorkingCalendar, day: date, source: str) -> None:
    assert not cal.is_working_day(day)
    entry = cal.rest_day(day)
    assert entry is not None and source in entry.source


def test_tet_2026_is_nine_rest_days(cal: WorkingCalendar) -> None:
    # Sat 14/2 (27 Chạp) to Sun 22/2 (mùng 6): five days of art. 112 + two weekends.
    assert [cal.is_working_day(date(2026, 2, d)) for d in range(13, 24)] == [True] + [False] * 9 + [True]
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)


def test_rest_day_names(cal: WorkingCalendar) -> None:
    assert "Tết" in (cal.rest_day_name(date(2026, 2, 17)) or "")
    assert "Hùng Vương" in (cal.rest_day_name(date(2026, 4, 26)) or "")  # on a Sunday
    assert "nghỉ bù" in (cal.rest_day_name(date(2026, 4, 27)) or "")
    assert cal.rest_day_name(date(2026, 3, 7)) == "Thứ Bảy"
    assert cal.rest_day_name(date(2026, 3, 8)) == "Chủ nhật"
    assert cal.rest_day_name(date(2026, 3, 9)) is None


def test_twenty_working_days_over_april_may_holidays(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 4, 13), 20) == date(2026, 5, 14)


def test_swapped_saturday_of_august_2026(cal: WorkingCalendar) -> None:
    # The PM's swap for Quốc khánh 2026 (ý kiến truyền đạt 13/10/2025): Sat 22/8 worked, Mon 31/8 off.
    assert cal.is_working_day(date(2026, 8, 22))
    assert cal.rest_day_name(date(2026, 8, 22)) is None
    assert cal.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)
    assert cal.add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)


def test_24_november_2026_is_a_working_day(cal: WorkingCalendar) -> None:
    # "Ngày Văn hóa Việt Nam": Resolution 80-NQ/TW asks for a Labour Code amendment; no enacted text
    # makes it a day off, though the library lists it. A deadline across it is not a day late.
    assert "Văn hóa" in str(propose(2026).rest[date(2026, 11, 24)].name)
    assert cal.is_working_day(date(2026, 11, 24))
    assert cal.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 24)
    assert cal.add_working_days(date(2026, 11, 20), 5) == date(2026, 11, 27)


def test_a_year_without_a_reviewed_list_keeps_only_the_labour_code() -> None:
    cal = WorkingCalendar()
    assert not cal.is_reviewed(2027)
    assert not cal.is_working_day(date(2027, 1, 1))  # art. 112(1)(a)
    assert not cal.is_working_day(date(2027, 5, 3))  # 1/5 on a Saturday: in lieu, art. 111(3)
    assert cal.is_working_day(date(2027, 11, 24))  # the library's, with no enacted text
    for entry in statutory_year("VN", 2027).rest.values():
        assert entry.source.startswith(LABOUR_CODE), entry
    assert WorkingCalendar.default().is_reviewed(2026)


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


# --- reviewed year files ------------------------------------------------------------------------------


def test_a_working_saturday_needs_its_source(tmp_path: Path) -> None:
    write_year(tmp_path, FIXED_2026 + '[[working_day]]\ndate = 2026-03-07\nname = "Làm bù"\n'
               'source = "Thông báo số 1/TB-BNV"\n')
    cal = WorkingCalendar.from_dir(tmp_path)
    assert cal.is_working_day(date(2026, 3, 7))
    assert cal.rest_day_name(date(2026, 3, 7)) is None
    assert cal.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 7)
    assert cal.working_days_between(date(2026, 3, 6), date(2026, 3, 9)) == 2


def test_the_reviewed_list_decides_even_against_the_library(tmp_path: Path) -> None:
    # 22/8/2026 is a library swap; a reviewed list without it keeps the Saturday a rest day.
    write_year(tmp_path, FIXED_2026 + '[[rest_day]]\ndate = 2026-03-11\nname = "Nghỉ thêm"\nsource = "QĐ 1"\n')
    cal = WorkingCalendar.from_dir(tmp_path)
    assert not cal.is_working_day(date(2026, 8, 22))
    assert cal.is_working_day(date(2026, 8, 31))
    assert cal.is_working_day(date(2026, 2, 17))  # not listed: a working day, whatever the library says
    assert cal.rest_day_name(date(2026, 3, 11)) == "Nghỉ thêm"
    assert cal.rest_day(date(2026, 3, 11)).source == "QĐ 1"  # type: ignore[union-attr]


def test_default_config_loads() -> None:
    cal = WorkingCalendar.default()
    assert cal.add_working_days(date(2026, 4, 13), 20) == date(2026, 5, 14)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (FIXED_2026 + '[[rest_day]]\ndate = "11/03/2026"\nname = "x"\nsource = "y"\n', "bad date"),
        (FIXED_2026 + '[[rest_day]]\ndate = 2026-03-11T08:00:00\nname = "x"\nsource = "y"\n', "bad date"),
        (FIXED_2026 + '[[rest_day]]\ndate = 2026-03-11\nname = "x"\nsource = "y"\nnote = "z"\n', "unknown key"),
        (FIXED_2026 + '[[holiday]]\ndate = 2026-03-11\nname = "x"\n', "unknown key"),
        (FIXED_2026 + '[[rest_day]]\ndate = 2026-03-11\nname = "x"\n', "'source'"),
        (FIXED_2026 + '[[rest_day]]\ndate = 2026-03-11\nname = "x"\nsource = " "\n', "'source'"),
        (FIXED_2026 + '[[working_day]]\ndate = 2026-03-11\nname = "x"\nsource = "y"\n', "Saturday or Sunday"),
        (FIXED_2026 + '[[rest_day]]\ndate = 2027-03-11\nname = "x"\nsource = "y"\n', "not in year 2026"),
        (FIXED_2026 + '[[rest_day]]\ndate = 2026-01-01\nname = "x"\nsource = "y"\n', "listed twice"),
        (FIXED_2026 + '[[working_day]]\ndate = 2026-01-01\nname = "x"\nsource = "y"\n', "Saturday or Sunday"),
        ('[[rest_day]]\ndate = 2026-01-01\nname = "x"\nsource = "y"\n', "'year'"),
        ("year = 2026\n", "2026-01-01 is a holiday"),
        ("year = 2026\nrest_day = 3\n", "array of tables"),
        ("year = 2026\n[[rest_day]\n", "invalid TOML"),
    ],
)
def test_malformed_year_names_file(tmp_path: Path, text: str, fragment: str) -> None:
    path = write_year(tmp_path, text)
    with pytest.raises(CalendarError) as info:
        WorkingCalendar.from_dir(tmp_path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


def test_file_name_must_be_its_year(tmp_path: Path) -> None:
    write_year(tmp_path, FIXED_2026, name="2027.toml")
    with pytest.raises(CalendarError, match="name the file 2026.toml"):
        WorkingCalendar.from_dir(tmp_path)


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="nope"):
        WorkingCalendar.from_dir(tmp_path / "nope")


def test_calendar_error_is_a_value_error() -> None:
    assert issubclass(CalendarError, ValueError)


# --- the library proposes, a person accepts ------------------------------------------------------------


def test_proposal_differs_from_the_reviewed_2026_list_only_by_24_november() -> None:
    lines = differences(WorkingCalendar.default().reviewed[2026], propose(2026))
    assert len(lines) == 1 and "2026-11-24" in lines[0] and lines[0].startswith("+ rest_day")


def test_proposal_comments_out_days_without_a_traceable_source(tmp_path: Path) -> None:
    text = to_toml(propose(2027))
    assert "# date = 2027-11-24" in text and UNVERIFIED in text
    assert "\ndate = 2027-01-01\n" in text
    # Saved as is, the draft is a valid year file that leaves the unverified day out.
    path = write_year(tmp_path, text, name="2027.toml")
    year = ReviewedYear.from_toml(path)
    assert date(2027, 11, 24) not in year.rest and date(2027, 1, 1) in year.rest


def test_time_zone_comes_from_the_settings() -> None:
    # config/engine.toml's `timezone` reaches the calendar: 17:00 in Tokyo is 08:00 UTC.
    start = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    assert WorkingCalendar.default("Asia/Tokyo").deadline(start, 1) == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert WorkingCalendar.default().deadline(start, 1) == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
