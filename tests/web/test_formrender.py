"""The server-side form renderer: every widget our forms use, data back from posted fields, and each
error message on its own field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from service.web.formrender import build_fields, effective_schema, parse_form, walk
from tests.workflows.conftest import CHOICES_2026
from workflows.forms import FieldError, FormLibrary

FORMS = Path(__file__).resolve().parents[2] / "forms"
LIBRARY = FormLibrary(FORMS)


def form(name: str):  # noqa: ANN201
    """As the pages draw it: with the 2026 movement's kinds, criteria and awards."""
    return LIBRARY.get(f"{name}.schema.json", f"{name}.uischema.json", CHOICES_2026)


def by_name(fields):  # noqa: ANN001, ANN201
    return {f.name: f for f in walk(fields)}


def test_draft_form_shows_the_criteria_of_the_chosen_kind_only() -> None:
    draft = form("draft_nomination")
    for kind, letter, count in (("co_quan_don_vi", "a", 9), ("mat_tran_to_chuc", "b", 3),
                                ("doanh_nghiep", "c", 5), ("ca_nhan", "d", 2)):
        fields = by_name(build_fields(draft.schema, draft.ui_schema, {"nominee_kind": kind})[0])
        codes = [code for code, _ in fields["criteria"].options]
        assert len(codes) == count and all(c.startswith(letter) for c in codes), kind
    person = by_name(build_fields(draft.schema, draft.ui_schema, {"nominee_kind": "ca_nhan"})[0])
    assert person["position"].required and person["work_unit"].required
    unit = by_name(build_fields(draft.schema, draft.ui_schema, {"nominee_kind": "doanh_nghiep"})[0])
    assert not unit["position"].required


def with_rows(shipped):  # noqa: ANN001, ANN201
    """The sign form's ui schema with its exclusion list shown as rows (the shipped one hides it:
    nomflow fills it from the exclusions made on the batch page), to test the rows widget."""
    return {**shipped.ui_schema, "excluded": {"items": {"reason": {"ui:widget": "textarea"}}}}


def test_widgets_follow_the_schema_and_ui_schema() -> None:
    shipped = by_name(build_fields(form("sign_decision").schema, form("sign_decision").ui_schema, {})[0])
    assert "excluded" not in shipped  # a hidden list: filled by the service, never posted by the page
    sign = by_name(build_fields(form("sign_decision").schema, with_rows(form("sign_decision")), {})[0])
    assert sign["decision"].widget == "radio"
    assert [c for c, _ in sign["decision"].options] == ["sign", "send_back"]
    # The number and date come from the register at digital signing: the form only carries them.
    assert (sign["signed_on"].widget, sign["decision_number"].widget) == ("hidden", "hidden")
    assert sign["reason"].widget == "textarea"
    assert sign["excluded"].widget == "rows"
    assert [f.name for f in sign["excluded"].rows[0]] == ["excluded.0.nomination_id", "excluded.0.reason"]
    assert sign["excluded.0.reason"].widget == "textarea"
    check = by_name(build_fields(form("home_affairs_check").schema, form("home_affairs_check").ui_schema, {})[0])
    assert check["missing_documents"].widget == "list"
    dost = by_name(build_fields(form("dost_check_dossier").schema, form("dost_check_dossier").ui_schema, {})[0])
    assert dost["criteria_met"].widget == "checkboxes"
    draft = by_name(build_fields(form("draft_nomination").schema, form("draft_nomination").ui_schema, {})[0])
    assert draft["dossier"].widget == "group"
    assert [c.name for c in draft["dossier"].children] == [
        "dossier.to_trinh", "dossier.bien_ban_hoi_dong", "dossier.bao_cao_thanh_tich"]


@pytest.mark.parametrize("path", sorted(FORMS.glob("*.schema.json")), ids=lambda p: p.name)
def test_every_shipped_form_renders_with_known_widgets(path: Path) -> None:
    name = path.name.removesuffix(".schema.json")
    shipped = form(name)
    fields, leftovers = build_fields(shipped.schema, shipped.ui_schema, {})
    known = {"text", "textarea", "radio", "select", "checkboxes", "date", "group", "rows", "list", "hidden", "number"}
    assert leftovers == []
    assert {f.widget for f in walk(fields)} <= known
    order = shipped.ui_schema.get("ui:order") or list(shipped.schema["properties"])
    hidden_lists = {name for name, node in shipped.schema["properties"].items()
                    if node.get("type") == "array" and shipped.ui_schema.get(name, {}).get("ui:widget") == "hidden"}
    assert [f.name for f in fields] == [name for name in order if name not in hidden_lists]


def test_posted_fields_become_the_schema_data() -> None:
    sign = form("sign_decision")
    posted = MultiDict([
        ("decision", "sign"), ("decision_number", " 15/QĐ-UBND "), ("signed_on", "2026-04-24"), ("reason", ""),
        ("excluded.0.nomination_id", "DN1"), ("excluded.0.reason", "Trùng với khen thưởng khác\r\nnăm 2025"),
        ("excluded.1.nomination_id", ""), ("excluded.1.reason", ""),  # the blank row the page always offers
    ])
    assert parse_form(sign.schema, posted) == {
        "decision": "sign", "decision_number": "15/QĐ-UBND", "signed_on": "2026-04-24",
        "excluded": [{"nomination_id": "DN1", "reason": "Trùng với khen thưởng khác\nnăm 2025"}]}
    draft = form("draft_nomination")
    posted = MultiDict([("nominee_kind", "co_quan_don_vi"), ("criteria", "a1"), ("criteria", "a3"),
                        ("dossier.to_trinh", "a" * 64), ("dossier.bien_ban_hoi_dong", ""), ("position", "")])
    assert parse_form(draft.schema, posted) == {
        "nominee_kind": "co_quan_don_vi", "criteria": ["a1", "a3"], "dossier": {"to_trinh": "a" * 64}}
    check = form("home_affairs_check")
    posted = MultiDict([("decision", "return"), ("missing_documents.0", "Biên bản họp"),
                        ("missing_documents.1", "  ")])
    assert parse_form(check.schema, posted)["missing_documents"] == ["Biên bản họp"]


def test_each_error_lands_on_its_own_field() -> None:
    sign = form("sign_decision")
    data = {"decision": "sign", "excluded": [{"nomination_id": "DN1", "reason": "x"}]}
    errors = sign.validate(data) + [FieldError("", "Hồ sơ không ở bước chờ quyết định")]
    fields, leftovers = build_fields(sign.schema, with_rows(sign), data, errors)
    named = by_name(fields)
    assert named["decision_number"].errors == ["Trường này là bắt buộc"]
    assert named["signed_on"].errors == ["Trường này là bắt buộc"]
    assert named["excluded.0.reason"].errors == ["Cần ít nhất 10 ký tự"]
    assert leftovers == ["Hồ sơ không ở bước chờ quyết định"]
    draft = form("draft_nomination")
    wrong = {"nominee_kind": "doanh_nghiep", "criteria": ["c1", "a1"]}
    named = by_name(build_fields(draft.schema, draft.ui_schema, wrong, draft.validate(wrong))[0])
    assert named["criteria"].errors  # "criteria.1" is shown on the checkbox group


def test_effective_schema_applies_only_the_branches_that_hold() -> None:
    select = form("dost_select").schema
    assert "reason" not in effective_schema(select, {"decision": "select"}).get("required", [])
    assert "reason" in effective_schema(select, {"decision": "decline"})["required"]
    assert json.dumps(select) == json.dumps(form("dost_select").schema)  # the shipped schema is untouched
