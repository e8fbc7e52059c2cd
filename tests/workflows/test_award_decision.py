"""The batch decision diagram, and its messages reaching the nominations."""

from __future__ import annotations

from .conftest import RETURN, act, drive_to_decision

BATCH = {"nomination_ids": ["N1", "N2", "N3"], "decision_title": "Khen thưởng phong trào thi đua năm 2026",
         "decision_draft": "Tặng Bằng khen của Chủ tịch UBND tỉnh cho các tập thể, cá nhân có thành tích."}
SIGN = {"decision": "sign", "decision_number": "1234/QĐ-UBND", "signed_on": "2026-12-01"}


def test_signed_decision_sends_a_message_to_every_nomination(engine):
    batch, outcome = engine.start("award_decision", {"batch_id": "B1"})
    assert [(t.task_id, t.role) for t in outcome.opened] == [("prepare_batch", "home_affairs_lead")]
    act(batch, "prepare_batch", BATCH)
    excluded = [{"nomination_id": "N2", "reason": "Đơn vị chưa hoàn thành chỉ tiêu số hóa."}]
    outcome = act(batch, "sign_decision", {**SIGN, "excluded": excluded})
    assert outcome.end_event == "end_decision_signed"
    by_id = {m.nomination_id: m for m in outcome.messages}
    assert sorted(by_id) == ["N1", "N2", "N3"]
    assert by_id["N1"].payload["outcome"] == "awarded"
    assert by_id["N1"].payload["decision_number"] == "1234/QĐ-UBND"
    assert by_id["N2"].payload == {**by_id["N2"].payload, "outcome": "not_awarded",
                                   "reason": "Đơn vị chưa hoàn thành chỉ tiêu số hóa."}


def test_chairman_sends_back_then_signs(engine):
    batch, _ = engine.start("award_decision", {})
    act(batch, "prepare_batch", BATCH)
    outcome = act(batch, "sign_decision", {"decision": "send_back", "reason": RETURN["reason"]})
    assert [t.task_id for t in outcome.opened] == ["prepare_batch"]
    assert outcome.messages == []
    act(batch, "prepare_batch", BATCH)
    assert act(batch, "sign_decision", SIGN).end_event == "end_decision_signed"


def test_sending_back_too_often_abandons_the_batch_with_a_reason(engine, settings):
    batch, _ = engine.start("award_decision", {})
    for _ in range(settings.max_returns):
        act(batch, "prepare_batch", BATCH)
        outcome = act(batch, "sign_decision", {"decision": "send_back", "reason": RETURN["reason"]})
    assert outcome.end_event == "end_decision_abandoned"
    assert {m.payload["outcome"] for m in outcome.messages} == {"not_awarded"}
    assert all("quá số lần" in m.payload["reason"] for m in outcome.messages)


def test_batch_messages_complete_the_waiting_nominations(engine):
    nominations = {}
    for nomination_id in ("N1", "N2"):
        instance, _ = engine.start("nomination", {"nomination_id": nomination_id, "unit_id": "U1"})
        drive_to_decision(instance)
        nominations[nomination_id] = instance
    batch, _ = engine.start("award_decision", {})
    act(batch, "prepare_batch", {**BATCH, "nomination_ids": ["N1", "N2"]})
    outcome = act(batch, "sign_decision", {**SIGN, "excluded": [
        {"nomination_id": "N2", "reason": "Thành tích chưa tiêu biểu trong toàn tỉnh."}]})
    ends = {}
    for message in outcome.messages:
        result = nominations[message.nomination_id].deliver(message.name, message.payload)
        ends[message.nomination_id] = result.end_event
    assert ends == {"N1": "end_awarded", "N2": "end_not_awarded_by_decision"}
