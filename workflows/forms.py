"""Task forms: a JSON Schema (draft 2020-12) and a UI schema per user task, and their server-side check.

The browser renders the forms (react-jsonschema-form conventions); the server never trusts that and
validates every submission here. Error messages are meant for the civil servant filling the form:
Vietnamese by default, English on request, each attached to the field it concerns.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import SchemaError, best_match
from referencing import Registry

from workflows.form_choices import MovementChoices, bind, is_marked
from workflows.text import bad_line, bad_text
from workflows.wording import N_, Text, text

# Bounds checked before the schema is applied, so that validating costs no more than reading: a value
# past its field's maxLength/maxItems (or these defaults where a form sets none) is reported alone and
# never walked; validation stops after MAX_ERRORS problems.
MAX_ERRORS = 100
DEFAULT_MAX_LENGTH = 100_000
DEFAULT_MAX_ITEMS = 1_000
MAX_PROPERTIES = 200
MAX_DEPTH = 16
CHEAP_LENGTH = 1_000  # the schema check handles a text this long or an array this short as fast as the walk
CHEAP_ITEMS = 100


_VI, _EN = 0, 1
_MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("Trường này là bắt buộc", "This field is required"),
    "minLength": ("Cần ít nhất {n} ký tự", "At least {n} characters are required"),
    "maxLength": ("Tối đa {n} ký tự", "At most {n} characters"),
    "pattern": ("Giá trị không đúng định dạng", "The value does not have the expected format"),
    "example": (" (ví dụ: {n})", " (e.g. {n})"),
    "date": ("Ngày không hợp lệ (định dạng YYYY-MM-DD)", "Invalid date (format YYYY-MM-DD)"),
    "format": ("Giá trị không đúng định dạng {n}", "The value is not a valid {n}"),
    "choice": ("Giá trị không nằm trong danh sách cho phép", "The value is not one of the allowed choices"),
    "minItems": ("Cần chọn ít nhất {n} mục", "Select at least {n} item(s)"),
    "minimum": ("Giá trị nhỏ nhất là {n}", "The value must be at least {n}"),
    "maximum": ("Giá trị lớn nhất là {n}", "The value must be at most {n}"),
    "maxItems": ("Chọn tối đa {n} mục", "Select at most {n} item(s)"),
    "uniqueItems": ("Các mục không được trùng nhau", "Items must not repeat"),
    "type": ("Kiểu dữ liệu không hợp lệ (cần: {n})", "Wrong kind of value (expected: {n})"),
    "additionalProperties": ("Trường không được phép: {n}", "Field not allowed: {n}"),
    "invalid": ("Giá trị không hợp lệ", "Invalid value"),
    "control": ("Không được chứa ký tự điều khiển hoặc xuống dòng", "Must not contain control characters or "
                "line breaks"),
    "control_text": ("Không được chứa ký tự điều khiển", "Must not contain control characters"),
}
_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "string": ("văn bản", "text"), "object": ("nhóm trường", "object"), "array": ("danh sách", "list"),
    "integer": ("số nguyên", "whole number"), "number": ("số", "number"),
    "boolean": ("có/không", "yes/no"), "null": ("để trống", "empty"),
}
_CHOICE_KEYWORDS = {"enum", "const", "oneOf", "anyOf"}


@dataclass(frozen=True)
class FieldError:
    path: str  # dotted path into the submitted data ("dossier.to_trinh", "criteria.2"); "" = whole form
    message: str


class FormError(ValueError):
    """A form file that cannot be used, or a submission that does not pass its form."""

    def __init__(self, errors: Iterable[FieldError] | str | Text):
        self.errors = [FieldError("", str(errors))] if isinstance(errors, str | Text) else list(errors)
        super().__init__("; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in self.errors))
        # The whole error as a catalogue message, when it was raised as one (a form file's problem).
        self.text = errors if isinstance(errors, Text) else Text(str(self))


def _text(key: str, lang: int, n: object = "") -> str:
    return _MESSAGES[key][lang].format(n=n)


# --- keyword overrides --------------------------------------------------------------------------------

def _min_length_trimmed(validator: Any, limit: int, instance: Any, schema: Any) -> Iterator[ValidationError]:
    # A reason made of spaces is no reason: lengths count the text without surrounding whitespace.
    if validator.is_type(instance, "string") and len(instance.strip()) < limit:
        yield ValidationError(f"{instance!r} is too short")


@lru_cache(maxsize=256)
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    # In ECMA-262 (the schema's regex dialect, and the browser's) a final `$` only matches at the very
    # end; in Python it also matches before a trailing newline, so "123/QĐ-UBND\n" would pass.
    backslashes = len(pattern[:-1]) - len(pattern[:-1].rstrip("\\"))
    if pattern.endswith("$") and backslashes % 2 == 0:
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern_ecma(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _canonical(value: Any) -> Any:
    # JSON Schema equality: 1 == 1.0, but true != 1 (json.dumps keeps true and 1 apart).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    return value


def _unique_items(validator: Any, unique: bool, instance: Any, schema: Any) -> Iterator[ValidationError]:
    # jsonschema compares objects pairwise (quadratic: 900 rows took 5 s); a set of canonical forms is linear.
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[str] = set()
    for item in instance:
        key = json.dumps(_canonical(item), sort_keys=True, ensure_ascii=False)
        if key in seen:
            yield ValidationError(f"{instance!r:.100} has non-unique elements")
            return
        seen.add(key)


_Validator = validators.extend(
    Draft202012Validator,
    {"minLength": _min_length_trimmed, "pattern": _pattern_ecma, "uniqueItems": _unique_items},
)


# --- error translation --------------------------------------------------------------------------------

def _join(parts: Iterable[object]) -> str:
    return ".".join(str(p) for p in parts)


def _extra_properties(instance: dict[Any, Any], schema: dict[str, Any]) -> list[Any]:
    known, patterns = schema.get("properties", {}), schema.get("patternProperties", {})
    return [k for k in instance if k not in known and not any(re.search(p, str(k)) for p in patterns)]


def _is_choice_list(alternatives: object) -> bool:
    return isinstance(alternatives, list) and all(
        isinstance(alt, dict) and ("const" in alt or "enum" in alt) for alt in alternatives
    )


def _translate(error: ValidationError, lang: int) -> Iterator[FieldError]:
    parts = list(error.absolute_path)
    where = _join(parts)
    keyword, value, instance = error.validator, error.validator_value, error.instance
    if keyword == "required" and isinstance(instance, dict):
        # jsonschema reports a missing field on its parent; the user needs it on the field itself.
        for name in value:
            if name not in instance:
                yield FieldError(_join([*parts, name]), _text("required", lang))
    elif keyword == "additionalProperties" and isinstance(instance, dict) and isinstance(error.schema, dict):
        for name in _extra_properties(instance, error.schema):
            yield FieldError(_join([*parts, name]), _text("additionalProperties", lang, str(name)[:100]))
    elif keyword in ("oneOf", "anyOf") and error.context and not _is_choice_list(value):
        # Alternatives that are whole sub-forms: report what went wrong in the closest one.
        yield from _translate(best_match(error.context), lang)
    elif keyword in _CHOICE_KEYWORDS:
        yield FieldError(where, _text("choice", lang))
    elif keyword == "format":
        yield FieldError(where, _text("date", lang) if value == "date" else _text("format", lang, value))
    elif keyword == "type":
        names = value if isinstance(value, list) else [value]
        shown = ", ".join(_TYPE_NAMES.get(t, (t, t))[lang] for t in names)
        yield FieldError(where, _text("type", lang, shown))
    elif keyword in ("minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum"):
        yield FieldError(where, _text(str(keyword), lang, value))
    elif keyword == "pattern":
        # The schema's own "examples" annotation tells the user what a good value looks like.
        examples = error.schema.get("examples") if isinstance(error.schema, dict) else None
        hint = _text("example", lang, examples[0]) if isinstance(examples, list) and examples else ""
        yield FieldError(where, _text("pattern", lang) + hint)
    elif keyword == "uniqueItems":
        yield FieldError(where, _text("uniqueItems", lang))
    else:
        yield FieldError(where, _text("invalid", lang))


def _int_or(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _sort_key(error: FieldError) -> tuple[tuple[tuple[int, int, str], ...], str]:
    # Numeric parts sort as numbers, so "criteria.2" comes before "criteria.10".
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in error.path.split("."))
    return parts, error.message


# --- forms --------------------------------------------------------------------------------------------

def _resolve(root: dict[str, Any], node: Any, depth: int = 0) -> Any:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#/") or depth > 20:
        return node
    target: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(target, dict):
            return node
        target = target.get(part.replace("~1", "/").replace("~0", "~"))
    return _resolve(root, target, depth + 1)


@dataclass(frozen=True)
class Form:
    name: str
    schema: dict[str, Any]
    ui_schema: dict[str, Any] = field(default_factory=dict)
    bound: bool = False  # the movement's choices are in (see form_choices.py)

    @property
    def needs_choices(self) -> bool:
        """Marked for a movement's lists but not given them: it would accept any code."""
        return not self.bound and is_marked(self.schema)

    @cached_property
    def _validator(self) -> Any:
        # An empty registry: a form never makes the server fetch a remote "$ref".
        return _Validator(self.schema, format_checker=FormatChecker(), registry=Registry())

    def validate(self, data: object, language: str = "vi") -> list[FieldError]:
        """The problems with `data` (at most MAX_ERRORS), sorted by path; [] when it is valid. Never raises."""
        lang = _EN if str(language).lower().startswith("en") else _VI
        oversized: list[FieldError] = []
        characters: list[FieldError] = []
        self._bounds(self.schema, self.ui_schema, data, [], lang, 0, oversized, characters)
        skipped = {e.path.split(".")[0] for e in oversized}
        if oversized and (not isinstance(data, dict) or "" in skipped):
            return sorted(set(oversized), key=_sort_key)
        # Fields past a size bound are left out of the schema check: it would walk them in full.
        rest = {k: v for k, v in data.items() if k not in skipped} if isinstance(data, dict) else data
        try:
            errors = itertools.islice(self._validator.iter_errors(rest), MAX_ERRORS)
            found = {fe for error in errors for fe in _translate(error, lang)
                     if fe.path.split(".")[0] not in skipped}
        except RecursionError:  # absurdly nested input
            found = {FieldError("", _text("invalid", lang))}
        # One message per field: the form's own (a pattern, a format) says more than "control character".
        flagged = {e.path for e in found}
        found |= {e for e in characters if e.path not in flagged} | set(oversized)
        return sorted(found, key=_sort_key)[:MAX_ERRORS]

    def _bounds(self, schema: Any, ui: Any, value: Any, path: list[Any], lang: int, depth: int,
                oversized: list[FieldError], characters: list[FieldError]) -> None:
        """Sizes, depth and characters, walking data and schema together; stops at MAX_ERRORS.

        A value is oversized past its own bound or a cheap floor, whichever is larger (below that the
        schema check is as cheap and says the same). Text is one line unless its UI schema makes it a
        text area (then line breaks are fine)."""
        if len(oversized) + len(characters) >= MAX_ERRORS:
            return
        node = _resolve(self.schema, schema)
        node = node if isinstance(node, dict) else {}
        ui = ui if isinstance(ui, dict) else {}
        where = _join(path)
        if depth > MAX_DEPTH:
            oversized.append(FieldError(_join(path[:1]), _text("invalid", lang)))
        elif isinstance(value, str):
            limit = _int_or(node.get("maxLength"), DEFAULT_MAX_LENGTH)
            if len(value) > max(limit, CHEAP_LENGTH):
                oversized.append(FieldError(where, _text("maxLength", lang, limit)))
            elif ui.get("ui:widget") == "textarea":
                if bad_text(value):
                    characters.append(FieldError(where, _text("control_text", lang)))
            elif bad_line(value):
                characters.append(FieldError(where, _text("control", lang)))
        elif isinstance(value, list):
            limit = _int_or(node.get("maxItems"), DEFAULT_MAX_ITEMS)
            if len(value) > max(limit, CHEAP_ITEMS):
                oversized.append(FieldError(where, _text("maxItems", lang, limit)))
                return
            for index, item in enumerate(value):
                self._bounds(node.get("items"), ui.get("items"), item, [*path, index], lang, depth + 1,
                             oversized, characters)
        elif isinstance(value, dict):
            if len(value) > MAX_PROPERTIES:
                oversized.append(FieldError(where, _text("invalid", lang)))
                return
            props = node.get("properties")
            props = props if isinstance(props, dict) else {}
            for key, item in value.items():
                self._bounds(props.get(key), ui.get(key), item, [*path, key], lang, depth + 1, oversized,
                             characters)

    def check(self, data: object, language: str = "vi") -> None:
        if errors := self.validate(data, language):
            raise FormError(errors)

    def fields(self) -> list[str]:
        return list(self.schema.get("properties", {}))

    def choices(self, field: str) -> list[str]:
        """The codes a field may take (its enum / const alternatives, conditional ones included).

        [] when the field is free text or unknown.
        """
        found: list[str] = []
        for node in self._property_schemas(self.schema, field, 0):
            self._collect_codes(node, found, 0)
        return found

    def _property_schemas(self, node: Any, field: str, depth: int) -> Iterator[Any]:
        node = _resolve(self.schema, node)
        if not isinstance(node, dict) or depth > 20:
            return
        props = node.get("properties")
        if isinstance(props, dict) and field in props:
            yield props[field]
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(key, []) if isinstance(node.get(key), list) else []:
                yield from self._property_schemas(sub, field, depth + 1)
        for key in ("then", "else"):  # not "if": a condition tests values, it does not allow them
            if key in node:
                yield from self._property_schemas(node[key], field, depth + 1)

    def _collect_codes(self, node: Any, found: list[str], depth: int) -> None:
        node = _resolve(self.schema, node)
        if not isinstance(node, dict) or depth > 20:
            return
        values = list(node["enum"]) if isinstance(node.get("enum"), list) else []
        values += [node["const"]] if "const" in node else []
        found.extend(v for v in values if isinstance(v, str) and v not in found)
        for key in ("oneOf", "anyOf", "allOf"):
            for sub in node.get(key, []) if isinstance(node.get(key), list) else []:
                self._collect_codes(sub, found, depth + 1)
        if "items" in node:
            self._collect_codes(node["items"], found, depth + 1)


def _ui_order_problems(schema: Any, ui: Any, where: str) -> Iterator[str]:
    # react-jsonschema-form refuses to render an order that names unknown fields or, without "*",
    # leaves some out; catch that when the form is loaded rather than in a user's browser.
    if not isinstance(schema, dict) or not isinstance(ui, dict):
        return
    props: dict[str, Any] = schema["properties"] if isinstance(schema.get("properties"), dict) else {}
    order = ui.get("ui:order")
    if isinstance(order, list):
        unknown = [x for x in order if x != "*" and x not in props]
        missing = [] if "*" in order else [p for p in props if p not in order]
        for name in unknown:
            yield f"{where}ui:order nêu trường không có trong lược đồ: {name}"
        for name in missing:
            yield f"{where}ui:order thiếu trường: {name}"
    for name, sub in props.items():
        yield from _ui_order_problems(sub, ui.get(name), f"{where}{name}.")
    yield from _ui_order_problems(schema.get("items"), ui.get("items"), f"{where}items.")


def _remote_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str) and not value.startswith("#"):
                yield value
            yield from _remote_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _remote_refs(value)


class FormLibrary:
    """Loads forms from one directory (diagrams name them by file); each file is read and checked once."""

    def __init__(self, directory: Path):
        self.directory = Path(directory).resolve()
        self._cache: dict[tuple[str, str | None], Form] = {}
        self._bound: dict[tuple[str, str | None, MovementChoices], Form] = {}

    @classmethod
    def default(cls) -> FormLibrary:
        return cls(Path(__file__).resolve().parent.parent / "forms")

    def get(self, schema_filename: str, ui_filename: str | None = None,
            choices: MovementChoices | None = None) -> Form:
        """The form; without `ui_filename`, the UI schema beside it (`x.uischema.json`) when there is one,
        since it says which texts are multi-line; with `choices`, its movement-marked fields filled with
        that movement's lists."""
        if ui_filename is None and isinstance(schema_filename, str) and schema_filename.endswith(".schema.json"):
            sibling = schema_filename.removesuffix(".schema.json") + ".uischema.json"
            if (self.directory / sibling).is_file():
                ui_filename = sibling
        key = (schema_filename, ui_filename)
        if key not in self._cache:
            self._cache[key] = self._load_form(schema_filename, ui_filename)
        form = self._cache[key]
        if choices is None or not is_marked(form.schema):
            return form
        bound_key = (schema_filename, ui_filename, choices)
        if bound_key not in self._bound:
            if len(self._bound) > 256:  # movements are few; a bound on memory all the same
                self._bound.clear()
            self._bound[bound_key] = Form(form.name, bind(form.schema, choices), form.ui_schema, bound=True)
        return self._bound[bound_key]

    def _load_form(self, schema_filename: str, ui_filename: str | None) -> Form:
        schema = self._read_object(schema_filename)
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = _join(exc.absolute_path) or "(gốc)"
            raise FormError(text(N_("lược đồ JSON Schema 2020-12 %(form)s không hợp lệ tại %(where)s: «%(error)s»"),
                                 form=schema_filename, where=where, error=exc.message)) from exc
        if remote := sorted(set(_remote_refs(schema))):
            raise FormError(text(N_("lược đồ %(form)s chỉ được tham chiếu nội bộ ($ref): %(refs)s"),
                                 form=schema_filename, refs=", ".join(remote)))
        ui = self._read_object(ui_filename) if ui_filename else {}
        if problems := list(_ui_order_problems(schema, ui, "")):
            raise FormError([FieldError("", f"{ui_filename}: {p}") for p in problems])
        name = Path(schema_filename).name.removesuffix(".json").removesuffix(".schema")
        return Form(name, schema, ui)

    def _read_object(self, filename: str) -> dict[str, Any]:
        path = self._path(filename)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FormError(text(N_("tệp biểu mẫu %(form)s không phải JSON: %(error)s"), form=filename,
                                 error=exc)) from exc
        if not isinstance(data, dict):
            raise FormError(text(N_("tệp biểu mẫu %(form)s phải là một đối tượng JSON"), form=filename))
        return data

    def _path(self, filename: str) -> Path:
        bad = text(N_("tên tệp biểu mẫu phải nằm trong thư mục biểu mẫu: %(form)s"), form=repr(filename))
        if not isinstance(filename, str) or not filename or "\x00" in filename or "\\" in filename:
            raise FormError(bad)
        relative = Path(filename)
        if relative.is_absolute() or ".." in relative.parts:
            raise FormError(bad)
        path = (self.directory / relative).resolve()
        if not path.is_relative_to(self.directory):  # a symlink pointing out of the directory
            raise FormError(bad)
        if not path.is_file():
            raise FormError(text(N_("không tìm thấy tệp biểu mẫu %(form)s"), form=filename))
        return path
