"""An engine's message read as the service would show it: the Vietnamese text and its English
through the catalogue (service/translations/en), without a Flask app."""

from __future__ import annotations

from functools import cache
from io import BytesIO
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from service.core.i18n import SOURCE
from workflows.wording import Text, fill


@cache
def _english() -> Translations:
    with (SOURCE / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="en")
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def english(message: Any) -> str:
    """A Text (or a problem, an error carrying one) in English; other values as their text."""
    message = getattr(message, "text", message)
    if not isinstance(message, Text):
        return str(message)
    translated = _english().gettext(message.template)
    return fill(translated, {k: english(v) for k, v in message.params.items()})


def both(message: Any) -> str:
    """'Vietnamese | English': what a test may look for in either language."""
    vietnamese = getattr(message, "message", None) or str(getattr(message, "text", message))
    return f"{vietnamese} | {english(message)}"
