"""A list page's filter box always shows the filter applied.

A value in the query string that the box does not offer (?year=2025 with nothing published that year,
a unit outside the list, a typed ?kind=xyz) used to leave the box on "Tất cả" while the list was
filtered by it: the reader believed they saw everything. Here the applied value is always among the
box's choices, named when it names something known, and otherwise shown as typed with the reason it
can match nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

MAX_SHOWN = 60  # longer than any code a box offers: what is shown back of a typed value


@dataclass(frozen=True)
class Box:
    options: list[tuple[str, str]]  # (value, label), the applied value among them
    value: str  # applied; "" for all
    problem: str | None = None  # why the value can match nothing (shown beside the box)


def box(raw: str | None, offered: Iterable[tuple[str, str]], name_of: Callable[[str], str | None] | None = None,
        refuse: Callable[[str], str] | None = None) -> Box:
    """`offered`: the box's usual choices; `name_of(value)`: the label of anything else a value may name
    (a unit with nothing listed), None if it names nothing; `refuse(value)`: the message then."""
    value = " ".join((raw or "").split())[:MAX_SHOWN]
    options = list(offered)
    if not value or value in dict(options):
        return Box(options, value)
    label = name_of(value) if name_of else None
    if label is not None:
        return Box([*options, (value, label)], value)
    return Box([*options, (value, value)], value, refuse(value) if refuse else None)


def problems(boxes: Mapping[str, Box]) -> dict[str, str]:
    return {name: b.problem for name, b in boxes.items() if b.problem}
