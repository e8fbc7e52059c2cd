"""Expressions from diagrams: the run-time evaluator refuses code, the validator flags it without running it.

`RestrictedEnvironment` (simpleeval) evaluates gateway conditions, timer expressions and service-task
parameters when an instance runs; `check_expression` inspects the same text when a diagram is loaded. Anything
that could burn CPU or memory is evaluated in a child process with hard limits (see `sandboxed`), so a
regression shows up as a failed test, not as a hung or swapping test run.
"""

from __future__ import annotations

import ast
import builtins
import re
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import simpleeval

from tests.support.wording import both, english
from workflows.diagram_checks import ENGINE_NAMES
from workflows.engine import ENGINE_FUNCTIONS, WorkflowEngine
from workflows.expressions import SAFE_FUNCTIONS, ExpressionError, RestrictedEnvironment, check_expression
from workflows.wording import Text

VIETNAMESE = re.compile(r"[À-ỹĐđ]")

# The names a diagram's expressions see: engine names, form fields and the message payload.
KNOWN = set(ENGINE_NAMES) | {"decision", "reason", "award", "award_decision"}
FUNCTIONS = (*ENGINE_FUNCTIONS, *SAFE_FUNCTIONS)
DATA = {
    "decision": "return",
    "reason": "Thiếu minh chứng.",
    "return_count": 5,
    "award_decision": {"outcome": "awarded", "reason": "Đủ điều kiện"},
}

# What "bounded" means below: the evaluator answers within 4 s of CPU and 512 MB of address space.
CPU_SECONDS = 4
MEMORY_BYTES = 512 * 2**20


@pytest.fixture
def env(engine, settings) -> RestrictedEnvironment:
    """The environment the engine gives SpiffWorkflow (see engine._ScriptEngine)."""
    return RestrictedEnvironment({"working_days": engine.working_days}, {"max_returns": settings.max_returns})


# --- the evaluator allows what the diagrams need ------------------------------------------------------------

@pytest.mark.parametrize(("expression", "data", "expected"), [
    ('decision == "return"', DATA, True),
    ('decision == "return"', {**DATA, "decision": "submit"}, False),
    ('award_decision.get("reason", "")', DATA, "Đủ điều kiện"),
    ('award_decision.get("reason", "")', {**DATA, "award_decision": {"outcome": "not_awarded"}}, ""),
    ('award_decision["outcome"] == "awarded"', DATA, True),
    ("return_count >= max_returns", DATA, True),
    ("return_count >= max_returns", {**DATA, "return_count": 4}, False),
    ('decision in ("return", "decline")', DATA, True),
    ('"due_today"', DATA, "due_today"),
    ("reason", DATA, "Thiếu minh chứng."),
    ("len(reason.strip()) > 5", DATA, True),
])
def test_evaluator_allows_the_diagrams_expressions(env, expression, data, expected):
    assert env.evaluate(expression, data) == expected


def test_max_returns_comes_from_the_settings_not_the_task_data(env, settings):
    assert env.evaluate("max_returns", {**DATA, "max_returns": 10**6}) == settings.max_returns


def test_working_days_is_the_engines_calendar(env, engine):
    # Monday 13 April 2026 09:00 (+07) + 5 working days = Monday 20 April, 17:00 local = 10:00 UTC.
    assert env.evaluate("working_days(5)", DATA) == engine.working_days(5) == "2026-04-20T10:00:00+00:00"
    assert env.evaluate("working_days(4, hour=8)", DATA) == "2026-04-17T01:00:00+00:00"


def test_working_days_argument_errors_are_expression_errors(env):
    with pytest.raises(ExpressionError):
        env.evaluate("working_days(5, hour=99)", DATA)
    with pytest.raises(ExpressionError):
        env.evaluate('working_days("5")', DATA)


@pytest.mark.parametrize("expression", [
    'decision == "return"',
    'award_decision.get("reason", "")',
    "return_count >= max_returns",
    "working_days(5)",
    "working_days(4, hour=8)",
    'award_decision["outcome"] == "awarded"',
    'decision in ("select", "decline")',
    '"before_due"',
])
def test_validator_accepts_the_diagrams_expressions(expression):
    assert check_expression(expression, KNOWN, FUNCTIONS) == []


# --- the evaluator refuses code ---------------------------------------------------------------------------

REFUSED = [
    "__import__('os')",
    "__import__('os').system('true')",
    "().__class__.__bases__[0].__subclasses__()",
    "().__class__",
    "decision.__class__.__mro__",
    "award_decision.__class__",
    "working_days.__self__",
    "working_days.__globals__",
    "max.__self__",
    '"a".format',
    '"{0.__class__}".format(decision)',
    "decision.format_map",
    "decision.encode()",
    "award_decision.pop('outcome')",
    "award_decision.update(outcome='awarded')",
    "str.join",
    "dict.fromkeys('ab')",
    "open",
    "open('/etc/passwd')",
    "exec",
    "exec('x = 1')",
    "eval('1')",
    "compile('1', 'x', 'eval')",
    "getattr(decision, 'upper')",
    "type(decision)",
    "globals()",
    "vars()",
    "breakpoint()",
    "lambda: 1",
    "(lambda: 1)()",
    "(decision := 'submit')",
    "9**9**9**9",
    "'x'*10**8",
    "[1]*10**8",
    "import os",
    "undefined_name",
]


@pytest.mark.parametrize("expression", REFUSED)
def test_evaluator_refuses(env, expression):
    with pytest.raises(ExpressionError) as caught:
        env.evaluate(expression, dict(DATA))
    assert repr(expression) in str(caught.value)


def test_evaluator_does_not_let_data_change(env):
    data = {"award_decision": {"outcome": "not_awarded"}}
    with pytest.raises(ExpressionError):
        env.evaluate("award_decision.setdefault('outcome', 'awarded')", data)
    assert data == {"award_decision": {"outcome": "not_awarded"}}


def test_assignment_is_refused_and_changes_nothing(env):
    """simpleeval alone would warn and return b for `a = b`; parsed as an expression (the validator's
    way too) it is a syntax error. The task data stays as it was."""
    data = dict(DATA)
    with pytest.raises(ExpressionError, match="lỗi cú pháp"):
        env.evaluate("decision = 'submit'", data)
    assert data == DATA


def test_scripts_are_refused_by_the_environment(env):
    with pytest.raises(ExpressionError, match="không cho phép script task"):
        env.execute("import os", {})


def test_engine_script_engine_uses_the_restricted_environment(definitions, engine):
    from workflows.engine import _ScriptEngine

    script_engine = _ScriptEngine(engine, definitions["nomination"])
    assert isinstance(script_engine.environment, RestrictedEnvironment)


# --- bounded: CPU and memory bombs, evaluated in a child process with hard limits ----------------------------

_CHILD = textwrap.dedent(f"""
    import resource, sys
    from workflows.expressions import ExpressionError, RestrictedEnvironment
    env = RestrictedEnvironment({{}}, {{"max_returns": 5}})
    resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_BYTES}, {MEMORY_BYTES}))
    resource.setrlimit(resource.RLIMIT_CPU, ({CPU_SECONDS}, {CPU_SECONDS} + 1))
    try:
        env.evaluate(sys.argv[1], {{"decision": "return"}})
    except ExpressionError as exc:
        print("REFUSED", type(exc.__cause__).__name__)
    else:
        print("ALLOWED")
""")


def sandboxed(expression: str) -> tuple[int, str, str]:
    """Evaluate in a child limited to CPU_SECONDS of CPU and MEMORY_BYTES of address space."""
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD, expression], capture_output=True, text=True,
                              timeout=CPU_SECONDS * 5)
    except subprocess.TimeoutExpired:
        return -1, "", "timed out"
    return proc.returncode, proc.stdout.strip(), proc.stderr.strip()[-500:]


def test_sandbox_reports_an_allowed_expression():
    """Control: the child does evaluate, and says so."""
    assert sandboxed("1 + 1 == 2") == (0, "ALLOWED", "")


@pytest.mark.parametrize("expression", [
    "9**9**9**9",
    "'x'*10**8",
    "[1]*10**8",
    "'x'*99999 + 'x'*99999",
    # simpleeval counts every iteration of a comprehension (10,000 at most), filtered out or not:
    "[1 for a in 'x'*100 for b in 'x'*100 for c in 'x'*100]",
    "len([1 for a in 'x'*9999 for b in 'x'*9999 if 0])",
    "{a: 1 for a in 'x'*99999}",
    "4000000**4000000 > 0",
    "'%999999999d' % 1",
    'f"{0:>999999999}"',
    "len([1 for a in 'x'*9999 if sorted('x'*99999)])",
    "len([sorted('x'*99999) for a in 'x'*9999])",
    # Issue 12: results of str/list/repeat/concatenation, not only literal products.
    "len(str([('a'*999*100)]*999*100)) > 0",
    "len(str([('a'*99999)]*99999)) > 0",
    "len(str([['a'*999]*999]*999)) > 0",
    "len(sorted(str([('a'*9999)]*9999))) > 0",
    "len(str(([('a'*99999)] + [('a'*99999)]) * 50000)) > 0",
    "-" * 1990 + "1",
    "str([decision]*99999) + str([decision]*99999)",
])
def test_evaluator_is_bounded(expression):
    returncode, out, err = sandboxed(expression)
    assert (returncode, out.split(" ")[0]) == (0, "REFUSED"), (
        f"not refused within {CPU_SECONDS} s CPU / {MEMORY_BYTES >> 20} MB: rc={returncode} out={out!r} {err}")


# --- the validator flags what the evaluator refuses, and runs nothing ----------------------------------------

@pytest.mark.parametrize("expression", [
    e for e in REFUSED if e != "import os"
] + [
    "import os",
    "x = 1",
    "decision = 'submit'",
    "[c for c in decision]",
    "{c: 1 for c in decision}",
    "(c for c in decision)",
    'f"{decision}"',
    "decision if True else decision.__class__",
    "return_count >= max_returns and __builtins__",
    "",
    "   ",
    "1 +" + " 1 +" * 1000 + " 1",
])
def test_validator_flags_what_the_evaluator_refuses(expression):
    problems = check_expression(expression, KNOWN, FUNCTIONS)
    assert problems, f"{expression!r} passes validation"
    # Catalogue messages: Vietnamese text, English through the catalogue, never both in one text.
    assert all(isinstance(p, Text) and VIETNAMESE.search(str(p)) and not VIETNAMESE.search(english(p))
               for p in problems)


@pytest.mark.parametrize("expression", [
    "4000000**4000000 > 0",
    "'%999999999d' % 1",
])
def test_validator_flags_resource_bombs(expression):
    assert check_expression(expression, KNOWN, FUNCTIONS)


@pytest.mark.parametrize(("expression", "phrase"), [
    ("__import__('os')", "hàm không được phép '__import__'"),
    ("().__class__.__bases__[0].__subclasses__()", "không cho phép truy cập thuộc tính '__subclasses__'"),
    ('"a".format', "attribute not allowed: 'format'"),
    ("open", "unknown name 'open'"),
    ("exec('1')", "hàm không được phép 'exec'"),
    ("lambda: 1", "construct not allowed: Lambda"),
    ("[c for c in decision]", "không cho phép cấu trúc ListComp"),
    ("working_days(", "syntax error"),
    ("'" + "x" * 1001 + "'", "chuỗi hằng quá dài"),
    ("x" * 2001, "expression too long"),
    ("", "empty expression"),
])
def test_validator_messages(expression, phrase):
    problems = check_expression(expression, KNOWN, FUNCTIONS)
    assert any(phrase in both(p) for p in problems), problems


def test_validator_evaluates_nothing(monkeypatch):
    """Functions named in an expression are never called, and no evaluator is ever started."""
    calls: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> bool:
        calls.append((args, kwargs))
        return True

    def forbidden(*args: Any, **kwargs: Any) -> None:
        calls.append(("evaluator", args))
        raise AssertionError("check_expression evaluated something")

    monkeypatch.setattr(simpleeval.SimpleEval, "eval", forbidden)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    # The validator receives the callables themselves here, as a careless caller might pass them.
    functions = {"spy": spy, "working_days": spy}
    expressions = [
        "spy(1) == 1",
        "spy(decision) and working_days(5)",
        "working_days(spy(2))",
        "[spy(c) for c in decision]",
        "spy.__class__",
        "9**9**9**9 > spy(3)",  # would not return if folded or evaluated
        "'x'*10**8 == spy(4)",
    ]
    results = {e: check_expression(e, KNOWN, functions) for e in expressions}
    assert calls == []
    assert results["spy(1) == 1"] == [] and results["spy(decision) and working_days(5)"] == []
    assert results["[spy(c) for c in decision]"] and results["spy.__class__"]


def test_validator_does_not_constant_fold():
    """ast.parse returns the tree as written: the validator never computes 9**9**9**9 to look at it."""
    tree = ast.parse("9**9**9**9", mode="eval")
    assert isinstance(tree.body, ast.BinOp) and isinstance(tree.body.right, ast.BinOp)


# --- the validator and the evaluator agree on the functions ---------------------------------------------------

def test_loader_accepts_the_functions_the_evaluator_offers(roles, forms, settings, env):
    loader = WorkflowEngine.loader(roles, forms, settings)
    assert set(env.functions) - {"working_days"} <= set(loader.functions)


@pytest.mark.parametrize(("expression", "expected"), [
    ("len(str(['ab'] * 10))", 60),
    ("len([1, 2] * 3 + [3])", 7),
    ("'-' * 3", "---"),
    ("max(len(decision), 2)", 6),
])
def test_bounded_evaluator_still_computes_small_values(env, expression, expected):
    assert env.evaluate(expression, dict(DATA)) == expected
