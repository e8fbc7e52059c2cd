"""Broken and hostile diagrams: each one is refused with a clear, located error.

The corpus (tests/workflows/corpus/) holds small broken files made from `minimal_valid.bpmn`. The realistic
cases are mutations of the shipped `bpmn/nomination.bpmn`, made here at run time, and so are the files too
big or too explosive to commit (3 MB, billion laughs). Hostile files must not make the loader read a local
file or open a network connection: the FIFO and TCP probes below would see it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from tests.support.threads import in_thread
from tests.support.wording import both
from workflows import safe_xml
from workflows.calendar import WorkingCalendar
from workflows.diagram_checks import DiagramError, DiagramProblem
from workflows.diagrams import DiagramLoader, HumanTaskSpec, ProcessDefinition
from workflows.engine import EngineError, WorkflowEngine
from workflows.expressions import ExpressionError

CORPUS = Path(__file__).resolve().parent / "corpus"
NOMINATION_PATH = Path(__file__).resolve().parents[2] / "bpmn" / "nomination.bpmn"
NOMINATION = NOMINATION_PATH.read_text(encoding="utf-8")
MINIMAL = (CORPUS / "minimal_valid.bpmn").read_text(encoding="utf-8")
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
NS = {"bpmn": BPMN_NS, "bpmndi": DI_NS}
DOCTYPE_REFUSED = str(safe_xml.DOCTYPE_REFUSED)


@pytest.fixture(scope="module")
def loader(roles, forms, settings) -> DiagramLoader:
    return WorkflowEngine.loader(roles, forms, settings)


# --- helpers ----------------------------------------------------------------------------------------------

def problems_of(loader: DiagramLoader, data: bytes | str, filename: str) -> list[DiagramProblem]:
    """The problems the loader reports; fails the test if the file loads."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with pytest.raises(DiagramError) as caught:
        loader.load(raw, filename)
    problems = caught.value.problems
    assert problems, "DiagramError without problems"
    assert all(p.file == filename for p in problems), [p.file for p in problems]
    assert str(caught.value) == "\n".join(str(p) for p in problems)
    return problems


def find(problems: list[DiagramProblem], phrase: str, element_id: str | None = None) -> DiagramProblem:
    """The first problem whose message contains `phrase` (and is about `element_id`, when given)."""
    for problem in problems:
        if phrase in both(problem) and (element_id is None or problem.element_id == element_id):
            return problem
    raise AssertionError(f"no problem with {phrase!r} on {element_id!r}; got:\n" + "\n".join(map(str, problems)))


def line_of(text: str, needle: str) -> int:
    """1-based line of the only occurrence of `needle`."""
    assert text.count(needle) == 1, f"{needle!r} occurs {text.count(needle)} times"
    return text[: text.index(needle)].count("\n") + 1


def replace(text: str, old: str, new: str, count: int = 1) -> str:
    """str.replace that fails loudly when the diagram no longer contains `old` (the mutation would be void)."""
    found = text.count(old)
    assert found >= count, f"{old!r} occurs {found} times, expected at least {count}"
    return text.replace(old, new, count)


def nomination_with(*edits: tuple[str, str]) -> str:
    text = NOMINATION
    for old, new in edits:
        text = replace(text, old, new)
    return text


def remove_flow(text: str, flow_id: str) -> str:
    """Drop a sequence flow everywhere it is mentioned: the flow, its incoming/outgoing refs and its DI edge."""
    root = etree.fromstring(text.encode("utf-8"))
    doomed = root.xpath(
        f"//bpmn:sequenceFlow[@id='{flow_id}'] | //bpmn:incoming[text()='{flow_id}'] "
        f"| //bpmn:outgoing[text()='{flow_id}'] | //bpmndi:BPMNEdge[@bpmnElement='{flow_id}']",
        namespaces=NS,
    )
    assert len(doomed) == 4, doomed
    for node in doomed:
        node.getparent().remove(node)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def billion_laughs(levels: int = 10, fan_out: int = 10, where: str = "text") -> bytes:
    entities = ['  <!ENTITY lol0 "lol">']
    entities += [f'  <!ENTITY lol{i} "{f"&lol{i - 1};" * fan_out}">' for i in range(1, levels + 1)]
    body = MINIMAL.split("\n", 1)[1]
    if where == "text":
        body = replace(body, 'decision == "submit"', f"&lol{levels};")
    else:
        body = replace(body, 'name="Lập hồ sơ"', f'name="&lol{levels};"')
    doctype = "<!DOCTYPE bpmn:definitions [\n" + "\n".join(entities) + "\n]>\n"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + doctype + body).encode("utf-8")


@dataclass
class Listener:
    port: int
    connections: list[tuple[str, int]]


@contextlib.contextmanager
def tcp_listener() -> Iterator[Listener]:
    """A TCP server on 127.0.0.1 (random port) that records, then drops, every connection made to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.02)
    listener = Listener(server.getsockname()[1], [])
    stop = threading.Event()

    def accept_all() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except (TimeoutError, OSError):
                continue
            listener.connections.append(peer)
            conn.close()

    thread = threading.Thread(target=accept_all, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(5)
        # A connect made during the load is complete in the kernel's backlog even if not yet accepted.
        server.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while True:
                conn, peer = server.accept()
                listener.connections.append(peer)
                conn.close()
        server.close()


@contextlib.contextmanager
def fifo_probe(directory: Path) -> Iterator[tuple[Path, list[bool]]]:
    """A named pipe that reports whether anybody opened it for reading.

    Opening a FIFO's write end without blocking fails (ENXIO) until a reader has it open, so a watcher that
    keeps trying sees any attempt to read the "file"; it then writes a marker and closes, so a reader that
    did get in is never left hanging.
    """
    path = directory / "secret_fifo"
    os.mkfifo(path)
    opened: list[bool] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
                time.sleep(0.001)
                continue
            opened.append(True)
            with contextlib.suppress(OSError):
                os.write(fd, b"FIFO-SECRET-MARKER")
            os.close(fd)
            return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield path, opened
    finally:
        stop.set()
        thread.join(5)


# --- the starting points are valid --------------------------------------------------------------------------

def test_minimal_valid_diagram_loads(loader):
    definitions = loader.load((CORPUS / "minimal_valid.bpmn").read_bytes(), "minimal_valid.bpmn")
    assert list(definitions) == ["corpus_min"]
    task = definitions["corpus_min"].human_tasks["draft_nomination"]
    assert (task.role, task.form) == ("unit_staff", "unit_head_review.schema.json")


def test_shipped_nomination_diagram_loads(loader):
    assert "nomination" in loader.load(NOMINATION.encode("utf-8"), "nomination.bpmn")


# --- the corpus: one file, one clear error ------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    file: str
    phrase: str  # part of the message that names the problem
    element_id: str = ""
    line: int | str | None = None  # a number, a needle whose line it is, or None when there is no line
    also: tuple[str, ...] = ()  # more phrases the same message must contain


CORPUS_CASES = [
    Case("malformed_unclosed_tag.bpmn", "malformed XML", line="  </bpmn:process>",
         also=("Opening and ending tag mismatch",)),
    Case("empty.bpmn", "empty file"),
    Case("not_xml_png.bpmn", "malformed XML", line=1, also=("Start tag expected",)),
    Case("xxe_file_passwd.bpmn", DOCTYPE_REFUSED, line=2, also=("DOCTYPE",)),
    Case("xxe_utf16.bpmn", DOCTYPE_REFUSED, line=2),
    Case("external_dtd.bpmn", DOCTYPE_REFUSED, line=2),
    Case("xsd_unknown_element.bpmn", "XSD", "magic_task", line='<bpmn:magicTask id="magic_task"',
         also=("magicTask", "This element is not expected")),
    Case("xsd_unknown_attribute.bpmn", "XSD", "end_returned", line='priority="high"',
         also=("priority", "is not allowed")),
    Case("user_task_outside_lane.bpmn", "user task outside a lane", "draft_nomination",
         '<bpmn:userTask id="draft_nomination"'),
    Case("lane_not_a_role.bpmn", "lane is not a role", "draft_nomination", '<bpmn:userTask id="draft_nomination"',
         also=("Phòng Kế toán",)),
    Case("user_task_without_form.bpmn", "missing form", "draft_nomination", '<bpmn:userTask id="draft_nomination"',
         also=("formJsonSchemaFilename",)),
    Case("form_not_found.bpmn", "form file not found", "draft_nomination", '<bpmn:userTask id="draft_nomination"',
         also=("de_nghi_khen_thuong.schema.json",)),
    Case("form_path_traversal.bpmn", "bad form filename", "draft_nomination",
         '<bpmn:userTask id="draft_nomination"', also=("../pyproject.toml",)),
    Case("reserved_id_start.bpmn", "reserved id", "Start", '<bpmn:startEvent id="Start"', also=("'Start'",)),
    Case("reserved_id_end.bpmn", "reserved id", "End", '<bpmn:endEvent id="End"', also=("'End'",)),
    Case("script_task.bpmn", "script tasks are refused", "run_cleanup", '<bpmn:scriptTask id="run_cleanup"'),
    Case("pre_script.bpmn", "preScript", "draft_nomination", '<bpmn:userTask id="draft_nomination"',
         also=("scripts are refused",)),
    Case("unbounded_loop.bpmn", "unbounded loop", "draft_nomination", '<bpmn:userTask id="draft_nomination"',
         also=("vòng lặp trả lại không giới hạn", "count_return", "return_count >= max_returns")),
    Case("no_executable_process.bpmn", "no executable process", also=('isExecutable="true"',)),
    Case("condition_code_injection.bpmn", "unknown function", "flow_gw_draft_nomination_submit",
         '<bpmn:sequenceFlow id="flow_gw_draft_nomination_submit"', also=("__import__",)),
]


@pytest.mark.parametrize("case", CORPUS_CASES, ids=lambda c: c.file.removesuffix(".bpmn"))
def test_corpus_file_is_refused_with_a_clear_located_error(loader, case: Case):
    data = (CORPUS / case.file).read_bytes()
    problem = find(problems_of(loader, data, case.file), case.phrase, case.element_id or None)
    assert problem.element_id == case.element_id
    for phrase in case.also:
        assert phrase in both(problem)
    if isinstance(case.line, str):
        assert problem.line == line_of(data.decode("utf-8"), case.line)
    else:
        assert problem.line == case.line
    if case.element_id:  # the element's own name travels with the problem, for the modeler's error list
        assert problem.element_name


def test_every_corpus_file_has_an_expectation():
    on_disk = {p.name for p in CORPUS.glob("*.bpmn")} - {"minimal_valid.bpmn"}
    expected = {c.file for c in CORPUS_CASES} | {"several_problems.bpmn"}
    assert on_disk == expected


# --- 1. hostile XML -----------------------------------------------------------------------------------------

def test_whitespace_only_file_is_empty(loader):
    find(problems_of(loader, b"  \n\t\n", "blank.bpmn"), "empty file")


def test_3_mb_file_is_refused_before_parsing(loader, settings, monkeypatch):
    assert settings.max_bpmn_bytes == 2_000_000
    padding = b"<!-- " + b"x" * 3_000_000 + b" -->\n"
    data = MINIMAL.encode("utf-8").replace(b"<bpmn:definitions", padding + b"<bpmn:definitions", 1)
    assert len(data) > 3_000_000

    def no_parsing(*args, **kwargs):
        raise AssertionError("a file over the size limit reached the XML parser")

    monkeypatch.setattr(safe_xml.etree, "fromstring", no_parsing)
    problem = find(problems_of(loader, data, "huge.bpmn"), "file too large")
    assert "2,000,000" in both(problem) and f"{len(data):,}" in both(problem)
    assert (problem.element_id, problem.line) == ("", None)


def test_one_byte_over_the_limit_is_refused(loader, settings):
    data = b"<" * (settings.max_bpmn_bytes + 1)
    find(problems_of(loader, data, "just_over.bpmn"), "file too large")


def test_xxe_does_not_leak_etc_passwd(loader):
    data = (CORPUS / "xxe_file_passwd.bpmn").read_bytes()
    assert b'SYSTEM "file:///etc/passwd"' in data
    with pytest.raises(DiagramError) as caught:
        loader.load(data, "xxe_file_passwd.bpmn")
    text = str(caught.value) + repr(caught.value.problems)
    assert "DOCTYPE" in text and "không cho phép DOCTYPE/thực thể" in text
    assert "root:" not in text and "/bin/" not in text and "nologin" not in text


def test_xxe_never_opens_the_local_file(loader, tmp_path):
    with fifo_probe(tmp_path) as (fifo, opened):
        for where in ("text", "attribute"):
            body = MINIMAL.split("\n", 1)[1]
            body = (replace(body, 'decision == "submit"', "&x;") if where == "text"
                    else replace(body, 'name="Lập hồ sơ"', 'name="&x;"'))
            data = (f'<?xml version="1.0"?>\n<!DOCTYPE bpmn:definitions [<!ENTITY x SYSTEM "file://{fifo}">]>\n'
                    + body).encode("utf-8")
            with pytest.raises(DiagramError) as caught:
                loader.load(data, f"xxe_fifo_{where}.bpmn")
            assert "FIFO-SECRET-MARKER" not in str(caught.value)
    assert opened == [], "the loader opened the entity's SYSTEM file"


def test_fifo_probe_sees_an_unsafe_parser(tmp_path):
    """Control: the probe above is not vacuous, a parser that resolves entities does trip it."""
    unsafe = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=True)
    with fifo_probe(tmp_path) as (fifo, opened):
        data = f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{fifo}">]>\n<d>&x;</d>'.encode()
        finished, result, _ = in_thread(lambda: etree.fromstring(data, unsafe), timeout=10)
    assert finished and opened == [True]
    assert b"FIFO-SECRET-MARKER" in etree.tostring(result)


def _network_documents(port: int) -> dict[str, bytes]:
    body = MINIMAL.split("\n", 1)[1]
    url = f"http://127.0.0.1:{port}/evil.dtd"
    corpus = (CORPUS / "external_dtd.bpmn").read_text(encoding="utf-8")
    return {
        "external_dtd.bpmn": replace(corpus, "http://127.0.0.1:9/evil.dtd", url).encode("utf-8"),
        "external_entity.bpmn": (f'<?xml version="1.0"?>\n<!DOCTYPE bpmn:definitions [<!ENTITY x SYSTEM "{url}">]>\n'
                                 + replace(body, 'decision == "submit"', "&x;")).encode("utf-8"),
        "parameter_entity.bpmn": (f'<?xml version="1.0"?>\n<!DOCTYPE bpmn:definitions '
                                  f'[<!ENTITY % ext SYSTEM "{url}"> %ext;]>\n' + body).encode("utf-8"),
        "xinclude.bpmn": replace(
            MINIMAL, "  <bpmn:collaboration",
            f'  <xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{url}" parse="text" />\n'
            "  <bpmn:collaboration").encode("utf-8"),
    }


@pytest.mark.parametrize("name", ["external_dtd.bpmn", "external_entity.bpmn", "parameter_entity.bpmn"])
def test_external_dtd_and_entities_make_no_connection(loader, name):
    with tcp_listener() as listener:
        data = _network_documents(listener.port)[name]
        finished, result, _ = in_thread(lambda: loader.load(data, name), timeout=30)
    assert finished
    assert isinstance(result, DiagramError), result
    assert DOCTYPE_REFUSED in str(result)
    assert listener.connections == [], f"the loader connected to 127.0.0.1:{listener.port}"


def test_xinclude_is_not_processed(loader):
    with tcp_listener() as listener:
        data = _network_documents(listener.port)["xinclude.bpmn"]
        finished, result, _ = in_thread(lambda: loader.load(data, "xinclude.bpmn"), timeout=30)
    assert finished
    assert isinstance(result, DiagramError), result  # the XSD does not know xi:include
    assert "XSD" in str(result)
    assert listener.connections == []


def test_tcp_probe_sees_a_connection():
    """Control: the listener above does record a connection when one is made."""
    with tcp_listener() as listener:
        socket.create_connection(("127.0.0.1", listener.port), timeout=5).close()
    assert len(listener.connections) == 1


@pytest.mark.parametrize("where", ["text", "attribute"])
def test_billion_laughs_is_refused_and_returns(loader, where):
    data = billion_laughs(levels=10, where=where)
    assert len(data) < 10_000  # 10**10 "lol"s once expanded
    finished, result, seconds = in_thread(lambda: loader.load(data, "lol.bpmn"), timeout=60)
    assert finished, "billion laughs did not return within 60 s"
    assert isinstance(result, DiagramError), result
    message = str(result)
    assert "lol" * 100 not in message, "entities were expanded into the error"
    assert "DOCTYPE" in message or "entity" in message, message
    print(f"billion laughs ({where}) refused in {seconds:.3f} s")


def test_quadratic_blowup_is_refused(loader):
    """One 50 kB entity referenced 30,000 times: 1.5 GB once expanded, 300 kB on the wire."""
    body = replace(MINIMAL.split("\n", 1)[1], 'decision == "submit"', "&a;" * 30_000)
    data = ('<?xml version="1.0"?>\n<!DOCTYPE bpmn:definitions [<!ENTITY a "' + "a" * 50_000 + '">]>\n'
            + body).encode("utf-8")
    finished, result, _ = in_thread(lambda: loader.load(data, "quadratic.bpmn"), timeout=60)
    assert finished and isinstance(result, DiagramError), result
    assert len(str(result)) < 10_000


def test_utf16_xxe_is_refused(loader):
    data = (CORPUS / "xxe_utf16.bpmn").read_bytes()
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff") and b"passwd" not in data  # really UTF-16, not ASCII
    problem = find(problems_of(loader, data, "xxe_utf16.bpmn"), DOCTYPE_REFUSED)
    assert "root:" not in both(problem)


def test_utf16_without_bom_xxe_is_refused(loader):
    text = (CORPUS / "xxe_utf16.bpmn").read_bytes().decode("utf-16")
    data = text.replace('encoding="UTF-16"', 'encoding="UTF-16LE"').encode("utf-16-le")
    find(problems_of(loader, data, "xxe_utf16le.bpmn"), DOCTYPE_REFUSED)


def test_clean_utf16_diagram_still_loads(loader):
    """The refusal above is about the DOCTYPE, not the encoding."""
    data = ('<?xml version="1.0" encoding="UTF-16"?>\n' + MINIMAL.split("\n", 1)[1]).encode("utf-16")
    assert "corpus_min" in loader.load(data, "utf16.bpmn")


@pytest.mark.parametrize("name", [
    "doctype_without_entities",
    "entity_in_text",
    "entity_in_attribute",
    "billion_laughs",
])
def test_any_doctype_gets_the_doctype_refusal(loader, name):
    """safe_xml's contract: a document carrying a DOCTYPE is refused as such, whatever its entities do."""
    body = MINIMAL.split("\n", 1)[1]
    head = '<?xml version="1.0"?>\n'
    documents = {
        "doctype_without_entities": head + "<!DOCTYPE bpmn:definitions>\n" + body,
        "entity_in_text": head + '<!DOCTYPE d [<!ENTITY x "x">]>\n' + replace(body, 'decision == "submit"', "&x;"),
        "entity_in_attribute": head + '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        + replace(body, 'name="Lập hồ sơ"', 'name="&x;"'),
        "billion_laughs": billion_laughs().decode("utf-8"),
    }
    find(problems_of(loader, documents[name], f"{name}.bpmn"), DOCTYPE_REFUSED)


# --- 2. the BPMN schema -------------------------------------------------------------------------------------

def test_xsd_reports_every_schema_error_with_its_line(loader):
    text = replace(MINIMAL, '<bpmn:endEvent id="end_returned"', '<bpmn:endEvent id="end_returned" priority="high"')
    text = replace(text, '<bpmn:startEvent id="start_corpus_min"', '<bpmn:startEvent id="start_corpus_min" x="1"')
    problems = problems_of(loader, text, "two_xsd.bpmn")
    assert len(problems) == 2 and all("XSD" in both(p) for p in problems)
    assert problems[0].line == line_of(text, 'x="1"')
    assert problems[1].line == line_of(text, 'priority="high"')


def test_xsd_checks_spiffworkflow_extensions_too(loader):
    text = replace(MINIMAL, "<spiffworkflow:properties>", "<spiffworkflow:properties>\n<spiffworkflow:shell />")
    problem = find(problems_of(loader, text, "spiff_xsd.bpmn"), "XSD")
    assert "shell" in both(problem) and problem.line == line_of(text, "<spiffworkflow:shell />")


def test_unknown_element_in_the_real_diagram_is_an_xsd_error(loader):
    text = nomination_with(('<bpmn:exclusiveGateway id="gw_dost_select"',
                            '<bpmn:evalGateway id="gw_eval" />\n    <bpmn:exclusiveGateway id="gw_dost_select"'))
    problem = find(problems_of(loader, text, "nomination.bpmn"), "XSD")
    assert "evalGateway" in both(problem) and problem.line == line_of(text, '<bpmn:evalGateway id="gw_eval" />')


# --- 3. lanes and forms, on the real diagram -----------------------------------------------------------------

def test_absolute_form_path_is_refused(loader):
    text = nomination_with(('value="dost_select.schema.json"', 'value="/etc/passwd"'))
    problem = find(problems_of(loader, text, "nomination.bpmn"), "bad form filename", "dost_select")
    assert problem.line == line_of(text, '<bpmn:userTask id="dost_select"')
    assert "root:" not in both(problem)


def test_form_traversal_does_not_read_the_target(loader):
    data = (CORPUS / "form_path_traversal.bpmn").read_bytes()
    text = str(pytest.raises(DiagramError, loader.load, data, "form_path_traversal.bpmn").value)
    assert "[build-system]" not in text and "setuptools" not in text


def test_real_lane_renamed_to_a_department_that_is_not_a_role(loader):
    text = nomination_with(('name="Lãnh đạo Sở Khoa học và Công nghệ"', 'name="Phòng Kế toán"'))
    problems = problems_of(loader, text, "nomination.bpmn")
    flagged = {p.element_id for p in problems if "lane is not a role" in both(p)}
    assert flagged == {"dost_select", "dost_check_dossier_escalated"}


# --- 4. timer expressions ------------------------------------------------------------------------------------

TIMER = '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">working_days(4, hour=8)</bpmn:timeDate>'
TIMER_EVENT = '<bpmn:boundaryEvent id="unit_head_review_reminder_before"'


@pytest.mark.parametrize(("xml", "phrases"), [
    ("<bpmn:timeDate>working_days(</bpmn:timeDate>", ("syntax error", "'('")),
    ('<bpmn:timeDate>os.system("x")</bpmn:timeDate>',
     ("attribute not allowed", "'system'", "tên không xác định 'os'")),
    ('<bpmn:timeDate>__import__("os")</bpmn:timeDate>', ("hàm không được phép '__import__'",)),
    ('<bpmn:timeDate>open("/etc/passwd")</bpmn:timeDate>', ("hàm không được phép 'open'",)),
    ('<bpmn:timeDuration>"P3X"</bpmn:timeDuration>', ("'P3X'", "invalid ISO 8601", "timeDuration")),
    ('<bpmn:timeDate>"not a date"</bpmn:timeDate>', ("'not a date'", "invalid ISO 8601", "timeDate")),
    ("<bpmn:timeDate>42</bpmn:timeDate>", ("ISO 8601",)),
    ("<bpmn:timeDate></bpmn:timeDate>", ("empty expression",)),
], ids=["syntax", "os_system", "dunder_import", "open", "duration_P3X", "date_not_a_date", "number", "empty"])
def test_bad_timer_expression(loader, xml, phrases):
    text = nomination_with((TIMER, xml))
    problems = problems_of(loader, text, "nomination.bpmn")
    timer_problems = [p for p in problems if p.element_id == "unit_head_review_reminder_before"]
    assert timer_problems, problems
    messages = " | ".join(both(p) for p in timer_problems)
    assert "biểu thức hẹn giờ '" in messages
    for phrase in phrases:
        assert phrase in messages
    assert {p.line for p in timer_problems} == {line_of(text, TIMER_EVENT)}
    assert {p.element_name for p in timer_problems} == {"Trước hạn 1 ngày"}
    assert len(problems) == len(timer_problems), "one bad timer must not cascade into other problems"


# --- 5. reserved ids -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("reserved", ["Start", "End", "Root"])
def test_reserved_id_in_the_real_diagram(loader, reserved):
    text = NOMINATION.replace("end_unit_certificate", reserved)
    problem = find(problems_of(loader, text, "nomination.bpmn"), "reserved id", reserved)
    assert problem.line == line_of(text, f'<bpmn:endEvent id="{reserved}"')


# --- 6. scripts and service tasks ----------------------------------------------------------------------------

def test_post_script_is_refused(loader):
    script = "        <spiffworkflow:postScript>x = 1</spiffworkflow:postScript>\n"
    text = replace(MINIMAL, "        </spiffworkflow:properties>\n", "        </spiffworkflow:properties>\n" + script)
    problem = find(problems_of(loader, text, "post_script.bpmn"), "postScript", "draft_nomination")
    assert "scripts are refused" in both(problem)


def test_service_task_with_unknown_action(loader):
    text = nomination_with(('<spiffworkflow:serviceTaskOperator id="notify_unit" '
                            'resultVariable="spiff_result_notify_return_limit">',
                            '<spiffworkflow:serviceTaskOperator id="shell" '
                            'resultVariable="spiff_result_notify_return_limit">'))
    problem = find(problems_of(loader, text, "nomination.bpmn"), "unknown action", "notify_return_limit")
    assert "'shell'" in both(problem) and "count_return" in both(problem)
    assert problem.line == line_of(text, '<bpmn:serviceTask id="notify_return_limit"')


def test_service_task_parameter_with_dunder_chain(loader):
    text = nomination_with(('<spiffworkflow:parameter id="template" type="str" value="&quot;not_awarded&quot;" />',
                            '<spiffworkflow:parameter id="template" type="str" value="().__class__.__bases__" />'))
    problems = [p for p in problems_of(loader, text, "nomination.bpmn") if p.element_id == "notify_return_limit"]
    for attr in ("__class__", "__bases__"):
        problem = find(problems, f"không cho phép truy cập thuộc tính '{attr}'")
        assert "tham số 'template'" in both(problem) and "attribute not allowed" in both(problem)
        assert problem.line == line_of(text, '<bpmn:serviceTask id="notify_return_limit"')


def test_service_task_without_operator(loader):
    root = etree.fromstring(NOMINATION.encode("utf-8"))
    task = root.find(".//bpmn:serviceTask[@id='publish_award_result']", NS)
    task.remove(task.find("bpmn:extensionElements", NS))
    text = etree.tostring(root, encoding="unicode")
    problem = find(problems_of(loader, text, "nomination.bpmn"), "no action named", "publish_award_result")
    assert problem.line == line_of(text, '<bpmn:serviceTask id="publish_award_result"')


# --- 7. gateway conditions -----------------------------------------------------------------------------------

def test_gateway_missing_a_choice_names_it(loader):
    text = remove_flow(NOMINATION, "flow_gw_dost_select_decline")
    problems = problems_of(loader, text, "nomination.bpmn")
    problem = find(problems, "do not cover the form's choices", "gw_dost_select")
    assert "['decline']" in both(problem) and "'decision'" in both(problem)
    assert problem.line == line_of(text, '<bpmn:exclusiveGateway id="gw_dost_select"')
    assert len(problems) == 1


def test_gateway_with_a_misspelt_choice_names_the_missing_one(loader):
    text = nomination_with(('decision == "decline"</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>\n'
                            '    <bpmn:sequenceFlow id="flow_home_affairs_check_reminder_before_out"',
                            'decision == "declined"</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>\n'
                            '    <bpmn:sequenceFlow id="flow_home_affairs_check_reminder_before_out"'))
    problem = find(problems_of(loader, text, "nomination.bpmn"), "do not cover", "gw_dost_select")
    assert "['decline']" in both(problem)


def test_condition_with_an_unknown_name(loader):
    text = nomination_with(('decision == "select"', 'decisoin == "select"'))
    problems = problems_of(loader, text, "nomination.bpmn")
    problem = find(problems, "tên không xác định 'decisoin'", "flow_gw_dost_select_select")
    assert problem.line == line_of(text, '<bpmn:sequenceFlow id="flow_gw_dost_select_select"')
    assert problem.element_name == "Lựa chọn"


def test_condition_on_a_gateway_without_default_must_test_a_choice(loader):
    text = nomination_with(('decision == "select"', 'len(decision) == 6'))
    find(problems_of(loader, text, "nomination.bpmn"), "add a default flow", "gw_dost_select")


# --- 8. return loops -----------------------------------------------------------------------------------------

def test_return_loop_without_a_limit_gateway_is_unbounded(loader):
    """The loop passes a count_return task but nothing ever leaves it on `return_count >= max_returns`."""
    text = replace(MINIMAL, '''    <bpmn:endEvent id="end_returned" name="Đã trả lại">
      <bpmn:incoming>flow_gw_draft_nomination_return</bpmn:incoming>
    </bpmn:endEvent>''', '''    <bpmn:serviceTask id="count_return_draft" name="Đếm số lần trả lại">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="count_return" resultVariable="return_count">
          <spiffworkflow:parameters />
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>flow_gw_draft_nomination_return</bpmn:incoming>
      <bpmn:outgoing>flow_count_return_draft_out</bpmn:outgoing>
    </bpmn:serviceTask>''')
    text = replace(text, 'targetRef="end_returned"', 'targetRef="count_return_draft"')
    text = replace(text, "<bpmn:flowNodeRef>end_returned</bpmn:flowNodeRef>",
                   "<bpmn:flowNodeRef>count_return_draft</bpmn:flowNodeRef>")
    text = replace(text, "  </bpmn:process>", '    <bpmn:sequenceFlow id="flow_count_return_draft_out" '
                   'sourceRef="count_return_draft" targetRef="draft_nomination" />\n  </bpmn:process>')
    find(problems_of(loader, text, "counted_loop.bpmn"), "unbounded loop")


@pytest.mark.parametrize("gateway", ["gw_unit_head_review", "gw_dost_select"])
def test_return_flow_straight_back_to_the_draft_is_unbounded(loader, gateway):
    old = (f'<bpmn:sequenceFlow id="flow_{gateway}_return" sourceRef="{gateway}" '
           f'targetRef="count_return_{gateway.removeprefix("gw_")}"')
    new = f'<bpmn:sequenceFlow id="flow_{gateway}_return" sourceRef="{gateway}" targetRef="draft_nomination"'
    text = nomination_with((old, new))
    problems = problems_of(loader, text, "nomination.bpmn")
    problem = find(problems, "unbounded loop")
    assert "vòng lặp trả lại không giới hạn" in both(problem)
    assert problem.line is not None


PAYLOAD = '__import__("os").system("touch /tmp/nomflow_pwned")'
USER_TASK_END = "      <bpmn:outgoing>flow_draft_nomination_out</bpmn:outgoing>\n    </bpmn:userTask>"


@pytest.mark.parametrize("where", ["loop_cardinality", "completion_condition", "loop_condition", "conditional_event"])
def test_expressions_elsewhere_are_checked_too(loader, where):
    loops = {
        "loop_cardinality": f'<bpmn:multiInstanceLoopCharacteristics isSequential="true">'
                            f"<bpmn:loopCardinality>{PAYLOAD}</bpmn:loopCardinality>"
                            "</bpmn:multiInstanceLoopCharacteristics>",
        "completion_condition": '<bpmn:multiInstanceLoopCharacteristics isSequential="true">'
                                "<bpmn:loopCardinality>3</bpmn:loopCardinality>"
                                f"<bpmn:completionCondition>{PAYLOAD}</bpmn:completionCondition>"
                                "</bpmn:multiInstanceLoopCharacteristics>",
        "loop_condition": f"<bpmn:standardLoopCharacteristics><bpmn:loopCondition>{PAYLOAD}</bpmn:loopCondition>"
                          "</bpmn:standardLoopCharacteristics>",
    }
    if where in loops:
        text = replace(MINIMAL, USER_TASK_END, USER_TASK_END.replace(
            "    </bpmn:userTask>", f"      {loops[where]}\n    </bpmn:userTask>"))
        element_id = "draft_nomination"
    else:
        text = replace(MINIMAL, "      <bpmn:outgoing>flow_start_corpus_min_out</bpmn:outgoing>\n",
                       "      <bpmn:outgoing>flow_start_corpus_min_out</bpmn:outgoing>\n"
                       '      <bpmn:conditionalEventDefinition id="start_condition"><bpmn:condition '
                       f'xsi:type="bpmn:tFormalExpression">{PAYLOAD}</bpmn:condition>'
                       "</bpmn:conditionalEventDefinition>\n")
        element_id = "start_corpus_min"
    problems = problems_of(loader, text, f"{where}.bpmn")
    assert any(p.element_id == element_id for p in problems), problems


# --- end to end: code in a condition never runs ----------------------------------------------------------------

def test_code_injection_in_a_condition_is_refused_at_load_and_at_run_time(
        loader, clock, roles, forms, settings, tmp_path):
    marker = tmp_path / "nomflow_pwned"
    corpus = (CORPUS / "condition_code_injection.bpmn").read_text(encoding="utf-8")
    assert PAYLOAD in corpus
    # Same payload, pointed at this test's own directory so that runs never see each other's marker.
    text = replace(corpus, "/tmp/nomflow_pwned", str(marker))
    data = text.encode("utf-8")

    # 1. The loader refuses it.
    problems = problems_of(loader, data, "condition_code_injection.bpmn")
    find(problems, "hàm không được phép '__import__'", "flow_gw_draft_nomination_submit")
    find(problems, "attribute not allowed", "flow_gw_draft_nomination_submit")

    # 2. Bypass every check of ours: SpiffWorkflow's own parser accepts the file as valid BPMN...
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(data, "condition_code_injection.bpmn")
    spec = parser.get_spec("corpus_min")
    definition = ProcessDefinition(
        process_id="corpus_min", name="Sơ đồ tối thiểu", filename="condition_code_injection.bpmn", bpmn=data,
        checksum=hashlib.sha256(data).hexdigest(), spec=spec,
        subprocess_specs=parser.get_subprocess_specs("corpus_min"),
        human_tasks={"draft_nomination": HumanTaskSpec("draft_nomination", "Lập hồ sơ", "unit_staff",
                                                       "unit_head_review.schema.json", None)},
    )
    engine = WorkflowEngine({"corpus_min": definition}, clock=clock, calendar=WorkingCalendar.default(),
                            settings=settings, roles=roles, forms=forms)
    instance, outcome = engine.start("corpus_min", {"nomination_id": "N-pwn", "unit_id": "U-1"})
    assert [t.task_id for t in outcome.opened] == ["draft_nomination"]

    # ...but the engine's evaluator refuses the condition when the gateway is reached.
    with pytest.raises((EngineError, ExpressionError)) as caught:
        instance.complete(outcome.opened[0].id, {"decision": "submit"}, actor="attacker")
    assert "__import__" in str(caught.value)
    assert not marker.exists(), "the condition's code ran"


# --- issue 12: diagrams that validated, then hung or crashed at run time ------------------------------------

REMINDER = (TIMER, None)


def with_timer(kind: str, value: str) -> str:
    return nomination_with((TIMER, f'<bpmn:{kind} xsi:type="bpmn:tFormalExpression">{value}</bpmn:{kind}>'))


def timer_messages(loader, text: str) -> str:
    problems = problems_of(loader, text, "nomination.bpmn")
    return " | ".join(both(p) for p in problems if p.element_id == "unit_head_review_reminder_before")


@pytest.mark.parametrize("cycle", ['"R/2026-04-20T10:00:00+07:00/PT0S"', '"R5/PT30S"', '"R/PT0S"'])
def test_zero_and_sub_minute_cycle_timers_are_refused(loader, cycle):
    assert "cycle interval under 60 seconds" in timer_messages(loader, with_timer("timeCycle", cycle))


@pytest.mark.parametrize(("kind", "value"), [
    ("timeDuration", '"P9999Y"'), ("timeDuration", '"P99999999Y"'), ("timeCycle", '"R3/P9999Y"'),
    ("timeCycle", '"R/2026-04-20T10:00:00+07:00/P100000M"'),
])
def test_durations_out_of_range_are_refused_without_computing_them(loader, kind, value):
    finished, messages, seconds = in_thread(lambda: timer_messages(loader, with_timer(kind, value)), timeout=10)
    assert finished and seconds < 10, "the library's month loop ran"
    assert "timer longer than 3660 days" in messages


def test_timer_date_far_in_the_future_is_refused(loader):
    assert "date after 2999" in timer_messages(loader, with_timer("timeDate", '"9999-12-31T23:59:00+07:00"'))


@pytest.mark.parametrize(("call", "phrase"), [
    ("working_days(100000)", "n out of range 0..1000"),
    ("working_days(-3, hour=99)", "n out of range"),
    ("working_days(-3, hour=99)", "hour out of range 0..23"),
    ("working_days(3, hour=24)", "hour out of range 0..23"),
    ("working_days(2.5)", "n out of range"),
    ("working_days(3, minute=5)", "working_days takes n and hour"),
])
def test_working_days_literal_arguments_out_of_range_are_refused(loader, call, phrase):
    assert phrase in timer_messages(loader, with_timer("timeDate", call))


def test_working_days_with_names_or_good_literals_loads(loader):
    assert "nomination" in loader.load(with_timer("timeDate", "working_days(n=5, hour=0)").encode(), "n.bpmn")


def test_1990_nested_minus_signs_are_refused_as_too_deep(loader):
    text = nomination_with(('decision == "select"', "-" * 1990 + "1"))
    find(problems_of(loader, text, "nomination.bpmn"), "expression nested too deeply", "flow_gw_dost_select_select")


@pytest.mark.parametrize("depth", [5_000, 20_000])
def test_deep_condition_on_a_gateway_without_default_is_a_problem_not_a_crash(loader, depth):
    """Past the length cap, _simple_choice() and referenced_names() used to parse it uncapped."""
    text = nomination_with(('decision == "select"', "-" * depth + "1"))
    problems = problems_of(loader, text, "nomination.bpmn")
    find(problems, "expression too long", "flow_gw_dost_select_select")


def test_every_parse_goes_through_the_capped_entry_point():
    from workflows import diagram_checks, diagram_graph, diagram_timers, expressions
    for module in (diagram_checks, diagram_graph, diagram_timers, expressions):
        source = Path(module.__file__).read_text(encoding="utf-8")
        calls = source.count("ast.parse(") + source.count("literal_eval(expression") + source.count(".parse(expr")
        assert calls == (1 if module is expressions else 0), module.__name__


def test_human_task_inside_an_embedded_subprocess_is_refused(loader):
    task = '''    <bpmn:userTask id="draft_nomination" name="Lập hồ sơ">'''
    text = replace(MINIMAL, task, '''    <bpmn:subProcess id="sub" name="Tiểu quy trình">
      <bpmn:incoming>flow_start_corpus_min_out</bpmn:incoming>
      <bpmn:outgoing>flow_draft_nomination_out</bpmn:outgoing>
      <bpmn:startEvent id="sub_start" />
      <bpmn:sequenceFlow id="sub_f1" sourceRef="sub_start" targetRef="draft_nomination" />
      <bpmn:sequenceFlow id="sub_f2" sourceRef="draft_nomination" targetRef="sub_end" />
      <bpmn:endEvent id="sub_end" />
    <bpmn:userTask id="draft_nomination" name="Lập hồ sơ">''')
    text = replace(text, '''      <bpmn:incoming>flow_start_corpus_min_out</bpmn:incoming>
      <bpmn:outgoing>flow_draft_nomination_out</bpmn:outgoing>
    </bpmn:userTask>''', '''    </bpmn:userTask>
    </bpmn:subProcess>''')
    text = replace(text, 'targetRef="draft_nomination" />\n    <bpmn:sequenceFlow id="flow_draft_nomination_out" '
                         'sourceRef="draft_nomination"', 'targetRef="sub" />\n    <bpmn:sequenceFlow '
                         'id="flow_draft_nomination_out" sourceRef="sub"')
    text = replace(text, "<bpmn:flowNodeRef>draft_nomination</bpmn:flowNodeRef>",
                   "<bpmn:flowNodeRef>sub</bpmn:flowNodeRef><bpmn:flowNodeRef>draft_nomination</bpmn:flowNodeRef>")
    problem = find(problems_of(loader, text, "sub.bpmn"), "human tasks inside an embedded subprocess",
                   "draft_nomination")
    assert "lane" in both(problem)  # the reason: roles come from the process's lanes


SEND_TASK = '''    <bpmn:sendTask id="tell_province" name="Báo tỉnh" messageRef="msg_award_decision">
      <bpmn:incoming>flow_start_corpus_min_out</bpmn:incoming>
      <bpmn:outgoing>flow_after_send</bpmn:outgoing>
    </bpmn:sendTask>
'''


def test_send_task_is_refused(loader):
    text = replace(MINIMAL, "  <bpmn:process ", '  <bpmn:message id="msg_award_decision" name="award_decision" />\n'
                                                 "  <bpmn:process ")
    task = '    <bpmn:userTask id="draft_nomination"'
    text = replace(text, task, SEND_TASK + task)
    text = replace(text, 'sourceRef="start_corpus_min" targetRef="draft_nomination" />',
                   'sourceRef="start_corpus_min" targetRef="tell_province" />\n    <bpmn:sequenceFlow '
                   'id="flow_after_send" sourceRef="tell_province" targetRef="draft_nomination" />')
    text = replace(text, "<bpmn:flowNodeRef>draft_nomination</bpmn:flowNodeRef>",
                   "<bpmn:flowNodeRef>tell_province</bpmn:flowNodeRef><bpmn:flowNodeRef>draft_nomination"
                   "</bpmn:flowNodeRef>")
    find(problems_of(loader, text, "send.bpmn"), "send tasks and message throws are not supported", "tell_province")


def test_message_catch_the_service_never_delivers_is_refused(loader):
    text = nomination_with(('<bpmn:message id="msg_award_decision" name="award_decision" />',
                            '<bpmn:message id="msg_award_decision" name="province_reply" />'))
    problem = find(problems_of(loader, text, "nomination.bpmn"), "the service never delivers this message")
    assert "'province_reply'" in both(problem) and "award_decision" in both(problem)
    assert problem.element_id  # the catch event, for the editor to ring


def test_orphan_and_dead_end_tasks_are_refused(loader):
    extra = '''    <bpmn:manualTask id="orphan" name="Mồ côi" />
    <bpmn:manualTask id="dead_end" name="Ngõ cụt" />
    <bpmn:parallelGateway id="split" />
'''
    text = replace(MINIMAL, '    <bpmn:endEvent id="end_submitted"', extra + '    <bpmn:endEvent id="end_submitted"')
    text = replace(text, 'sourceRef="start_corpus_min" targetRef="draft_nomination" />',
                   'sourceRef="start_corpus_min" targetRef="split" />\n'
                   '    <bpmn:sequenceFlow id="f_split_task" sourceRef="split" targetRef="draft_nomination" />\n'
                   '    <bpmn:sequenceFlow id="f_split_dead" sourceRef="split" targetRef="dead_end" />\n'
                   '    <bpmn:sequenceFlow id="f_orphan_end" sourceRef="orphan" targetRef="end_submitted" />')
    text = replace(text, "<bpmn:flowNodeRef>draft_nomination</bpmn:flowNodeRef>",
                   "<bpmn:flowNodeRef>draft_nomination</bpmn:flowNodeRef><bpmn:flowNodeRef>orphan</bpmn:flowNodeRef>"
                   "<bpmn:flowNodeRef>dead_end</bpmn:flowNodeRef><bpmn:flowNodeRef>split</bpmn:flowNodeRef>")
    problems = problems_of(loader, text, "shape.bpmn")
    find(problems, "not reachable from a start event", "orphan")
    find(problems, "cannot reach an end event", "dead_end")
    assert {p.element_id for p in problems} == {"orphan", "dead_end"}, problems


def test_message_payload_is_checked_at_upload(loader):
    payload = '<spiffworkflow:messagePayload>__import__("os").getcwd()</spiffworkflow:messagePayload>'
    text = nomination_with(("<spiffworkflow:messageVariable>award_decision</spiffworkflow:messageVariable>",
                            "<spiffworkflow:messageVariable>award_decision</spiffworkflow:messageVariable>" + payload))
    problem = find(problems_of(loader, text, "nomination.bpmn"), "unknown function")
    assert "messagePayload" in both(problem) and problem.element_id


def test_valid_cycle_is_accepted_after_an_engine_was_built(loader, engine):
    """The engine's clock patch used to make the library's parser raise outside a run."""
    assert engine is not None
    text = with_timer("timeCycle", '"R3/PT1H"')
    assert "nomination" in loader.load(text.encode("utf-8"), "cycle.bpmn")


def test_process_id_longer_than_its_column_is_refused(loader):
    long_id = "p" * 150
    text = MINIMAL.replace('"corpus_min"', f'"{long_id}"')
    find(problems_of(loader, text, "long.bpmn"), "id longer than 100 characters", long_id)


def test_task_id_equal_to_a_service_parameter_id_is_refused(loader):
    text = NOMINATION.replace('"unit_head_review"', '"task"').replace(">unit_head_review<", ">task<") \
        .replace("&quot;unit_head_review&quot;", "&quot;task&quot;")
    problem = find(problems_of(loader, text, "nomination.bpmn"), "duplicate id", "task")
    assert "parameter" in both(problem)


def test_20000_task_chain_is_refused_by_the_cap_not_by_a_recursion_error(loader, settings):
    from bench.validate import chain_diagram
    data = chain_diagram(20_000, kind="task")
    assert len(data) < settings.max_bpmn_bytes
    finished, result, _ = in_thread(lambda: problems_of(loader, data, "chain.bpmn"), timeout=60)
    assert finished
    assert "more than 12,000 XML elements" in both(result[0]) and "RecursionError" not in both(result[0])
    over = chain_diagram((settings.max_flow_elements - 3) // 2 + 1)
    assert "more than 600 flow elements" in both(problems_of(loader, over, "chain.bpmn")[0])
    assert "chain" in loader.load(chain_diagram((settings.max_flow_elements - 3) // 2), "chain.bpmn")


def test_largest_loop_the_cap_admits_is_checked(loader, settings):
    from bench.validate import chain_diagram
    data = chain_diagram((settings.max_flow_elements - 5) // 2, loop=True)
    problem = find(problems_of(loader, data, "loop.bpmn"), "unbounded loop")
    assert problem.element_id in ("gw", "t1")


def test_lane_title_typed_in_decomposed_unicode_is_the_same_role(loader):
    import unicodedata
    title = "Cán bộ thi đua của đơn vị"
    text = replace(MINIMAL, f'name="{title}"', f'name="{unicodedata.normalize("NFD", title)}"')
    assert unicodedata.normalize("NFD", title) != title
    assert loader.load(text.encode("utf-8"), "nfd.bpmn")["corpus_min"].human_tasks["draft_nomination"].role \
        == "unit_staff"


def test_manual_task_outside_a_lane_is_not_called_a_user_task(loader):
    text = replace(MINIMAL, '<bpmn:endEvent id="end_returned" name="Đã trả lại">',
                   '<bpmn:manualTask id="sign_paper" name="Ký giấy" />\n    '
                   '<bpmn:endEvent id="end_returned" name="Đã trả lại">')
    problem = find(problems_of(loader, text, "manual.bpmn"), "outside a lane", "sign_paper")
    assert "manual task outside a lane" in both(problem) and "user task" not in both(problem)


def test_lane_message_lists_the_allowed_lanes(loader):
    text = replace(MINIMAL, 'name="Cán bộ thi đua của đơn vị"', 'name="Phòng Kế toán"')
    problem = find(problems_of(loader, text, "lane.bpmn"), "lane is not a role", "draft_nomination")
    assert "«Chủ tịch UBND tỉnh» (chairman)" in both(problem)
    assert "admin" not in both(problem).split("các lane được phép")[1]


@pytest.mark.parametrize("lane", ["admin", "Quản trị hệ thống"])
def test_admin_lane_is_refused(loader, lane):
    text = replace(MINIMAL, 'name="Cán bộ thi đua của đơn vị"', f'name="{lane}"')
    find(problems_of(loader, text, "admin.bpmn"), "admin is not a desk", "draft_nomination")


def test_xsd_problem_carries_the_element_id(loader):
    text = replace(MINIMAL, '<bpmn:userTask id="draft_nomination" name="Lập hồ sơ">',
                   '<bpmn:userTask id="draft_nomination" name="Lập hồ sơ" priority="high">')
    problem = find(problems_of(loader, text, "xsd.bpmn"), "XSD")
    assert problem.element_id == "draft_nomination" and problem.element_name == "Lập hồ sơ"


def test_utf16_upload_is_kept_as_utf8(loader):
    data = ('<?xml version="1.0" encoding="UTF-16"?>\n' + MINIMAL.split("\n", 1)[1]).encode("utf-16")
    definition = loader.load(data, "utf16.bpmn")["corpus_min"]
    text = definition.bpmn.decode("utf-8")
    assert text.startswith("<?xml version='1.0' encoding='UTF-8'?>") and "Sơ đồ tối thiểu" in text
    assert definition.checksum == hashlib.sha256(definition.bpmn).hexdigest()
    utf8 = MINIMAL.encode("utf-8")
    assert loader.load(utf8, "utf8.bpmn")["corpus_min"].bpmn == utf8  # UTF-8 is kept byte for byte


@pytest.mark.parametrize("data", [
    MINIMAL.replace("Lập hồ sơ", "L\udce1p") .encode("utf-8", "surrogateescape"),
    MINIMAL.encode("utf-8").replace(b'encoding="UTF-8"', b'encoding="KOI9"'),
], ids=["latin1_byte_in_utf8", "unknown_encoding"])
def test_encoding_error_says_save_as_utf8(loader, data):
    find(problems_of(loader, data, "enc.bpmn"), "save the file as UTF-8")
