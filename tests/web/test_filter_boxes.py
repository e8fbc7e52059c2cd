"""Every filter box shows the filter applied: /cong-khai (year, unit, award), the inbox (deadline, kind,
movement, unit), /nominations (status) and the register (year, authority). A value with nothing to show
or unknown to the box's list is selected in it, named; a value that names nothing is shown as typed
with a clear reason (400) and matches nothing, never a silent "Tất cả"."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import html

from .conftest import log_in
from .test_pages import STEPS, advance, submitted


def selected(page: str, name: str) -> tuple[str, str]:
    """(value, text) of the option selected in the box `name` ("" and "" when none is)."""
    found = html.fromstring(page).xpath(f"//select[@name='{name}']/option[@selected]")
    assert len(found) <= 1, name
    return (found[0].get("value"), found[0].text_content().strip()) if found else ("", "")


def listed(page: str) -> int:
    return len(html.fromstring(page).xpath("//ol[@class='public-list']/li"))


def error_of(page: str, name: str) -> str:
    box = html.fromstring(page).xpath(f"//select[@name='{name}']")[0]
    described = box.get("aria-describedby")
    return html.fromstring(page).xpath(f"//*[@id='{described}']")[0].text_content() if described else ""


@pytest.fixture
def published(runtime: Any) -> str:
    nomination_id = submitted(runtime)
    advance(runtime, nomination_id, len(STEPS))  # awaiting the Chairman's decision: published
    return nomination_id


def test_the_public_page_shows_the_filter_it_applies(app: Any, published: str) -> None:
    client = app.test_client()
    page = client.get("/cong-khai").text
    assert selected(page, "year") == ("", "Tất cả") and listed(page) == 1

    nothing = client.get("/cong-khai?year=2025")  # a year with nothing published
    assert nothing.status_code == 200
    assert selected(nothing.text, "year") == ("2025", "2025")
    assert listed(nothing.text) == 0 and "Không có hồ sơ nào khớp với bộ lọc" in nothing.text

    # A unit that exists but has published nothing is named in its box; so is an award of the movement.
    unit = client.get("/cong-khai?unit_id=xa-nghia-tru&award=giay_khen")
    assert selected(unit.text, "unit_id")[0] == "xa-nghia-tru" and "Nghĩa Trụ" in selected(unit.text, "unit_id")[1]
    assert selected(unit.text, "award") == ("giay_khen", "Giấy khen của Thủ trưởng cơ quan, đơn vị") \
        or selected(unit.text, "award")[0] == "giay_khen"
    assert listed(unit.text) == 0

    for query, name, words in (("year=abc", "year", "Năm “abc” không hợp lệ"),
                               ("unit_id=khong-co", "unit_id", "Không có đơn vị nào mang mã “khong-co”"),
                               ("award=xyz", "award", "Không có hình thức khen thưởng nào mang mã “xyz”")):
        refused = client.get(f"/cong-khai?{query}")
        assert refused.status_code == 400, query
        assert selected(refused.text, name)[0] == query.split("=")[1]  # shown as typed, not "Tất cả"
        assert words in error_of(refused.text, name)
        assert listed(refused.text) == 0  # matches nothing

    english = client.get("/cong-khai?year=abc&lang=en")
    assert "is not a valid year" in error_of(english.text, "year")


def test_the_inbox_shows_the_filter_it_applies(app: Any, runtime: Any) -> None:
    client = app.test_client()
    log_in(client, "chuyenvien.khcn")
    page = client.get("/inbox?kind=ca_nhan&unit=xa-nghia-tru&movement=01")
    assert page.status_code == 200
    assert selected(page.text, "kind")[0] == "ca_nhan"
    assert selected(page.text, "unit")[0] == "xa-nghia-tru"
    assert selected(page.text, "movement")[0] == "1"  # "01" is movement 1: its box says so

    for query, name in (("overdue=maybe", "overdue"), ("kind=xyz", "kind"), ("unit=khong-co", "unit")):
        refused = client.get(f"/inbox?{query}")
        assert refused.status_code == 400, query
        assert selected(refused.text, name)[0] == query.split("=")[1]
        assert "không hợp lệ" in error_of(refused.text, name) or "Không có" in error_of(refused.text, name)

    chairman = app.test_client()
    log_in(chairman, "chutich.tinh")
    shown = chairman.get("/inbox?kind=ca_nhan").text  # a desk whose work is all batches still sees it applied
    assert selected(shown, "kind")[0] == "ca_nhan"


def test_the_nominations_list_and_the_register_show_the_filter_they_apply(app: Any, runtime: Any) -> None:
    client = app.test_client()
    log_in(client, "quantri")
    assert selected(client.get("/nominations?status=awarded").text, "status")[0] == "awarded"
    refused = client.get("/nominations?status=xyz")
    assert refused.status_code == 400 and selected(refused.text, "status")[0] == "xyz"
    assert "Không có trạng thái hồ sơ nào mang mã “xyz”" in error_of(refused.text, "status")

    register = client.get("/so-dang-ky?year=2019&authority=phuong-hien-nam")
    assert register.status_code == 200
    assert selected(register.text, "year") == ("2019", "2019")
    assert selected(register.text, "authority")[0] == "phuong-hien-nam"
    bad = client.get("/so-dang-ky?year=abc")
    assert bad.status_code == 400 and "Năm “abc” không hợp lệ" in bad.text


def test_the_movement_boxes_show_the_movement_applied(app: Any, runtime: Any) -> None:
    """/statistics, /batches and /nominations read ?movement= the same way (reads/movement_filter.py):
    "01" is movement 1 and its box says so; a malformed one is a 400 with its reason, never "all"."""
    client = app.test_client()
    log_in(client, "quantri")
    for path in ("/statistics", "/batches", "/nominations", "/so-dang-ky"):
        page = client.get(f"{path}?movement=01")
        assert page.status_code == 200, path
        assert selected(page.text, "movement")[0] == "1", path
        refused = client.get(f"{path}?movement=abc")
        assert refused.status_code == 400 and "Mã phong trào thi đua “abc” không hợp lệ" in refused.text, path
