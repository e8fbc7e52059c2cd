"""A movement's lists (nominee kinds, their criteria, award kinds) poured into the forms that ask for them.

These lists belong to a movement (a plan's section III), not to the form files: next year's movement
may offer other awards or judge by other criteria with the same forms. A form marks the fields that
take them, at the top level of its properties:

    "nominee_kind": {"type": "string", "x-movement": "nominee_kinds",
                     "x-individual-requires": ["position", "work_unit"]},
    "award":        {"type": "string", "x-movement": "awards"},
    "criteria":     {"type": "array", "x-movement": "criteria", "x-per-kind": "nominee_kind"}
    "criteria":     {"type": "array", "x-movement": "unit_criteria"}  # the unit's own (Giấy khen, III.2.2)

`bind` gives the form with the choices filled in: `oneOf` for single choices, `items.anyOf` for
criteria (every kind's, or, with "x-per-kind", each kind's own through if/then branches on that
field, as the plan's III.2.1 a–d lists are), and the fields an individual must fill. A marked form
that is not bound accepts any code; the engine refuses to check a submission against one.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MARK = "x-movement"


@dataclass(frozen=True)
class Choice:
    code: str
    title: str


@dataclass(frozen=True)
class NomineeKind:
    code: str
    title: str
    criteria: tuple[Choice, ...]
    individual: bool = False


@dataclass(frozen=True)
class MovementChoices:
    nominee_kinds: tuple[NomineeKind, ...]
    awards: tuple[Choice, ...]
    # The criteria a unit's head set for the Giấy khen of this movement (plan III.2.2 leaves them to him).
    unit_criteria: tuple[Choice, ...] = ()

    @classmethod
    def from_data(cls, nominee_kinds: Iterable[Mapping[str, Any]], awards: Iterable[Mapping[str, Any]],
                  unit_criteria: Iterable[Mapping[str, Any]] = ()) -> MovementChoices:
        """From a movement's stored lists ([{code, title, criteria: [{code, title}], individual?}])."""
        kinds = tuple(NomineeKind(str(k["code"]), str(k["title"]),
                                  tuple(Choice(str(c["code"]), str(c["title"])) for c in k.get("criteria", [])),
                                  bool(k.get("individual", False))) for k in nominee_kinds)
        return cls(kinds, tuple(Choice(str(a["code"]), str(a["title"])) for a in awards),
                   tuple(Choice(str(c["code"]), str(c["title"])) for c in unit_criteria))

    def all_criteria(self) -> list[Choice]:
        seen: dict[str, Choice] = {}
        for kind in self.nominee_kinds:
            for criterion in kind.criteria:
                seen.setdefault(criterion.code, criterion)
        return list(seen.values())


def is_marked(schema: Mapping[str, Any]) -> bool:
    props = schema.get("properties")
    return isinstance(props, dict) and any(isinstance(p, dict) and MARK in p for p in props.values())


def bind(schema: Mapping[str, Any], choices: MovementChoices) -> dict[str, Any]:
    """A copy of `schema` with the movement's choices in its marked fields."""
    bound = copy.deepcopy(dict(schema))
    props: dict[str, Any] = bound.get("properties", {})
    branches: list[dict[str, Any]] = []
    for name, prop in props.items():
        what = prop.get(MARK) if isinstance(prop, dict) else None
        if what == "nominee_kinds":
            prop["oneOf"] = _one_of(choices.nominee_kinds)
            needs = [f for f in prop.get("x-individual-requires", []) if isinstance(f, str)]
            branches += [_when(name, kind.code, {"required": needs}) for kind in choices.nominee_kinds
                         if kind.individual and needs]
        elif what == "awards":
            prop["oneOf"] = _one_of(choices.awards)
        elif what == "criteria":
            prop["items"] = {"anyOf": _one_of(choices.all_criteria())}
            per_kind = prop.get("x-per-kind")
            if isinstance(per_kind, str):
                branches += [_when(per_kind, kind.code, {"properties": {name: {"items": {
                    "anyOf": _one_of(kind.criteria)}}}}) for kind in choices.nominee_kinds]
        elif what == "unit_criteria":
            # None set yet: nothing can be ticked, so the head sets them before a draft is sent.
            prop["items"] = ({"anyOf": _one_of(choices.unit_criteria)} if choices.unit_criteria
                             else {"not": {"type": "string"}})
    if branches:
        bound["allOf"] = [*bound.get("allOf", []), *branches]
    return bound


def _one_of(choices: Iterable[Choice | NomineeKind]) -> list[dict[str, str]]:
    return [{"const": c.code, "title": c.title} for c in choices]


def _when(field: str, code: str, then: dict[str, Any]) -> dict[str, Any]:
    return {"if": {"properties": {field: {"const": code}}, "required": [field]}, "then": then}
