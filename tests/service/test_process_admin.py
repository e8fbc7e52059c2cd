"""Diagram administration over the API: validate, drafts, deploy, diff, migrate running instances."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from service.core.runtime import Runtime
from service.db.models import AuditEvent, InstanceRow, ProcessDraft, ProcessVersion
from workflows.diagrams import BPMN_DIR

from .conftest import VN
from .helpers import (
    ADMIN,
    DOST_OFFICER,
    STAFF,
    assert_problem,
    drive,
    submitted_nomination,
)

BASE = "/api/v1/admin/processes"
NOMINATION = (BPMN_DIR / "nomination.bpmn").read_bytes()
DOST_LANE = "Chuyên viên Sở Khoa học và Công nghệ"


def at(day: str, hour: int) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=VN)


def iso(day: str, hour: int) -> str:
    """How the API writes an instant (UTC)."""
    return at(day, hour).astimezone(UTC).isoformat()


def dost_check_days(days: int, bpmn: bytes = NOMINATION) -> bytes:
    """The DOST dossier check with a deadline of `days` working days (reminders the day before and on the day)."""
    text = bpmn.decode()
    start = text.index('<bpmn:boundaryEvent id="dost_check_dossier_reminder_before"')
    end = text.index("<bpmn:serviceTask", start)
    timers = (text[start:end].replace("working_days(4, hour=8)", f"working_days({days - 1}, hour=8)")
              .replace("working_days(5, hour=8)", f"working_days({days}, hour=8)")
              .replace("working_days(5)", f"working_days({days})"))
    return (text[:start] + timers + text[end:]).encode()


def renamed_draft_step(bpmn: bytes = NOMINATION) -> bytes:
    return bpmn.replace('name="Lập hồ sơ đề nghị khen thưởng"'.encode(), 'name="Lập hồ sơ khen thưởng"'.encode(), 1)


def upload(client, url: str, bpmn: bytes, headers: dict[str, str], method: str = "POST", **fields: Any):
    data = {"file": (io.BytesIO(bpmn), "nomination.bpmn"), **{k: str(v) for k, v in fields.items()}}
    return client.open(url, method=method, headers=headers, data=data, content_type="multipart/form-data")


def counts(runtime: Runtime) -> tuple[int, ...]:
    """Versions, drafts and audit events (take API tokens before counting: issuing one is audited)."""
    with runtime.uow() as uow:
        return tuple(uow.session.scalar(select(func.count()).select_from(model))
                     for model in (ProcessVersion, ProcessDraft, AuditEvent))


def deploy(client, auth, bpmn: bytes, note: str = "Rút ngắn thời hạn kiểm tra hồ sơ", base: int = 1) -> dict:
    response = upload(client, f"{BASE}/nomination/drafts", bpmn, auth(ADMIN), base_version=base, note=note)
    assert response.status_code == 201, response.get_json()
    draft = response.get_json()
    response = client.post(f"{BASE}/nomination/drafts/{draft['id']}/deploy", headers=auth(ADMIN), json={})
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def instance_row(runtime: Runtime, nomination: dict) -> InstanceRow:
    with runtime.uow() as uow:
        row = uow.session.get(InstanceRow, nomination["instance_id"])
        assert row is not None
        return row


def version_of(runtime: Runtime, row: InstanceRow) -> int:
    with runtime.uow() as uow:
        return int(uow.session.get(ProcessVersion, row.process_version_id).version)


def at_dost_check(client, auth) -> str:
    nomination_id = submitted_nomination(client, auth)
    drive(client, auth, nomination_id, until="dost_review")
    return nomination_id


# --- validation ---------------------------------------------------------------------------------------

def test_validate_accepts_the_shipped_diagram_both_ways_and_stores_nothing(client, auth, runtime):
    auth(ADMIN)
    before = counts(runtime)
    as_file = upload(client, f"{BASE}/validate", NOMINATION, auth(ADMIN))
    raw = client.post(f"{BASE}/validate", headers={**auth(ADMIN), "Content-Type": "application/xml"},
                      data=NOMINATION)
    for response in (as_file, raw):
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["valid"] is True
        assert [p["process_id"] for p in body["processes"]] == ["nomination"]
        tasks = {t["task_id"]: t["role"] for t in body["processes"][0]["human_tasks"]}
        assert tasks["dost_check_dossier"] == "dost_officer"
    assert counts(runtime) == before


def test_problems_name_the_element_so_the_editor_can_mark_it(client, auth, runtime):
    auth(ADMIN)
    broken = (NOMINATION.replace(f'name="{DOST_LANE}"'.encode(), 'name="Phòng Bí Mật"'.encode(), 1)
              .replace(b'value="dost_check_dossier.schema.json"', b'value="khong_co.schema.json"', 1))
    before = counts(runtime)
    for url in (f"{BASE}/validate", f"{BASE}/nomination/drafts"):
        body = assert_problem(upload(client, url, broken, auth(ADMIN), base_version=1), 422)
        by_element = {e["element_id"]: e for e in body["errors"]}
        assert "Phòng Bí Mật" in by_element["dost_check_dossier"]["message"] or any(
            "Phòng Bí Mật" in e["message"] for e in body["errors"] if e["element_id"] == "dost_check_dossier")
        assert any("khong_co.schema.json" in e["message"] for e in body["errors"]
                   if e["element_id"] == "dost_check_dossier")
        assert by_element["dost_check_dossier"]["element_name"] == "Kiểm tra hồ sơ"
        assert isinstance(by_element["dost_check_dossier"]["line"], int)
        assert all(e["field"] == e["element_id"] for e in body["errors"])
    assert counts(runtime) == before


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&xxe;</bpmn:definitions>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol3;</bpmn:definitions>"""
SCRIPT = NOMINATION.replace(b'<bpmn:userTask id="draft_nomination"', b'<bpmn:scriptTask id="evil" name="x">'
                            b'<bpmn:script>__import__("os").system("id")</bpmn:script></bpmn:scriptTask>'
                            b'<bpmn:userTask id="draft_nomination"', 1)


@pytest.mark.parametrize(("bpmn", "says"), [
    (NOMINATION[: len(NOMINATION) // 2], "malformed XML"),
    (XXE, "DOCTYPE"),
    (LAUGHS, "DOCTYPE"),
    (b"   ", "empty"),
    (b"<x>not bpmn</x>", "XSD"),
    (SCRIPT, "script"),
], ids=["malformed", "xxe", "entity-expansion", "empty", "not-bpmn", "script-task"])
def test_hostile_or_broken_uploads_get_a_clear_error_and_nothing_is_stored(client, auth, runtime, bpmn, says):
    auth(ADMIN)
    before = counts(runtime)
    body = assert_problem(upload(client, f"{BASE}/nomination/drafts", bpmn, auth(ADMIN), base_version=1), 422)
    assert body["errors"] and any(says in e["message"] for e in body["errors"]), body
    assert "nothing was stored" in body["detail"]
    assert counts(runtime) == before


class _Endless(io.RawIOBase):
    """A request body that fails the test if the server reads more than a little of it."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self.served += len(buffer)
        assert self.served < 4_000_000, "the server read a body it should have refused"
        buffer[:] = b"x" * len(buffer)
        return len(buffer)


def test_a_50_mb_body_is_refused_before_it_is_read(client, auth, runtime):
    auth(ADMIN)
    before = counts(runtime)
    stream = _Endless()
    for url in (f"{BASE}/validate", f"{BASE}/nomination/drafts"):
        response = client.post(url, headers={**auth(ADMIN), "Content-Type": "application/xml"}, environ_overrides={
            "wsgi.input": stream, "CONTENT_LENGTH": str(50 * 1024 * 1024)})
        body = assert_problem(response, 413)
        assert "2,000,000" in body["detail"]
    assert stream.served == 0
    # Just over the engine's limit, with an honest length: refused too, as multipart or raw.
    big = NOMINATION + b"<!--" + b"x" * 2_000_000 + b"-->"
    assert_problem(upload(client, f"{BASE}/validate", big, auth(ADMIN)), 413)
    assert_problem(client.post(f"{BASE}/validate", headers={**auth(ADMIN), "Content-Type": "application/xml"},
                               data=big), 413)
    assert counts(runtime) == before


def test_only_admins_reach_any_diagram_endpoint(app, client, auth, runtime):
    auth(DOST_OFFICER), auth(STAFF)
    before = counts(runtime)
    routes = [(m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith(BASE)
              for m in sorted(r.methods - {"HEAD", "OPTIONS"})]
    assert len(routes) >= 12
    for username in (DOST_OFFICER, STAFF):
        for method, rule in routes:
            url = rule.replace("<process_id>", "nomination").replace("<int:version>", "1").replace(
                "<int:draft_id>", "1")
            response = client.open(url, method=method, headers=auth(username), json={"to_version": 1})
            assert_problem(response, 403)
    assert counts(runtime) == before


# --- drafts and deploy --------------------------------------------------------------------------------

def test_drafts_are_saved_with_optimistic_concurrency(client, auth, runtime):
    created = upload(client, f"{BASE}/nomination/drafts", dost_check_days(3), auth(ADMIN), base_version=1,
                     note="Thử 3 ngày")
    assert created.status_code == 201, created.get_json()
    draft = created.get_json()
    assert (draft["base_version"], draft["revision"], draft["status"], draft["created_by"]) == (1, 1, "open", ADMIN)
    assert created.headers["ETag"] == f'"draft-{draft["id"]}-r1"'
    url = f"{BASE}/nomination/drafts/{draft['id']}"

    # The editor opened version 1 via its ETag; a save against a version that is no longer newest is stale.
    assert client.get(f"{BASE}/nomination/versions/1/bpmn", headers=auth(ADMIN)).headers["ETag"] == '"nomination-v1"'
    assert_problem(upload(client, f"{BASE}/nomination/drafts", NOMINATION, auth(ADMIN), base_version=0), 409)
    stale_base = {**auth(ADMIN), "If-Match": '"nomination-v7"'}
    assert_problem(upload(client, f"{BASE}/nomination/drafts", NOMINATION, stale_base), 409)

    saved = upload(client, url, dost_check_days(4), {**auth(ADMIN), "If-Match": created.headers["ETag"]}, method="PUT")
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["revision"] == 2
    before = counts(runtime)
    stale = upload(client, url, dost_check_days(2), {**auth(ADMIN), "If-Match": created.headers["ETag"]}, method="PUT")
    assert "hãy tải lại" in assert_problem(stale, 409)["detail"]
    assert_problem(upload(client, url, dost_check_days(2), auth(ADMIN), method="PUT"), 422)  # no revision at all
    assert_problem(upload(client, url, b"<broken", auth(ADMIN), method="PUT", revision=2), 422)
    assert counts(runtime) == before
    shown = client.get(f"{url}/bpmn", headers=auth(ADMIN))
    assert shown.data == dost_check_days(4) and shown.headers["ETag"] == saved.headers["ETag"]

    # Someone deploys another draft of version 1 first: this one is now stale and cannot be deployed.
    deploy(client, auth, dost_check_days(6))
    assert_problem(client.post(f"{url}/deploy", headers=auth(ADMIN), json={}), 409)
    assert client.delete(url, headers=auth(ADMIN), query_string={"revision": 2}).status_code == 204
    assert_problem(client.post(f"{url}/deploy", headers=auth(ADMIN), json={}), 409)


def test_deploy_makes_a_new_active_version_and_records_who_when_why(client, auth, runtime):
    version = deploy(client, auth, dost_check_days(3), note="Rút ngắn còn 3 ngày")
    assert (version["version"], version["active"], version["created_by"]) == (2, True, ADMIN)
    listing = client.get(BASE, headers=auth(ADMIN)).get_json()
    nomination = next(p for p in listing if p["process_id"] == "nomination")
    assert nomination["active_version"] == 2
    assert [(v["version"], v["active"]) for v in nomination["versions"]] == [(1, False), (2, True)]
    assert nomination["drafts"] == []
    with runtime.uow() as uow:
        event = uow.session.scalars(select(AuditEvent).where(AuditEvent.kind == "process_deployed")
                                    .order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.actor_id is not None
        assert event.detail["version"] == 2 and event.detail["note"] == "Rút ngắn còn 3 ngày"
        assert event.detail["checksum"] == version["checksum"]
    # Deploying the same diagram again changes nothing: refused.
    response = upload(client, f"{BASE}/nomination/drafts", dost_check_days(3), auth(ADMIN), base_version=2)
    draft_id = response.get_json()["id"]
    assert_problem(client.post(f"{BASE}/nomination/drafts/{draft_id}/deploy", headers=auth(ADMIN), json={}), 422)


# --- element diff -------------------------------------------------------------------------------------

def test_element_diff_between_versions_and_against_a_draft(client, auth):
    deploy(client, auth, renamed_draft_step(dost_check_days(3)))
    body = client.get(f"{BASE}/nomination/diff", headers=auth(ADMIN), query_string={"from": 1, "to": 2}).get_json()
    assert (body["from"], body["to"], body["added"], body["removed"]) == ("1", "2", [], [])
    changed = {c["id"]: c for c in body["changed"]}
    assert set(changed) == {"draft_nomination", "dost_check_dossier_reminder_before",
                            "dost_check_dossier_reminder_due", "dost_check_dossier_deadline"}
    assert (changed["draft_nomination"]["type"], changed["draft_nomination"]["attributes"]) == ("userTask", ["name"])
    deadline = changed["dost_check_dossier_deadline"]
    assert (deadline["attributes"], deadline["before"], deadline["after"]) == (
        ["timer"], {"timer": "timeDate: working_days(5)"}, {"timer": "timeDate: working_days(3)"})

    lane_moved = NOMINATION.replace(b"<bpmn:flowNodeRef>dost_select</bpmn:flowNodeRef>", b"", 1).replace(
        b"<bpmn:flowNodeRef>dost_check_dossier</bpmn:flowNodeRef>",
        b"<bpmn:flowNodeRef>dost_check_dossier</bpmn:flowNodeRef><bpmn:flowNodeRef>dost_select</bpmn:flowNodeRef>", 1)
    draft = upload(client, f"{BASE}/nomination/drafts", lane_moved, auth(ADMIN), base_version=2)
    assert draft.status_code == 201, draft.get_json()
    ref = f"draft-{draft.get_json()['id']}"
    body = client.get(f"{BASE}/nomination/diff", headers=auth(ADMIN), query_string={"from": 1, "to": ref}).get_json()
    assert [(c["id"], c["attributes"], c["after"]) for c in body["changed"] if c["type"] != "lane"] == [
        ("dost_select", ["lane"], {"lane": DOST_LANE})]
    assert {c["id"] for c in body["changed"] if c["type"] == "lane"} == {"lane_dost_officer", "lane_dost_lead"}
    assert_problem(client.get(f"{BASE}/nomination/diff", headers=auth(ADMIN), query_string={"from": 1, "to": 9}), 404)
    assert_problem(client.get(f"{BASE}/nomination/diff", headers=auth(ADMIN),
                              query_string={"from": 1, "to": "x"}), 422)


def test_open_draft_and_old_versions_are_listed_with_running_instances(client, auth):
    at_dost_check(client, auth)
    upload(client, f"{BASE}/nomination/drafts", dost_check_days(3), auth(ADMIN), base_version=1, note="đang sửa")
    listing = {p["process_id"]: p for p in client.get(BASE, headers=auth(ADMIN)).get_json()}
    assert set(listing) >= {"nomination", "award_decision"}
    [v1] = listing["nomination"]["versions"]
    assert (v1["version"], v1["active"], v1["running_instances"], len(v1["checksum"])) == (1, True, 1, 64)
    assert [(d["note"], d["base_version"]) for d in listing["nomination"]["drafts"]] == [("đang sửa", 1)]

