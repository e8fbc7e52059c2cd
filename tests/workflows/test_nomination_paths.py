"""Every path of the nomination diagram, driven through the engine."""

from __future__ import annotations

import pytest

from workflows.engine import NotWaitingForMessage, TaskNotFound
from workflows.forms import FormError

from .conftest import RETURN, act, draft_data, drive_to_decision, drive_to_selection, task_named


def test_start_opens_the_draft_for_the_units_staff(start_nomination):
    instance, outcome = start_nomination(unit_id="U-hien-nam")
    assert [t.task_id for t in outcome.opened] == ["draft_nomination"]
    draft = outcome.opened[0]
    assert draft.role == "unit_staff"
    assert draft.unit_id == "U-hien-nam"
    assert draft.form == "draft_nomination.schema.json"
    assert outcome.status == "running"


def test_bang_khen_goes_all_the_way_to_a_published_award(start_nomination):
    instance, _ = start_nomination()
    drive_to_decision(instance)
    assert instance.open_tasks() == []
    assert instance.waiting_for() == ["award_decision"]

    outcome = instance.deliver("award_decision", {"outcome": "awarded", "decision_number": "1234/QĐ-UBND"})

    assert outcome.status == "completed"
    assert outcome.end_event == "end_awarded"
    actions = [(n.action, n.params.get("template")) for n in outcome.notifications]
    assert actions == [("publish_award", None), ("notify_unit", "awarded")]
    assert outcome.notifications[1].unit_id == "U-hien-nam"
    assert outcome.notifications[1].nomination_id == "N1"


def test_roles_along_the_path(start_nomination):
    instance, _ = start_nomination()
    seen = []
    steps = [
        ("draft_nomination", draft_data()),
        ("unit_head_review", {"decision": "submit"}),
        ("dost_check_dossier", {"decision": "complete"}),
        ("dost_select", {"decision": "select"}),
        ("home_affairs_check", {"decision": "complete"}),
        ("home_affairs_appraise", {"decision": "propose", "appraisal_opinion": "Đủ điều kiện khen thưởng."}),
    ]
    for task_id, data in steps:
        task = task_named(instance, task_id)
        seen.append((task_id, task.role, task.unit_id))
        act(instance, task_id, data)
    assert seen == [
        ("draft_nomination", "unit_staff", "U-hien-nam"),
        ("unit_head_review", "unit_head", "U-hien-nam"),
        ("dost_check_dossier", "dost_officer", None),
        ("dost_select", "dost_lead", None),
        ("home_affairs_check", "home_affairs_officer", None),
        ("home_affairs_appraise", "home_affairs_officer", None),
    ]


def test_giay_khen_is_decided_by_the_unit_head(start_nomination):
    instance, _ = start_nomination()
    act(instance, "draft_nomination", draft_data(award="giay_khen"))
    outcome = act(instance, "unit_head_review", {"decision": "submit"})
    assert outcome.status == "completed"
    assert outcome.end_event == "end_unit_certificate"
    assert [n.params.get("template") for n in outcome.notifications] == ["unit_certificate"]


@pytest.mark.parametrize("kind", ["co_quan_don_vi", "mat_tran_to_chuc", "doanh_nghiep", "ca_nhan"])
def test_each_nominee_kind_can_be_drafted(start_nomination, kind):
    instance, _ = start_nomination()
    outcome = act(instance, "draft_nomination", draft_data(kind=kind))
    assert [t.task_id for t in outcome.opened] == ["unit_head_review"]


RETURN_POINTS = {
    "unit_head_review": lambda i: act(i, "draft_nomination", draft_data()),
    "dost_check_dossier": drive_to_selection,
    "dost_select": lambda i: (drive_to_selection(i), act(i, "dost_check_dossier", {"decision": "complete"})),
    "home_affairs_check": lambda i: (drive_to_selection(i), act(i, "dost_check_dossier", {"decision": "complete"}),
                                     act(i, "dost_select", {"decision": "select"})),
    "home_affairs_appraise": lambda i: (drive_to_selection(i),
                                        act(i, "dost_check_dossier", {"decision": "complete"}),
                                        act(i, "dost_select", {"decision": "select"}),
                                        act(i, "home_affairs_check", {"decision": "complete"})),
}


@pytest.mark.parametrize("task_id", sorted(RETURN_POINTS))
def test_each_return_sends_the_dossier_back_to_the_unit(start_nomination, task_id):
    instance, _ = start_nomination()
    RETURN_POINTS[task_id](instance)
    data = dict(RETURN)
    if task_id == "home_affairs_appraise":
        data["appraisal_opinion"] = "Hồ sơ cần bổ sung minh chứng."
    outcome = act(instance, task_id, data)
    # A return opens the returned draft, a task of its own beside the first drafting (it has a deadline).
    assert [t.task_id for t in outcome.opened] == ["revise_nomination"]
    assert [t.task_id for t in outcome.closed] == [task_id]
    assert instance.data["return_count"] == 1
    assert instance.data["reason"] == RETURN["reason"]


@pytest.mark.parametrize("task_id,extra", [
    ("dost_select", {}),
    ("home_affairs_appraise", {"appraisal_opinion": "Thành tích chưa tiêu biểu."}),
])
def test_each_decline_ends_with_a_non_award_notice(start_nomination, task_id, extra):
    instance, _ = start_nomination()
    RETURN_POINTS[task_id](instance)
    reason = "Thành tích chưa nổi bật so với tiêu chuẩn của Kế hoạch."
    outcome = act(instance, task_id, {"decision": "decline", "reason": reason, **extra})
    assert outcome.status == "completed"
    assert outcome.end_event == "end_not_awarded"
    notice = outcome.notifications[-1]
    assert (notice.action, notice.params["template"], notice.params["reason"]) == (
        "notify_unit", "not_awarded", reason)


def test_returns_are_bounded_then_declined_with_a_stated_reason(start_nomination, settings):
    instance, _ = start_nomination()
    for round_ in range(1, settings.max_returns + 1):
        act(instance, "revise_nomination" if round_ > 1 else "draft_nomination", draft_data())
        outcome = act(instance, "unit_head_review", RETURN)
        assert instance.data["return_count"] == round_
    assert outcome.status == "completed"
    assert outcome.end_event == "end_return_limit"
    assert "quá số lần" in outcome.notifications[-1].params["reason"]


def test_a_returned_draft_keeps_the_history_in_a_fresh_decision(start_nomination):
    instance, _ = start_nomination()
    act(instance, "draft_nomination", draft_data())
    act(instance, "unit_head_review", RETURN)
    act(instance, "revise_nomination", draft_data())
    outcome = act(instance, "unit_head_review", {"decision": "submit"})
    # The earlier return's reason must not leak into the new decision.
    assert "reason" not in instance.data
    assert [t.task_id for t in outcome.opened] == ["dost_check_dossier"]


def test_a_decision_without_award_ends_with_its_reason(start_nomination):
    instance, _ = start_nomination()
    drive_to_decision(instance)
    outcome = instance.deliver("award_decision", {"outcome": "not_awarded", "reason": "Không đủ chỉ tiêu."})
    assert outcome.end_event == "end_not_awarded_by_decision"
    assert outcome.notifications[-1].params == {"template": "not_awarded", "reason": "Không đủ chỉ tiêu."}


def test_invalid_form_data_changes_nothing(start_nomination):
    instance, _ = start_nomination()
    before = instance.serialize()
    bad = draft_data()
    del bad["dossier"]["to_trinh"]
    bad["nominee_name"] = ""
    with pytest.raises(FormError) as raised:
        act(instance, "draft_nomination", bad)
    paths = {e.path for e in raised.value.errors}
    assert {"dossier.to_trinh", "nominee_name"} <= paths
    assert instance.serialize() == before
    assert [t.task_id for t in instance.open_tasks()] == ["draft_nomination"]


def test_return_without_reason_is_refused(start_nomination):
    instance, _ = start_nomination()
    act(instance, "draft_nomination", draft_data())
    with pytest.raises(FormError) as raised:
        act(instance, "unit_head_review", {"decision": "return"})
    assert [e.path for e in raised.value.errors] == ["reason"]


def test_unknown_task_and_unexpected_message_are_refused(start_nomination):
    instance, _ = start_nomination()
    with pytest.raises(TaskNotFound):
        instance.complete("00000000-0000-0000-0000-000000000000", {}, "x")
    with pytest.raises(NotWaitingForMessage):
        instance.deliver("award_decision", {"outcome": "awarded"})
