"""Element-level differences between two versions of a diagram, read from the XML."""

from __future__ import annotations

import pytest

from workflows.diagram_diff import describe_process, diff_process
from workflows.diagrams import BPMN_DIR
from workflows.safe_xml import UnsafeXmlError

NOMINATION = (BPMN_DIR / "nomination.bpmn").read_bytes()


def edited(*pairs: tuple[str, str]) -> bytes:
    text = NOMINATION.decode()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text.encode()


def test_identical_versions_have_no_differences():
    diff = diff_process(NOMINATION, NOMINATION, "nomination")
    assert (diff.added, diff.removed, diff.changed) == ([], [], [])


def test_each_kind_of_change_is_named():
    new = edited(
        ('name="Kiểm tra hồ sơ"', 'name="Kiểm tra, đối chiếu hồ sơ"'),
        ('decision == "return"</bpmn:conditionExpression>', 'decision in ("return",)</bpmn:conditionExpression>'),
        ('value="dost_select.schema.json"', 'value="dost_select_v2.schema.json"'),
        ("<bpmn:timeDate xsi:type=\"bpmn:tFormalExpression\">working_days(19, hour=8)",
         "<bpmn:timeDate xsi:type=\"bpmn:tFormalExpression\">working_days(18, hour=8)"),
    )
    changed = {c.id: c for c in diff_process(NOMINATION, new, "nomination").changed}
    assert changed["dost_check_dossier"].attributes == ("name",)
    flow = next(c for c in changed.values() if c.type == "sequenceFlow")
    assert flow.attributes == ("condition",) and flow.after == {"condition": 'decision in ("return",)'}
    assert changed["dost_select"].attributes == ("form",)
    assert changed["home_affairs_appraise_reminder_before"].after == {"timer": "timeDate: working_days(18, hour=8)"}


def test_added_removed_and_moved_between_lanes():
    new = edited(
        ("<bpmn:flowNodeRef>dost_select</bpmn:flowNodeRef>", ""),
        ("<bpmn:flowNodeRef>dost_check_dossier</bpmn:flowNodeRef>",
         "<bpmn:flowNodeRef>dost_check_dossier</bpmn:flowNodeRef><bpmn:flowNodeRef>dost_select</bpmn:flowNodeRef>"),
        ('<bpmn:endEvent id="end_awarded"', '<bpmn:endEvent id="end_awarded_v2"'),
    )
    diff = diff_process(NOMINATION, new, "nomination")
    assert [(e.id, e.type) for e in diff.added] == [("end_awarded_v2", "endEvent")]
    assert [(e.id, e.type) for e in diff.removed] == [("end_awarded", "endEvent")]
    lane = next(c for c in diff.changed if c.id == "dost_select")
    assert lane.before == {"lane": "Lãnh đạo Sở Khoa học và Công nghệ"}
    assert lane.after == {"lane": "Chuyên viên Sở Khoa học và Công nghệ"}


def test_an_editor_leaving_out_default_attributes_changes_nothing():
    # bpmn-js writes no cancelActivity for an interrupting boundary event: same meaning.
    new = NOMINATION.replace(b' cancelActivity="true"', b"")
    assert diff_process(NOMINATION, new, "nomination").changed == []
    flipped = edited(('id="dost_check_dossier_deadline" name="Hết hạn 5 ngày làm việc" cancelActivity="true"',
                      'id="dost_check_dossier_deadline" name="Hết hạn 5 ngày làm việc" cancelActivity="false"'))
    [change] = diff_process(NOMINATION, flipped, "nomination").changed
    assert (change.id, change.before, change.after) == (
        "dost_check_dossier_deadline", {"cancel_activity": True}, {"cancel_activity": False})


def test_hostile_xml_and_unknown_processes_are_refused():
    with pytest.raises(UnsafeXmlError):
        describe_process(b'<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><d>&e;</d>', "nomination")
    with pytest.raises(LookupError):
        describe_process(NOMINATION, "award_decision")
