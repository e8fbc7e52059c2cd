"""Every desk finds its work: waiting work in the role's inbox, batches created with their content
and cancellable while being prepared, the Chairman's rows named by content, "Mở việc" only where
the user can act, and drafts the unit can withdraw (issue 16, "Finding work")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.models import AuditEvent, Batch, InboxRow, InstanceRow, Nomination

from .conftest import csrf_of, log_in
from .test_desks import step, task_of, text_of
from .test_pages import advance, draft, submitted

TITLE = "Về việc tặng Bằng khen của Chủ tịch UBND tỉnh năm 2026"


def appraised(runtime: Runtime, name: str = "UBND phường Hiến Nam") -> str:
    nid = submitted(runtime, name=name)
    advance(runtime, nid, 5)
    return nid


def batches_of(runtime: Runtime) -> list[Batch]:
    with runtime.uow() as uow:
        return list(uow.session.scalars(select(Batch)))


def test_nominations_waiting_for_a_batch_show_in_the_preparers_inbox(runtime: Runtime, app: Any) -> None:
    client = app.test_client()
    log_in(client, "lanhdao.noivu")
    assert "chờ lập đợt trình" not in client.get("/inbox").text
    appraised(runtime)
    page = text_of(client.get("/inbox").text)
    assert "1 hồ sơ đã thẩm định đang chờ lập đợt trình Chủ tịch UBND tỉnh." in page
    assert "Không có việc nào." not in page  # the waiting work is work
    log_in(client, "chuyenvien.noivu")  # the officer does not prepare batches
    assert "chờ lập đợt trình" not in client.get("/inbox").text


def test_a_batch_asks_for_its_content_first_and_is_named_by_it(runtime: Runtime, app: Any) -> None:
    nid = appraised(runtime)
    client = app.test_client()
    token = log_in(client, "lanhdao.noivu")
    refused = client.post("/batches", data={"csrf_token": token, "title": "  "})
    assert refused.status_code == 422 and "Hãy nhập trích yếu" in refused.text
    assert client.post("/batches", data={"csrf_token": token, "title": "abc"}).status_code == 422
    assert batches_of(runtime) == []  # nothing is created by a click alone
    created = client.post("/batches", data={"csrf_token": token, "title": TITLE})
    assert created.status_code == 302
    [batch] = batches_of(runtime)
    assert batch.title == TITLE
    prepare = client.get(f"/tasks/{task_of(runtime, batch_id=batch.id).id}").text
    assert f'value="{TITLE}"' in prepare  # the preparation starts from the content given
    step(runtime, "lanhdao.noivu", {"nomination_ids": [nid], "decision_title": TITLE,
                                    "decision_draft": "Điều 1. Tặng Bằng khen cho các tập thể."}, batch_id=batch.id)
    log_in(client, "chutich.tinh")
    inbox = client.get("/inbox?scope=queue").text
    row = text_of(inbox.split('class="tasks"', 1)[1])
    assert TITLE in row and "1 hồ sơ" in row and "Người trình: Đặng Quang Huy" in row, row
    assert batch.id not in row.split(TITLE)[0]  # named by its content, not its code
    assert 'name="kind"' not in inbox and 'name="unit"' not in inbox  # filters of nominations, not batches


def test_an_empty_or_abandoned_batch_can_be_cancelled_until_it_reaches_the_chairman(runtime: Runtime, app: Any) -> None:
    client = app.test_client()
    token = log_in(client, "lanhdao.noivu")
    client.post("/batches", data={"csrf_token": token, "title": "Đợt trình lập nhầm"})
    [empty] = batches_of(runtime)
    assert "Hủy đợt trình" in client.get(f"/batches/{empty.id}").text
    done = client.post(f"/batches/{empty.id}/cancel", data={"csrf_token": token, "reason": "Lập nhầm."})
    assert done.status_code == 302
    with runtime.uow() as uow:
        row = uow.session.get(Batch, empty.id)
        instance = uow.session.get(InstanceRow, row.instance_id)
        assert (row.status, instance.status, instance.next_wake_at) == ("cancelled", "completed", None)
        assert uow.session.scalars(select(InboxRow).where(InboxRow.batch_id == empty.id)).all() == []
        [event] = uow.session.scalars(select(AuditEvent).where(AuditEvent.kind == "batch_cancelled")).all()
        assert event.detail["reason"] == "Lập nhầm."
    assert "Đã hủy" in client.get("/batches").text

    nid = appraised(runtime)
    client.post("/batches", data={"csrf_token": token, "title": TITLE})
    sent = next(b for b in batches_of(runtime) if b.id != empty.id)
    step(runtime, "lanhdao.noivu", {"nomination_ids": [nid], "decision_title": TITLE,
                                    "decision_draft": "Điều 1. Tặng Bằng khen cho các tập thể."}, batch_id=sent.id)
    assert "Hủy đợt trình" not in client.get(f"/batches/{sent.id}").text
    assert client.post(f"/batches/{sent.id}/cancel", data={"csrf_token": token}).status_code == 409
    log_in(client, "chuyenvien.noivu")
    assert client.post(f"/batches/{sent.id}/cancel", data={"csrf_token": csrf_of(
        client.get("/inbox").text)}).status_code == 403


def test_cancelling_a_batch_in_preparation_gives_its_nominations_back(runtime: Runtime, app: Any) -> None:
    from service.usecases.batches import create_batch
    from service.usecases.withdrawals import cancel_batch

    from .conftest import actor_of

    nid = appraised(runtime)
    lead = actor_of(runtime, "lanhdao.noivu")
    batch_id = create_batch(runtime, lead, TITLE)
    with runtime.uow() as uow:
        uow.session.get(Nomination, nid).batch_id = batch_id  # chosen, the preparation not yet finished
        uow.commit()
    assert cancel_batch(runtime, lead, batch_id) == 1
    with runtime.uow() as uow:
        assert uow.session.get(Nomination, nid).batch_id is None


def test_open_task_is_offered_only_to_those_who_can_act(runtime: Runtime, app: Any) -> None:
    nid = submitted(runtime)
    advance(runtime, nid, 1)  # with the DOST officer
    client = app.test_client()
    log_in(client, "lanhdao.khcn")  # sees the nomination, cannot complete the officer's step
    assert "Mở việc" not in client.get(f"/nominations/{nid}").text
    log_in(client, "chuyenvien.khcn")
    assert "Mở việc" in client.get(f"/nominations/{nid}").text


def test_the_unit_withdraws_its_own_draft_and_only_while_it_is_with_the_unit(runtime: Runtime, app: Any) -> None:
    nid = draft(runtime)
    client = app.test_client()
    token = log_in(client, "chutich.hiennam")  # the head does not draft, so does not withdraw
    assert client.post(f"/nominations/{nid}/withdraw", data={"csrf_token": token}).status_code == 403
    token = log_in(client, "canbo.hiennam")
    assert "Rút hồ sơ" in client.get(f"/nominations/{nid}/edit").text
    done = client.post(f"/nominations/{nid}/withdraw", data={"csrf_token": token, "reason": "Đơn vị lập trùng."})
    assert done.status_code == 302
    with runtime.uow() as uow:
        nomination = uow.session.get(Nomination, nid)
        instance = uow.session.get(InstanceRow, nomination.instance_id)
        assert (nomination.status, instance.status, instance.next_wake_at) == ("withdrawn", "completed", None)
        assert uow.session.scalars(select(InboxRow).where(InboxRow.nomination_id == nid)).all() == []
    page = text_of(client.get(f"/nominations/{nid}").text)
    assert "Đơn vị đã rút hồ sơ" in page and "Đơn vị lập trùng." in page

    sent = submitted(runtime)
    assert client.post(f"/nominations/{sent}/withdraw", data={"csrf_token": token}).status_code == 409
    with runtime.uow() as uow:
        assert uow.session.get(Nomination, sent).status == "unit_review"
