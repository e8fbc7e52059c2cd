"""Unit notices (awarded, not awarded with the reason, the unit's own certificate) as received."""

from __future__ import annotations

from sqlalchemy import select

from service.db.models import DecisionFile, InboxRow
from service.usecases.batches import create_batch
from service.usecases.tasks import complete_task
from tests.support.signing import sign_batch
from tests.workflows.conftest import draft_data

from .helpers import (
    DOST_LEAD,
    DOST_OFFICER,
    HEAD,
    HIEN_NAM,
    STAFF,
    actor,
    at,
    complete,
    deliver,
    email_of,
    nomination_at_dost_check,
    outbox,
    wake,
)

REASON = "Thành tích chưa tiêu biểu so với các đơn vị khác trong tỉnh."


def test_not_awarded_notice_tells_the_unit_why(mail_runtime, smtp):
    runtime = mail_runtime
    nomination_id = nomination_at_dost_check(runtime)
    complete(runtime, DOST_OFFICER, nomination_id, "dost_review", {"decision": "complete"})
    complete(runtime, DOST_LEAD, nomination_id, "dost_selection", {"decision": "decline", "reason": REASON})
    deliver(runtime)

    mails = {m.to[0]: m for m in smtp.messages()}
    assert set(mails) == {email_of(runtime, STAFF), email_of(runtime, HEAD)}
    staff = mails[email_of(runtime, STAFF)]
    assert staff.subject == "[nomflow] Thông báo kết quả: hồ sơ Ủy ban nhân dân phường Hiến Nam không được khen thưởng"
    assert staff.text.startswith("Kính gửi Ông/Bà Nguyễn Thị Hoa – Cán bộ thi đua của đơn vị,")
    assert f"  Lý do: {REASON}" in staff.text
    assert "  Đơn vị đề nghị: Ủy ban nhân dân phường Hiến Nam" in staff.text
    assert f"http://127.0.0.1:5000/nominations/{nomination_id}" in staff.text
    assert "Kính gửi Ông/Bà Trần Văn Minh – Thủ trưởng cơ quan, đơn vị," in mails[email_of(runtime, HEAD)].text


def test_unit_certificate_notice(mail_runtime, smtp):
    runtime = mail_runtime
    data = {**draft_data(award="giay_khen")}
    staff = actor(runtime, STAFF)
    from service.usecases.nominations import create_draft, submit

    nomination_id = create_draft(runtime, staff, HIEN_NAM, data)
    submit(runtime, staff, nomination_id, data)
    complete(runtime, HEAD, nomination_id, "unit_review", {"decision": "submit"})
    deliver(runtime)
    staff_mail = smtp.to(email_of(runtime, STAFF))[0]
    assert staff_mail.subject == ("[nomflow] Thông báo kết quả: Ủy ban nhân dân phường Hiến Nam được Thủ trưởng "
                                  "đơn vị tặng Giấy khen")
    assert "  Hình thức đề nghị: Giấy khen của Thủ trưởng cơ quan, tổ chức, đơn vị" in staff_mail.text


def test_awarded_notice_names_the_decision_its_date_and_the_signed_pdf(mail_runtime, smtp, pki):
    runtime = mail_runtime
    nomination_id = nomination_at_dost_check(runtime)
    complete(runtime, DOST_OFFICER, nomination_id, "dost_review", {"decision": "complete"})
    complete(runtime, DOST_LEAD, nomination_id, "dost_selection", {"decision": "select"})
    complete(runtime, "chuyenvien.noivu", nomination_id, "home_affairs_review", {"decision": "complete"})
    complete(runtime, "chuyenvien.noivu", nomination_id, "home_affairs_appraisal",
             {"decision": "propose", "appraisal_opinion": "Đủ điều kiện đề nghị tặng Bằng khen."})
    batch_id = create_batch(runtime, actor(runtime, "lanhdao.noivu"))

    def batch_task(stage: str) -> str:
        with runtime.uow() as uow:
            return uow.session.scalars(select(InboxRow.id).where(InboxRow.batch_id == batch_id,
                                                                InboxRow.stage == stage)).one()

    complete_task(runtime, actor(runtime, "lanhdao.noivu"), batch_task("batch_preparation"), {
        "nomination_ids": [nomination_id], "decision_title": "Tặng Bằng khen phong trào chuyển đổi số",
        "decision_draft": "Điều 1. Tặng Bằng khen của Chủ tịch UBND tỉnh cho ..."})
    done = sign_batch(runtime, pki, batch_id, actor(runtime, "chuyenvien.noivu"), actor(runtime, "chutich.tinh"))
    day = done.signed_on.strftime("%d/%m/%Y")
    deliver(runtime)
    mail = smtp.to(email_of(runtime, STAFF))[-1]
    assert mail.subject == ("[nomflow] Thông báo kết quả: Ủy ban nhân dân phường Hiến Nam được tặng Bằng khen của "
                            "Chủ tịch Ủy ban nhân dân tỉnh")
    assert f"tại Quyết định số 01/QĐ-UBND ngày {day}." in mail.text
    assert f"  Quyết định khen thưởng: số 01/QĐ-UBND ngày {day} – Tặng Bằng khen phong trào chuyển đổi số" in mail.text
    with runtime.read() as uow:
        file_id = uow.session.scalars(select(DecisionFile.id).where(DecisionFile.stage == "signed")).one()
    assert f"  Quyết định đã ký số (PDF): {runtime.config.link_base}/decision-files/{file_id}?view=1" in mail.text


def test_without_smtp_mails_wait_in_the_outbox(runtime, smtp, clock):
    nomination_at_dost_check(runtime)
    clock.set(at("2026-04-17", 8, 1))
    wake(runtime)
    assert deliver(runtime).sent == 0  # no smtp_host (the `make run` default): the job sends nothing
    assert smtp.messages() == []
    assert [(m.status, m.attempts) for m in outbox(runtime)] == [("pending", 0)]


def test_batch_reminder_names_the_batch(mail_runtime, smtp, clock):
    runtime = mail_runtime
    batch_id = create_batch(runtime, actor(runtime, "lanhdao.noivu"))  # prepare_batch: 5 working days
    clock.set(at("2026-04-17", 8, 1))
    assert wake(runtime).woken == 1
    deliver(runtime)
    [mail] = smtp.messages()
    assert mail.to == [email_of(runtime, "lanhdao.noivu")]
    assert "«Lập tờ trình, dự thảo quyết định khen thưởng» đối với đợt trình khen thưởng dưới đây" in mail.text
    assert f"  Đợt trình: {batch_id}" in mail.text
    assert f"http://127.0.0.1:5000/batches/{batch_id}" in mail.text
