"""The contract a diagram must meet (config/contracts.toml), checked at load without the service."""

from __future__ import annotations

import re

import pytest

from workflows.contract import ContractCatalog, ContractProblem
from workflows.diagram_checks import DiagramError
from workflows.diagrams import BPMN_DIR, DiagramLoader
from workflows.engine import WorkflowEngine
from workflows.forms import FormLibrary
from workflows.settings import EngineSettings, RoleCatalog

NOMINATION = (BPMN_DIR / "nomination.bpmn").read_bytes()
AWARD_DECISION = (BPMN_DIR / "award_decision.bpmn").read_bytes()


@pytest.fixture(scope="module")
def loader() -> DiagramLoader:
    return WorkflowEngine.loader(RoleCatalog.default(), FormLibrary.default(), EngineSettings.default())


def problems(loader: DiagramLoader, bpmn: bytes, filename: str = "nomination.bpmn") -> list[tuple[str, str]]:
    with pytest.raises(DiagramError) as caught:
        loader.load(bpmn, filename)
    return [(p.element_id, p.message) for p in caught.value.problems]


def test_the_shipped_diagrams_declare_every_stage_of_their_kind(loader):
    contracts = ContractCatalog.default()
    for bpmn, name in ((NOMINATION, "nomination.bpmn"), (AWARD_DECISION, "award_decision.bpmn")):
        for process_id, definition in loader.load(bpmn, name).items():
            contract = contracts.get(process_id)
            assert contract is not None
            assert set(definition.stages.values()) == set(contract.task_stages) | set(contract.end_stages)
            assert all(task.stage in contract.task_stages for task in definition.human_tasks.values())


def test_a_gateway_may_not_declare_a_stage(loader):
    broken = re.sub(rb'(<bpmn:exclusiveGateway id="gw_award_kind" [^>]*)>',
                    rb'\1><bpmn:extensionElements>'
                    b'<spiffworkflow:properties><spiffworkflow:property name="stage" value="draft" />'
                    b'</spiffworkflow:properties></bpmn:extensionElements>', NOMINATION, count=1)
    assert broken != NOMINATION
    assert ("gw_award_kind", "chỉ nhiệm vụ người dùng và sự kiện kết thúc mới khai báo giai đoạn; gw_award_kind "
            "khai báo giai đoạn draft") in problems(loader, broken)


def test_an_end_event_with_a_task_stage_is_refused(loader):
    broken = NOMINATION.replace(b'name="stage" value="unit_certificate" />', b'name="stage" value="draft" />', 1)
    found = problems(loader, broken)
    assert any(e == "end_unit_certificate" and "giai đoạn draft không tồn tại" in m and "unit_certificate" in m
               for e, m in found), found
    assert any("unit_certificate" in m and "phải khai báo các giai đoạn" in m for _, m in found), found


def test_a_decision_diagram_that_never_sends_the_decision_is_refused(loader):
    broken = AWARD_DECISION.replace(b'serviceTaskOperator id="send_decision"', b'serviceTaskOperator id="notify_unit"')
    found = problems(loader, broken, "award_decision.bpmn")
    assert ("award_decision", "sơ đồ này dùng cho trình, ký quyết định khen thưởng nên phải gọi hành động "
            "send_decision trong một service task") in found


def test_a_nomination_that_never_waits_for_the_decision_is_refused(loader):
    broken = NOMINATION.replace(b'name="award_decision" />', b'name="quyet_dinh" />', 1)
    found = problems(loader, broken)
    assert any(e == "nomination" and "thông điệp award_decision" in m for e, m in found), found


def test_a_reminder_naming_a_task_that_is_gone_is_refused(loader):
    broken = NOMINATION.replace(b'value="&quot;dost_select&quot;"', b'value="&quot;dost_select_old&quot;"', 1)
    found = problems(loader, broken)
    assert any("dost_select_old" in m and "không có trong sơ đồ" in m for _, m in found), found


def test_problems_carry_their_template_for_the_catalogue(loader):
    broken = re.sub(rb'\s*<spiffworkflow:property name="stage" value="draft" />', b"", NOMINATION)
    with pytest.raises(DiagramError) as caught:
        loader.load(broken, "nomination.bpmn")
    [missing] = [p for p in caught.value.problems if "phải khai báo các giai đoạn" in p.message]
    assert isinstance(missing, ContractProblem)
    assert missing.template % missing.params == missing.message
    assert missing.params["missing"] == "draft" and missing.params["kind_en"] == "award nominations"


def test_a_stored_version_is_not_refused_and_gets_the_old_id_map(loader):
    legacy = re.sub(rb'\s*<spiffworkflow:property name="stage" value="\w+" />', b"", NOMINATION)
    definition = loader.load(legacy, "nomination.bpmn", stored=True)["nomination"]
    assert definition.stage_of("dost_check_dossier_escalated") == "dost_review"
    assert definition.stage_of("end_return_limit") == "not_awarded"


def test_a_stage_task_whose_form_lacks_what_the_service_reads_is_refused(loader):
    # The draft task pointed at a review form: the service would find no dossier to edit.
    broken = NOMINATION.replace(b'value="draft_nomination.schema.json"', b'value="dost_select.schema.json"', 1)
    found = problems(loader, broken)
    assert any(e == "draft_nomination" and "dost_select.schema.json" in m and "nominee_kind" in m and "dossier" in m
               for e, m in found), found


def test_a_stage_declared_twice_or_empty_is_refused(loader):
    twice = NOMINATION.replace(b'name="stage" value="dost_selection" />',
                               b'name="stage" value="dost_selection" /><spiffworkflow:property name="stage" '
                               b'value="draft" />', 1)
    assert any(e == "dost_select" and "nhiều lần" in m for e, m in problems(loader, twice))
    empty = NOMINATION.replace(b'name="stage" value="dost_selection" />', b'name="stage" value=" " />', 1)
    found = problems(loader, empty)
    assert any(e == "dost_select" and "chưa khai báo giai đoạn" in m for e, m in found), found
    assert any("phải khai báo các giai đoạn dost_selection" in m for _, m in found), found
