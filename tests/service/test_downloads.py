"""Files through the API, the same way on every route. Every file it hands out is a download through
the one helper (security/headers.py send_attachment): Content-Disposition attachment (with an RFC 6266
filename* for a Vietnamese name), never sniffed, sandboxed, not cached; whether it is a stored dossier
file, a decision's version or a workbook made on the spot. Every upload without its `file` field is the
same 422 naming the field, and changes nothing. Over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import quote

from service.security.headers import DOWNLOAD_POLICY

from .helpers import (
    CHAIRMAN,
    DOST_OFFICER,
    HA_LEAD,
    HA_OFFICER,
    HEAD,
    STAFF,
    assert_problem,
    awaiting_decision,
    create_nomination,
    error_fields,
)
from .test_api_batches import new_batch, prepare
from .test_reporting_rounds import open_round, upload

NAME = "Báo cáo kết quả phường Hiến Nam.pdf"


def assert_download(response, filename: str) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;"), disposition
    if filename.isascii():
        assert f"filename={filename}" in disposition, disposition
    else:
        assert f"filename*=UTF-8''{quote(filename)}" in disposition, disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == DOWNLOAD_POLICY
    assert response.headers["Cache-Control"] == "private, no-store"


def test_every_api_download_has_the_same_headers(client, auth, runtime) -> None:
    round_id = open_round(client, auth)
    assert upload(client, auth, round_id, name=NAME).status_code == 200
    assert_download(client.get(f"/api/v1/rounds/{round_id}/units/phuong-hien-nam/file",
                               headers=auth(DOST_OFFICER)), NAME)
    assert_download(client.get(f"/api/v1/rounds/{round_id}/board.xlsx", headers=auth(DOST_OFFICER)),
                    f"theo-doi-{round_id[:8]}.xlsx")
    assert_download(client.get(f"/api/v1/rounds/{round_id}/summary.docx", headers=auth(DOST_OFFICER)),
                    f"bao-cao-tong-hop-{round_id[:8]}.docx")

    batch_id = new_batch(client, auth)
    assert prepare(client, auth, batch_id, [awaiting_decision(client, auth)]).status_code == 200
    assert client.post(f"/api/v1/decisions/batches/{batch_id}/drafts", headers=auth(HA_OFFICER)).status_code == 201
    record = client.get(f"/api/v1/decisions/batches/{batch_id}", headers=auth(HA_LEAD)).get_json()
    draft = next(f for f in record["files"] if (f["document"], f["format"]) == ("decision", "docx"))
    assert_download(client.get(f"/api/v1/decisions/files/{draft['id']}", headers=auth(HA_LEAD)), draft["filename"])


def test_every_api_upload_without_a_file_is_the_same_422(client, auth) -> None:
    nomination_id = create_nomination(client, auth)
    round_id = open_round(client, auth)
    batch_id = new_batch(client, auth)
    for user, path, detail in [
        (STAFF, f"/api/v1/nominations/{nomination_id}/attachments", "Thiếu tệp"),
        (STAFF, f"/api/v1/rounds/{round_id}/units/phuong-hien-nam/file", "Thiếu tệp báo cáo"),
        (HEAD, f"/api/v1/nominations/{nomination_id}/minutes", "Thiếu tệp"),
        (HEAD, f"/api/v1/nominations/{nomination_id}/unit-decision/signed", "Thiếu tệp"),
        (HA_OFFICER, f"/api/v1/decisions/batches/{batch_id}/versions", "Thiếu tệp"),
        (CHAIRMAN, f"/api/v1/decisions/batches/{batch_id}/signed", "Thiếu tệp"),
    ]:
        response = client.post(path, headers=auth(user), data={"other": "x"}, content_type="multipart/form-data")
        assert assert_problem(response, 422)["detail"] == detail, path
        assert error_fields(response) == {"file"}, path
    assert client.get(f"/api/v1/nominations/{nomination_id}/attachments", headers=auth(STAFF)).get_json() == []
