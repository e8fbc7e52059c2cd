"""The account page lets each person choose: mail at once when work arrives, or the digest only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.models import User

from .conftest import log_in


def mail_immediately(runtime: Runtime, username: str) -> bool:
    with runtime.uow() as uow:
        return bool(uow.session.scalars(select(User.mail_immediately).where(User.username == username)).one())


def test_the_choice_is_shown_and_saved(runtime: Runtime, app: Any) -> None:
    client = app.test_client()
    token = log_in(client, "chuyenvien.khcn")
    page = client.get("/account").text
    assert 'value="immediate" checked' in page and "Chỉ báo trong thư tổng hợp buổi sáng" in page
    assert client.post("/account/mail", data={"csrf_token": token, "mail": "digest"}).status_code == 302
    assert mail_immediately(runtime, "chuyenvien.khcn") is False
    assert 'value="digest" checked' in client.get("/account").text
    assert client.post("/account/mail", data={"csrf_token": token, "mail": "sometimes"}).status_code == 400
    assert mail_immediately(runtime, "chuyenvien.khcn") is False
    assert mail_immediately(runtime, "lanhdao.khcn") is True  # one's own choice only
