"""Hostile form data: every form bounds its arrays and texts, validation costs no more than reading the
data, reports a bounded number of errors, and one-line texts refuse control characters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workflows.forms import MAX_ERRORS, FieldError, Form, FormLibrary

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
SCHEMAS = sorted(p.name for p in FORMS_DIR.glob("*.schema.json"))
CHOICE = {"enum", "const", "oneOf", "anyOf"}


def _nodes(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _nodes(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, f"{where}/{index}")


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_array_and_text_of_every_form_is_bounded(name: str) -> None:
    schema = json.loads((FORMS_DIR / name).read_text(encoding="utf-8"))
    unbounded = []
    for where, node in _nodes(schema):
        if node.get("type") == "array" and not isinstance(node.get("maxItems"), int):
            unbounded.append(f"{where}: array without maxItems")
        if node.get("type") == "string" and not (CHOICE & set(node)) and "maxLength" not in node:
            anchored = str(node.get("pattern", "")).startswith("^") and str(node.get("pattern", "")).endswith("$")
            if not anchored and node.get("format") != "date":
                unbounded.append(f"{where}: text without maxLength")
    assert unbounded == []


@pytest.fixture(scope="module")
def draft() -> Form:
    return FormLibrary.default().get("draft_nomination.schema.json")


@pytest.mark.parametrize("junk", [1, "a1", [1], {"x": "y" * 100}, None])
def test_a_huge_array_is_one_error_without_walking_its_items(draft: Form, junk: Any) -> None:
    errors = draft.validate({"criteria": [junk] * 100_000})
    assert [e for e in errors if e.path.startswith("criteria")] == [FieldError("criteria", "Chọn tối đa 19 mục")]


def test_a_huge_text_is_one_error(draft: Form) -> None:
    errors = draft.validate({"nominee_name": "x" * 200_000, "achievement_summary": "y" * 500_000})
    assert FieldError("nominee_name", "Tối đa 300 ký tự") in errors
    assert FieldError("achievement_summary", "Tối đa 20000 ký tự") in errors


def test_deep_nesting_is_one_error_on_its_field(draft: Form) -> None:
    deep: Any = "x"
    for _ in range(500):
        deep = [deep]
    errors = draft.validate({"criteria": deep})
    assert [e for e in errors if e.path.startswith("criteria")] == [FieldError("criteria", "Giá trị không hợp lệ")]


def test_errors_are_capped() -> None:
    sign = FormLibrary.default().get("sign_decision.schema.json")
    excluded = [{"nomination_id": f"../{i}", "reason": "", "extra": i} for i in range(900)]
    errors = sign.validate({"decision": "sign", "excluded": excluded})
    assert 0 < len(errors) <= MAX_ERRORS


@pytest.mark.parametrize("bad", ["Phường\nHiến Nam", "Phường\rHiến Nam", "Phường\tHiến", "UBND\x00 phường",
                                 "UBND\x1b[31m phường", "UBND\u2028phường", "UBND\x85phường"])
def test_one_line_texts_refuse_control_characters(draft: Form, bad: str) -> None:
    errors = draft.validate({"nominee_name": bad})
    assert [e.path for e in errors if e.path == "nominee_name"] == ["nominee_name"]
    assert "ký tự điều khiển" in next(e.message for e in errors if e.path == "nominee_name")


def test_text_areas_keep_line_breaks_but_refuse_other_controls(draft: Form) -> None:
    summary = "Thành tích năm 2025:\r\n- chuyển đổi số toàn diện;\n\t- dịch vụ công trực tuyến toàn trình."
    assert not [e for e in draft.validate({"achievement_summary": summary}) if e.path == "achievement_summary"]
    errors = draft.validate({"achievement_summary": summary + "\x00"})
    assert [e for e in errors if e.path == "achievement_summary"] == [
        FieldError("achievement_summary", "Không được chứa ký tự điều khiển")]


def test_english_messages_for_control_characters(draft: Form) -> None:
    errors = draft.validate({"nominee_name": "a\nbcd"}, language="en")
    assert FieldError("nominee_name", "Must not contain control characters or line breaks") in errors
