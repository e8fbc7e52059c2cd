"""Messages the engine gives people (a diagram's problems, a refused migration, a stopped run), kept
as a catalogue template and its parameters.

workflows/ imports no Flask: it cannot translate. Each message is written once, in Vietnamese, as a
template marked with N_ (pybabel extracts it into the service's catalogue, where its English lives).
str() gives the Vietnamese text for logs and the command line; the service renders the reader's
language with `service.core.i18n.render`. A parameter may itself be a Text (a timer's problem inside
the message about its event): it is rendered in the same language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def N_(template: str) -> str:
    """Marks a message template for the catalogue (pybabel extracts N_); the service translates it."""
    return template


@dataclass(frozen=True, eq=False)
class Text:
    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return fill(self.template, {k: str(v) for k, v in self.params.items()})

    # Equal when they read the same: two problems of one template about different names differ.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.template, str(self)) == (other.template, str(other))

    def __hash__(self) -> int:
        return hash((self.template, str(self)))


def text(template: str, **params: Any) -> Text:
    return Text(template, params)


def fill(template: str, params: Mapping[str, str]) -> str:
    """`template % params`; a template without parameters is taken as it is (it may hold a lone %)."""
    return template % params if params else template
