"""Expressions from diagrams, evaluated without Python's eval.

A diagram is data an admin uploads, so gateway conditions, timer expressions and service-task
parameters run in simpleeval with a short list of pure functions and per-type attribute allow-lists.
``check_expression`` is the validator's side: it inspects the syntax tree and runs nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

import simpleeval
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

# Pure helpers a diagram may call, besides the engine's own (working_days).
SAFE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "str": str,
    "int": int,
    "bool": bool,
    "min": min,
    "max": max,
    "abs": abs,
    "any": any,
    "all": all,
    "sorted": sorted,
}

# Attribute access is refused except for these read-only methods (simpleeval's allowed_attrs).
ALLOWED_ATTRIBUTES: dict[type, set[str]] = {
    dict: {"get", "keys", "values", "items"},
    str: {"lower", "upper", "strip", "startswith", "endswith"},
    list: {"count", "index"},
    tuple: {"count", "index"},
}
_ALL_ALLOWED_ATTRIBUTES = set().union(*ALLOWED_ATTRIBUTES.values())

MAX_EXPRESSION_LENGTH = 2000

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call, ast.keyword,
    ast.Constant, ast.Name, ast.Load, ast.Subscript, ast.Attribute, ast.List, ast.Tuple, ast.Dict,
    ast.Set, ast.IfExp, ast.Slice, ast.boolop, ast.operator, ast.unaryop, ast.cmpop,
)


class ExpressionError(ValueError):
    pass


def check_expression(expression: str, known_names: Iterable[str], functions: Iterable[str]) -> list[str]:
    """Problems with an expression's syntax and names; an empty list means it may be saved."""
    if not expression or not expression.strip():
        return ["biểu thức trống (empty expression)"]
    if len(expression) > MAX_EXPRESSION_LENGTH:
        return [f"biểu thức dài quá {MAX_EXPRESSION_LENGTH} ký tự (expression too long)"]
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        return [f"lỗi cú pháp (syntax error): {exc.msg}"]
    names, callables = set(known_names), set(functions)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    problems: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            problems.append(f"không cho phép cấu trúc {type(node).__name__} (construct not allowed)")
        elif isinstance(node, ast.Attribute) and node.attr not in _ALL_ALLOWED_ATTRIBUTES:
            problems.append(f"không cho phép truy cập thuộc tính '{node.attr}' (attribute not allowed)")
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id not in callables:
                problems.append(f"hàm không được phép '{node.func.id}' (unknown function)")
            elif not isinstance(node.func, ast.Name | ast.Attribute):
                problems.append("chỉ được gọi hàm theo tên (only named functions may be called)")
        elif (isinstance(node, ast.Name) and id(node) not in called
              and node.id not in names and node.id not in callables):
            problems.append(f"tên không xác định '{node.id}' (unknown name)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str | bytes) and len(node.value) > 1000:
            problems.append("chuỗi hằng quá dài (string literal too long)")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            problems.append("không cho phép lũy thừa ** (power is not allowed)")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_text(node.left):
            problems.append("không cho phép định dạng chuỗi bằng % (string formatting is not allowed)")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and _large_repeat(node):
            problems.append("phép nhân lặp chuỗi/danh sách quá lớn (repetition too large)")
    return list(dict.fromkeys(problems))


MAX_LITERAL_REPEAT = 1000


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str | bytes)


def _large_repeat(node: ast.BinOp) -> bool:
    sides = (node.left, node.right)
    counts = [n.value for n in sides if isinstance(n, ast.Constant) and isinstance(n.value, int)]
    sequences = [n for n in sides if _is_text(n) or isinstance(n, ast.List | ast.Tuple)]
    return bool(sequences) and any(abs(c) > MAX_LITERAL_REPEAT for c in counts)


def referenced_names(expression: str) -> set[str]:
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _safe_mod(a: Any, b: Any) -> Any:
    if isinstance(a, str | bytes):
        raise simpleeval.FeatureNotAvailable("string %-formatting is not available")
    return a % b


class _Evaluator(simpleeval.EvalWithCompoundTypes):
    """simpleeval without the constructs that loop or allocate without bound: comprehensions,
    f-strings and `**` (which simpleeval only caps per operand, not by the size of the result)."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        for node in (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.JoinedStr, ast.FormattedValue):
            self.nodes.pop(node, None)
        inherited: dict[Any, Any] = dict(getattr(self, "operators", {}))
        operators = {op: fn for op, fn in inherited.items() if op is not ast.Pow}
        operators[ast.Mod] = _safe_mod
        self.operators = operators


@lru_cache(maxsize=1024)
def _parsed(expression: str) -> ast.AST:
    # A diagram has a few dozen expressions evaluated again and again; their syntax trees are never
    # changed by evaluation, so each is parsed once.
    return simpleeval.SimpleEval.parse(expression)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that evaluates with simpleeval and refuses scripts."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]], constants: Mapping[str, Any]):
        super().__init__({})
        self.functions = {**SAFE_FUNCTIONS, **functions}
        self.constants = dict(constants)

    def evaluate(self, expression: str, context: Mapping[str, Any], external_context: Any = None) -> Any:
        names = {**context, **(external_context or {}), **self.constants}
        evaluator = _Evaluator(functions=self.functions, names=names, allowed_attrs=ALLOWED_ATTRIBUTES)
        try:
            return evaluator.eval(expression, _parsed(expression.strip()))
        except (simpleeval.InvalidExpression, SyntaxError, TypeError, KeyError, ValueError) as exc:
            raise ExpressionError(f"{expression!r}: {exc}") from exc

    def execute(self, script: str, context: Any, external_context: Any = None) -> bool:
        raise ExpressionError("script tasks are not allowed: diagrams are data, never code")
