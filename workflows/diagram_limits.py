"""What one upload may cost and hold, checked before anything else reads the document.

- Size: elements, flow elements and nesting are capped (engine.toml), so that validation time is
  bounded by the caps (bench/validate.py) and SpiffWorkflow's parser, which follows each path
  recursively, never meets a path longer than it can follow (a 500-task chain overflows it).
- Ids and names are stored in columns of a fixed width (the service's process_version.process_id,
  open_task.task_id and process_instance.end_event hold 100 characters, names 300), so the
  validator refuses what the database would refuse after it said yes.
- Ids are unique in the whole document: SpiffWorkflow finds elements by id anywhere, so a task id
  equal to a service-task parameter's id (`task`) would be read as that parameter.
"""

from __future__ import annotations

from lxml import etree

from .diagram_checks import NS, DiagramProblem
from .diagram_graph import FLOW_NODES
from .settings import EngineSettings
from .wording import N_, Text, text

MAX_ID_LENGTH = 100
MAX_NAME_LENGTH = 300


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _problem(filename: str, node: etree._Element | None, message: Text) -> DiagramProblem:
    return DiagramProblem(filename, node.get("id", "") if node is not None else "",
                          node.get("name", "") if node is not None else "",
                          node.sourceline if node is not None else None, str(message), message.template,
                          dict(message.params))


def cap_problems(tree: etree._ElementTree, filename: str, settings: EngineSettings) -> list[DiagramProblem]:
    """The document is over a cap: one problem, and nothing else is read."""
    root = tree.getroot()
    elements = flow = depth = deepest = 0
    deepest_node: etree._Element | None = None
    for event, node in etree.iterwalk(root, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth += 1
        elements += 1
        if depth > deepest:
            deepest, deepest_node = depth, node
        if _local(node) in FLOW_NODES or _local(node) == "sequenceFlow":
            flow += 1

    def at(node: etree._Element | None, message: Text) -> DiagramProblem:
        return _problem(filename, node, message)

    if elements > settings.max_diagram_elements:
        return [at(None, text(N_("sơ đồ có %(count)s phần tử XML, tối đa %(limit)s"), count=f"{elements:,}",
                              limit=f"{settings.max_diagram_elements:,}"))]
    if flow > settings.max_flow_elements:
        return [at(None, text(N_("sơ đồ có %(count)s bước và luồng, tối đa %(limit)s; hãy tách thành nhiều "
                                 "quy trình"), count=f"{flow:,}", limit=f"{settings.max_flow_elements:,}"))]
    if deepest > settings.max_diagram_depth:
        return [at(deepest_node, text(N_("XML lồng nhau %(depth)s tầng, tối đa %(limit)s"), depth=deepest,
                                      limit=settings.max_diagram_depth))]
    return []


def id_problems(tree: etree._ElementTree, filename: str) -> list[DiagramProblem]:
    """Ids and names too long for their columns; ids used twice in the document."""
    root = tree.getroot()

    def at(node: etree._Element | None, message: Text) -> DiagramProblem:
        return _problem(filename, node, message)

    problems: list[DiagramProblem] = []
    holders: dict[str, list[etree._Element]] = {}
    for node in root.iter():
        if isinstance(node.tag, str) and node.get("id") is not None:
            holders.setdefault(node.get("id"), []).append(node)
    for node_id, nodes in holders.items():
        bpmn = [n for n in nodes if etree.QName(n).namespace == NS["bpmn"]]
        for node in bpmn:
            executable = _local(node) in FLOW_NODES or _local(node) in ("process", "sequenceFlow")
            if executable and len(node_id) > MAX_ID_LENGTH:
                problems.append(at(node, text(N_("mã phần tử dài %(length)s ký tự, tối đa %(limit)s"),
                                              length=len(node_id), limit=MAX_ID_LENGTH)))
            if executable and len(node.get("name", "")) > MAX_NAME_LENGTH:
                problems.append(at(node, text(N_("tên dài quá %(limit)s ký tự"), limit=MAX_NAME_LENGTH)))
        # Spiff extensions repeat ids freely (the action of two service tasks); a BPMN element's id
        # must be its own, or SpiffWorkflow's index of the process maps it to the other element.
        if bpmn and len(nodes) > 1:
            others = ", ".join(f"{_local(n)}:{n.sourceline}" for n in nodes if n is not bpmn[0])
            problems.append(at(bpmn[0], text(N_("mã '%(id)s' cũng là mã của %(others)s; hãy đổi mã phần tử"),
                                             id=node_id, others=others)))
    return problems


def as_utf8(tree: etree._ElementTree, data: bytes) -> bytes:
    """The diagram's bytes in UTF-8, as stored and served (`charset=utf-8`): a UTF-16 (or other)
    upload is re-serialised; a UTF-8 one is kept byte for byte."""
    encoding = (tree.docinfo.encoding or "UTF-8").upper().replace("_", "-")
    if encoding in ("UTF-8", "UTF8", "ASCII", "US-ASCII") and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return bytes(data)
    return etree.tostring(tree, encoding="UTF-8", xml_declaration=True)


__all__ = ["MAX_ID_LENGTH", "MAX_NAME_LENGTH", "NS", "as_utf8", "cap_problems", "id_problems"]
