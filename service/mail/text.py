"""Rendering mails from service/templates/mail: one plain-text template per mail and language.

A template's first line is the subject, then a blank line, then the body. The HTML alternative is
derived from the same text, so the two parts can never say different things:

- blocks are separated by blank lines; a block becomes a paragraph;
- a block whose lines all look like ``  Label: value`` (two leading spaces) becomes a table;
- a block of ``- item`` lines (continuation lines indented) becomes a list;
- a line that is only a URL becomes a link (only the templates' own lines can be: see `one_line`);
  a block that ends with such a line becomes a button-like link.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from markupsafe import Markup

from service.core.config import ROOT

TEMPLATES = ROOT / "service" / "templates" / "mail"
LANGUAGES = ("vi", "en")
WEEKDAYS = {
    "vi": ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
CATALOGUES = ROOT / "service" / "translations"
OPEN_LABEL = {"vi": "Mở trên hệ thống", "en": "Open in nomflow"}
_URL = re.compile(r"https?://[^\s<>\"]+")
_FACT = re.compile(r"^  (?P<label>[^:]+): (?P<value>.*)$")
# Whatever could end a line or reorder it on screen: C0/C1 controls (CR, LF, VT, FF, NEL, NUL...),
# the Unicode line and paragraph separators and the bidi controls. With surrounding blanks, one space.
_LINE_BREAKERS = re.compile(
    r"[ \t]*[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069][\s\x00-\x1f\x7f-\x9f"
    r"\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*")
_env: Environment | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else "vi"


def environment() -> Environment:
    global _env
    if _env is None:
        # finalize runs on every {{ value }}: data stays on the line the template put it on, so a
        # nominee name with line breaks cannot start a paragraph (or a fake link) of its own.
        env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                          autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=True,  # an included part ends its own last line
                          finalize=one_line)
        env.filters.update(day=format_day, deadline=format_deadline, award=award_title)
        _env = env
    return _env


def one_line(value: Any) -> Any:
    """A value as it may appear inside a line of a mail: no line breaks, controls or bidi overrides.
    Markup (the HTML layout's own blocks) is the template's, not data, and passes as it is."""
    if isinstance(value, Markup) or value is None:
        return value
    return _LINE_BREAKERS.sub(" ", value if isinstance(value, str) else str(value))


def render(template: str, language: str, context: dict[str, Any], timezone: str) -> Rendered:
    """Subject, text and HTML of `template` in `language` (vi unless en)."""
    lang = language_of(language)
    env = environment()
    ctx = {**context, "lang": lang, "tz": timezone}
    raw = env.get_template(f"{template}.{lang}.txt").render(ctx)
    subject, _, body = raw.lstrip("\n").partition("\n")
    subject = tidy_subject(" ".join(subject.split()))  # a subject is one line, whatever the data held
    text = re.sub(r"\n{3,}", "\n\n", body.strip("\n")) + "\n"
    html = env.get_template("layout.html").render(lang=lang, subject=subject, blocks=_html_blocks(text, lang))
    return Rendered(subject, text, html)


# A separator (dash, colon) or an empty pair of quotes or brackets left with nothing to stand for.
_EMPTY_QUOTES = re.compile(r"\s*(?:«\s*»|“\s*”|\(\s*\)|\"\s*\")")
_DASH_AFTER_DASH = re.compile(r"\s+[–—-](?:\s+[–—-])+\s+")
_DASH_AFTER_COLON = re.compile(r":\s*[–—-]\s+")
_DANGLING_END = re.compile(r"\s*[–—:-]+\s*$")


def tidy_subject(subject: str) -> str:
    """A subject that names nothing where a template put a name (a report task has no nominee, a batch
    no title yet) drops the separator before the gap, and an empty «» with it: "Việc mới: Lập báo cáo –"
    reads as if something were cut off. The templates give every mail a name to cite; this is the net."""
    previous = None
    while previous != subject:
        previous = subject
        subject = _EMPTY_QUOTES.sub("", subject)
        subject = _DASH_AFTER_DASH.sub(" – ", subject)
        subject = _DASH_AFTER_COLON.sub(": ", subject)
        subject = _DANGLING_END.sub("", subject)
    return subject.strip()


def _local(value: datetime, timezone: str) -> datetime:
    return value.astimezone(ZoneInfo(timezone))


def format_day(value: datetime | date | None, lang: str = "vi", timezone: str = "Asia/Ho_Chi_Minh") -> str:
    """dd/mm/yyyy with the weekday: "thứ Hai, ngày 20/04/2026" / "Monday 20/04/2026"."""
    if value is None:
        return ""
    day = _local(value, timezone).date() if isinstance(value, datetime) else value
    weekday = WEEKDAYS[language_of(lang)][day.weekday()]
    return f"{weekday}, ngày {day:%d/%m/%Y}" if lang == "vi" else f"{weekday} {day:%d/%m/%Y}"


def format_deadline(value: datetime | None, lang: str = "vi", timezone: str = "Asia/Ho_Chi_Minh") -> str:
    """"17:00 thứ Hai, ngày 20/04/2026": the hour matters, deadlines fall at the end of office hours."""
    if value is None:
        return ""
    local = _local(value, timezone)
    return f"{local:%H:%M} {format_day(local, lang, timezone)}"


@pass_context
def award_title(ctx: Any, code: str | None, lang: str = "vi") -> str:
    """The award's title as the nomination's movement names it (the context's `award_titles`, code →
    Vietnamese title: next year's movement may offer other awards), in the mail's language."""
    title = (ctx.get("award_titles") or {}).get(code or "")
    return data_text(title, lang) if title else (code or "")


def data_text(text: str, lang: str) -> str:
    """Text that comes from data (a movement's award titles) in `lang`: the message catalogue's
    translation where it has one (`make translations` extracts the movements), else as written."""
    return text if language_of(lang) == "vi" else _catalogue(language_of(lang)).get(text, text)


@functools.cache
def _catalogue(lang: str) -> dict[str, str]:
    path = CATALOGUES / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as source:
        catalogue = read_po(source)
    return {m.id: m.string for m in catalogue if isinstance(m.id, str) and isinstance(m.string, str)
            and m.string and not m.fuzzy}


def _inline(text: str) -> Markup:
    """One line of text as HTML; a link only when the URL is the whole line. The templates put
    every link of theirs on a line of its own, and data cannot start a line (one_line), so an
    address typed into a nominee name or a reason is never made a link in an official mail."""
    if _URL.fullmatch(text.strip()):
        url = escape(text.strip())
        return Markup(f'<a href="{url}" style="color:#0b57d0">{url}</a>')
    return Markup(escape(text))


def _html_blocks(text: str, lang: str) -> list[Markup]:
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines = block.split("\n")
        facts = [_FACT.match(line) for line in lines]
        if all(facts):
            rows = "".join(
                f'<tr><th style="text-align:left;padding:3px 12px 3px 0;color:#555;font-weight:normal;'
                f'vertical-align:top;white-space:nowrap">{escape(m["label"])}</th>'
                f'<td style="padding:3px 0">{escape(m["value"])}</td></tr>'
                for m in facts if m)
            blocks.append(Markup(f'<table style="border-collapse:collapse;margin:0 0 16px">{rows}</table>'))
        elif lines[0].startswith("- "):
            items: list[list[str]] = []
            for line in lines:
                if line.startswith("- ") or not items:
                    items.append([line.removeprefix("- ")])
                else:
                    items[-1].append(line.strip())
            lis = "".join(f'<li style="margin:0 0 8px">{Markup("<br>").join(_inline(p) for p in item)}</li>'
                          for item in items)
            blocks.append(Markup(f'<ul style="margin:0 0 16px;padding-left:20px">{lis}</ul>'))
        elif _URL.fullmatch(lines[-1].strip()):
            # "… tại:" + a link on its own line: the words, then a button for the eye, the address
            # under it for mail clients that drop the styling.
            if lines[:-1]:
                body = Markup("<br>").join(_inline(line) for line in lines[:-1])
                blocks.append(Markup(f'<p style="margin:0 0 8px">{body}</p>'))
            url = escape(lines[-1].strip())
            blocks.append(Markup(
                f'<p style="margin:0 0 16px"><a href="{url}" style="display:inline-block;padding:8px 16px;'
                f'background:#0b57d0;color:#fff;text-decoration:none;border-radius:4px">{OPEN_LABEL[lang]}</a>'
                f'<br><span style="font-size:12px;color:#555">{url}</span></p>'))
        else:
            body = Markup("<br>").join(_inline(line) for line in lines)
            blocks.append(Markup(f'<p style="margin:0 0 16px">{body}</p>'))
    return blocks
