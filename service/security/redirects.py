"""The one check for a redirect target that comes from input (`?next=`, a form's `next`).

A browser does not read a Location header the way a string test does: it drops TAB, CR and LF anywhere,
strips leading spaces and control characters, reads `\\` as `/`, and takes `//host` or `/\\host` as
another site. So the target is judged the way the browser will read it, and only a path on this site
(no scheme, no host) is accepted; anything else gives the caller's fallback.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

MAX_TARGET = 2000


def safe_redirect_target(target: object, fallback: str) -> str:
    """`target` if it is a path on this site, else `fallback`."""
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET:
        return fallback
    # A real link never holds control, format (bidi, zero-width) or separator characters; browsers
    # drop some of them silently, so whatever they would do, refuse rather than guess.
    if any(unicodedata.category(c)[0] in "CZ" and c != " " for c in target) or target != target.strip():
        return fallback
    browser_view = target.replace("\\", "/")
    # Judged as written and once fully decoded: a server or proxy behind us may decode once more.
    for form in (browser_view, _fully_decoded(browser_view)):
        if not _is_local_path(form):
            return fallback
    return browser_view


def _fully_decoded(text: str) -> str:
    for _ in range(5):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return "".join(c for c in text if c not in "\t\r\n").replace("\\", "/")


def _is_local_path(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//"):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc
