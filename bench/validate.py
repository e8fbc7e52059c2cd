"""Validation cost of the largest diagrams an upload may hold.

    .venv/bin/python bench/validate.py

A diagram is untrusted input checked inside a web request, so its cost must be bounded by the
caps (engine.toml: max_flow_elements, max_diagram_elements, max_diagram_depth, max_bpmn_bytes), not
by what an admin chooses to draw. Each row builds a diagram at (or just over) a cap and times the
loader on it: the XML parse, the schema, our checks, SpiffWorkflow's parser. The target is <= 2 s
for the largest diagram the caps admit.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflows.diagram_checks import DiagramError  # noqa: E402
from workflows.engine import WorkflowEngine  # noqa: E402
from workflows.forms import FormLibrary  # noqa: E402
from workflows.settings import EngineSettings, RoleCatalog  # noqa: E402

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'id="definitions_chain" targetNamespace="https://nomflow.example/bpmn/chain">\n'
        '  <bpmn:process id="chain" name="Chuỗi" isExecutable="true">\n')


def chain_diagram(tasks: int, kind: str = "manualTask", loop: bool = False, notes: int = 0) -> bytes:
    """start -> t1 -> ... -> tN -> end, all in one lane; with `loop`, a gateway returns from tN to t1
    (an unbounded loop the validator must find, the worst case of the old quadratic loop check).
    kind="task" gives the most compact form: plain tasks need no lane, nor a name. `notes` adds that
    many documentation elements to each task, to reach the cap on XML elements."""
    ids = [f"t{i}" for i in range(1, tasks + 1)]
    nodes = ["start", *ids] + (["gw"] if loop else []) + ["end"]
    out = [HEAD]
    if kind != "task":
        refs = "".join(f"        <bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>\n" for n in nodes)
        out += ['    <bpmn:laneSet id="lanes">\n      <bpmn:lane id="lane_staff" name="unit_staff">\n', refs,
                "      </bpmn:lane>\n    </bpmn:laneSet>\n"]
    out.append('    <bpmn:startEvent id="start" />\n')
    docs = "".join(f"<bpmn:documentation>ghi chú {n}</bpmn:documentation>" for n in range(notes))
    out += [f'<bpmn:{kind} id="{i}"/>\n' if kind == "task" else
            f'    <bpmn:{kind} id="{i}" name="Bước {i}">{docs}</bpmn:{kind}>\n' for i in ids]
    if loop:
        out.append('    <bpmn:exclusiveGateway id="gw" default="f_gw_end" />\n')
    out.append('    <bpmn:endEvent id="end" />\n')
    for a, b in zip(nodes, nodes[1:], strict=False):
        flow = "f_gw_end" if a == "gw" else f"f_{a}"
        out.append(f'<bpmn:sequenceFlow id="{flow}" sourceRef="{a}" targetRef="{b}"/>\n')
    if loop:
        out.append('    <bpmn:sequenceFlow id="f_back" sourceRef="gw" targetRef="t1">'
                   '<bpmn:conditionExpression>process_id == "x"</bpmn:conditionExpression></bpmn:sequenceFlow>\n')
    out.append("  </bpmn:process>\n</bpmn:definitions>\n")
    return "".join(out).encode("utf-8")


def timed(loader, data: bytes) -> tuple[float, str]:
    runs = []
    verdict = ""
    for _ in range(3):
        started = time.perf_counter()
        try:
            loader.load(data, "bench.bpmn")
            verdict = "valid"
        except DiagramError as exc:
            verdict = f"refused: {exc.problems[0].message[:60]}"
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), verdict


def main() -> None:
    settings = EngineSettings.default()
    loader = WorkflowEngine.loader(RoleCatalog.default(), FormLibrary.default(), settings)
    # A chain of N tasks has N + 2 nodes and N + 1 flows.
    largest = (settings.max_flow_elements - 3) // 2
    loop_largest = (settings.max_flow_elements - 5) // 2
    per_task = (settings.max_diagram_elements - 3 * largest - 10) // largest
    rows = [
        ("shipped nomination.bpmn", (Path(__file__).resolve().parent.parent / "bpmn" / "nomination.bpmn").read_bytes()),
        (f"chain of {largest} tasks (largest admitted)", chain_diagram(largest)),
        (f"loop of {loop_largest} tasks (largest admitted)", chain_diagram(loop_largest, loop=True)),
        (f"chain of {largest} tasks x {per_task} notes (most XML elements admitted)",
         chain_diagram(largest, notes=per_task)),
        (f"chain of {largest + 1} tasks (over the cap)", chain_diagram(largest + 1)),
        ("loop of 10,000 tasks (issue's 70 s case)", chain_diagram(10_000, loop=True)),
        ("chain of 20,000 plain tasks (issue's RecursionError)", chain_diagram(20_000, kind="task")),
    ]
    print("| diagram | bytes | median of 3 (s) | verdict |\n|---|---:|---:|---|")
    for label, data in rows:
        seconds, verdict = timed(loader, data)
        print(f"| {label} | {len(data):,} | {seconds:.3f} | {verdict} |")


if __name__ == "__main__":
    main()
