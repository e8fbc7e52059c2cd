"""/api/v1/decisions: the register, one decision, a batch's files, downloads, drafts, edited versions,
exclusions, the server-side signature and the upload of a PDF signed elsewhere. Same use cases and
access rules as the pages: 403 without the capability, 404 for what does not exist, 409 for a
stale or conflicting action, problem+json every time. SQLite and PostgreSQL, real LibreOffice, PKI."""

from __future__ import annotations

import hashlib
import io

from tests.support.pki import PASSPHRASE
from tests.support.signing import SIGNER, write_setup
from tests.workflows.conftest import draft_data

from .helpers import CHAIRMAN, HA_LEAD, HA_OFFICER, STAFF, assert_problem, awaiting_decision
from .test_api_batches import new_batch, prepare
from .test_decision_exclusions import DROPPED, KEPT, REASON, text
from .test_decisions import edited

API = "/api/v1/decisions"


def test_the_decision_api_from_draft_to_signature(client, auth, runtime, pki):
    write_setup(runtime, pki)
    kept = awaiting_decision(client, auth, data={**draft_data(), "nominee_name": KEPT})
    dropped = awaiting_decision(client, auth, data={**draft_data(), "nominee_name": DROPPED})
    batch_id = new_batch(client, auth)
    assert prepare(client, auth, batch_id, [kept, dropped]).status_code == 200

    # Drafting: Home Affairs only; the unit's staff gets 403, an unknown batch 404.
    assert_problem(client.post(f"{API}/batches/{batch_id}/drafts", headers=auth(STAFF)), 403)
    assert_problem(client.post(f"{API}/batches/nope/drafts", headers=auth(HA_OFFICER)), 404)
    made = client.post(f"{API}/batches/{batch_id}/drafts", headers=auth(HA_OFFICER))
    assert made.status_code == 201 and made.get_json() == {"version": 1}

    record = client.get(f"{API}/batches/{batch_id}", headers=auth(HA_LEAD)).get_json()
    assert record["submission"].startswith("Tờ trình số 01/TTr-SNV ngày ")
    draft_docx = next(f for f in record["files"] if (f["document"], f["format"]) == ("decision", "docx"))
    assert_problem(client.get(f"{API}/batches/{batch_id}", headers=auth(STAFF)), 403)
    assert_problem(client.get(f"{API}/batches/nope", headers=auth(HA_LEAD)), 404)
    got = client.get(f"{API}/files/{draft_docx['id']}", headers=auth(HA_LEAD))
    assert got.status_code == 200 and hashlib.sha256(got.data).hexdigest() == draft_docx["sha256"]
    assert_problem(client.get(f"{API}/files/{draft_docx['id']}", headers=auth(STAFF)), 403)  # a draft is not public
    assert_problem(client.get(f"{API}/files/999999", headers=auth(HA_LEAD)), 404)

    # An edited version back, as multipart; a missing file is a 422 naming the field.
    upload = client.post(f"{API}/batches/{batch_id}/versions", headers=auth(HA_OFFICER),
                         data={"file": (io.BytesIO(edited(got.data, "Sửa qua API.")), "qd.docx")},
                         content_type="multipart/form-data")
    assert upload.status_code == 201 and upload.get_json() == {"version": 2}
    assert assert_problem(client.post(f"{API}/batches/{batch_id}/versions", headers=auth(HA_OFFICER), data={},
                                      content_type="multipart/form-data"), 422)["errors"][0]["field"] == "file"
    assert_problem(client.post(f"{API}/batches/{batch_id}/versions", headers=auth(CHAIRMAN),
                               data={"file": (io.BytesIO(got.data), "qd.docx")},
                               content_type="multipart/form-data"), 403)

    # The Chairman excludes one; a second time is a 409; Home Affairs may not.
    body = {"nomination_id": dropped, "reason": REASON}
    assert_problem(client.post(f"{API}/batches/{batch_id}/exclusions", headers=auth(HA_OFFICER), json=body), 403)
    out = client.post(f"{API}/batches/{batch_id}/exclusions", headers=auth(CHAIRMAN), json=body)
    assert out.status_code == 201 and out.get_json() == {"version": 3}
    assert_problem(client.post(f"{API}/batches/{batch_id}/exclusions", headers=auth(CHAIRMAN), json=body), 409)
    assert_problem(client.post(f"{API}/batches/{batch_id}/exclusions", headers=auth(CHAIRMAN),
                               json={"nomination_id": dropped}), 422)

    # Signing: a wrong passphrase 422 and nothing stored; Home Affairs 403; then signed; again 409.
    assert_problem(client.post(f"{API}/batches/{batch_id}/signature", headers=auth(CHAIRMAN),
                               json={"passphrase": "sai"}), 422)
    assert_problem(client.post(f"{API}/batches/{batch_id}/signature", headers=auth(HA_OFFICER),
                               json={"passphrase": PASSPHRASE.decode()}), 403)
    signed = client.post(f"{API}/batches/{batch_id}/signature", headers=auth(CHAIRMAN),
                         json={"passphrase": PASSPHRASE.decode()})
    assert signed.status_code == 200, signed.get_json()
    done = signed.get_json()
    assert done["number"] == "01/QĐ-UBND" and done["citation"].startswith("Quyết định số 01/QĐ-UBND ngày ")
    assert_problem(client.post(f"{API}/batches/{batch_id}/signature", headers=auth(CHAIRMAN),
                               json={"passphrase": PASSPHRASE.decode()}), 409)
    assert_problem(client.post(f"{API}/batches/{batch_id}/signed", headers=auth(CHAIRMAN),
                               data={"file": (io.BytesIO(b"%PDF-1.7\n"), "qd.pdf")},
                               content_type="multipart/form-data"), 409)

    # The register and one decision: number, date, signer, trích yếu, awardees, sha256 of the signed PDF.
    listed = client.get(f"{API}?authority=province", headers=auth(HA_LEAD)).get_json()
    assert [r["number"] for r in listed] == ["01/QĐ-UBND"]
    one = client.get(f"{API}/{listed[0]['id']}", headers=auth(CHAIRMAN)).get_json()
    assert (one["signer"], one["awardees"], one["signed"], one["kind"]) == (SIGNER, 1, True, "decision")
    pdf = client.get(f"{API}/files/{one['file_id']}", headers=auth(STAFF))  # the signed decision is public
    assert hashlib.sha256(pdf.data).hexdigest() == one["sha256"] == done["sha256"]
    assert KEPT in text(pdf.data) and DROPPED not in text(pdf.data)
    submissions = client.get(f"{API}?authority=so-noi-vu&year=2026", headers=auth(HA_LEAD)).get_json()
    assert [(r["number"], r["kind"]) for r in submissions] == [("01/TTr-SNV", "submission")]
    assert_problem(client.get(API, headers=auth(STAFF)), 403)
    assert_problem(client.get(f"{API}/{listed[0]['id']}", headers=auth(STAFF)), 403)
    assert_problem(client.get(f"{API}/999999", headers=auth(HA_LEAD)), 404)
    assert client.get(f"{API}?year=1999", headers=auth(HA_LEAD)).status_code == 422
