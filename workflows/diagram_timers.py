"""Checks on timer expressions and working_days() calls, evaluating nothing.

A literal timer value goes through SpiffWorkflow's own parsers, but only after its size is known:
the library turns years and months into days by looping over every month (`P99999999Y` loops a
billion times) and adds durations to datetimes (`P9999Y` overflows), and a cycle that repeats every
zero seconds keeps the engine firing it for ever.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .calendar import MAX_WORKING_DAYS
from .expressions import ExpressionError, parse_expression
from .wording import N_, Text, text

# Longest duration or cycle interval a timer may wait (ten years): deadlines are days or weeks.
MAX_TIMER_DAYS = 3660
# Shortest interval of a repeating timer: each firing costs a sweep, and zero would never end.
MIN_CYCLE_SECONDS = 60
# Latest year a timer date may name, so that adding a duration to it cannot overflow.
MAX_TIMER_YEAR = 2999
# A fixed instant to turn a calendar duration (months, years) into seconds when checking it.
_REFERENCE = datetime(2026, 1, 1, tzinfo=UTC)
_DAYS_AT_MOST = {"years": 366, "months": 31, "weeks": 7, "days": 1, "hours": 1 / 24, "minutes": 1 / 1440,
                 "seconds": 1 / 86400}


def timer_problems(expression: str, kind: str) -> list[Text]:
    """Problems of a timer expression whose syntax and names were already checked."""
    try:
        tree = parse_expression(expression)
        value = ast.literal_eval(tree.body)
    except (ExpressionError, ValueError, SyntaxError, TypeError):
        return []  # a call such as working_days(5): its literal arguments are checked apart
    if not isinstance(value, str):
        return [text(N_("hẹn giờ phải là chuỗi ISO 8601 hoặc working_days(n)"))]
    invalid = text(N_("'%(value)s' không phải giá trị ISO 8601 hợp lệ cho %(kind)s"), value=value, kind=kind)
    try:
        if kind == "timeCycle":
            return _cycle_problems(value)
        if kind == "timeDuration":
            return _duration_problems(value)
        return _date_problems(value)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for bad values
        return [invalid]


def _duration_days(value: str) -> tuple[dict[str, float], float]:
    parsed = TimerEventDefinition.parse_iso_duration(value)
    return parsed, sum(float(v) * _DAYS_AT_MOST.get(k, 0) for k, v in parsed.items())


def _too_long(value: str) -> Text:
    return text(N_("'%(value)s' dài quá %(limit)s ngày"), value=value, limit=MAX_TIMER_DAYS)


def _duration_problems(value: str) -> list[Text]:
    parsed, days = _duration_days(value)
    if days > MAX_TIMER_DAYS:
        return [_too_long(value)]
    TimerEventDefinition.get_timedelta_from_start(parsed, _REFERENCE)
    return []


def _date_problems(value: str) -> list[Text]:
    instant = TimerEventDefinition.parse_time_or_duration(value)
    if isinstance(instant, datetime) and instant.year > MAX_TIMER_YEAR:
        return [text(N_("'%(value)s': năm sau %(limit)s"), value=value, limit=MAX_TIMER_YEAR)]
    if not isinstance(instant, datetime):
        raise ValueError("not a date")
    return []


def _cycle_problems(value: str) -> list[Text]:
    # The same split as TimerEventDefinition.parse_iso_recurring_interval, to size each part first.
    parts = value.upper().replace("--", "/").strip("R").split("/")
    if len(parts) not in (2, 3):
        raise ValueError("not a cycle")
    interval: timedelta | None = None
    for part in parts[1:]:
        if part.startswith("P"):
            parsed, days = _duration_days(part)
            if days > MAX_TIMER_DAYS:
                return [_too_long(part)]
            interval = TimerEventDefinition.get_timedelta_from_start(parsed, _REFERENCE)
        elif (problems := _date_problems(part)):
            return problems
    if interval is None:
        raise ValueError("a cycle needs an interval")
    if interval.total_seconds() < MIN_CYCLE_SECONDS:
        return [text(N_("chu kỳ '%(value)s' ngắn hơn %(limit)s giây"), value=value, limit=MIN_CYCLE_SECONDS)]
    TimerEventDefinition.parse_iso_recurring_interval(value)
    return []


def working_days_problems(expression: str) -> list[Text]:
    """Literal arguments of working_days(n, hour=17) that would fail when the timer is armed."""
    try:
        tree = parse_expression(expression)
    except ExpressionError:
        return []  # reported by check_expression
    problems = []
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "working_days"):
            continue
        named = {k.arg: k.value for k in call.keywords}
        if len(call.args) > 2 or set(named) - {"n", "hour"} or not (call.args or "n" in named):
            problems.append(text(N_("working_days nhận hai đối số: working_days(n, hour=17)")))
            continue
        n = call.args[0] if call.args else named.get("n")
        hour = call.args[1] if len(call.args) > 1 else named.get("hour")
        if not _literal_in(n, 0, MAX_WORKING_DAYS):
            problems.append(text(N_("working_days: n phải là số nguyên từ 0 đến %(limit)s"), limit=MAX_WORKING_DAYS))
        if hour is not None and not _literal_in(hour, 0, 23):
            problems.append(text(N_("working_days: hour phải là số nguyên từ 0 đến 23")))
    return problems


def _literal_in(node: ast.AST | None, low: int, high: int) -> bool:
    """True unless `node` is a literal outside [low, high] or not a whole number; names pass (run time checks)."""
    if node is None:
        return True
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return True
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
