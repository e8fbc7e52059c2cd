"""Vietnamese by default, English on request (Flask-Babel).

The Vietnamese wording is the source text (msgids): it is the legal wording of the plan and the
law, and English is the translation kept in `service/translations/en/LC_MESSAGES/messages.po`.
The binary catalogue (.mo) is derived data: it is compiled from the .po at app start into the
instance folder (only when the .po is newer), so no binary file is committed and no build step can
be forgotten. `make translations` re-extracts the messages and updates the .po.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Response, current_app, g, request
from flask_babel import Babel, get_locale, gettext

from workflows.wording import Text, fill

LANGUAGES = ("vi", "en")
COOKIE = "lang"
SOURCE = Path(__file__).resolve().parents[1] / "translations"


def compile_catalogs(source: Path, target: Path) -> Path:
    """Compile every `<lang>/LC_MESSAGES/*.po` under `source` into `target`; returns `target`."""
    for po_file in source.glob("*/LC_MESSAGES/*.po"):
        mo_file = target / po_file.relative_to(source).with_suffix(".mo")
        if mo_file.exists() and mo_file.stat().st_mtime >= po_file.stat().st_mtime:
            continue
        mo_file.parent.mkdir(parents=True, exist_ok=True)
        with po_file.open("rb") as handle:
            catalog = read_po(handle, locale=po_file.parent.parent.name)
        # Several workers may start at once: each writes its own file, then renames it into place.
        partial = mo_file.with_name(f"{mo_file.name}.{os.getpid()}.part")
        with partial.open("wb") as handle:
            write_mo(handle, catalog)
        partial.replace(mo_file)
    return target


def select_locale() -> str:
    """?lang= beats the lang cookie (set by the switch), which beats the user's saved language."""
    for candidate in (request.args.get(COOKIE), request.cookies.get(COOKIE), g.get("language")):
        if candidate in LANGUAGES:
            return str(candidate)
    return "vi"


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "vi"


def render(message: Any) -> str:
    """A message of the engine (workflows.wording.Text) in the reader's language, its parameters too;
    anything else as its text."""
    if not isinstance(message, Text):
        return str(message)
    return fill(str(gettext(message.template)), {k: render(v) for k, v in message.params.items()})


def language_url(code: str) -> str:
    """This page's URL in another language (the switch in the header)."""
    args = request.args.to_dict(flat=False)
    args[COOKIE] = [code]
    return f"{request.path}?{urlencode(args, doseq=True)}"


def _remember_choice(response: Response) -> Response:
    chosen = request.args.get(COOKIE)
    if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def init_i18n(app: Flask, instance_dir: Path) -> None:
    compiled = compile_catalogs(SOURCE, instance_dir / "translations")
    app.config["BABEL_DEFAULT_LOCALE"] = "vi"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(current_language=current_language, language_url=language_url)
    app.after_request(_remember_choice)


# --- message extraction (used by `pybabel extract`, see babel.cfg) ------------------------------------

_FORM_TEXT_KEYS = ("title", "description", "ui:help", "ui:placeholder")


def extract_form_text(fileobj: Any, keywords: Any, comment_tags: Any,
                      options: Any) -> Iterator[tuple[int, str, str, list[str]]]:
    """Labels, help texts and choice titles of the JSON forms, so that the English catalogue can
    translate the forms too (the forms themselves stay in Vietnamese)."""
    seen: set[str] = set()
    for text in _form_texts(json.load(fileobj)):
        if text not in seen:
            seen.add(text)
            yield 1, "gettext", text, []


def extract_movement_text(fileobj: Any, keywords: Any, comment_tags: Any,
                          options: Any) -> Iterator[tuple[int, str, str, list[str]]]:
    """Titles of a shipped movement's awards, nominee kinds, criteria and contents: the forms show
    them, so the English catalogue translates them as it did when they were in the form files."""
    import tomllib

    data = tomllib.loads(fileobj.read().decode("utf-8"))
    seen: set[str] = set()
    lists = [data.get("awards", []), data.get("nominee_kinds", []), data.get("contents", [])]
    lists += [kind.get("criteria", []) for kind in data.get("nominee_kinds", [])]
    for entry in (e for entries in lists for e in entries if isinstance(e, dict)):
        text = str(entry.get("title") or "").strip()
        if text and text not in seen:
            seen.add(text)
            yield 1, "gettext", text, []


def extract_bpmn_names(fileobj: Any, keywords: Any, comment_tags: Any,
                       options: Any) -> Iterator[tuple[int, str, str, list[str]]]:
    """Names of a diagram's user tasks: the pages show them as step names."""
    from workflows.safe_xml import parse_untrusted_xml

    tree = parse_untrusted_xml(fileobj.read(), 10 * 1024 * 1024)
    seen: set[str] = set()
    for task in tree.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask"):
        name = (task.get("name") or "").strip()
        if name and name not in seen:
            seen.add(name)
            yield task.sourceline or 1, "gettext", name, []


def _form_texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _FORM_TEXT_KEYS and isinstance(value, str) and value.strip():
                yield value
            else:
                yield from _form_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _form_texts(value)
