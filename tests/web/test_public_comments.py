"""Anyone may send a comment (góp ý) from the public page; it reaches the Department of Home Affairs'
inbox, is never published, and one sender cannot flood it (issue 16)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.models import PublicComment
from service.usecases.public_comments import public_key

from .conftest import csrf_of, log_in
from .test_finding_work import appraised

TEXT = "Đề nghị làm rõ số liệu dịch vụ công trực tuyến của phường trong năm 2026."


def comments_in_db(runtime: Runtime) -> list[PublicComment]:
    with runtime.uow() as uow:
        return list(uow.session.scalars(select(PublicComment)))


def send(client: Any, **values: str) -> Any:
    token = csrf_of(client.get("/cong-khai").text)
    return client.post("/cong-khai/gop-y", data={"csrf_token": token, "name": "Nguyễn Văn Bình",
                                                 "contact": "0912 345 678", "text": TEXT, **values})


def test_a_comment_reaches_home_affairs_and_is_never_published(runtime: Runtime, app: Any) -> None:
    nid = appraised(runtime)
    public = app.test_client()
    assert send(public, nomination_id=public_key(nid)).status_code == 302
    [stored] = comments_in_db(runtime)
    assert (stored.nomination_id, stored.name, stored.text) == (nid, "Nguyễn Văn Bình", TEXT)
    assert "127.0.0.1" not in stored.client  # the address is kept only as a hash
    assert TEXT not in public.get("/cong-khai").text  # not published

    staff = app.test_client()
    token = log_in(staff, "chuyenvien.noivu")
    assert "1 góp ý của công chúng chưa đọc." in staff.get("/inbox").text
    page = staff.get("/gop-y").text
    assert TEXT in page and "0912 345 678" in page
    assert staff.post(f"/gop-y/{stored.id}/read", data={"csrf_token": token}).status_code == 302
    assert "góp ý của công chúng chưa đọc" not in staff.get("/inbox").text

    log_in(staff, "chuyenvien.khcn")  # not Home Affairs
    assert staff.get("/gop-y").status_code == 403


def test_a_comment_needs_its_fields_and_names_a_listed_nomination_only(runtime: Runtime, app: Any) -> None:
    public = app.test_client()
    refused = send(public, name="", text="ngắn")
    assert refused.status_code == 422 and "Cần từ 2 đến 200 ký tự" in refused.text
    assert 'value="0912 345 678"' in refused.text  # what was typed is kept
    hidden = appraised(runtime)
    with runtime.uow() as uow:  # a nomination not (or no longer) on the public list
        from service.db.models import Nomination
        uow.session.get(Nomination, hidden).status = "dost_review"
        uow.commit()
    assert send(public, nomination_id=public_key(hidden)).status_code == 422
    assert send(public, nomination_id="not-a-key").status_code == 422
    assert comments_in_db(runtime) == []


def test_one_sender_is_rate_limited(runtime: Runtime, app: Any) -> None:
    public = app.test_client()
    assert [send(public).status_code for _ in range(3)] == [302, 302, 302]
    flooded = send(public)
    assert flooded.status_code == 429 and "xin gửi lại sau" in flooded.text
    assert len(comments_in_db(runtime)) == 3
