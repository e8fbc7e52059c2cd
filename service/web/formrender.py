"""Server-side rendering of a task's JSON Schema + UI schema (react-jsonschema-form conventions),
and the way back: HTML form fields to the JSON the schema describes.

Pages must work without JavaScript, so the browser never builds these forms: `build_fields` turns
the schema into a tree of `Field`s that the `_form.html` macros draw, and `parse_form` turns the
posted fields into data for the use case, which validates it (the server never trusts the page).
Field names are the dotted data paths the validator reports errors on ("dossier.to_trinh",
"excluded.0.reason"), so each message lands beside its own field.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator

Translate = Callable[[str], str]
Choices = list[tuple[str, str]]


@dataclass
class Field:
    name: str  # dotted data path, also the HTML name
    label: str
    widget: str  # text textarea radio select checkboxes date number boolean group rows list hidden file
    required: bool = False
    help: str = ""
    placeholder: str = ""
    options: Choices = field(default_factory=list)
    value: Any = None
    errors: list[str] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)  # group: its fields; rows/list: a template row
    rows: list[list[Field]] = field(default_factory=list)  # rows: one list of fields per entry
    max_length: int | None = None
    pattern_hint: str = ""

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def effective_schema(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The schema as it applies to `data`: each `allOf` if/then whose condition holds is merged in
    (the draft form narrows the criteria to the chosen nominee kind; a return makes "reason"
    required)."""
    result = copy.deepcopy(dict(schema))
    for part in schema.get("allOf", []):
        if not isinstance(part, dict) or "if" not in part:
            continue
        holds = Draft202012Validator(part["if"]).is_valid(data)
        branch = part.get("then") if holds else part.get("else")
        if isinstance(branch, dict):
            _merge(result, branch)
    return result


def _merge(target: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if key == "required":
            target["required"] = sorted(set(target.get("required", [])) | set(value))
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _items_of(node: Mapping[str, Any]) -> Mapping[str, Any]:
    items = node.get("items")
    return items if isinstance(items, dict) else {}


def choices_of(node: Mapping[str, Any]) -> Choices:
    """(code, title) of an enum-like schema: oneOf/anyOf of const+title, or enum."""
    for key in ("oneOf", "anyOf"):
        alternatives = node.get(key)
        if isinstance(alternatives, list) and alternatives and all(
                isinstance(a, dict) and "const" in a for a in alternatives):
            return [(str(a["const"]), str(a.get("title", a["const"]))) for a in alternatives]
    if isinstance(node.get("enum"), list):
        return [(str(v), str(v)) for v in node["enum"]]
    return []


def build_fields(schema: Mapping[str, Any], ui: Mapping[str, Any], data: Mapping[str, Any] | None = None,
                 errors: Iterable[Any] = (), translate: Translate = str,
                 choices: Mapping[str, Choices] | None = None, widgets: Mapping[str, str] | None = None,
                 extra_rows: Mapping[str, int] | None = None) -> tuple[list[Field], list[str]]:
    """Fields for `schema` filled with `data`, and the error messages no field could take.

    `choices` / `widgets` override a field's options / widget by its path without row numbers
    ("excluded.nomination_id"); `extra_rows` asks for more blank rows in a repeated group.
    """
    builder = _Builder(translate, dict(choices or {}), dict(widgets or {}), dict(extra_rows or {}))
    fields = builder.object_fields(effective_schema(schema, data or {}), ui, data or {}, "")
    leftovers = _attach_errors(fields, errors)
    return fields, leftovers


class _Builder:
    def __init__(self, translate: Translate, choices: dict[str, Choices], widgets: dict[str, str],
                 extra_rows: dict[str, int]):
        self.t, self.choices, self.widgets, self.extra_rows = translate, choices, widgets, extra_rows

    def object_fields(self, schema: Mapping[str, Any], ui: Mapping[str, Any], data: Any,
                      prefix: str) -> list[Field]:
        props: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        values = data if isinstance(data, Mapping) else {}
        # a hidden list is filled by the service, never posted by the page (it has no single value)
        return [self.field(props[name], ui.get(name) or {}, values.get(name), f"{prefix}{name}",
                           name in required) for name in _ordered(props, ui.get("ui:order"))
                if not (props[name].get("type") == "array" and (ui.get(name) or {}).get("ui:widget") == "hidden")]

    def field(self, node: Mapping[str, Any], ui: Mapping[str, Any], value: Any, path: str,
              required: bool) -> Field:
        key = _generic(path)
        kind = node.get("type")
        made = Field(name=path, label=self.t(str(node.get("title") or path.rsplit(".", 1)[-1])),
                     widget="text", required=required,
                     help=self._help({} if self.widgets.get(key) == "file" else node, ui),
                     placeholder=self.t(str(ui.get("ui:placeholder", ""))), max_length=node.get("maxLength"))
        examples = node.get("examples")
        if isinstance(examples, list) and examples and not made.placeholder:
            made.placeholder = str(examples[0])
        wanted = self.widgets.get(key) or ui.get("ui:widget")
        if kind == "object":
            made.widget = "group"
            made.children = self.object_fields(node, ui, value, f"{path}.")
        elif kind == "array":
            self._array(made, node, ui, value, key, wanted)
        else:
            options = self.choices.get(key) or choices_of(node)
            made.options = [(code, self.t(title)) for code, title in options]
            made.value = "" if value is None else value
            if wanted == "hidden":
                made.widget = "hidden"
            elif wanted == "file":
                made.widget = "file"
            elif made.options:
                made.widget = "radio" if wanted == "radio" else "select"
            elif kind == "boolean":
                made.widget = "boolean"
            elif kind in ("integer", "number"):
                made.widget = "number"
            elif wanted == "date" or node.get("format") == "date":
                made.widget = "date"
                made.value = show_date(made.value)
                made.placeholder = made.placeholder or "dd/mm/yyyy"
            elif wanted == "textarea":
                made.widget = "textarea"
        return made

    def _array(self, made: Field, node: Mapping[str, Any], ui: Mapping[str, Any], value: Any, key: str,
               wanted: str | None) -> None:
        items = _items_of(node)
        entries = value if isinstance(value, list) else []
        options = self.choices.get(key) or choices_of(items)
        if options:
            made.widget = "checkboxes"
            made.options = [(code, self.t(title)) for code, title in options]
            made.value = [str(v) for v in entries]
            return
        item_ui = ui.get("items") or {}
        blank = 1 + self.extra_rows.get(key, 0)
        count = len(entries) + blank
        if items.get("type") == "object":
            made.widget = "rows"
            made.rows = [self.object_fields(items, item_ui, entries[i] if i < len(entries) else {},
                                            f"{made.name}.{i}.") for i in range(count)]
            for row in made.rows[len(entries):]:
                for f in row:  # a blank row may stay blank: its fields are required only once it is used
                    f.required = False
        else:
            made.widget = "list"
            made.rows = [[self.field(items, item_ui, entries[i] if i < len(entries) else None,
                                     f"{made.name}.{i}", False)] for i in range(count)]
            for row in made.rows:
                row[0].label = made.label
        made.value = len(made.rows)

    def _help(self, node: Mapping[str, Any], ui: Mapping[str, Any]) -> str:
        parts = [str(ui["ui:help"])] if ui.get("ui:help") else []
        if node.get("description") and node.get("type") != "object":
            parts.insert(0, str(node["description"]))
        return " ".join(self.t(p) for p in parts)


def _ordered(props: Mapping[str, Any], order: Any) -> list[str]:
    if not isinstance(order, list):
        return list(props)
    named = [p for p in order if p in props]
    rest = [p for p in props if p not in named]
    if "*" in order:
        at = order.index("*")
        before = [p for p in order[:at] if p in props]
        return before + rest + [p for p in order[at + 1:] if p in props]
    return named + rest


def _generic(path: str) -> str:
    return ".".join(p for p in path.split(".") if not p.isdigit())


def walk(fields: Iterable[Field]) -> Iterable[Field]:
    for f in fields:
        yield f
        yield from walk(f.children)
        for row in f.rows:
            yield from walk(row)


def _attach_errors(fields: list[Field], errors: Iterable[Any]) -> list[str]:
    by_name = {f.name: f for f in walk(fields)}
    leftovers = []
    for error in errors:
        path = str(getattr(error, "path", ""))
        while path and path not in by_name:
            path = path.rsplit(".", 1)[0] if "." in path else ""
        if path:
            if error.message not in by_name[path].errors:
                by_name[path].errors.append(error.message)
        else:
            leftovers.append(error.message)
    return leftovers


# --- the way back ---------------------------------------------------------------------------------------

def parse_form(schema: Mapping[str, Any], form: Any) -> dict[str, Any]:
    """Data for `schema` from a posted MultiDict. Empty inputs are left out (so "required" reports
    them), and blank repeated rows are dropped."""
    return _parse_object(schema, form, "")


def _parse_object(schema: Mapping[str, Any], form: Any, prefix: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, node in (schema.get("properties") or {}).items():
        if isinstance(node, dict):
            value = _parse_value(node, form, f"{prefix}{name}")
            if value not in (None, "", [], {}):
                result[name] = value
    return result


def _parse_value(node: Mapping[str, Any], form: Any, path: str) -> Any:
    kind = node.get("type")
    if kind == "object":
        return _parse_object(node, form, f"{path}.")
    if kind == "array":
        items = _items_of(node)
        if choices_of(items) or f"{path}" in form:
            return [v for v in form.getlist(path) if v.strip()]
        found = []
        for index in _row_indices(form, path):
            entry = _parse_value(items, form, f"{path}.{index}")
            if entry not in (None, "", {}):
                found.append(entry)
        return found
    raw = form.get(path)
    if raw is None:
        return None
    text = raw.replace("\r\n", "\n").strip()
    if node.get("format") == "date":
        return read_date(text)
    if kind == "boolean":
        return text in ("1", "true", "on", "yes")
    if kind in ("integer", "number") and text:
        try:
            return int(text) if kind == "integer" else float(text)
        except ValueError:
            return text  # the validator reports the wrong type beside the field
    return text


_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def read_date(text: str) -> str:
    """A date typed as dd/mm/yyyy (the way it is written in Vietnam, whatever the browser's
    language) as ISO yyyy-mm-dd; anything else is returned as typed for the validator to report."""
    found = _DAY_MONTH_YEAR.fullmatch(text.strip())
    if not found:
        return text
    day, month, year = (int(g) for g in found.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return text


def show_date(value: Any) -> Any:
    """ISO yyyy-mm-dd as dd/mm/yyyy; anything else (what was typed wrong) as it is."""
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y") if isinstance(value, str) and value else value
    except ValueError:
        return value


def _row_indices(form: Any, path: str) -> list[int]:
    prefix = f"{path}."
    indices = set()
    for key in form:
        if key.startswith(prefix):
            head = key[len(prefix):].split(".", 1)[0]
            if head.isdigit() and len(head) <= 4:  # a form has at most a few rows; int("9" * 5000) raises
                indices.add(int(head))
    return sorted(indices)
