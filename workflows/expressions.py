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

from .wording import N_, Text, text

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
# Nesting of the syntax tree. simpleeval evaluates recursively (a few frames per level) and Python's
# parser gives up with RecursionError or MemoryError somewhere past a few thousand levels; real
# conditions nest a handful of levels.
MAX_EXPRESSION_DEPTH = 40
# Largest value an expression may build, counted deep: characters of strings plus elements of
# containers, a shared element counted at every place it appears (it is what str() would print).
MAX_VALUE_SIZE = 100_000

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call, ast.keyword,
    ast.Constant, ast.Name, ast.Load, ast.Subscript, ast.Attribute, ast.List, ast.Tuple, ast.Dict,
    ast.Set, ast.IfExp, ast.Slice, ast.boolop, ast.operator, ast.unaryop, ast.cmpop,
)


class ExpressionError(ValueError):
    def __init__(self, message: Text):
        super().__init__(str(message))
        self.text = message


def parse_expression(expression: str) -> ast.Expression:
    """The one way an expression from a diagram becomes a syntax tree, for the validator and the
    evaluator alike: capped in length and nesting, so that no expression can crash the parser
    (RecursionError, MemoryError) or the evaluator's recursion."""
    source = (expression or "").strip()
    if not source:
        raise ExpressionError(text(N_("biểu thức trống")))
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(text(N_("biểu thức dài quá %(limit)s ký tự"), limit=MAX_EXPRESSION_LENGTH))
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(text(N_("lỗi cú pháp: «%(error)s»"), error=exc.msg)) from exc
    except (RecursionError, MemoryError) as exc:
        raise ExpressionError(_too_deep()) from exc
    if _depth(tree) > MAX_EXPRESSION_DEPTH:
        raise ExpressionError(_too_deep())
    return tree


def _too_deep() -> Text:
    return text(N_("biểu thức lồng nhau quá %(limit)s tầng"), limit=MAX_EXPRESSION_DEPTH)


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:  # iterative: the tree may be deeper than Python's recursion limit
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def check_expression(expression: str, known_names: Iterable[str], functions: Iterable[str]) -> list[Text]:
    """Problems with an expression's syntax and names; an empty list means it may be saved."""
    try:
        tree = parse_expression(expression)
    except ExpressionError as exc:
        return [exc.text]
    names, callables = set(known_names), set(functions)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    problems: list[Text] = []
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            problems.append(text(N_("không cho phép cấu trúc %(construct)s"), construct=type(node).__name__))
        elif isinstance(node, ast.Attribute) and node.attr not in _ALL_ALLOWED_ATTRIBUTES:
            problems.append(text(N_("không cho phép truy cập thuộc tính '%(attribute)s'"), attribute=node.attr))
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id not in callables:
                problems.append(text(N_("hàm không được phép '%(function)s'"), function=node.func.id))
            elif not isinstance(node.func, ast.Name | ast.Attribute):
                problems.append(text(N_("chỉ được gọi hàm theo tên")))
        elif (isinstance(node, ast.Name) and id(node) not in called
              and node.id not in names and node.id not in callables):
            problems.append(text(N_("tên không xác định '%(name)s'"), name=node.id))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str | bytes) and len(node.value) > 1000:
            problems.append(text(N_("chuỗi hằng quá dài")))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            problems.append(text(N_("không cho phép lũy thừa **")))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_text(node.left):
            problems.append(text(N_("không cho phép định dạng chuỗi bằng %")))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and _large_repeat(node):
            problems.append(text(N_("phép nhân lặp chuỗi/danh sách quá lớn")))
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
        tree = parse_expression(expression)
    except ExpressionError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _safe_mod(a: Any, b: Any) -> Any:
    if isinstance(a, str | bytes):
        raise simpleeval.FeatureNotAvailable("string %-formatting is not available")
    return a % b


class ValueTooLarge(simpleeval.IterableTooLong):
    pass


def size_of(value: Any, limit: int = MAX_VALUE_SIZE) -> int:
    """Characters plus elements of `value`, counted deep; ValueTooLarge past `limit`.

    A list repeated from one big string holds one string many times: cheap in memory, but str() of
    it would print every copy, so each reference counts in full. Sizes of containers already
    measured are remembered, so that measuring costs at most `limit` steps."""
    measured: dict[int, int] = {}

    def measure(item: Any) -> int:
        if isinstance(item, str | bytes | bytearray):
            return len(item)
        if not isinstance(item, list | tuple | set | frozenset | dict):
            return 1
        known = measured.get(id(item))
        if known is not None:
            return known
        total = len(item)
        parts = [p for pair in item.items() for p in pair] if isinstance(item, dict) else item
        for part in parts:
            if total > limit:
                break
            total += measure(part)
        if total > limit:
            raise ValueTooLarge(f"giá trị lớn quá {limit:,} ký tự/phần tử")
        measured[id(item)] = total
        return total

    size = measure(value)
    if size > limit:
        raise ValueTooLarge(f"giá trị lớn quá {limit:,} ký tự/phần tử")
    return size


def _bounded_mult(a: Any, b: Any) -> Any:
    for sequence, count in ((a, b), (b, a)):
        if isinstance(count, int) and hasattr(sequence, "__len__") and count > 0 \
                and size_of(sequence) * count > MAX_VALUE_SIZE:
            raise ValueTooLarge(f"giá trị lớn quá {MAX_VALUE_SIZE:,} ký tự/phần tử")
    return simpleeval.safe_mult(a, b)


def _bounded_add(a: Any, b: Any) -> Any:
    if hasattr(a, "__len__") and hasattr(b, "__len__") and size_of(a) + size_of(b) > MAX_VALUE_SIZE:
        raise ValueTooLarge(f"giá trị lớn quá {MAX_VALUE_SIZE:,} ký tự/phần tử")
    return simpleeval.safe_add(a, b)


def bounded(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` as an expression may call it: arguments too large to print are refused before the
    call (str() of a shared-reference list would allocate gigabytes), and so is a result too large."""
    def call(*args: Any, **kwargs: Any) -> Any:
        for argument in (*args, *kwargs.values()):
            size_of(argument)
        result = function(*args, **kwargs)
        size_of(result)
        return result

    call.__name__ = getattr(function, "__name__", "function")
    return call


class _Evaluator(simpleeval.EvalWithCompoundTypes):
    """simpleeval without the constructs that loop or allocate without bound: comprehensions,
    f-strings and `**` (which simpleeval only caps per operand, not by the size of the result);
    `+` and `*` are bounded by the deep size of their result, not only its length."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        for node in (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.JoinedStr, ast.FormattedValue):
            self.nodes.pop(node, None)
        inherited: dict[Any, Any] = dict(getattr(self, "operators", {}))
        operators = {op: fn for op, fn in inherited.items() if op is not ast.Pow}
        operators[ast.Mod] = _safe_mod
        operators[ast.Mult] = _bounded_mult
        operators[ast.Add] = _bounded_add
        self.operators = operators


@lru_cache(maxsize=1024)
def _parsed(expression: str) -> ast.AST:
    # A diagram has a few dozen expressions evaluated again and again; their syntax trees are never
    # changed by evaluation, so each is parsed once.
    return parse_expression(expression).body


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that evaluates with simpleeval and refuses scripts."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]], constants: Mapping[str, Any]):
        super().__init__({})
        self.functions = {name: bounded(fn) for name, fn in {**SAFE_FUNCTIONS, **functions}.items()}
        self.constants = dict(constants)

    def evaluate(self, expression: str, context: Mapping[str, Any], external_context: Any = None) -> Any:
        names = {**context, **(external_context or {}), **self.constants}
        evaluator = _Evaluator(functions=self.functions, names=names, allowed_attrs=ALLOWED_ATTRIBUTES)
        try:
            return evaluator.eval(expression, _parsed(expression.strip()))
        except (simpleeval.InvalidExpression, SyntaxError, TypeError, KeyError, ValueError, ArithmeticError,
                IndexError, AttributeError, RecursionError, MemoryError) as exc:
            raise ExpressionError(text(N_("biểu thức %(expression)s lỗi khi chạy: %(error)s"),
                                       expression=repr(expression), error=exc)) from exc

    def execute(self, script: str, context: Any, external_context: Any = None) -> bool:
        raise ExpressionError(text(N_("không cho phép script task: sơ đồ là dữ liệu, không phải mã")))
