"""Home Affairs' Tờ trình as a registered document: its number comes from Home Affairs' register (one
sequence per authority and year) when it is first drafted, never typed; the decision cites it with
number and date; a decision can never be signed dated before the Tờ trình it answers. SQLite and
PostgreSQL, real LibreOffice, the demo PKI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from service.core.errors import InvalidInput
from service.db.models import RegisterEntry
from service.usecases import decision_drafts, decisions
from tests.support.pki import PASSPHRASE
from tests.support.signing import write_setup
from tests.support.threads import at_once

from .helpers import CHAIRMAN, HA_LEAD, HA_OFFICER, actor
from .test_decisions import batch_at_signing, counts, latest, pdf_text


def entries(runtime, symbol: str) -> list[tuple[int, str | None]]:
    with runtime.read() as uow:
        return [(e.number, e.batch_id) for e in uow.session.scalars(
            select(RegisterEntry).where(RegisterEntry.symbol == symbol).order_by(RegisterEntry.number))]


def test_a_decision_is_never_signed_dated_before_its_submission(client, auth, runtime, clock, pki):
    write_setup(runtime, pki)
    batch_id = batch_at_signing(client, auth, 1)
    ha, chairman = actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN)
    decision_drafts.generate_drafts(runtime, ha, batch_id)
    drafted_on = clock.now()
    before = counts(runtime)

    clock.set(drafted_on - timedelta(days=2))  # a clock set back: the signing would predate the Tờ trình
    for sign in (lambda: decisions.sign_on_server(runtime, chairman, batch_id, PASSPHRASE.decode()),
                 lambda: decisions.prepare_external(runtime, chairman, batch_id)):
        with pytest.raises(InvalidInput, match=r"trước ngày Tờ trình số 01/TTr-SNV \(13/04/2026\)"):
            sign()
    assert counts(runtime) == before  # no decision number, no file
    page = client.post(f"/batches/{batch_id}/decision/sign", headers=auth(CHAIRMAN),
                       data={"passphrase": PASSPHRASE.decode()}, follow_redirects=True)
    assert "trước ngày Tờ trình số 01/TTr-SNV" in page.text and counts(runtime) == before

    clock.set(drafted_on + timedelta(days=1))
    done = decisions.sign_on_server(runtime, chairman, batch_id, PASSPHRASE.decode())
    text = " ".join(pdf_text(latest(runtime, batch_id, "signed")).split())
    assert "Tờ trình số 01/TTr-SNV ngày 13/4/2026" in text and done.signed_on.isoformat() == "2026-04-14"


def test_the_submission_number_comes_from_the_register_and_is_cited(client, auth, runtime, pki):
    write_setup(runtime, pki)
    first, second = batch_at_signing(client, auth, 1), batch_at_signing(client, auth, 1)
    ha = actor(runtime, HA_OFFICER)
    # A typed number is not a field any more: the page's form posts none, and one sent is ignored.
    page = client.post(f"/batches/{first}/decision/draft", headers=auth(HA_LEAD),
                       data={"submission_number": "210/TTr-SNV", "submission_date": "01/01/2030"},
                       follow_redirects=True)
    assert page.status_code == 200 and "210/TTr-SNV" not in page.text
    assert "Tờ trình số 01/TTr-SNV ngày 13/04/2026" in page.text
    assert 'name="submission_number"' not in page.text and 'name="submission_date"' not in page.text
    decision_drafts.generate_drafts(runtime, ha, first)  # a new draft keeps the batch's number
    decision_drafts.generate_drafts(runtime, ha, second)
    assert entries(runtime, "TTr-SNV") == [(1, first), (2, second)]

    submission = " ".join(pdf_text(latest_of(runtime, second, "submission")).split())
    assert "Số: 02/TTr-SNV" in submission and "ngày 13 tháng 4 năm 2026" in submission
    assert "(Kèm theo Tờ trình số 02/TTr-SNV ngày 13/4/2026 của Sở Nội vụ)" in submission
    decision = " ".join(pdf_text(latest(runtime, second, "draft")).split())
    assert "Tờ trình số 02/TTr-SNV ngày 13/4/2026" in decision

    register = client.get("/so-dang-ky?authority=so-noi-vu", headers=auth(HA_LEAD)).text
    assert "02/TTr-SNV" in register and "01/TTr-SNV" in register and "Tờ trình (PDF)" in register


def latest_of(runtime, batch_id: str, document: str) -> bytes:
    from service.db.models import DecisionFile
    with runtime.read() as uow:
        return uow.session.scalars(select(DecisionFile.content).where(
            DecisionFile.batch_id == batch_id, DecisionFile.document == document, DecisionFile.format == "pdf")
            .order_by(DecisionFile.version.desc())).first()


def test_submissions_registered_at_once_get_consecutive_numbers(client, auth, runtime):
    """8 batches at once get 8 consecutive numbers; two drafts of one batch at once share one."""
    batches = [batch_at_signing(client, auth, 1) for _ in range(8)]
    ha = actor(runtime, HA_OFFICER)
    movement = decision_drafts.batch_documents.Issuers.load()
    _, errors = at_once(lambda batch_id: decision_drafts.register_submission(runtime, ha, batch_id, movement, 1,
                                                                             "Người ký"), [*batches, batches[0]])
    assert errors == []
    got = entries(runtime, "TTr-SNV")
    assert [n for n, _ in got] == list(range(1, 9))  # no gap, no double
    assert sorted(b for _, b in got) == sorted(batches)  # one per batch
