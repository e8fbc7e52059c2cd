"""The forms take nominee kinds, criteria and awards from a movement (workflows/form_choices.py), not
from the form files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workflows.conftest import CHOICES_2026, MOVEMENT_2026, draft_data, task_named
from workflows.engine import WorkflowEngine
from workflows.form_choices import MovementChoices
from workflows.forms import FormError, FormLibrary

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
DRAFT = "draft_nomination.schema.json"
# Next year's movement as an admin might copy and edit it: a kind with new criteria, a new award.
NEXT_YEAR = MovementChoices.from_data(
    [{"code": "co_quan_don_vi", "title": "Cơ quan, đơn vị", "criteria": [{"code": "a1", "title": "Đoàn kết."},
                                                                         {"code": "a10", "title": "Dữ liệu mở."}]},
     {"code": "ca_nhan", "title": "Cá nhân", "individual": True, "criteria": [{"code": "d1", "title": "Sáng kiến."}]}],
    [{"code": "bang_khen", "title": "Bằng khen"}, {"code": "co_thi_dua", "title": "Cờ thi đua"}])


def test_the_form_files_hold_none_of_the_plans_criteria() -> None:
    first = MOVEMENT_2026["nominee_kinds"][0]["criteria"][1]["title"]
    for path in FORMS_DIR.glob("*.json"):
        assert first not in path.read_text(encoding="utf-8"), path.name


def test_a_draft_is_checked_against_its_own_movements_lists() -> None:
    lib = FormLibrary.default()
    this_year, next_year = lib.get(DRAFT, None, CHOICES_2026), lib.get(DRAFT, None, NEXT_YEAR)
    new_codes = draft_data() | {"criteria": ["a1", "a10"], "award": "co_thi_dua"}
    assert next_year.validate(new_codes) == []
    assert [e.path for e in this_year.validate(new_codes)] == ["award", "criteria.1"]
    old_kind = draft_data("doanh_nghiep")
    assert [e.path for e in next_year.validate(old_kind)] == ["criteria.0", "nominee_kind"]
    individual = draft_data("ca_nhan") | {"position": None}
    del individual["position"], individual["work_unit"]
    assert {e.path for e in next_year.validate(individual)} == {"position", "work_unit"}
    assert lib.get(DRAFT, None, NEXT_YEAR) is next_year  # bound once per movement's lists


def test_the_engine_refuses_a_form_without_its_movements_lists(engine: WorkflowEngine) -> None:
    instance, _ = engine.start("nomination", {"nomination_id": "DN1", "unit_id": "phuong-hien-nam"})
    task = task_named(instance, "draft_nomination")
    with pytest.raises(FormError, match="phong trào thi đua"):
        instance.complete(task.id, draft_data(), "tester")
    assert task_named(instance, "draft_nomination").id == task.id  # nothing moved
    instance.complete(task.id, draft_data(), "tester", choices=CHOICES_2026)
    assert [t.task_id for t in instance.open_tasks()] == ["unit_head_review"]
