"""Award titles and nominee kinds come from the nomination's movement, not from code: a movement that
names its award differently shows its own words in the mails and in the decision, the Tờ trình and
their annex."""

from __future__ import annotations

import io

from docx import Document
from sqlalchemy import select, update

from service.core.runtime import Runtime
from service.db.models import DecisionFile, Movement, OutboxMail
from service.usecases.decision_drafts import DECISION, SUBMISSION, generate_drafts
from tests.service.helpers import HA_OFFICER, actor, awaiting_decision
from tests.service.test_api_batches import new_batch, prepare

AWARD = "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh cho điển hình chuyển đổi số năm 2027"


def rename(runtime: Runtime) -> None:
    """The stored movement names its Chairman's award its own way."""
    with runtime.uow() as uow:
        movement = uow.session.scalars(select(Movement).where(Movement.year == 2026)).one()
        awards = [dict(a, title=AWARD) if a["code"] == "bang_khen" else a for a in movement.awards]
        uow.session.execute(update(Movement).where(Movement.id == movement.id).values(awards=awards))
        uow.commit()


def docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    parts += [" | ".join(c.text for c in row.cells) for table in doc.tables for row in table.rows]
    return "\n".join(parts)


def test_the_movements_award_title_shows_in_the_mails_and_the_decision(client, auth, runtime) -> None:
    rename(runtime)
    nomination_id = awaiting_decision(client, auth)
    with runtime.read() as uow:
        bodies = list(uow.session.scalars(select(OutboxMail.body_text)))
    assert any(f"Hình thức đề nghị: {AWARD}" in body for body in bodies)
    assert not any("Hình thức đề nghị: Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh\n" in b for b in bodies)

    batch_id = new_batch(client, auth)
    assert prepare(client, auth, batch_id, [nomination_id]).status_code == 200
    version = generate_drafts(runtime, actor(runtime, HA_OFFICER), batch_id)
    with runtime.read() as uow:
        files = {f.document: f.content for f in uow.session.scalars(select(DecisionFile).where(
            DecisionFile.batch_id == batch_id, DecisionFile.version == version, DecisionFile.format == "docx"))}
    decision, submission = docx_text(files[DECISION]), docx_text(files[SUBMISSION])
    assert f"Về việc tặng {AWARD}" in decision
    assert f"Tặng {AWARD} cho 1 tập thể và 0 cá nhân" in decision
    assert f"DANH SÁCH TẬP THỂ, CÁ NHÂN ĐƯỢC TẶNG {AWARD.upper()}" in decision
    assert f"Về việc đề nghị tặng {AWARD}" in submission
    assert f"ĐỀ NGHỊ TẶNG {AWARD.upper()}" in submission
