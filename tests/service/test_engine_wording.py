"""The engine's messages in one language each (issue 16, "Wording and layout"): workflows/ writes
each message once, in Vietnamese, as a catalogue template with parameters; the service shows it in
the reader's language. A diagram's problems on the upload API (which the editor page shows) read in
Vietnamese by default and in English with the English interface, never with a gloss of the other.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from service.core.config import ROOT

from .helpers import ADMIN, assert_problem
from .test_diagram_contract import BASE, upload

VIETNAMESE = re.compile(r"[À-ỹĐđ]")
# A bracketed run of two or more English words: "(unknown function)", "(more than 0 XML elements)".
ENGLISH_GLOSS = re.compile(r"\((?=[^()]*\b[a-z]{2,} [a-z0-9]{2,})[^()À-ỹĐđ]*\)")
# Quoted names from the diagram (a lane, an element, a value): the admin's words, in any language.
QUOTED = re.compile(r"«[^»]*»|'[^']*'")
# Problems of several kinds in one diagram: a script task, code in a condition, a bad timer, an
# action that does not exist, a task outside any lane, a message nobody sends.
BROKEN = (ROOT / "tests" / "workflows" / "corpus" / "several_problems.bpmn").read_bytes()


# Words of an English sentence: a text that has them is English that names a Vietnamese term.
ENGLISH_WORDS = re.compile(r"\b(the|and|of|their|is|are|to)\b")


def literals(path: Path) -> list[tuple[int, str]]:
    """Each string literal of a module but its docstrings; an f-string with its placeholders read as '0'."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.JoinedStr):
            found.append((node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "0" for v in node.values)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
    return found


def test_no_engine_message_carries_an_english_gloss() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}: {text[:90]}"
             for path in sorted((ROOT / "workflows").rglob("*.py")) for line, text in literals(path)
             if VIETNAMESE.search(text) and ENGLISH_GLOSS.search(text)
             and not ENGLISH_WORDS.search(ENGLISH_GLOSS.sub("", text))]
    assert not found, "\n".join(found)


def test_the_gloss_detector_sees_the_old_style() -> None:
    assert ENGLISH_GLOSS.search("hàm không được phép 'open' (unknown function)")
    assert ENGLISH_GLOSS.search("sơ đồ có 0 phần tử XML, tối đa 0 (more than 0 XML elements)")
    assert not ENGLISH_GLOSS.search("nội dung message (messagePayload)")  # the element's own name
    assert not ENGLISH_GLOSS.search("working_days nhận hai đối số: working_days(n, hour=17)")
    # An English description naming a Vietnamese paper is not a Vietnamese message.
    assert ENGLISH_WORDS.search("reads batches, their tờ trình and draft decisions")


def test_diagram_problems_read_in_vietnamese_by_default(client, auth) -> None:
    body = assert_problem(upload(client, f"{BASE}/validate", BROKEN, "several_problems.bpmn", auth(ADMIN)), 422)
    messages = [e["message"] for e in body["errors"]]
    assert len(messages) >= 4, messages
    assert all(VIETNAMESE.search(m) and not ENGLISH_GLOSS.search(QUOTED.sub("", m)) for m in messages), messages
    assert "không cho phép postScript: sơ đồ là dữ liệu, không phải mã" in messages


def test_diagram_problems_read_in_english_with_the_english_interface(client, auth) -> None:
    body = assert_problem(upload(client, f"{BASE}/validate?lang=en", BROKEN, "several_problems.bpmn", auth(ADMIN)),
                          422)
    messages = [e["message"] for e in body["errors"]]
    assert len(messages) >= 4, messages
    # Vietnamese only where the diagram itself speaks it (a lane's name, quoted).
    assert not [m for m in messages if VIETNAMESE.search(QUOTED.sub("", m))], messages
    assert "postScript: scripts are refused, a diagram is data, not code" in messages


def test_a_problem_nested_in_another_reads_in_the_same_language(client, auth) -> None:
    """A timer's problem inside the message about its event: both parts in English."""
    nomination = (ROOT / "bpmn" / "nomination.bpmn").read_bytes()
    broken = nomination.replace(b"working_days(4, hour=8)", b"working_days(4, hour=99)", 1)
    body = assert_problem(upload(client, f"{BASE}/validate?lang=en", broken, "nomination.bpmn", auth(ADMIN)), 422)
    assert [e["message"] for e in body["errors"]] == [
        "timer expression 'working_days(4, hour=99)': working_days: hour out of range 0..23, it must be a whole number"]
