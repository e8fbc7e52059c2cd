"""The next desk hears of its work at once: a mail when a task reaches it and when a nomination is
returned for revision (with the reason), unless the person chose the morning digest only."""

from __future__ import annotations

from sqlalchemy import update

from service.db.models import User
from service.usecases.preferences import set_mail_immediately

from .helpers import DOST_OFFICER, HEAD, STAFF, actor, complete, deliver, email_of, submitted_nomination

REASON = "Bổ sung số liệu dịch vụ công trực tuyến năm 2026."


def immediate_for_everyone(runtime) -> None:
    with runtime.uow() as uow:  # undo the folder's digest-only default (conftest.digest_only)
        uow.session.execute(update(User).values(mail_immediately=True))
        uow.commit()


def test_the_next_desk_gets_a_mail_at_once_and_a_return_tells_why(mail_runtime, smtp):
    immediate_for_everyone(mail_runtime)
    nomination_id = submitted_nomination(mail_runtime)  # the unit head's review opens
    deliver(mail_runtime)
    [arrived] = smtp.messages()
    assert arrived.to == [email_of(mail_runtime, HEAD)]
    assert arrived.subject == "[nomflow] Việc mới: Xem xét, ký tờ trình – Ủy ban nhân dân phường Hiến Nam"
    assert f"/nominations/{nomination_id}" in arrived.text and "Hạn xử lý:" in arrived.text

    complete(mail_runtime, HEAD, nomination_id, "unit_review", {"decision": "return", "reason": REASON})
    deliver(mail_runtime)
    returned = smtp.messages()[1:]
    assert [m.to for m in returned] == [[email_of(mail_runtime, STAFF)]]  # the head did it: not told himself
    [mail] = returned
    assert mail.subject == "[nomflow] Hồ sơ bị trả lại để hoàn thiện – Ủy ban nhân dân phường Hiến Nam"
    assert f"  Lý do trả lại: {REASON}" in mail.text
    assert "Tại bước «Xem xét, ký tờ trình», Thủ trưởng" in mail.text


def test_digest_only_people_get_no_mail_at_once(mail_runtime, smtp):
    immediate_for_everyone(mail_runtime)
    set_mail_immediately(mail_runtime, actor(mail_runtime, DOST_OFFICER), False)
    nomination_id = submitted_nomination(mail_runtime)
    complete(mail_runtime, HEAD, nomination_id, "unit_review",
             {"decision": "submit", "submission_number": "12/TTr-UBND"})
    deliver(mail_runtime)
    assert [m.to for m in smtp.messages()] == [[email_of(mail_runtime, HEAD)]]  # none for the DOST officer


def test_a_new_draft_mails_no_one(mail_runtime, smtp):
    immediate_for_everyone(mail_runtime)
    from service.usecases.nominations import create_draft
    from tests.workflows.conftest import draft_data

    create_draft(mail_runtime, actor(mail_runtime, STAFF), "phuong-hien-nam", draft_data())
    assert deliver(mail_runtime).sent == 0


def test_a_returned_draft_has_the_resubmission_deadline_its_diagram_declares(mail_runtime, smtp, clock):
    from .helpers import at, open_tasks

    immediate_for_everyone(mail_runtime)
    nomination_id = submitted_nomination(mail_runtime)
    [first_draft_free] = open_tasks(mail_runtime, nomination_id)  # the head's review; the first draft had no deadline
    assert first_draft_free.stage == "unit_review"
    complete(mail_runtime, HEAD, nomination_id, "unit_review", {"decision": "return", "reason": REASON})
    [draft] = open_tasks(mail_runtime, nomination_id)
    # bpmn/nomination.bpmn: resubmitWithinWorkingDays = 5 on the draft task; returned Monday 13/4/2026
    assert draft.stage == "draft" and draft.due_at == at("2026-04-20", 17)
    deliver(mail_runtime)
    returned = smtp.to(email_of(mail_runtime, STAFF))[-1]
    assert "gửi lại trước 17:00 thứ Hai, ngày 20/04/2026" in returned.text
