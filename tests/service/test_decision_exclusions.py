"""The Chairman leaves single nominations out of the decision at his signing step: the decision is
re-drafted without them and that draft is what is signed (on the server, or elsewhere: the upload
must match the re-drafted PDF); the excluded ones end "Không được khen thưởng" with his reason in
their timeline and in the mail to their unit. SQLite and PostgreSQL, real LibreOffice, the demo PKI."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from service.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.db.models import DecisionExclusion, DecisionFile, Nomination, OutboxMail
from service.documents.signing import Trust, sign, verify
from service.documents.stamp import signature_place
from service.usecases import decision_drafts, decisions, exclusions
from tests.support.pki import PASSPHRASE
from tests.support.signing import SIGNER, write_setup
from tests.workflows.conftest import draft_data

from .helpers import CHAIRMAN, HA_LEAD, HA_OFFICER, STAFF, actor, assert_problem, awaiting_decision
from .test_api_batches import batch_task, new_batch, prepare
from .test_decisions import counts, latest, pdf_text

KEPT, DROPPED = "Ủy ban nhân dân phường Giữ Lại", "Ủy ban nhân dân phường Bị Loại"
REASON = "Thành tích chưa tiêu biểu trong toàn tỉnh."


def two_named(client, auth) -> tuple[str, str, str]:
    kept = awaiting_decision(client, auth, data={**draft_data(), "nominee_name": KEPT})
    dropped = awaiting_decision(client, auth, data={**draft_data(), "nominee_name": DROPPED})
    batch_id = new_batch(client, auth)
    assert prepare(client, auth, batch_id, [kept, dropped]).status_code == 200
    return batch_id, kept, dropped


def text(pdf: bytes) -> str:
    return " ".join(pdf_text(pdf).split())


def submission_pdf(runtime, batch_id: str) -> bytes:
    with runtime.read() as uow:
        return uow.session.scalars(select(DecisionFile.content).where(
            DecisionFile.batch_id == batch_id, DecisionFile.document == "submission", DecisionFile.format == "pdf")
            .order_by(DecisionFile.version.desc())).first()


def test_an_excluded_nomination_leaves_the_signed_decision_and_ends_not_awarded(client, auth, runtime, pki):
    write_setup(runtime, pki)
    batch_id, kept, dropped = two_named(client, auth)
    ha, chairman = actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN)
    decision_drafts.generate_drafts(runtime, ha, batch_id)
    assert DROPPED in text(latest(runtime, batch_id, "draft"))

    before = counts(runtime)
    for who, nid, reason, error in ((chairman, dropped, "ngắn", InvalidInput), (ha, dropped, REASON, Forbidden),
                                    (chairman, "khong-co", REASON, NotFound)):
        with pytest.raises(error):
            exclusions.exclude(runtime, who, batch_id, nid, reason)
    assert counts(runtime) == before

    page = client.post(f"/batches/{batch_id}/decision/exclude", headers=auth(CHAIRMAN),
                       data={"nomination_id": dropped, "reason": REASON}, follow_redirects=True)
    assert "Đã loại hồ sơ khỏi quyết định" in page.text and REASON in page.text
    redrafted = text(latest(runtime, batch_id, "draft"))
    assert KEPT in redrafted and DROPPED not in redrafted  # the decision lists only the awarded
    assert DROPPED in text(submission_pdf(runtime, batch_id))  # Home Affairs' proposal stays as it was
    with pytest.raises(Conflict):
        exclusions.exclude(runtime, chairman, batch_id, dropped, REASON)
    with pytest.raises(InvalidInput, match="hồ sơ cuối cùng"):
        exclusions.exclude(runtime, chairman, batch_id, kept, REASON)
    # The diagram's form carries no list to fill by hand any more.
    task = batch_task(client, auth, batch_id, "decision_signing")
    form = client.get(f"/tasks/{task['id']}", headers=auth(CHAIRMAN)).text
    assert 'name="excluded' not in form and "Ký số quyết định" in form  # one left: nothing more to exclude
    typed = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=auth(CHAIRMAN), json={"data": {
        "decision": "send_back", "reason": "Trả lại để xem xét.", "excluded": [
            {"nomination_id": kept, "reason": REASON}]}})
    assert "Không khen thưởng một hồ sơ" in assert_problem(typed, 422)["detail"]

    done = decisions.sign_on_server(runtime, chairman, batch_id, PASSPHRASE.decode())
    signed = latest(runtime, batch_id, "signed")
    report = verify(signed, Trust((pki.root_pem,), pki.tsa_url))
    assert report.valid and KEPT in text(signed) and DROPPED not in text(signed)
    with runtime.read() as uow:
        status = dict(uow.session.execute(select(Nomination.id, Nomination.status)
                                          .where(Nomination.id.in_([kept, dropped]))).all())
        mails = [m.body_text for m in uow.session.scalars(select(OutboxMail))]
    assert status == {kept: "awarded", dropped: "not_awarded"}
    assert any(REASON in body and DROPPED in body for body in mails)  # told to the unit, with the reason
    assert any(f"{done.number:02d}/{done.symbol}" in body and KEPT in body for body in mails)

    batch_page = client.get(f"/batches/{batch_id}", headers=auth(HA_LEAD)).text
    items = {nid: li for li in re.findall(r"<li.*?</li>", batch_page.split('class="awardees"', 1)[1], re.S)
             for nid in (kept, dropped) if nid in li}
    assert "Không được khen thưởng" in items[dropped] and REASON in items[dropped]
    assert "Không được khen thưởng" not in items[kept]
    timeline = client.get(f"/nominations/{dropped}", headers=auth(STAFF)).text.split('id="timeline-title"', 1)[1]
    assert "Không được khen thưởng" in timeline and REASON in timeline


def test_signed_elsewhere_the_upload_must_match_the_redrafted_decision(client, auth, runtime, pki):
    write_setup(runtime, pki)
    batch_id, kept, dropped = two_named(client, auth)
    ha, chairman = actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN)
    decision_drafts.generate_drafts(runtime, ha, batch_id)
    numbered = decisions.prepare_external(runtime, chairman, batch_id)
    stale = latest(runtime, batch_id, "final")
    exclusions.exclude(runtime, chairman, batch_id, dropped, REASON)
    trust = Trust((pki.root_pem,), pki.tsa_url)
    from tests.documents.test_signing import NOW, key

    old = sign(stale, key(pki, "chairman"), trust, signature_place(stale, SIGNER), NOW)
    with pytest.raises(InvalidInput, match="tạo lại bản PDF để ký"):
        decisions.accept_external(runtime, chairman, batch_id, "qd.pdf", old)
    assert decisions.prepare_external(runtime, chairman, batch_id).number == numbered.number  # same number
    final = latest(runtime, batch_id, "final")
    assert DROPPED not in text(final) and KEPT in text(final)
    good = sign(final, key(pki, "chairman"), trust, signature_place(final, SIGNER), NOW)
    assert decisions.accept_external(runtime, chairman, batch_id, "qd.pdf", good).number == numbered.number
    with runtime.read() as uow:
        assert uow.session.get(Nomination, dropped).status == "not_awarded"
        assert uow.session.scalars(select(DecisionExclusion.reason)).all() == [REASON]
