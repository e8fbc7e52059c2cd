"""What each desk needs to see of the desks before it: the unit head's tờ trình number, each earlier
desk's result on the later desk's task page, the side-by-side list at a step, the Chairman's
exclusions and replaced dossier files (issue 16, "What each desk needs to see")."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.models import InboxRow
from service.usecases.drafts import Upload, save_draft_form
from service.usecases.tasks import complete_task

from .conftest import actor_of, log_in
from .test_pages import PDF, draft, submitted

OFFICER_NOTE = "Hồ sơ có số liệu dịch vụ công trực tuyến đầy đủ."


def task_of(runtime: Runtime, nomination_id: str | None = None, batch_id: str | None = None) -> InboxRow:
    with runtime.uow() as uow:
        query = select(InboxRow)
        query = query.where(InboxRow.nomination_id == nomination_id) if nomination_id else \
            query.where(InboxRow.batch_id == batch_id)
        return uow.session.scalars(query).one()


def step(runtime: Runtime, username: str, data: dict[str, Any], nomination_id: str | None = None,
         batch_id: str | None = None) -> None:
    complete_task(runtime, actor_of(runtime, username), task_of(runtime, nomination_id, batch_id).id, data)


def at_selection(runtime: Runtime, name: str, number: str, ticked: list[str]) -> str:
    nid = submitted(runtime, name=name)
    step(runtime, "chutich.hiennam", {"decision": "submit", "submission_number": number}, nid)
    step(runtime, "chuyenvien.khcn", {"decision": "complete", "criteria_met": ticked, "note": OFFICER_NOTE}, nid)
    return nid


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_unit_heads_submission_number_is_shown_to_later_desks(runtime: Runtime, app: Any) -> None:
    nid = submitted(runtime)
    step(runtime, "chutich.hiennam", {"decision": "submit", "submission_number": "45/TTr-UBND"}, nid)
    client = app.test_client()
    log_in(client, "chuyenvien.khcn")
    task_page = text_of(client.get(f"/tasks/{task_of(runtime, nid).id}").text)
    assert "Tờ trình của đơn vị Số 45/TTr-UBND" in task_page  # the facts beside the DOST officer's form
    # the unit head's result, beside the form
    assert "Xem xét, ký tờ trình: Ký tờ trình, gửi Sở Khoa học và Công nghệ" in task_page
    assert "Số tờ trình 45/TTr-UBND" in task_page
    nomination_page = text_of(client.get(f"/nominations/{nid}").text)
    assert "Số 45/TTr-UBND" in nomination_page and "Số tờ trình: 45/TTr-UBND" in nomination_page


def test_the_lead_sees_the_officers_result_and_compares_side_by_side(runtime: Runtime, app: Any) -> None:
    first = at_selection(runtime, "UBND phường Hiến Nam", "45/TTr-UBND", ["a1"])
    second = at_selection(runtime, "UBND phường Lam Sơn", "46/TTr-UBND", ["a1", "a2"])
    client = app.test_client()
    log_in(client, "lanhdao.khcn")
    html = client.get(f"/tasks/{task_of(runtime, first).id}").text
    page = text_of(html)
    assert "Kết quả các bước trước" in page
    assert "Kiểm tra hồ sơ: Hồ sơ đầy đủ, hợp lệ" in page  # the officer's verdict
    assert "Tiêu chuẩn khen thưởng đạt được" in page and "a1 Nội bộ đoàn kết" in page  # ticked, with titles
    assert OFFICER_NOTE in page
    # every nomination at the selection step, one row each, with the criteria met of those claimed
    peers = html.split('class="card peers"', 1)[1]
    rows = re.findall(r"<tr[ >].*?</tr>", peers, re.S)[1:]
    assert len(rows) == 2
    by_name = {(second if "Lam Sơn" in r else first): text_of(r) for r in rows}
    assert "1/2" in by_name[first] and "2/2" in by_name[second]
    assert all("Hồ sơ đầy đủ, hợp lệ" in r and "Ủy ban nhân dân phường Hiến Nam" in r for r in by_name.values())
    assert f"/tasks/{task_of(runtime, second).id}" in peers  # the others open from the list


def test_a_replaced_dossier_file_is_marked(runtime: Runtime, app: Any) -> None:
    nid = draft(runtime)
    staff = actor_of(runtime, "canbo.hiennam")
    save_draft_form(runtime, staff, nid, {}, [Upload("to_trinh", "to-trinh-cu.pdf", PDF + b"old")])
    save_draft_form(runtime, staff, nid, {}, [Upload("to_trinh", "to-trinh-moi.pdf", PDF + b"new")])
    client = app.test_client()
    log_in(client, "canbo.hiennam")
    files = client.get(f"/nominations/{nid}").text.split('class="files"', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r"<li.*?</li>", files, re.S)
    marked = {("cu.pdf" in li and "old") or "new": "đã thay thế" in li for li in items}
    assert marked == {"old": True, "new": False}
