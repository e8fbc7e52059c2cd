"""Tests of the task forms in forms/ and of their server-side validator (workflows/forms.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.workflows.conftest import CHOICES_2026
from workflows.forms import FieldError, Form, FormError, FormLibrary

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
# The province's plan (Kế hoạch phát động phong trào thi đua 2026), kept beside the tests so the
# criteria are checked word for word on every machine.
PLAN = Path(__file__).resolve().parents[1] / "fixtures" / "hung_yen_plan_2026.txt"
TASKS = ["draft_nomination", "unit_head_review", "dost_check_dossier", "dost_select",
         "home_affairs_check", "home_affairs_appraise", "prepare_batch", "sign_decision"]
DECISIONS = {
    "unit_head_review": ["submit", "return"],
    "dost_check_dossier": ["complete", "return"],
    "dost_select": ["select", "return", "decline"],
    "home_affairs_check": ["complete", "return"],
    "home_affairs_appraise": ["propose", "return", "decline"],
    "sign_decision": ["sign", "send_back"],
}
CRITERIA = [f"a{i}" for i in range(1, 10)] + ["b1", "b2", "b3"] + [f"c{i}" for i in range(1, 6)]
CRITERIA += ["d1", "d2"]
SHA = "0f" * 32
REQUIRED_VI = "Trường này là bắt buộc"


@pytest.fixture(scope="module")
def lib() -> FormLibrary:
    return FormLibrary.default()


def form(lib: FormLibrary, task: str) -> Form:
    """As the service gives it: with the 2026 movement's lists where the form asks for them."""
    return lib.get(f"{task}.schema.json", f"{task}.uischema.json", CHOICES_2026)


def paths(errors: list[FieldError]) -> list[str]:
    return [e.path for e in errors]


def draft(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "nominee_kind": "co_quan_don_vi",
        "nominee_name": "Ủy ban nhân dân phường Phố Hiến",
        "award": "bang_khen",
        "achievement_summary": "Hoàn thành vượt các chỉ tiêu chuyển đổi số năm 2026 của tỉnh.",
        "criteria": ["a1", "a6"],
        "dossier": {"to_trinh": SHA, "bien_ban_hoi_dong": SHA, "bao_cao_thanh_tich": SHA},
    }
    data.update(changes)
    return data


# --- the files themselves ------------------------------------------------------------------------------

@pytest.mark.parametrize("task", TASKS)
def test_schema_file_is_a_valid_closed_vietnamese_form(task: str) -> None:
    schema = json.loads((FORMS_DIR / f"{task}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert re.search(r"[^\x00-\x7f]", schema["title"]), "title must be Vietnamese"


def _ui_order_problems(schema: dict[str, Any], ui: dict[str, Any], where: str) -> list[str]:
    props = schema.get("properties", {})
    problems = [f"{where}{x}" for x in ui.get("ui:order", []) if x != "*" and x not in props]
    for name, sub in props.items():
        if isinstance(ui.get(name), dict):
            problems += _ui_order_problems(sub, ui[name], f"{where}{name}.")
    if isinstance(schema.get("items"), dict) and isinstance(ui.get("items"), dict):
        problems += _ui_order_problems(schema["items"], ui["items"], f"{where}items.")
    return problems


@pytest.mark.parametrize("task", TASKS)
def test_ui_order_names_only_existing_fields(task: str) -> None:
    schema = json.loads((FORMS_DIR / f"{task}.schema.json").read_text(encoding="utf-8"))
    ui = json.loads((FORMS_DIR / f"{task}.uischema.json").read_text(encoding="utf-8"))
    assert "ui:order" in ui
    assert _ui_order_problems(schema, ui, "") == []
    # react-jsonschema-form refuses an order without "*" that leaves a field out
    assert set(ui["ui:order"]) == set(schema["properties"])
    widgets = {v.get("ui:widget") for v in ui.values() if isinstance(v, dict)} - {None}
    assert widgets <= {"textarea", "radio", "checkboxes", "date", "hidden"}


def test_every_enum_value_is_an_ascii_code_with_a_vietnamese_title(lib: FormLibrary) -> None:
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            for key in ("oneOf", "anyOf"):
                for alt in node.get(key, []):
                    if "const" in alt:
                        yield alt
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for task in TASKS:
        for alt in walk(form(lib, task).schema):
            assert re.fullmatch(r"[a-z0-9_]+", alt["const"]), (task, alt)
            assert alt.get("title"), (task, alt)


def test_criteria_titles_are_the_plans_own_words(lib: FormLibrary) -> None:
    plan = " ".join(PLAN.read_text(encoding="utf-8").split())
    items = form(lib, "draft_nomination").schema["properties"]["criteria"]["items"]["anyOf"]
    assert [alt["const"] for alt in items] == CRITERIA
    for alt in items:
        assert " ".join(alt["title"].split()) in plan, alt["const"]


def test_the_nomination_asks_no_birth_date_or_id_number(lib: FormLibrary) -> None:
    text = json.dumps(form(lib, "draft_nomination").schema, ensure_ascii=False).lower()
    for word in ("birth", "ngày sinh", "cccd", "cmnd", "căn cước", "id_number", "identity"):
        assert word not in text
    assert form(lib, "draft_nomination").validate(draft(date_of_birth="1980-01-01")) == [
        FieldError("date_of_birth", "Trường không được phép: date_of_birth")
    ]


# --- draft_nomination ----------------------------------------------------------------------------------

@pytest.mark.parametrize("changes", [
    {"nominee_kind": "co_quan_don_vi", "criteria": [f"a{i}" for i in range(1, 10)]},
    {"nominee_kind": "mat_tran_to_chuc", "criteria": ["b1", "b3"], "award": "giay_khen"},
    {"nominee_kind": "doanh_nghiep", "nominee_name": "Công ty Cổ phần ABC", "criteria": ["c2", "c5"]},
    {"nominee_kind": "ca_nhan", "nominee_name": "Nguyễn Văn An", "criteria": ["d1", "d2"],
     "position": "Chuyên viên", "work_unit": "Sở Khoa học và Công nghệ"},
], ids=["a", "b", "c", "d"])
def test_a_complete_draft_of_each_kind_passes(lib: FormLibrary, changes: dict[str, Any]) -> None:
    f = form(lib, "draft_nomination")
    assert f.validate(draft(**changes)) == []
    f.check(draft(**changes))


def test_a_criterion_of_another_kind_is_refused_on_its_item(lib: FormLibrary) -> None:
    errors = form(lib, "draft_nomination").validate(draft(criteria=["a1", "d1", "a2"]))
    assert errors == [FieldError("criteria.1", "Giá trị không nằm trong danh sách cho phép")]


def test_unknown_criteria_give_one_message_per_bad_item(lib: FormLibrary) -> None:
    errors = form(lib, "draft_nomination").validate(draft(criteria=["zz", "a1", 7, "a1"]))
    assert paths(errors) == ["criteria", "criteria.0", "criteria.2"]
    assert errors[0].message == "Các mục không được trùng nhau"


def test_no_criteria_is_refused(lib: FormLibrary) -> None:
    assert form(lib, "draft_nomination").validate(draft(criteria=[])) == [
        FieldError("criteria", "Cần chọn ít nhất 1 mục")
    ]


def test_an_individual_needs_position_and_work_unit(lib: FormLibrary) -> None:
    data = draft(nominee_kind="ca_nhan", criteria=["d1"], work_unit="Sở Nội vụ")
    assert form(lib, "draft_nomination").validate(data) == [FieldError("position", REQUIRED_VI)]


def test_a_missing_dossier_file_is_reported_on_that_file(lib: FormLibrary) -> None:
    data = draft(dossier={"bien_ban_hoi_dong": SHA, "bao_cao_thanh_tich": SHA})
    assert form(lib, "draft_nomination").validate(data) == [FieldError("dossier.to_trinh", REQUIRED_VI)]
    assert paths(form(lib, "draft_nomination").validate(draft(dossier=None))) == ["dossier"]


@pytest.mark.parametrize("bad", ["abc", SHA.upper(), SHA + "\n", SHA[:-1] + "g", SHA + "0", ""])
def test_a_dossier_reference_must_be_a_sha256(lib: FormLibrary, bad: str) -> None:
    data = draft(dossier={"to_trinh": bad, "bien_ban_hoi_dong": SHA, "bao_cao_thanh_tich": SHA})
    assert form(lib, "draft_nomination").validate(data) == [
        FieldError("dossier.to_trinh", "Giá trị không đúng định dạng")
    ]


def test_unknown_fields_are_refused_at_their_own_path(lib: FormLibrary) -> None:
    data = draft(cccd="001080000001")
    data["dossier"] = dict(data["dossier"], other=SHA)
    assert form(lib, "draft_nomination").validate(data) == [
        FieldError("cccd", "Trường không được phép: cccd"),
        FieldError("dossier.other", "Trường không được phép: other"),
    ]


def test_blank_text_does_not_count_towards_the_minimum_length(lib: FormLibrary) -> None:
    errors = form(lib, "draft_nomination").validate(draft(nominee_name="   A   "))
    assert errors == [FieldError("nominee_name", "Cần ít nhất 3 ký tự")]


def test_all_errors_are_reported_sorted_and_once(lib: FormLibrary) -> None:
    data = {"nominee_kind": "ca_nhan", "criteria": ["d1"] * 2 + ["x"] * 9 + ["a1"], "extra": 1}
    errors = form(lib, "draft_nomination").validate(data)
    assert len(errors) == len(set(errors))
    assert paths(errors)[:6] == ["achievement_summary", "award", "criteria", "criteria.2", "criteria.3",
                                 "criteria.4"]
    assert paths(errors)[-6:] == ["criteria.11", "dossier", "extra", "nominee_name", "position", "work_unit"]


@pytest.mark.parametrize("data", [None, 5, "text", [], {1: 2}, {"criteria": [[[[]]]]}, {"dossier": "x"}])
def test_bad_data_never_raises(lib: FormLibrary, data: object) -> None:
    errors = form(lib, "draft_nomination").validate(data)
    assert errors and all(isinstance(e, FieldError) and e.message for e in errors)


def test_absurdly_nested_data_is_an_error_not_a_crash(lib: FormLibrary) -> None:
    nested: list[Any] = []
    for _ in range(50_000):
        nested = [nested]
    data = {"decision": "complete", "missing_documents": [nested] * 2}
    errors = form(lib, "home_affairs_check").validate(data)
    assert errors and errors[0].path in ("", "missing_documents", "missing_documents.0")


# --- review forms --------------------------------------------------------------------------------------

def test_returning_without_a_reason_fails_on_reason_in_vietnamese_and_english(lib: FormLibrary) -> None:
    f = form(lib, "unit_head_review")
    assert f.validate({"decision": "return"}) == [FieldError("reason", REQUIRED_VI)]
    assert f.validate({"decision": "return"}, language="en") == [
        FieldError("reason", "This field is required")
    ]
    assert f.validate({"decision": "return", "reason": "thiếu"}) == [
        FieldError("reason", "Cần ít nhất 10 ký tự")
    ]
    assert f.validate({"decision": "return", "reason": " " * 12}, "en") == [
        FieldError("reason", "At least 10 characters are required")
    ]
    assert f.validate({"decision": "return", "reason": "Thiếu biên bản họp Hội đồng"}) == []
    assert f.validate({"decision": "submit", "submission_number": "15/TTr-UBND"}) == []
    assert f.validate({"decision": "submit", "submission_number": "x" * 51}) == [
        FieldError("submission_number", "Tối đa 50 ký tự")
    ]


@pytest.mark.parametrize(("task", "code"), [
    ("unit_head_review", "return"), ("dost_check_dossier", "return"), ("dost_select", "return"),
    ("dost_select", "decline"), ("home_affairs_check", "return"), ("home_affairs_appraise", "return"),
    ("home_affairs_appraise", "decline"), ("sign_decision", "send_back"),
])
def test_every_negative_decision_needs_a_reason(lib: FormLibrary, task: str, code: str) -> None:
    data: dict[str, Any] = {"decision": code}
    if task == "home_affairs_appraise":
        data["appraisal_opinion"] = "Hồ sơ chưa đáp ứng tiêu chuẩn tại mục III.2.1."
    assert form(lib, task).validate(data) == [FieldError("reason", REQUIRED_VI)]
    assert form(lib, task).validate(dict(data, reason="Nêu rõ lý do trả lại hồ sơ.")) == []


@pytest.mark.parametrize("task", sorted(DECISIONS))
def test_choices_of_decision_are_the_exact_codes(lib: FormLibrary, task: str) -> None:
    assert form(lib, task).choices("decision") == DECISIONS[task]


def test_choices_look_into_conditional_branches_and_arrays(lib: FormLibrary) -> None:
    nomination = form(lib, "draft_nomination")
    assert nomination.choices("nominee_kind") == [
        "co_quan_don_vi", "mat_tran_to_chuc", "doanh_nghiep", "ca_nhan"
    ]
    assert nomination.choices("award") == ["bang_khen", "giay_khen"]
    assert nomination.choices("criteria") == CRITERIA
    assert nomination.choices("nominee_name") == []
    assert nomination.choices("no_such_field") == []
    assert form(lib, "dost_check_dossier").choices("criteria_met") == CRITERIA
    branch = {"if": {"required": ["k"]}, "then": {"properties": {"k": {"enum": ["p"]}}}}
    conditional = Form("x", {"type": "object", "properties": {"k": {"type": "string"}}, "allOf": [branch]})
    assert conditional.choices("k") == ["p"]


def test_dost_check_accepts_ticked_criteria_only_from_the_plan(lib: FormLibrary) -> None:
    f = form(lib, "dost_check_dossier")
    assert f.validate({"decision": "complete", "criteria_met": ["a1", "d2"], "note": "Đã đối chiếu"}) == []
    assert paths(f.validate({"decision": "complete", "criteria_met": ["a1", "e1"]})) == ["criteria_met.1"]


def test_appraisal_always_needs_an_opinion(lib: FormLibrary) -> None:
    assert form(lib, "home_affairs_appraise").validate({"decision": "propose"}) == [
        FieldError("appraisal_opinion", REQUIRED_VI)
    ]


def test_prepare_batch(lib: FormLibrary) -> None:
    f = form(lib, "prepare_batch")
    good = {"nomination_ids": ["N-2026_001", "N-2026_002"], "decision_title": "Về việc tặng Bằng khen",
            "decision_draft": "Điều 1. Tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh cho ..."}
    assert f.validate(good) == []
    assert f.validate(dict(good, nomination_ids=[])) == [
        FieldError("nomination_ids", "Cần chọn ít nhất 1 mục")
    ]
    assert paths(f.validate(dict(good, nomination_ids=["ok", "../x", "x" * 65]))) == [
        "nomination_ids.1", "nomination_ids.2"
    ]


# --- sign_decision -------------------------------------------------------------------------------------

def signed(**changes: Any) -> dict[str, Any]:
    return {"decision": "sign", "decision_number": "123/QĐ-UBND", "signed_on": "2026-12-15", **changes}


def test_a_signed_decision_passes(lib: FormLibrary) -> None:
    excluded = [{"nomination_id": "N-7", "reason": "Chưa đủ tiêu chuẩn tại mục III.2.1."}]
    assert form(lib, "sign_decision").validate(signed(excluded=excluded)) == []


def test_signing_needs_a_decision_number(lib: FormLibrary) -> None:
    data = signed()
    del data["decision_number"]
    assert form(lib, "sign_decision").validate(data) == [FieldError("decision_number", REQUIRED_VI)]


@pytest.mark.parametrize("bad", ["123/QD-UBND", "123/QĐ-ubnd", "1234567/QĐ-UBND", "123/QĐ-UBND\n", "QĐ-UBND"])
def test_a_decision_number_looks_like_123_qd_ubnd(lib: FormLibrary, bad: str) -> None:
    assert form(lib, "sign_decision").validate(signed(decision_number=bad)) == [
        FieldError("decision_number", "Giá trị không đúng định dạng (ví dụ: 123/QĐ-UBND)")
    ]


@pytest.mark.parametrize("bad", ["2026-02-30", "15/12/2026", "2026-12-15T08:00:00", "tomorrow"])
def test_a_bad_signing_date_fails(lib: FormLibrary, bad: str) -> None:
    f = form(lib, "sign_decision")
    assert f.validate(signed(signed_on=bad)) == [
        FieldError("signed_on", "Ngày không hợp lệ (định dạng YYYY-MM-DD)")
    ]
    assert f.validate(signed(signed_on=bad), "en") == [
        FieldError("signed_on", "Invalid date (format YYYY-MM-DD)")
    ]


def test_each_excluded_nomination_needs_its_reason(lib: FormLibrary) -> None:
    excluded = [{"nomination_id": "N-7"}, {"nomination_id": "N-8", "reason": "ngắn"}, "N-9"]
    assert form(lib, "sign_decision").validate(signed(excluded=excluded)) == [
        FieldError("excluded.0.reason", REQUIRED_VI),
        FieldError("excluded.1.reason", "Cần ít nhất 10 ký tự"),
        FieldError("excluded.2", "Kiểu dữ liệu không hợp lệ (cần: nhóm trường)"),
    ]


def test_check_raises_form_error_listing_the_errors(lib: FormLibrary) -> None:
    with pytest.raises(FormError) as caught:
        form(lib, "sign_decision").check({"decision": "sign"})
    assert paths(caught.value.errors) == ["decision_number", "signed_on"]
    assert "decision_number: Trường này là bắt buộc" in str(caught.value)


# --- FormLibrary ---------------------------------------------------------------------------------------

def test_the_library_caches_and_names_forms(lib: FormLibrary) -> None:
    first = lib.get("sign_decision.schema.json", "sign_decision.uischema.json")
    assert first is lib.get("sign_decision.schema.json", "sign_decision.uischema.json")
    assert first.name == "sign_decision"
    assert first.ui_schema["decision"]["ui:widget"] == "radio"
    # Without a UI schema named, the one beside the form is used: it says which texts are multi-line.
    assert lib.get("sign_decision.schema.json").ui_schema == first.ui_schema


@pytest.mark.parametrize(
    "name", ["../pyproject.toml", "/etc/passwd", "forms/../../pyproject.toml", "", "a\\b.json"]
)
def test_the_library_refuses_filenames_outside_its_directory(lib: FormLibrary, name: str) -> None:
    with pytest.raises(FormError, match="thư mục biểu mẫu"):
        lib.get(name)
    if name:  # an empty UI schema name means "no UI schema"
        with pytest.raises(FormError, match="thư mục biểu mẫu"):
            lib.get("sign_decision.schema.json", name)


def test_the_library_refuses_a_symlink_out_of_its_directory(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"type": "object"}', encoding="utf-8")
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "link.json").symlink_to(outside)
    with pytest.raises(FormError, match="thư mục biểu mẫu"):
        FormLibrary(tmp_path / "forms").get("link.json")


@pytest.mark.parametrize(("text", "match"), [
    (None, "không tìm thấy"),
    ("{not json", "không phải JSON"),
    ("[1, 2]", "đối tượng JSON"),
    ('{"type": "object", "properties": {"x": {"type": 5}}}', "không hợp lệ"),
    ('{"type": "object", "properties": {"x": {"type": "string", "pattern": "("}}}', "không hợp lệ"),
    ('{"type": "object", "properties": {"x": {"$ref": "https://example.com/x.json"}}}', "tham chiếu nội bộ"),
])
def test_the_library_refuses_missing_or_broken_files(tmp_path: Path, text: str | None, match: str) -> None:
    if text is not None:
        (tmp_path / "x.schema.json").write_text(text, encoding="utf-8")
    with pytest.raises(FormError, match=match):
        FormLibrary(tmp_path).get("x.schema.json")


def test_the_library_refuses_a_ui_order_naming_unknown_fields(tmp_path: Path) -> None:
    (tmp_path / "x.schema.json").write_text('{"type": "object", "properties": {"a": {}}}', encoding="utf-8")
    (tmp_path / "x.uischema.json").write_text('{"ui:order": ["a", "b"]}', encoding="utf-8")
    (tmp_path / "ok.uischema.json").write_text('{"ui:order": ["*"]}', encoding="utf-8")
    with pytest.raises(FormError, match="b"):
        FormLibrary(tmp_path).get("x.schema.json", "x.uischema.json")
    assert FormLibrary(tmp_path).get("x.schema.json", "ok.uischema.json").fields() == ["a"]
    with pytest.raises(FormError, match="không tìm thấy"):
        FormLibrary(tmp_path).get("x.schema.json", "missing.uischema.json")
