"""No mail subject ends on an empty name. Every kind of mail nomflow sends (each template the code
enqueues), in both languages, about each kind of thing a step can concern (a nomination, a batch, a
unit's plan or report of a round, nothing known), with names missing where data can miss them: the
subject names its thing or drops the separator, never "… –" nor an empty «». Then the real path: a
unit's report sent to its head announces the round and the unit, in the subject, the body, the link
and the next morning's digest (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from itertools import product
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from service.core.config import ROOT
from service.db.models import OutboxMail
from service.mail.text import TEMPLATES, render
from service.usecases.digest import digest_for

from .helpers import HEAD, HIEN_NAM, STAFF, user_id
from .test_reporting_rounds import PDF, figures, open_round, report, save, upload

SENT = sorted(p.name.split(".")[0] for p in TEMPLATES.glob("*.vi.txt") if not p.name.startswith("_"))
DANGLING = re.compile(r"[–—:-]\s*$|[–—-]\s+[–—-]|:\s*[–—-]\s|«\s*»|“\s*”|\(\s*\)")


def test_every_mail_the_code_enqueues_has_a_template_here() -> None:
    """The list below is every kind of mail: each template name the service passes to the outbox."""
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "service").rglob("*.py"))
    named = set(re.findall(r'enqueue\(\s*session,\s*runtime,\s*[\w.]+,\s*"(\w+)"', code))
    named |= set(re.findall(r'return "(\w+)"', (ROOT / "service/usecases/notices.py").read_text(encoding="utf-8")))
    named |= {"awarded", "not_awarded", "unit_certificate", "taken_over"}  # UNIT_NOTICES, the escalation's other
    assert named <= set(SENT), named - set(SENT)
    assert set(SENT) <= named | {"digest"}, set(SENT) - named


def _things() -> list[dict[str, Any]]:
    nomination = SimpleNamespace(id="DN1A2B3C", nominee_name="Ủy ban nhân dân phường Hiến Nam", award="bang_khen",
                                 movement_id=1)
    unnamed = SimpleNamespace(id="DN9Z8Y7X", nominee_name=None, award=None, movement_id=1)
    batch = SimpleNamespace(id="DT44E94FD8CA", title="Về việc tặng Bằng khen năm 2026")
    untitled = SimpleNamespace(id="DTFD86B703C5", title=None)
    report = {"round_title": "Báo cáo kết quả năm 2026", "round_kind": "results", "unit_name": "Phường Hiến Nam"}
    plan = {**report, "round_title": "Kế hoạch năm 2026", "round_kind": "plan"}
    return [
        {"about_kind": "nomination", "nomination": nomination, "subject_name": nomination.nominee_name},
        {"about_kind": "nomination", "nomination": unnamed, "subject_name": unnamed.id},
        {"about_kind": "batch", "batch": batch, "subject_name": batch.title},
        {"about_kind": "batch", "batch": untitled, "subject_name": untitled.id},
        {"about_kind": "report", "report": report, "subject_name": "Báo cáo kết quả năm 2026 – Phường Hiến Nam"},
        {"about_kind": "report", "report": plan, "subject_name": "Kế hoạch năm 2026 – Phường Hiến Nam"},
        # What a step about nothing the service knows gives (and what report tasks gave before): no name.
        {"about_kind": "", "subject_name": ""},
        {"about_kind": "", "subject_name": "", "task_name": "", "unit": SimpleNamespace(id=HIEN_NAM, name=""),
         "round_title": ""},
    ]


def _context(thing: dict[str, Any], kind: str, returned: bool) -> dict[str, Any]:
    due = datetime(2026, 4, 20, 10, 0, tzinfo=UTC)
    unit = SimpleNamespace(id=HIEN_NAM, name="Phường Hiến Nam")
    round_title = thing.pop("round_title", "Báo cáo kết quả năm 2026")
    item = {"name": "Thẩm định hồ sơ", "subject": thing["subject_name"], "due_at": due, "days": 2, "url": "u",
            "unit": "Phường Hiến Nam"}
    return {
        "user": SimpleNamespace(full_name="Nguyễn Thị Hoa"), "recipient_title": "", "nomination": None, "batch": None,
        "unit": unit, "report": None, "task_name": "Thẩm định hồ sơ", "task_role_title": "chuyên viên",
        "from_role_title": "chuyên viên", "to_role_title": "lãnh đạo", "due_at": due, "days_left": 2,
        "days_overdue": 1, "url": "http://nomflow.test/", "kind": kind, "reason": "Thiếu biên bản",
        "decision_number": "12/QĐ-UBND", "decision_date": "15/05/2026", "decision_url": None,
        "decision_title": "Về việc tặng Bằng khen", "submission_number": "45/TTr-UBND", "escalated_name": "Thẩm định",
        "round": SimpleNamespace(id="R1", title=round_title), "days_late": 2, "sender": "", "returned": returned,
        "from_task_name": "Duyệt", "report_status": "drafting", "award_titles": {"bang_khen": "Bằng khen"},
        "today": date(2026, 4, 21), "now": due, "overdue": [item], "upcoming": [item], "undated": [item],
        "to_urge": [item], "follow_up_url": "f", "inbox_url": "i", **thing}


@pytest.mark.parametrize("template", SENT)
def test_no_subject_ends_on_an_empty_name(template: str) -> None:
    for lang, thing, kind, returned in product(("vi", "en"), _things(), ("before_due", "due_today", "overdue"),
                                               (False, True)):
        context = _context(dict(thing), kind, returned)
        subject = render(template, lang, context, "Asia/Ho_Chi_Minh").subject
        assert not DANGLING.search(subject), (template, lang, thing, subject)
        if "subject_name" in (TEMPLATES / f"{template}.{lang}.txt").read_text(encoding="utf-8").split("\n\n")[0]:
            assert context["subject_name"] in subject, (template, lang, subject)  # named when there is a name


def test_a_units_report_reaching_its_head_is_named_by_round_and_unit(client, auth, runtime) -> None:
    round_id = open_round(client, auth)
    version = report(client, auth, round_id)["version"]
    assert save(client, auth, round_id, figures(), version).status_code == 200
    assert upload(client, auth, round_id, content=PDF).status_code == 200
    version = report(client, auth, round_id)["version"]
    with runtime.read() as uow:
        before = max(uow.session.scalars(select(OutboxMail.id)).all(), default=0)
    response = client.post(f"/api/v1/rounds/{round_id}/units/{HIEN_NAM}/submit", headers=auth(STAFF),
                           json={"version": version})
    assert response.status_code == 200, response.get_json()
    with runtime.read() as uow:
        mails = uow.session.scalars(select(OutboxMail).where(OutboxMail.id > before)).all()
    arrived = [m for m in mails if m.subject.startswith("[nomflow] Việc mới")]
    assert arrived, [m.subject for m in mails]
    for mail in arrived:
        assert mail.subject.endswith("– Báo cáo kết quả năm 2026 – Ủy ban nhân dân phường Hiến Nam"), mail.subject
        assert "Báo cáo của đơn vị dưới đây vừa chuyển đến bước" in mail.body_text, mail.body_text
        assert "Đợt: Báo cáo kết quả năm 2026" in mail.body_text and "Đợt trình" not in mail.body_text
        assert f"/rounds/{round_id}/units/{HIEN_NAM}" in mail.body_text

    assert digest_for(runtime, user_id(runtime, HEAD))  # next morning's digest names it the same way
    with runtime.read() as uow:
        digest = uow.session.scalars(select(OutboxMail).where(OutboxMail.subject.like("%Tổng hợp%"))).one()
    assert "– Báo cáo kết quả năm 2026 – Ủy ban nhân dân phường Hiến Nam" in digest.body_text, digest.body_text
    assert f"/rounds/{round_id}/units/{HIEN_NAM}" in digest.body_text
    assert not re.search(r" – \n", digest.body_text)
