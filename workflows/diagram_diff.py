"""Element-level differences between two versions of a process, read from their BPMN XML.

An admin reviewing a deploy or a migration needs to see which steps, flows and lanes were added,
removed or changed, and how: name, lane, timer expression, condition, form, action and so on.
Layout (diagram interchange) is left out: moving a shape changes nothing that runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .diagram_checks import NS
from .safe_xml import DEFAULT_MAX_BYTES, parse_untrusted_xml

FLOW_ELEMENTS = {
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
    "sequenceFlow", "lane",
}
TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")


@dataclass(frozen=True)
class ElementChange:
    id: str
    name: str
    type: str
    attributes: tuple[str, ...] = ()
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@dataclass
class DiagramDiff:
    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)


def diff_process(old_bpmn: bytes, new_bpmn: bytes, process_id: str,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> DiagramDiff:
    old = describe_process(old_bpmn, process_id, max_bytes)
    new = describe_process(new_bpmn, process_id, max_bytes)
    diff = DiagramDiff()
    for element_id, attrs in new.items():
        if element_id not in old:
            diff.added.append(ElementChange(element_id, attrs.get("name", ""), attrs["type"]))
    for element_id, attrs in old.items():
        if element_id not in new:
            diff.removed.append(ElementChange(element_id, attrs.get("name", ""), attrs["type"]))
            continue
        after = new[element_id]
        keys = [k for k in dict.fromkeys([*attrs, *after]) if attrs.get(k) != after.get(k)]
        if keys:
            diff.changed.append(ElementChange(
                element_id, after.get("name", "") or attrs.get("name", ""), after["type"], tuple(keys),
                {k: attrs.get(k) for k in keys}, {k: after.get(k) for k in keys}))
    return diff


def describe_process(data: bytes, process_id: str, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, dict[str, Any]]:
    """Every flow element, flow and lane of the process: id → what matters about it."""
    root = parse_untrusted_xml(data, max_bytes).getroot()
    process = next((p for p in root.iterfind("bpmn:process", NS) if p.get("id") == process_id), None)
    if process is None:
        raise LookupError(f"the file has no process {process_id!r}")
    lanes = {
        (ref.text or "").strip(): lane.get("name", "")
        for lane in process.iterfind(".//bpmn:lane", NS) for ref in lane.iterfind("bpmn:flowNodeRef", NS)
    }
    messages = {m.get("id"): m.get("name", "") for m in root.iterfind("bpmn:message", NS)}
    elements: dict[str, dict[str, Any]] = {}
    for node in process.iter():
        if not isinstance(node.tag, str):
            continue
        qname = etree.QName(node)
        if qname.namespace != NS["bpmn"] or qname.localname not in FLOW_ELEMENTS or not node.get("id"):
            continue
        elements[node.get("id")] = _describe(node, qname.localname, lanes, messages)
    return elements


def _describe(node: etree._Element, kind: str, lanes: dict[str, str], messages: dict[str, str]) -> dict[str, Any]:
    attrs: dict[str, Any] = {"type": kind, "name": node.get("name", "")}
    element_id = node.get("id")
    if kind == "lane":
        attrs["members"] = sorted((r.text or "").strip() for r in node.iterfind("bpmn:flowNodeRef", NS))
        return attrs
    if kind == "sequenceFlow":
        attrs["source"], attrs["target"] = node.get("sourceRef"), node.get("targetRef")
        condition = node.find("bpmn:conditionExpression", NS)
        attrs["condition"] = _text(condition)
        return attrs
    attrs["lane"] = lanes.get(element_id, "")
    for key, attr in (("attached_to", "attachedToRef"), ("default_flow", "default")):
        if node.get(attr) is not None:
            attrs[key] = node.get(attr)
    if kind == "boundaryEvent":  # editors leave out the default (interrupting), so compare the meaning
        attrs["cancel_activity"] = node.get("cancelActivity", "true") != "false"
    timer = node.find("bpmn:timerEventDefinition", NS)
    if timer is not None:
        attrs["timer"] = next((f"{kind_}: {_text(timer.find(f'bpmn:{kind_}', NS))}" for kind_ in TIMER_KINDS
                               if timer.find(f"bpmn:{kind_}", NS) is not None), "")
    message = node.find("bpmn:messageEventDefinition", NS)
    if message is not None:
        attrs["message"] = messages.get(message.get("messageRef"), message.get("messageRef"))
    props = {p.get("name"): p.get("value") for p in node.iterfind("bpmn:extensionElements//spiffworkflow:property", NS)}
    if "formJsonSchemaFilename" in props or "formUiSchemaFilename" in props:
        attrs["form"] = props.get("formJsonSchemaFilename")
        attrs["ui_form"] = props.get("formUiSchemaFilename")
    operator = node.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
    if operator is not None:
        params = {p.get("id"): p.get("value") for p in operator.iterfind(".//spiffworkflow:parameter", NS)}
        attrs["action"] = operator.get("id")
        attrs["action_parameters"] = params
        attrs["result_variable"] = operator.get("resultVariable")
    documentation = node.find("bpmn:documentation", NS)
    if documentation is not None:
        attrs["documentation"] = _text(documentation)
    return attrs


def _text(node: etree._Element | None) -> str | None:
    return (node.text or "").strip() if node is not None else None
