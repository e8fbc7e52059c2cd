"""One language per message, Vietnamese wording people use, and dates as dd/mm/yyyy whatever the
browser's language (issue 16, "Wording and layout")."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from werkzeug.datastructures import MultiDict

from service.core.config import ROOT
from service.core.runtime import Runtime
from service.web.formrender import parse_form, read_date, show_date

from .conftest import log_in
from .test_desks import text_of
from .test_pages import submitted

# " (english words)" closing a literal that holds Vietnamese: the old bilingual error style.
ENGLISH_TAIL = re.compile(r" \([a-z][a-z0-9 ,/_:'.…-]*\)$")
VIETNAMESE = re.compile(r"[À-ỹĐđ]")
BILINGUAL_ON_PURPOSE = {"service/cli.py"}  # the terminal banner names its links in both languages


def test_no_vietnamese_message_ends_in_an_english_fragment() -> None:
    found = []
    for path in sorted((ROOT / "service").rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        if relative in BILINGUAL_ON_PURPOSE or "/migrations/" in relative:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            parts = [node] if isinstance(node, ast.Constant) else list(node.values) \
                if isinstance(node, ast.JoinedStr) else []
            for part in parts:
                if isinstance(part, ast.Constant) and isinstance(part.value, str) and \
                        VIETNAMESE.search(part.value) and ENGLISH_TAIL.search(part.value.rstrip()):
                    found.append(f"{relative}:{part.lineno}: {part.value.strip()[:80]}")
    assert not found, "\n".join(found)


def test_an_error_reads_in_one_language_and_in_english_through_the_catalogue(runtime: Runtime, app: Any) -> None:
    nid = submitted(runtime)
    client = app.test_client()
    token = log_in(client, "canbo.hiennam")
    page = client.post(f"/nominations/{nid}/withdraw", data={"csrf_token": token})
    assert page.status_code == 409
    assert "Hồ sơ đã được gửi đi; chỉ sửa được khi đang lập hoặc bị trả lại" in page.text
    assert "(not a draft)" not in page.text
    client.get("/inbox?lang=en")
    page = client.post(f"/nominations/{nid}/withdraw", data={"csrf_token": token})
    assert "The nomination has been sent; it can be edited only while drafted or returned" in page.text


def test_the_submit_entry_reads_sent_to_the_unit_head(runtime: Runtime, app: Any) -> None:
    nid = submitted(runtime)
    client = app.test_client()
    log_in(client, "canbo.hiennam")
    timeline = text_of(client.get(f"/nominations/{nid}").text.split('id="timeline-title"', 1)[1])
    assert "Gửi thủ trưởng đơn vị" in timeline and "Lập hồ sơ đề nghị khen thưởng" not in timeline


def test_dates_are_typed_and_shown_day_first() -> None:
    schema = {"type": "object", "properties": {"signed_on": {"type": "string", "format": "date"}}}
    assert parse_form(schema, MultiDict({"signed_on": "24/04/2026"})) == {"signed_on": "2026-04-24"}
    assert parse_form(schema, MultiDict({"signed_on": "5/1/2027"})) == {"signed_on": "2027-01-05"}
    assert parse_form(schema, MultiDict({"signed_on": "31/02/2026"})) == {"signed_on": "31/02/2026"}  # reported
    assert read_date("2026-04-24") == "2026-04-24" and show_date("2026-04-24") == "24/04/2026"


def test_the_sign_form_asks_for_a_day_first_date_without_the_browsers_date_picker(app: Any) -> None:
    for template in ("_form.html", "inbox.html"):
        text = (Path(ROOT) / "service" / "templates" / template).read_text(encoding="utf-8")
        assert 'type="date"' not in text and "dd/mm/yyyy" in text or "'date'" in text


def test_the_inbox_filters_by_a_day_first_date(runtime: Runtime, app: Any) -> None:
    submitted(runtime)  # the unit head's review, due 20/04/2026
    client = app.test_client()
    log_in(client, "chutich.hiennam")
    assert "UBND phường" in client.get("/inbox?scope=queue&due_before=21/04/2026").text
    assert "UBND phường" not in client.get("/inbox?scope=queue&due_before=20/04/2026").text
    assert "Ngày lọc không hợp lệ" in client.get("/inbox?scope=queue&due_before=32/04/2026").text


def test_the_steps_view_lists_the_path_in_the_pages_language(runtime: Runtime, app: Any) -> None:
    from .test_pages import advance

    nid = submitted(runtime)
    advance(runtime, nid, 1)  # with the DOST officer
    client = app.test_client()
    log_in(client, "canbo.hiennam")
    html = client.get(f"/nominations/{nid}").text
    steps = re.findall(r'<li class="step-(\w+)"[^>]*>\s*<span class="label">([^<]+)</span>',
                       html.split('class="steps"', 1)[1].split("</ol>", 1)[0])
    assert steps == [("done", "Đang lập hồ sơ"), ("done", "Thủ trưởng đơn vị xem xét"),
                     ("current", "Sở KH&CN kiểm tra hồ sơ"), ("todo", "Sở KH&CN lựa chọn"),
                     ("todo", "Sở Nội vụ kiểm tra hồ sơ"), ("todo", "Sở Nội vụ thẩm định"),
                     ("todo", "Đề nghị khen thưởng, chờ quyết định"), ("todo", "Đã khen thưởng")]
    english = client.get(f"/nominations/{nid}?lang=en").text.split('class="steps"', 1)[1]
    assert "Đang lập hồ sơ" not in english.split("</ol>", 1)[0]


def test_a_returned_nomination_shows_its_return_and_deadline_as_the_current_step(runtime: Runtime, app: Any) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from service.db.models import InboxRow
    from service.usecases.tasks import complete_task

    from .conftest import actor_of

    nid = submitted(runtime)  # Monday 13/4/2026
    runtime.clock.advance(timedelta(days=1))  # returned on Tuesday 14/4: due 5 working days later
    with runtime.uow() as uow:
        task = uow.session.scalars(select(InboxRow.id).where(InboxRow.nomination_id == nid)).one()
    complete_task(runtime, actor_of(runtime, "chutich.hiennam"), task,
                  {"decision": "return", "reason": "Bổ sung minh chứng."})
    client = app.test_client()
    log_in(client, "canbo.hiennam")
    html = client.get(f"/nominations/{nid}").text
    steps = re.findall(r'<li class="step-(\w+)"[^>]*>\s*<span class="label">([^<]+)</span>\s*'
                       r'<span class="when muted small">([^<]*)</span>',
                       html.split('class="steps"', 1)[1].split("</ol>", 1)[0])
    assert steps[0] == ("current", "Bị trả lại để hoàn thiện", "đang ở bước này · 14/04/2026")
    assert all(state == "todo" for state, _, _ in steps[1:])
    assert "Hoàn thiện hồ sơ theo yêu cầu" in html.split('id="now-title"', 1)[1].split("</section>", 1)[0]
    edit = client.get(f"/nominations/{nid}/edit").text
    assert "Hạn gửi lại:" in edit and "21/04/2026" in edit
