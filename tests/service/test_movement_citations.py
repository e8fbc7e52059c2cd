"""A decision cites its own movement: two movements with different plans (number, date, launching
authority, name), a batch of each; each batch's Tờ trình and Quyết định (DOCX and the PDF made from it
by LibreOffice), and its certificates once signed, cite that batch's movement, never the other's nor a
constant of the configuration. The admin edits a movement's plan on its page, in dd/mm/yyyy, and a bad
date gets a clear message. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from typing import Any

from docx import Document
from sqlalchemy import select

from service.core.config import ROOT
from service.core.runtime import Runtime
from service.db.models import DecisionFile, Movement
from service.usecases import decisions
from service.usecases.batches import create_batch
from service.usecases.movement_edits import Facts, edit_facts
from service.usecases.movements import copy_movement

from .helpers import ADMIN, HA_LEAD, HA_OFFICER, TO_DECISION, act, actor, draft_data, submit
from .test_api_batches import new_batch, prepare

OTHER = {"name": "Dân vận khéo trong chuyển đổi số", "plan_number": "07/KH-UBND", "plan_date": date(2026, 3, 10),
         "authority": "Ban Thường vụ Tỉnh ủy Hưng Yên"}
OUT = ROOT / "test-output" / "documents"
THIS = {"plan_number": "125/KH-UBND", "plan_date": date(2026, 5, 5)}


def docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    cells = [p.text for t in document.tables for c in t._cells for p in c.paragraphs]
    return " ".join(" ".join([*(p.text for p in document.paragraphs), *cells]).split())


def pdf_text(pdf: bytes) -> str:
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return " ".join(text.split())


def drafted(runtime: Runtime, batch_id: str, document: str, fmt: str) -> bytes:
    with runtime.read() as uow:
        return uow.session.scalars(select(DecisionFile.content).where(
            DecisionFile.batch_id == batch_id, DecisionFile.document == document, DecisionFile.format == fmt)
            .order_by(DecisionFile.version.desc())).first()


def awaiting_decision_in(client: Any, auth: Any, movement_id: int) -> str:
    response = client.post("/api/v1/nominations", headers=auth("canbo.hiennam"),
                           json={"unit_id": "phuong-hien-nam", "data": draft_data(), "movement_id": movement_id})
    assert response.status_code == 201, response.get_json()
    nomination_id = str(response.get_json()["id"])
    assert submit(client, auth, nomination_id).status_code == 200
    for stage, user, data in TO_DECISION:
        act(client, auth, nomination_id, stage, user, data)
    return nomination_id


def two_movements(runtime: Runtime) -> tuple[int, int]:
    """The seeded 2026 movement with its plan set by the admin, and a second one with another plan."""
    admin = actor(runtime, ADMIN)
    with runtime.read() as uow:
        this = uow.session.scalars(select(Movement).where(Movement.year == 2026)).one()
        this_id, name, authority, version = this.id, this.name, this.authority, this.version
    edit_facts(runtime, admin, this_id, version, Facts(name=name, authority=authority, **THIS))
    other_id = copy_movement(runtime, admin, this_id, year=2026, opens_on=date(2026, 1, 1),
                             closes_on=date(2026, 12, 31), **OTHER)
    return this_id, other_id


def test_each_batchs_documents_cite_its_own_movement(client, auth, runtime: Runtime) -> None:
    this_id, other_id = two_movements(runtime)
    first = new_batch_in(client, auth, runtime, this_id)
    second = new_batch_in(client, auth, runtime, other_id)
    for batch_id in (first, second):
        decisions.generate_drafts(runtime, actor(runtime, HA_OFFICER), batch_id)

    for batch_id, cites, never in ((first, "Kế hoạch số 125/KH-UBND ngày 5/5/2026 của Ủy ban nhân dân tỉnh "
                                            "Hưng Yên phát động phong trào thi đua “Phát triển khoa học",
                                    "07/KH-UBND"),
                                   (second, "Kế hoạch số 07/KH-UBND ngày 10/3/2026 của Ban Thường vụ Tỉnh ủy "
                                            "Hưng Yên phát động phong trào thi đua “Dân vận khéo trong chuyển "
                                            "đổi số” năm 2026", "125/KH-UBND")):
        for document in ("decision", "submission"):
            docx = docx_text(drafted(runtime, batch_id, document, "docx"))
            pdf = pdf_text(drafted(runtime, batch_id, document, "pdf"))
            assert cites in docx, (batch_id, document, docx)
            assert cites in pdf, (batch_id, document, pdf)
            assert never not in docx and never not in pdf
    # Kept to look at (pdftoppm): the second movement's decision as the Chairman would sign it.
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "decision-second-movement.pdf").write_bytes(drafted(runtime, second, "decision", "pdf"))


def new_batch_in(client: Any, auth: Any, runtime: Runtime, movement_id: int) -> str:
    nomination_id = awaiting_decision_in(client, auth, movement_id)
    batch_id = create_batch(runtime, actor(runtime, HA_LEAD), "Về việc tặng Bằng khen năm 2026", movement_id)
    assert prepare(client, auth, batch_id, [nomination_id]).status_code == 200
    return batch_id


def test_a_movement_without_a_plan_number_yet_is_cited_without_a_gap(client, auth, runtime: Runtime) -> None:
    """The shipped 2026 movement leaves the plan's number and date blank, as the plan's text does: the
    decision cites the plan by its authority and name, never "Kế hoạch số  ngày  của"."""
    from .helpers import awaiting_decision

    batch_id = new_batch(client, auth)
    assert prepare(client, auth, batch_id, [awaiting_decision(client, auth)]).status_code == 200
    decisions.generate_drafts(runtime, actor(runtime, HA_OFFICER), batch_id)
    text = docx_text(drafted(runtime, batch_id, "decision", "docx"))
    assert "Căn cứ Kế hoạch của Ủy ban nhân dân tỉnh Hưng Yên phát động phong trào thi đua" in text
    assert "số  ngày" not in text and "Kế hoạch số của" not in text
