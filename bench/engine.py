"""What the engine layer costs on top of SpiffWorkflow, per step and per stored instance.

Run: .venv/bin/python bench/engine.py [--quick] [--profile]

1. Raw reference: the nomination happy path (draft -> unit head -> DOST check, select -> Home
   Affairs check, appraise -> award_decision message) on a bare BpmnWorkflow with Python's eval.
2. The same through workflows/: ProcessInstance.complete (form validation, restricted expressions,
   outcome bookkeeping), in memory and "persisted" as the service runs a request: json.loads ->
   engine.restore -> complete -> serialize -> json.dumps.
3. Stored state size (spec-less) against SpiffWorkflow's own serialization, which embeds the spec.
4. Growth: SpiffWorkflow keeps every completed task, so each return loop (unit head returns, staff
   redraft) lengthens the tree that every later request restores, walks and serializes.
5. Loading a diagram with every nomflow check against SpiffWorkflow's parser alone.

A step is one user-task completion. Times are wall clock (perf_counter_ns) after a warm-up; p50/p95
are nearest-rank. Compared variants run round-robin, so a shared machine changing speed moves them
alike: trust the ratios more than the absolute numbers. --profile prints a cProfile of the persisted
unit-head step instead.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import math
import os
import platform
import pstats
import tomllib
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from importlib.metadata import version
from pathlib import Path
from time import perf_counter_ns as now_ns
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions import timer
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from workflows.calendar import WorkingCalendar
from workflows.clock import FixedClock, using_clock
from workflows.engine import ProcessInstance, WorkflowEngine
from workflows.form_choices import MovementChoices
from workflows.forms import FormLibrary
from workflows.settings import EngineSettings, RoleCatalog

BPMN = Path(__file__).resolve().parent.parent / "bpmn" / "nomination.bpmn"
# The forms ask for the movement's lists (nominee kinds, criteria, awards), as the service gives them.
_MOVEMENT = tomllib.loads((BPMN.parent.parent / "config" / "movements" / "2026_khcn_dmst_cds.toml").read_text("utf-8"))
CHOICES = MovementChoices.from_data(_MOVEMENT["nominee_kinds"], _MOVEMENT["awards"])
START = datetime(2026, 4, 13, 9, 0, tzinfo=timezone(timedelta(hours=7)))  # Monday morning in Hưng Yên
START_DATA = {"nomination_id": "N1", "unit_id": "U-hien-nam"}
DRAFT = {  # the shape of tests/workflows/conftest.py draft_data()
    "nominee_kind": "co_quan_don_vi",
    "nominee_name": "Ủy ban nhân dân phường Hiến Nam",
    "award": "bang_khen",
    "achievement_summary": "Triển khai dịch vụ công trực tuyến toàn trình, số hóa 100% hồ sơ.",
    "criteria": ["a1", "a3"],
    "dossier": {"to_trinh": "1" * 64, "bien_ban_hoi_dong": "2" * 64, "bao_cao_thanh_tich": "3" * 64},
}
SUBMIT = {"decision": "submit", "submission_number": "12/TTr-UBND"}
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("draft_nomination", DRAFT),
    ("unit_head_review", SUBMIT),
    ("dost_check_dossier", {"decision": "complete", "criteria_met": ["a1", "a3"]}),
    ("dost_select", {"decision": "select"}),
    ("home_affairs_check", {"decision": "complete"}),
    ("home_affairs_appraise", {"decision": "propose", "appraisal_opinion": "Đủ điều kiện đề nghị tặng Bằng khen."}),
]
RETURN = {"decision": "return", "reason": "Thiếu minh chứng về kết quả chuyển đổi số."}
DECISION = {"outcome": "awarded"}
Samples = dict[str, list[int]]  # part ("total", "restore", ...) -> ns
PerStep = dict[str, Samples]  # task id -> part -> ns


def per_step() -> PerStep:
    return defaultdict(lambda: defaultdict(list))


def pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def us(values: list[int], q: float) -> float:
    return pct(values, q) / 1e3


def elapsed(fn: Callable[[], Any]) -> int:
    t0 = now_ns()
    fn()
    return now_ns() - t0


def table(title: str, headers: list[str], rows: list[list[Any]]) -> None:
    cells = [[f"{c:,.1f}" if isinstance(c, float) else f"{c:,}" if isinstance(c, int) else str(c) for c in r]
             for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths, strict=True)))
    print(f"\n{title}\n{line(headers)}\n{'-' * (sum(widths) + 2 * len(widths) - 2)}")
    for r in cells:
        print(line(r))


# --- 1. raw SpiffWorkflow ------------------------------------------------------------------------

class RawScriptEngine(PythonScriptEngine):
    def __init__(self) -> None:
        super().__init__(TaskDataEnvironment({"working_days": lambda n, hour=17: "2099-01-01T00:00:00+00:00",
                                              "max_returns": 5}))

    def call_service(self, task: Any, **kwargs: Any) -> str:
        if kwargs["operation_name"] == "count_return":
            return json.dumps(task.data.get("return_count", 0) + 1)
        return "null"


def raw_parse(data: bytes, validate: bool = True) -> tuple[Any, Any]:
    parser = SpiffBpmnParser(validator=VALIDATOR if validate else None)
    parser.add_bpmn_xml(etree.ElementTree(etree.fromstring(data)), BPMN.name)
    return parser.get_spec("nomination"), parser.get_subprocess_specs("nomination")


def raw_lifecycle(spec: Any, subprocess_specs: Any, steps: PerStep) -> int:
    # WorkflowEngine routes SpiffWorkflow's timer clock through its own; the raw run gets stdlib datetime.
    patched, timer.datetime = timer.datetime, datetime
    try:
        return _raw_lifecycle(spec, subprocess_specs, steps)
    finally:
        timer.datetime = patched


def raw_persisted_steps(spec: Any, subprocess_specs: Any, steps: PerStep) -> None:
    """The happy path as a service on bare SpiffWorkflow would run each request: its own serializer's
    JSON in (spec included, as SpiffWorkflow stores it), the step, JSON out."""
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    patched, timer.datetime = timer.datetime, datetime
    try:
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=RawScriptEngine())
        initial = {**START_DATA, "process_id": "nomination", "return_count": 0}
        workflow.data.update(initial)
        workflow.task_tree.data.update(initial)
        workflow.do_engine_steps()
        state = serializer.serialize_json(workflow)
        for task_id, data in STEPS:
            t = now_ns()
            workflow = serializer.deserialize_json(state)
            workflow.script_engine = RawScriptEngine()
            task = next(t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == task_id)
            task.data.update(data)
            task.run()
            workflow.do_engine_steps()
            state = serializer.serialize_json(workflow)
            steps[task_id]["total"].append(now_ns() - t)
    finally:
        timer.datetime = patched


def _raw_lifecycle(spec: Any, subprocess_specs: Any, steps: PerStep) -> int:
    t0 = now_ns()
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=RawScriptEngine())
    initial = {**START_DATA, "process_id": "nomination", "return_count": 0}
    workflow.data.update(initial)
    workflow.task_tree.data.update(initial)
    workflow.do_engine_steps()
    for task_id, data in STEPS:
        task = next(t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == task_id)
        t = now_ns()
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()
        steps[task_id]["total"].append(now_ns() - t)
    waiting = next(t for t in workflow.get_tasks(state=TaskState.WAITING)
                   if isinstance(getattr(t.task_spec, "event_definition", None), MessageEventDefinition))
    workflow.catch(BpmnEvent(waiting.task_spec.event_definition, dict(DECISION)))
    workflow.do_engine_steps()
    assert workflow.is_completed()
    return now_ns() - t0


# --- 2. through workflows/ -----------------------------------------------------------------------

def task_uuid(instance: ProcessInstance, task_id: str) -> str:
    return next(t.id for t in instance.open_tasks() if t.task_id == task_id)


def persisted_step(engine: WorkflowEngine, state: str, uuid: str, data: dict[str, Any],
                   parts: Samples) -> tuple[ProcessInstance, str]:
    """One service request: load the stored state, complete the task, store the new state."""
    t0 = now_ns()
    instance = engine.restore(json.loads(state))
    t1 = now_ns()
    instance.complete(uuid, data, "bench", choices=CHOICES)
    t2 = now_ns()
    new_state = json.dumps(instance.serialize())
    t3 = now_ns()
    for part, ns in (("restore", t1 - t0), ("complete", t2 - t1), ("serialize", t3 - t2), ("total", t3 - t0)):
        parts[part].append(ns)
    return instance, new_state


def engine_lifecycle(engine: WorkflowEngine, steps: PerStep, persisted: bool) -> int:
    t0 = now_ns()
    instance, _ = engine.start("nomination", START_DATA)
    state = json.dumps(instance.serialize()) if persisted else ""
    for task_id, data in STEPS:
        uuid = task_uuid(instance, task_id)  # the request names the task: not part of the step
        if persisted:
            instance, state = persisted_step(engine, state, uuid, data, steps[task_id])
        else:
            t = now_ns()
            instance.complete(uuid, data, "bench", choices=CHOICES)
            steps[task_id]["total"].append(now_ns() - t)
    if persisted:
        instance = engine.restore(json.loads(state))
    instance.deliver("award_decision", dict(DECISION))
    if persisted:
        json.dumps(instance.serialize())
    assert instance.status == "completed"
    return now_ns() - t0


def section_steps(n: int, spec: Any, subprocess_specs: Any, engine: WorkflowEngine) -> None:
    runs: list[Callable[[PerStep], int]] = [lambda s: raw_lifecycle(spec, subprocess_specs, s),
                                            lambda s: engine_lifecycle(engine, s, False),
                                            lambda s: engine_lifecycle(engine, s, True)]
    for _ in range(max(5, n // 10)):  # warm-up
        for run in runs:
            run(per_step())
    gc.collect()
    # Round-robin, so that a machine slowing down or speeding up moves all three alike.
    results: list[tuple[list[int], PerStep]] = [([], per_step()) for _ in runs]
    for _ in range(n):
        for run, (totals, steps) in zip(runs, results, strict=True):
            totals.append(run(steps))
    (raw_total, raw), (mem_total, mem), (per_total, per) = results

    rows = []
    for name, ids in [(t, [t]) for t, _ in STEPS] + [("all steps", [t for t, _ in STEPS])]:
        r, m, p = ([v for t in ids for v in s[t]["total"]] for s in (raw, mem, per))
        rows.append([name, us(r, .5), us(r, .95), us(m, .5), us(m, .95), us(p, .5), us(p, .95),
                     f"{us(m, .5) / us(r, .5):.1f}x", f"{us(p, .5) / us(r, .5):.1f}x"])
    table(f"Per-step cost, one user-task completion ({n} lifecycles; µs)",
          ["step", "raw p50", "raw p95", "engine p50", "engine p95", "persisted p50", "persisted p95",
           "engine/raw p50", "persisted/raw p50"], rows)
    table("Whole lifecycle: start + 6 completions + award_decision message (ms)",
          ["variant", "p50 ms", "p95 ms", "vs raw p50"],
          [[name, pct(v, .5) / 1e6, pct(v, .95) / 1e6, f"{pct(v, .5) / pct(raw_total, .5):.1f}x"]
           for name, v in [("raw SpiffWorkflow", raw_total), ("engine in memory", mem_total),
                           ("engine persisted per step", per_total)]])
    p50 = {t: {part: us(v, .5) for part, v in per[t].items()} for t, _ in STEPS}
    table("Persisted step broken down (p50 µs): restore = json.loads + engine.restore; "
          "serialize = serialize + json.dumps",
          ["step", "restore", "complete", "serialize", "total", "(de)serialize share"],
          [[t, p["restore"], p["complete"], p["serialize"], p["total"],
            f"{(p['restore'] + p['serialize']) / p['total']:.0%}"] for t, p in p50.items()])


# --- 3. state size -------------------------------------------------------------------------------

def section_sizes(engine: WorkflowEngine) -> None:
    full = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    instance, _ = engine.start("nomination", START_DATA)
    rows = []
    for point in ("just started", "waiting for decision", "completed"):
        if point == "waiting for decision":
            for task_id, data in STEPS:
                instance.complete(task_uuid(instance, task_id), data, "bench", choices=CHOICES)
        elif point == "completed":
            instance.deliver("award_decision", dict(DECISION))
        ours = len(json.dumps(instance.serialize()).encode())
        theirs = len(full.serialize_json(instance.workflow).encode())
        rows.append([point, len(instance.workflow.tasks), ours, theirs, f"{theirs / ours:.1f}x"])
    table("Stored state per instance (bytes of JSON)",
          ["point", "tasks in tree", "nomflow state B", "SpiffWorkflow full B", "full/state"], rows)


# --- 4. growth with return loops -----------------------------------------------------------------

def state_after_loops(engine: WorkflowEngine, loops: int) -> tuple[ProcessInstance, str]:
    instance, _ = engine.start("nomination", START_DATA)
    instance.complete(task_uuid(instance, "draft_nomination"), DRAFT, "bench", choices=CHOICES)
    for _ in range(loops):
        instance.complete(task_uuid(instance, "unit_head_review"), RETURN, "bench", choices=CHOICES)
        # a return leads to the returned draft, a task of its own (with its reminder and deadline timers)
        instance.complete(task_uuid(instance, "revise_nomination"), DRAFT, "bench", choices=CHOICES)
    return instance, json.dumps(instance.serialize())


def spiff_part(engine: WorkflowEngine, state: str, uuid: str, data: dict[str, Any], parts: Samples) -> None:
    """Only SpiffWorkflow's share of complete(): no form check, task lookup or outcome bookkeeping."""
    workflow = engine.restore(json.loads(state)).workflow
    task = next(t for t in workflow.get_tasks(state=TaskState.READY) if str(t.id) == uuid)
    with using_clock(engine.clock):
        t0 = now_ns()
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()
        parts["spiff"].append(now_ns() - t0)


def section_growth(reps: int, engine: WorkflowEngine) -> None:
    cases = []
    for loops in (0, 5, 20):
        instance, state = state_after_loops(engine, loops)
        cases.append((loops, len(instance.workflow.tasks), state, task_uuid(instance, "unit_head_review")))
    samples: dict[int, Samples] = {loops: defaultdict(list) for loops, *_ in cases}
    warmup = max(5, reps // 10)
    for i in range(warmup + reps):  # round-robin over the cases, like section 1
        if i == warmup:
            gc.collect()
        for loops, _, state, uuid in cases:
            parts = samples[loops] if i >= warmup else defaultdict(list)
            persisted_step(engine, state, uuid, SUBMIT, parts)
            spiff_part(engine, state, uuid, SUBMIT, parts)
    rows = [[loops, 1 + 2 * loops, tasks, len(state.encode()),
             *(us(samples[loops][p], .5) for p in ("restore", "complete", "spiff", "serialize", "total")),
             us(samples[loops]["total"], .95)] for loops, tasks, state, _ in cases]
    table(f"Growth: unit head submits after k return loops (max_returns=50; {reps} reps from one stored "
          "state; µs, bytes). (spiff) = task.run + do_engine_steps alone, part of complete",
          ["loops", "completions", "tasks", "state B", "restore p50", "complete p50", "(spiff p50)",
           "serialize p50", "total p50", "total p95"], rows)


# --- 5. diagram load -----------------------------------------------------------------------------

def section_load(reps: int, engine: WorkflowEngine) -> None:
    data = BPMN.read_bytes()
    warm = WorkflowEngine.loader(engine.roles, engine.forms, engine.settings)
    variants: list[tuple[str, Callable[[], Any]]] = [
        ("SpiffBpmnParser(validator=VALIDATOR)", lambda: raw_parse(data)),
        ("SpiffBpmnParser, no validator", lambda: raw_parse(data, validate=False)),
        ("DiagramLoader.load (forms cached)", lambda: warm.load(data, BPMN.name)),
        ("DiagramLoader.load (roles+forms read)", lambda: WorkflowEngine.loader(
            RoleCatalog.default(), FormLibrary.default(), engine.settings).load(data, BPMN.name)),
    ]
    rows, reference = [], 0.0
    for name, load in variants:
        load(), load()  # warm-up
        gc.collect()
        times = [elapsed(load) for _ in range(reps)]
        reference = reference or pct(times, .5)
        rows.append([name, pct(times, .5) / 1e6, min(times) / 1e6, f"{pct(times, .5) / reference:.2f}x"])
    table(f"Diagram load: nomination.bpmn, {len(data):,} bytes ({reps} reps; ms)",
          ["loader", "p50 ms", "min ms", "vs raw p50"], rows)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--quick", action="store_true", help="fewer repetitions (< 30 s)")
    args.add_argument("--profile", action="store_true", help="cProfile the persisted unit-head step, then exit")
    opts = args.parse_args()
    n, reps, load_reps = (20, 40, 5) if opts.quick else (200, 300, 20)

    print("nomflow engine benchmark" + (" (--quick)" if opts.quick else ""))
    print(f"Python {platform.python_version()} ({platform.python_implementation()}), "
          f"SpiffWorkflow {version('SpiffWorkflow')}")
    print(f"{platform.platform()}, {platform.machine()}, os.cpu_count()={os.cpu_count()}")
    engine = WorkflowEngine.from_repository(FixedClock(START))

    if opts.profile:
        instance, state = state_after_loops(engine, 0)
        uuid = task_uuid(instance, "unit_head_review")
        for _ in range(20):
            persisted_step(engine, state, uuid, SUBMIT, defaultdict(list))
        with cProfile.Profile() as profiler:
            for _ in range(reps):
                persisted_step(engine, state, uuid, SUBMIT, defaultdict(list))
        print(f"\ncProfile: {reps} persisted unit-head steps (restore + complete + serialize)")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        return

    section_steps(n, *raw_parse(BPMN.read_bytes()), engine)
    gc.collect()
    section_sizes(engine)
    gc.collect()
    roles, forms, settings = RoleCatalog.default(), FormLibrary.default(), EngineSettings(max_returns=50)
    looping = WorkflowEngine(WorkflowEngine.loader(roles, forms, settings).load_directory(), clock=FixedClock(START),
                             calendar=WorkingCalendar.default(), settings=settings, roles=roles, forms=forms)
    section_growth(reps, looping)
    gc.collect()
    section_load(load_reps, engine)


if __name__ == "__main__":
    main()
