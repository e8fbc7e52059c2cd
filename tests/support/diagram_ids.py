"""Renaming every element id of a diagram, as an admin's edits in the editor may: the references
to each id (flows, lanes, boundary events, default flows, messages, the drawing) follow it.

Used to prove that the service depends on what a diagram declares (its properties), never on its ids.
"""

from __future__ import annotations

import ast
import hashlib

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# Attributes whose value is the id of another element.
REF_ATTRIBUTES = ("sourceRef", "targetRef", "attachedToRef", "default", "processRef", "messageRef",
                  "bpmnElement", "sourceElement", "targetElement", "calledElement", "errorRef", "signalRef",
                  "escalationRef", "dataObjectRef", "dataStoreRef")
# Elements whose text is the id of another element.
REF_TEXTS = ("flowNodeRef", "incoming", "outgoing", "sourceRef", "targetRef")
# spiff extension elements carry `id`s that are names (an action, a parameter), not element ids.
NOT_ELEMENT_IDS = {f"{{{SPIFF}}}serviceTaskOperator", f"{{{SPIFF}}}parameter"}


def element_ids(bpmn: bytes) -> set[str]:
    root = etree.fromstring(bpmn)
    return {node.get("id") for node in root.iter() if isinstance(node.tag, str) and node.get("id")
            and node.tag not in NOT_ELEMENT_IDS}


def rename_element_ids(bpmn: bytes, keep: set[str] = frozenset(), prefix: str = "Node") -> tuple[bytes, dict[str, str]]:
    """Every element id except `keep` (the process ids, which are the deployment keys) gets a new,
    unrelated id; returns the new diagram and old → new."""
    root = etree.fromstring(bpmn)
    mapping = {old: f"{prefix}_{hashlib.sha1(old.encode()).hexdigest()[:10]}"
               for old in sorted(element_ids(bpmn)) if old not in keep}
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        if node.get("id") in mapping and node.tag not in NOT_ELEMENT_IDS:
            node.set("id", mapping[node.get("id", "")])
        for attribute in REF_ATTRIBUTES:
            if node.get(attribute) in mapping:
                node.set(attribute, mapping[node.get(attribute, "")])
        if etree.QName(node).localname in REF_TEXTS and node.text and node.text.strip() in mapping:
            node.text = mapping[node.text.strip()]
        # A reminder's `task` parameter names the task it is about: a reference like any other.
        if node.tag == f"{{{SPIFF}}}parameter" and node.get("id") == "task":
            try:
                named = ast.literal_eval(node.get("value", ""))
            except (ValueError, SyntaxError):
                named = None
            if named in mapping:
                node.set("value", f'"{mapping[named]}"')
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), mapping
