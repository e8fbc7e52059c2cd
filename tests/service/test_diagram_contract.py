"""The service depends on what a diagram declares (its stages), never on its element ids.

The proof the issue asks for: every element id of the shipped nomination and award_decision
diagrams is renamed (flows, lanes, boundary events, the drawing follow), the renamed diagrams are
deployed through the admin API, and the whole journey (statuses, inboxes, notices, the batch and
its decision) comes out exactly as it does on the shipped diagrams. A diagram that leaves out a
required stage, or declares one that does not exist, is refused at upload with the stage named.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from service.core.runtime import Runtime
from service.db.models import OutboxMail
from service.usecases.timers import wake_due_instances
from tests.support.diagram_ids import element_ids, rename_element_ids
from tests.support.pki import LocalPki
from tests.support.signing import sign_batch
from tests.workflows.conftest import draft_data
from workflows.clock import FixedClock
from workflows.diagrams import BPMN_DIR

from .conftest import VN
from .helpers import (
    ADMIN,
    CHAIRMAN,
    DOST_LEAD,
    DOST_OFFICER,
    HA_LEAD,
    HA_OFFICER,
    HEAD,
    STAFF,
    actor,
    assert_problem,
    complete,
    create_nomination,
    detail,
    giay_khen_on_the_nomination_path,
    submit,
)

BASE = "/api/v1/admin/processes"
NOMINATION = (BPMN_DIR / "nomination.bpmn").read_bytes()
AWARD_DECISION = (BPMN_DIR / "award_decision.bpmn").read_bytes()
PROCESS_IDS = {"nomination", "award_decision"}  # the deployment keys the service starts (config/contracts.toml)
ROLE_USERS = {"unit_staff": STAFF, "unit_head": HEAD, "dost_officer": DOST_OFFICER, "dost_lead": DOST_LEAD,
              "home_affairs_officer": HA_OFFICER, "home_affairs_lead": HA_LEAD, "chairman": CHAIRMAN}


def upload(client, url: str, bpmn: bytes, filename: str, headers: dict[str, str], **fields: Any):
    data = {"file": (io.BytesIO(bpmn), filename), **{k: str(v) for k, v in fields.items()}}
    return client.post(url, headers=headers, data=data, content_type="multipart/form-data")


def deploy(client, auth, process_id: str, bpmn: bytes) -> None:
    response = upload(client, f"{BASE}/{process_id}/drafts", bpmn, f"{process_id}.bpmn", auth(ADMIN),
                      base_version=1, note="Đổi mã mọi phần tử")
    assert response.status_code == 201, response.get_json()
    deployed = client.post(f"{BASE}/{process_id}/drafts/{response.get_json()['id']}/deploy", headers=auth(ADMIN),
                           json={})
    assert deployed.status_code == 201, deployed.get_json()


# --- the journey, written down as what people see ------------------------------------------------------

class Journey:
    """Drives nominations by stage (never by id) and writes down every status, inbox row and mail."""

    def __init__(self, client, auth, runtime: Runtime, pki: LocalPki):
        self.client, self.auth, self.runtime, self.pki = client, auth, runtime, pki
        giay_khen_on_the_nomination_path(runtime)  # B: the nomination diagram's own Giấy khen branch
        self.trace: list[Any] = []
        self.names: dict[str, str] = {}  # nomination and batch ids → placeholders, so two runs compare
        with runtime.read() as uow:
            self.mail_mark = uow.session.scalar(select(func.max(OutboxMail.id))) or 0

    def alias(self, real_id: str, kind: str) -> str:
        return self.names.setdefault(real_id, f"<{kind}{len(self.names) + 1}>")

    def scrub(self, text: str) -> str:
        for real, alias in self.names.items():
            text = text.replace(real, alias)
        text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", text)
        # Each run's decision takes the register's next number and its own signed file.
        text = re.sub(r"\b[0-9]+/QĐ-UBND", "<number>/QĐ-UBND", text)
        return re.sub(r"/decision-files/[0-9]+", "/decision-files/<file>", text)

    def note(self, label: str, nomination_id: str) -> dict[str, Any]:
        """Status, open tasks (stage, name, role, unit, due) and each task's place in its role's inbox."""
        shown = detail(self.client, self.auth, nomination_id)
        tasks = sorted(shown["tasks"], key=lambda t: t["stage"] or "")
        inboxes = []
        for task in tasks:
            queue = self.client.get("/api/v1/tasks?scope=queue&limit=200",
                                    headers=self.auth(ROLE_USERS[task["role"]])).get_json()
            inboxes.append(sorted((t["stage"], t["name"], t["due_at"]) for t in queue
                                  if t["nomination_id"] == nomination_id))
        self.trace.append((label, self.alias(nomination_id, "N"), shown["status"],
                           [(t["stage"], t["name"], t["role"], t["unit_id"], t["due_at"]) for t in tasks], inboxes))
        self.mails(label)
        return shown

    def mails(self, label: str) -> None:
        with self.runtime.read() as uow:
            rows = uow.session.scalars(select(OutboxMail).where(OutboxMail.id > self.mail_mark)
                                       .order_by(OutboxMail.id)).all()
            if rows:
                self.mail_mark = rows[-1].id
            self.trace.append((label, "mail", sorted((m.to_addr, self.scrub(m.subject), self.scrub(m.body_text))
                                                     for m in rows)))

    def task(self, nomination_id: str, stage: str) -> dict[str, Any]:
        found = [t for t in detail(self.client, self.auth, nomination_id)["tasks"] if t["stage"] == stage]
        assert len(found) == 1, (stage, detail(self.client, self.auth, nomination_id)["tasks"])
        return found[0]

    def act(self, nomination_id: str, stage: str, data: dict[str, Any]) -> None:
        task = self.task(nomination_id, stage)
        response = complete(self.client, self.auth, ROLE_USERS[task["role"]], task["id"], data)
        assert response.status_code == 200, response.get_json()
        self.note(f"{stage} done", nomination_id)

    def run(self, clock: FixedClock) -> list[Any]:
        start = clock.now()
        # A: returned once, escalated once when the DOST check runs late, then awarded by a signed decision.
        awarded = create_nomination(self.client, self.auth)
        self.note("created", awarded)
        assert submit(self.client, self.auth, awarded).status_code == 200
        self.note("submitted", awarded)
        self.act(awarded, "unit_review", {"decision": "return", "reason": "Bổ sung báo cáo thành tích."})
        assert submit(self.client, self.auth, awarded).status_code == 200
        self.act(awarded, "unit_review", {"decision": "submit", "submission_number": "12/TTr-UBND"})
        clock.set(datetime(2026, 4, 21, 9, 0, tzinfo=VN))  # the DOST check's deadline has passed
        wake_due_instances(self.runtime)
        self.note("escalated", awarded)
        self.act(awarded, "dost_review", {"decision": "complete", "criteria_met": ["a1", "a3"]})
        self.act(awarded, "dost_selection", {"decision": "select"})
        self.act(awarded, "home_affairs_review", {"decision": "complete"})
        self.act(awarded, "home_affairs_appraisal", {"decision": "propose",
                                                     "appraisal_opinion": "Đủ điều kiện đề nghị tặng Bằng khen."})
        # B: the unit head's own certificate. C: declined by the DOST lead.
        certificate = create_nomination(self.client, self.auth, data=draft_data(award="giay_khen"))
        assert submit(self.client, self.auth, certificate).status_code == 200
        self.act(certificate, "unit_review", {"decision": "submit"})
        declined = create_nomination(self.client, self.auth)
        assert submit(self.client, self.auth, declined).status_code == 200
        self.act(declined, "unit_review", {"decision": "submit"})
        self.act(declined, "dost_review", {"decision": "complete"})
        self.act(declined, "dost_selection", {"decision": "decline", "reason": "Chưa tiêu biểu."})
        # The batch: prepared, sent back once, prepared again, signed.
        response = self.client.post("/api/v1/batches", headers=self.auth(HA_LEAD))
        assert response.status_code == 201, response.get_json()
        batch_id = self.alias(response.get_json()["id"], "B") and response.get_json()["id"]
        for decision in ("send_back", "sign"):
            self.batch_step(batch_id, "batch_preparation", HA_LEAD, {
                "nomination_ids": [awarded], "decision_title": "Khen thưởng phong trào thi đua năm 2026",
                "decision_draft": "Tặng Bằng khen của Chủ tịch UBND tỉnh."})
            self.batch_step(batch_id, "decision_signing", CHAIRMAN, {
                "decision": decision, "decision_number": "1234/QĐ-UBND", "signed_on": "2026-12-01",
                "reason": "Xem lại danh sách."} if decision == "send_back" else {
                "decision": "sign", "decision_number": "1234/QĐ-UBND", "signed_on": "2026-12-01"})
        for nomination_id in (awarded, certificate, declined):
            self.note("end", nomination_id)
        clock.set(start)
        return self.trace

    def batch_step(self, batch_id: str, stage: str, user: str, data: dict[str, Any]) -> None:
        shown = self.client.get(f"/api/v1/batches/{batch_id}", headers=self.auth(HA_LEAD)).get_json()
        [task] = [t for t in shown["tasks"] if t["stage"] == stage]
        if data.get("decision") == "sign":  # only with a digital signature, the number from the register
            sign_batch(self.runtime, self.pki, batch_id, actor(self.runtime, HA_OFFICER), actor(self.runtime, user))
        else:
            assert complete(self.client, self.auth, user, task["id"], data).status_code == 200
        after = self.client.get(f"/api/v1/batches/{batch_id}", headers=self.auth(HA_LEAD)).get_json()
        number = self.scrub(after["decision_number"] or "")
        self.trace.append((f"batch {stage}", after["status"], number, after["title"],
                           sorted((n["status"], self.names.get(n["id"])) for n in after["nominations"]),
                           sorted((t["stage"], t["name"], t["role"]) for t in after["tasks"])))
        self.mails(f"batch {stage}")


def test_renaming_every_element_id_changes_nothing_the_service_does(client, auth, runtime, clock, pki):
    shipped = Journey(client, auth, runtime, pki).run(clock)

    renamed_nomination, mapping = rename_element_ids(NOMINATION, keep=PROCESS_IDS, prefix="N")
    renamed_decision, decision_mapping = rename_element_ids(AWARD_DECISION, keep=PROCESS_IDS, prefix="D")
    # Every id but the process's own is new (the process id is the deployment key the service starts).
    assert len(mapping) == len(element_ids(NOMINATION)) - 1
    assert len(decision_mapping) == len(element_ids(AWARD_DECISION)) - 1
    for original, renamed in ((NOMINATION, renamed_nomination), (AWARD_DECISION, renamed_decision)):
        assert element_ids(original) & element_ids(renamed) == PROCESS_IDS & element_ids(original)
    deploy(client, auth, "nomination", renamed_nomination)
    deploy(client, auth, "award_decision", renamed_decision)

    renamed = Journey(client, auth, runtime, pki).run(clock)
    assert renamed == shipped
    # The journey did go where it should: every status, an escalation mail, the unit's notices, a signed batch.
    statuses = {entry[2] for entry in shipped if len(entry) == 5}
    assert statuses == {"draft", "unit_review", "returned", "dost_review", "dost_selection", "home_affairs_review",
                        "home_affairs_appraisal", "awaiting_decision", "awarded", "unit_certificate", "not_awarded"}
    subjects = [subject for entry in shipped if entry[1] == "mail" for _, subject, _ in entry[2]]
    assert any(s.startswith("[nomflow] Chuyển lãnh đạo xử lý thay do quá hạn: Kiểm tra hồ sơ") for s in subjects)
    assert sum("được tặng Bằng khen" in s for s in subjects) == 3  # the unit's staff, council secretary and head
    signed = [entry for entry in shipped if entry[0] == "batch decision_signing" and len(entry) == 6][-1]
    assert signed[1:3] == ("signed", "<number>/QĐ-UBND") and signed[4] == [("awarded", "<N1>")]


# --- refused at upload ---------------------------------------------------------------------------------

def _without_stage(bpmn: bytes, stage: str) -> bytes:
    return re.sub(rb'\s*<spiffworkflow:property name="stage" value="' + stage.encode() + rb'" />', b"", bpmn)


def test_a_diagram_missing_a_required_stage_is_refused_with_the_stage_named(client, auth):
    broken = _without_stage(NOMINATION, "dost_selection")
    for url in (f"{BASE}/validate", f"{BASE}/nomination/drafts"):
        body = assert_problem(upload(client, url, broken, "nomination.bpmn", auth(ADMIN), base_version=1), 422)
        messages = [e["message"] for e in body["errors"]]
        assert any("đề nghị khen thưởng" in m and "dost_selection" in m for m in messages), messages
        # The task that lost its stage is named too, so the editor rings it.
        assert any(e["element_id"] == "dost_select" and "chưa khai báo giai đoạn" in e["message"]
                   for e in body["errors"]), body["errors"]


def test_an_unknown_stage_is_refused_with_the_task_and_the_stage_named(client, auth):
    broken = NOMINATION.replace(b'name="stage" value="dost_review" />', b'name="stage" value="so_kiem_tra" />', 1)
    body = assert_problem(upload(client, f"{BASE}/validate", broken, "nomination.bpmn", auth(ADMIN)), 422)
    [problem] = [e for e in body["errors"] if "so_kiem_tra" in e["message"]]
    assert problem["element_id"] == "dost_check_dossier"
    assert "dost_check_dossier" in problem["message"] and "không tồn tại" in problem["message"]
    assert "dost_review" in problem["message"]  # the stages that do exist are listed


def test_the_refusal_reads_in_english_from_the_catalogue(client, auth):
    broken = _without_stage(NOMINATION, "awarded")
    body = assert_problem(upload(client, f"{BASE}/validate?lang=en", broken, "nomination.bpmn", auth(ADMIN)), 422)
    assert ("this diagram is used for award nominations, so it must declare the stages awarded (property stage "
            "on a user task or an end event)") in [e["message"] for e in body["errors"]]
