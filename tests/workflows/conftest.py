from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from workflows.calendar import WorkingCalendar
from workflows.clock import FixedClock
from workflows.diagrams import ProcessDefinition
from workflows.engine import Outcome, ProcessInstance, WorkflowEngine
from workflows.form_choices import MovementChoices
from workflows.forms import FormLibrary
from workflows.settings import EngineSettings, RoleCatalog

VN = timezone(timedelta(hours=7))
# The 2026 movement's lists (nominee kinds, criteria, awards), which the service gives the forms.
MOVEMENT_2026 = tomllib.loads((Path(__file__).resolve().parents[2] / "config" / "movements"
                               / "2026_khcn_dmst_cds.toml").read_text(encoding="utf-8"))
CHOICES_2026 = MovementChoices.from_data(MOVEMENT_2026["nominee_kinds"], MOVEMENT_2026["awards"])
SHA = {name: (str(i) * 64)[:64].replace("0", "a") for i, name in
       enumerate(("to_trinh", "bien_ban_hoi_dong", "bao_cao_thanh_tich"), start=1)}


@pytest.fixture(scope="session")
def roles() -> RoleCatalog:
    return RoleCatalog.default()


@pytest.fixture(scope="session")
def forms() -> FormLibrary:
    return FormLibrary.default()


@pytest.fixture(scope="session")
def settings() -> EngineSettings:
    return EngineSettings.default()


@pytest.fixture(scope="session")
def definitions(roles, forms, settings) -> dict[str, ProcessDefinition]:
    return WorkflowEngine.loader(roles, forms, settings).load_directory()


@pytest.fixture
def clock() -> FixedClock:
    # Monday 13 April 2026, 09:00 in Hưng Yên.
    return FixedClock(datetime(2026, 4, 13, 9, 0, tzinfo=VN))


@pytest.fixture
def engine(definitions, clock, roles, forms, settings) -> WorkflowEngine:
    return WorkflowEngine(definitions, clock=clock, calendar=WorkingCalendar.default(), settings=settings,
                          roles=roles, forms=forms)


def draft_data(kind: str = "co_quan_don_vi", award: str = "bang_khen") -> dict[str, Any]:
    data: dict[str, Any] = {
        "nominee_kind": kind,
        "nominee_name": "Ủy ban nhân dân phường Hiến Nam",
        "award": award,
        "achievement_summary": "Triển khai dịch vụ công trực tuyến toàn trình, số hóa 100% hồ sơ.",
        "criteria": {"co_quan_don_vi": ["a1", "a3"], "mat_tran_to_chuc": ["b1"],
                     "doanh_nghiep": ["c2"], "ca_nhan": ["d1"]}[kind],
        "dossier": dict(SHA),
    }
    if kind == "ca_nhan":
        data.update(nominee_name="Nguyễn Văn An", position="Chuyên viên", work_unit="Sở Tài chính")
    return data


def task_named(instance: ProcessInstance, task_id: str):
    matches = [t for t in instance.open_tasks() if t.task_id == task_id]
    assert matches, f"{task_id} is not open; open: {[t.task_id for t in instance.open_tasks()]}"
    return matches[0]


def act(instance: ProcessInstance, task_id: str, data: dict[str, Any], actor: str = "tester") -> Outcome:
    return instance.complete(task_named(instance, task_id).id, data, actor, choices=CHOICES_2026)


RETURN = {"decision": "return", "reason": "Thiếu minh chứng về kết quả chuyển đổi số."}

Driver = Callable[[ProcessInstance], Outcome]


@pytest.fixture
def start_nomination(engine) -> Callable[..., tuple[ProcessInstance, Outcome]]:
    def start(nomination_id: str = "N1", unit_id: str = "U-hien-nam") -> tuple[ProcessInstance, Outcome]:
        return engine.start("nomination", {"nomination_id": nomination_id, "unit_id": unit_id})

    return start


def drive_to_selection(instance: ProcessInstance, award: str = "bang_khen") -> None:
    act(instance, "draft_nomination", draft_data(award=award))
    act(instance, "unit_head_review", {"decision": "submit", "submission_number": "12/TTr-UBND"})


def drive_to_decision(instance: ProcessInstance) -> None:
    drive_to_selection(instance)
    act(instance, "dost_check_dossier", {"decision": "complete", "criteria_met": ["a1", "a3"]})
    act(instance, "dost_select", {"decision": "select"})
    act(instance, "home_affairs_check", {"decision": "complete"})
    act(instance, "home_affairs_appraise", {"decision": "propose",
                                           "appraisal_opinion": "Đủ điều kiện đề nghị tặng Bằng khen."})
