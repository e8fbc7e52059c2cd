"""A return leads to a task of its own whose deadline and reminders are its diagram's timers; the
check at upload refuses a diagram whose returned draft would carry no deadline, a wrong one, or
would make the first draft wake to one."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from workflows.diagram_checks import DiagramError
from workflows.diagrams import BPMN_DIR, DiagramLoader
from workflows.engine import WorkflowEngine
from workflows.forms import FormLibrary
from workflows.settings import EngineSettings, RoleCatalog

from .conftest import VN, act, draft_data

NOMINATION = (BPMN_DIR / "nomination.bpmn").read_text(encoding="utf-8")
UNIT_AWARD = (BPMN_DIR / "unit_award.bpmn").read_text(encoding="utf-8")
PREVIOUS = (BPMN_DIR.parent / "tests" / "fixtures" / "nomination_before_returned_draft_task.bpmn").read_bytes()
RETURN = {"decision": "return", "reason": "Bổ sung minh chứng."}


def at(day: str, hour: int) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=VN)


@pytest.fixture(scope="module")
def loader() -> DiagramLoader:
    return WorkflowEngine.loader(RoleCatalog.default(), FormLibrary.default(), EngineSettings.default())


def problems(loader: DiagramLoader, text: str, filename: str = "nomination.bpmn") -> list[tuple[str, str]]:
    with pytest.raises(DiagramError) as caught:
        loader.load(text.encode("utf-8"), filename)
    return [(p.element_id, p.message) for p in caught.value.problems]


def changed(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_a_first_draft_has_no_deadline_a_returned_one_has_its_timers(start_nomination, clock):
    instance, started = start_nomination()  # Monday 13/4/2026 09:00
    [first] = started.opened
    assert (first.task_id, first.due_at, started.next_wake_at) == ("draft_nomination", None, None)
    act(instance, "draft_nomination", draft_data())
    outcome = act(instance, "unit_head_review", RETURN)
    [returned] = outcome.opened
    assert (returned.task_id, returned.name) == ("revise_nomination", "Hoàn thiện hồ sơ theo yêu cầu")
    assert returned.due_at == at("2026-04-20", 17)  # working_days(5): the latest of its timers
    assert returned.role == "unit_staff" and returned.form == first.form
    assert instance.definition.stage_of("revise_nomination") == "draft"
    assert outcome.next_wake_at == at("2026-04-17", 8)  # the reminder, working_days(4, hour=8)


def test_the_previous_shape_is_refused_returns_into_the_first_draft(loader):
    found = problems(loader, PREVIOUS.decode("utf-8"))
    assert ("draft_nomination", "draft_nomination vừa là bước lập hồ sơ lần đầu vừa là bước nhận hồ sơ bị trả lại: "
            "hồ sơ lập lần đầu không có hạn gửi lại, nên lần trả lại phải dẫn tới một nhiệm vụ riêng") in found


def test_a_return_to_a_task_without_declared_days_is_refused(loader):
    text = changed(NOMINATION, '          <spiffworkflow:property name="resubmitWithinWorkingDays" value="5" />\n', "")
    assert ("revise_nomination", "hồ sơ bị trả lại về revise_nomination nhưng nhiệm vụ này không khai báo hạn gửi "
            "lại (thuộc tính resubmitWithinWorkingDays, số ngày làm việc) cùng các hẹn giờ nhắc việc và hết hạn"
            ) in problems(loader, text)


def declaring(days: str) -> str:
    return changed(NOMINATION, 'name="resubmitWithinWorkingDays" value="5"',
                   f'name="resubmitWithinWorkingDays" value="{days}"')


@pytest.mark.parametrize("days", ["7", "4"])
def test_a_deadline_timer_that_disagrees_with_the_declared_days_is_refused(loader, days):
    text = declaring(days)
    assert ("revise_nomination", f"hạn gửi lại của revise_nomination là {days} ngày làm việc nhưng hẹn giờ hết hạn "
            f"của nó là working_days(5); hẹn giờ muộn nhất phải là working_days({days})") in problems(loader, text)


def test_a_returned_draft_without_a_reminder_before_its_deadline_is_refused(loader):
    text = re.sub(r"(<bpmn:boundaryEvent id=\"revise_nomination_reminder_before\"[^>]*>(?:(?!</bpmn:boundaryEvent>)"
                  r".)*)working_days\(4, hour=8\)", r"\1working_days(5, hour=8)", NOMINATION, count=1, flags=re.S)
    assert text != NOMINATION
    assert ("revise_nomination", "revise_nomination có hạn gửi lại 5 ngày làm việc nhưng không có hẹn giờ nhắc việc "
            "trước hạn (working_days(k, hour=8) với k nhỏ hơn 5)") in problems(loader, text)


def test_a_returned_draft_without_a_deadline_timer_is_refused(loader):
    text = re.sub(r"(<bpmn:boundaryEvent id=\"revise_nomination_deadline\"[^>]*>(?:(?!</bpmn:boundaryEvent>)"
                  r".)*)working_days\(5\)", r"\1working_days(4, hour=12)", NOMINATION, count=1, flags=re.S)
    text = changed(text, '<bpmn:boundaryEvent id="revise_nomination_reminder_before" name="Trước hạn 1 ngày" '
                   'cancelActivity="false" attachedToRef="revise_nomination">',
                   '<bpmn:boundaryEvent id="revise_nomination_reminder_before" name="Trước hạn 1 ngày" '
                   'cancelActivity="false" attachedToRef="revise_nomination"><bpmn:extensionElements>'
                   '<spiffworkflow:properties><spiffworkflow:property name="remindsOnly" value="true" />'
                   '</spiffworkflow:properties></bpmn:extensionElements>')
    found = problems(loader, text)
    assert any(e == "revise_nomination" and "hẹn giờ hết hạn của nó là working_days(4)" in m for e, m in found), found


def test_a_timer_the_check_cannot_count_is_refused(loader):
    text = re.sub(r"(<bpmn:boundaryEvent id=\"revise_nomination_deadline\"[^>]*>(?:(?!</bpmn:boundaryEvent>)"
                  r".)*)<bpmn:timeDate xsi:type=\"bpmn:tFormalExpression\">working_days\(5\)</bpmn:timeDate>",
                  r'\1<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P7D"</bpmn:timeDuration>', NOMINATION,
                  count=1, flags=re.S)
    assert text != NOMINATION
    found = problems(loader, text)
    assert any(e == "revise_nomination_deadline" and "phải là working_days(n)" in m and "5 ngày làm việc" in m
               for e, m in found), found


def test_an_interrupting_reminder_is_refused(loader):
    text = changed(NOMINATION, '<bpmn:boundaryEvent id="revise_nomination_reminder_before" name="Trước hạn 1 ngày" '
                   'cancelActivity="false"', '<bpmn:boundaryEvent id="revise_nomination_reminder_before" '
                   'name="Trước hạn 1 ngày" cancelActivity="true"')
    assert ("revise_nomination_reminder_before", 'hẹn giờ nhắc việc revise_nomination_reminder_before không được '
            'dừng nhiệm vụ (cancelActivity="false")') in problems(loader, text)


@pytest.mark.parametrize("value", ["0", "61", "năm", ""])
def test_declared_days_must_be_a_sane_whole_number(loader, value):
    text = declaring(value)
    assert ("revise_nomination", f"hạn gửi lại của revise_nomination phải là số ngày làm việc từ 1 đến 60, không phải "
            f"'{value}'") in problems(loader, text)


def test_days_declared_on_a_task_no_return_reaches_are_refused(loader):
    text = changed(NOMINATION, '<spiffworkflow:property name="stage" value="dost_selection" />',
                   '<spiffworkflow:property name="stage" value="dost_selection" />\n'
                   '          <spiffworkflow:property name="resubmitWithinWorkingDays" value="5" />')
    found = problems(loader, text)
    assert any(e == "dost_select" and "không lần trả lại nào dẫn tới nó" in m for e, m in found), found


def test_the_unit_award_diagram_is_checked_the_same_way(loader):
    text = changed(UNIT_AWARD, 'sourceRef="gw_return_limit" targetRef="revise_unit_award"',
                   'sourceRef="gw_return_limit" targetRef="draft_unit_award"')
    found = problems(loader, text, "unit_award.bpmn")
    assert any(e == "revise_unit_award" and "không lần trả lại nào dẫn tới nó" in m for e, m in found), found


def test_returns_that_reach_no_draft_task_are_refused(loader):
    text = changed(UNIT_AWARD, 'sourceRef="gw_return_limit" targetRef="revise_unit_award"',
                   'sourceRef="gw_return_limit" targetRef="notify_return_limit"')
    found = problems(loader, text, "unit_award.bpmn")
    assert ("unit_award", "sơ đồ này dùng cho Giấy khen của thủ trưởng đơn vị nên lần trả lại phải dẫn tới một nhiệm "
            "vụ giai đoạn draft riêng, có hạn gửi lại (thuộc tính resubmitWithinWorkingDays) và các hẹn giờ nhắc việc, "
            "hết hạn; không lần trả lại nào dẫn tới nhiệm vụ như vậy") in found, found
