"""Which characters text may hold: one definition for the forms, the API and the request guard.

Control characters have no place in anything a civil servant types. NUL in particular cannot be
stored by PostgreSQL at all, and a line break inside a one-line field (a name, a number) lets that
value start new lines wherever it is printed: mail headers and bodies, logs, CSV exports.
"""

from __future__ import annotations

import re

# Never valid in any text: C0 controls except TAB, LF and CR; DEL; the C1 controls.
_NEVER = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Also refused in one-line text: TAB, LF, CR and Unicode's own line and paragraph separators.
_LINE_BREAKS = "\t\n\r\u2028\u2029"

NEVER_IN_TEXT = re.compile(f"[{_NEVER}]")
NEVER_IN_LINE = re.compile(f"[{_NEVER}{_LINE_BREAKS}]")


def bad_text(value: str) -> bool:
    """True when `value` holds a character no text may hold (NUL and the other controls)."""
    return NEVER_IN_TEXT.search(value) is not None


def bad_line(value: str) -> bool:
    """True when `value`, meant as one line, holds a control character or a line break."""
    return NEVER_IN_LINE.search(value) is not None
