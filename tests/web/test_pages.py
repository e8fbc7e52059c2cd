"""The staff and public pages through Flask's test client: access, language, privacy of the public
list, the draft page's saving rules, comments, bulk claim, the inbox filters and the vendor files."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from service.core.i18n import compile_catalogs
from service.core.runtime import Runtime
from service.db.models import AuditEvent, InboxRow, Nomination
from service.usecases import nominations
from service.usecases.comments import add_comment
from service.usecases.drafts import Upload, claim_many, save_and_submit, save_draft_form
from service.usecases.tasks import complete_task

from .conftest import actor_of, log_in

PDF = b"%PDF-1.4\n% test\n%%EOF\n"
SUMMARY = "Đưa toàn bộ thủ tục hành chính lên dịch vụ công trực tuyến toàn trình."


def draft(runtime: Runtime, unit: str = "phuong-hien-nam", staff: str = "canbo.hiennam",
          name: str = "Ủy ban nhân dân phường Hiến Nam") -> str:
    return nominations.create_draft(runtime, actor_of(runtime, staff), unit, {
        "nominee_kind": "co_quan_don_vi", "award": "bang_khen", "nominee_name": name})


def submitted(runtime: Runtime, **kwargs: Any) -> str:
    nid = draft(runtime, **kwargs)
    staff = kwargs.get("staff", "canbo.hiennam")
    save_and_submit(runtime, actor_of(runtime, staff), nid, {
        "nominee_kind": "co_quan_don_vi", "award": "bang_khen", "nominee_name": kwargs.get("name", "UBND phường"),
        "achievement_summary": SUMMARY, "criteria": ["a1", "a2"], "position": "Không áp dụng"},
        [Upload(slot, f"{slot}.pdf", PDF + slot.encode()) for slot in ("to_trinh", "bien_ban_hoi_dong",
                                                                         "bao_cao_thanh_tich")])
    return nid


STEPS = [("chutich.hiennam", {"decision": "submit"}),
         ("chuyenvien.khcn", {"decision": "complete"}),
         ("lanhdao.khcn", {"decision": "select"}),
         ("chuyenvien.noivu", {"decision": "complete"}),
         ("chuyenvien.noivu", {"decision": "propose", "appraisal_opinion": "Đủ điều kiện khen thưởng."})]


def advance(runtime: Runtime, nid: str, steps: int) -> None:
    for username, data in STEPS[:steps]:
        with runtime.uow() as uow:
            task = uow.session.scalars(select(InboxRow.id).where(InboxRow.nomination_id == nid)).one()
        complete_task(runtime, actor_of(runtime, username), task, data)


def test_pages_need_a_login_and_posts_need_the_csrf_token(app: Any) -> None:
    client = app.test_client()
    for path in ("/inbox", "/nominations", "/nominations/new", "/batches"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert client.get("/cong-khai").status_code == 200  # the public list needs no account
    log_in(client, "chuyenvien.khcn")
    assert client.post("/inbox/claim", data={"task": "x"}).status_code == 400  # no CSRF token


def test_vietnamese_by_default_english_by_switch_and_remembered(app: Any) -> None:
    client = app.test_client()
    page = client.get("/login")
    assert 'lang="vi"' in page.text and "Đăng nhập" in page.text
    page = client.get("/login?lang=en")
    assert 'lang="en"' in page.text and "Log in" in page.text
    assert "lang=en" in page.headers.get("Set-Cookie", "")
    assert "Log in" in client.get("/cong-khai").text  # the cookie keeps the choice
    assert "Đăng nhập" in client.get("/login?lang=vi").text


def test_the_catalogue_is_compiled_from_the_po_file(tmp_path: Any) -> None:
    from babel.support import Translations

    from service.core.i18n import SOURCE

    target = compile_catalogs(SOURCE, tmp_path)
    translations = Translations.load(str(target), ["en"])
    assert translations.gettext("Việc của tôi") == "My tasks"
    assert translations.ngettext("Quá hạn %(num)d ngày làm việc", "Quá hạn %(num)d ngày làm việc", 2) \
        == "%(num)d working days overdue"


def test_public_list_shows_only_what_the_law_asks(runtime: Runtime, app: Any) -> None:
    nid = submitted(runtime)
    advance(runtime, nid, len(STEPS))
    with runtime.uow() as uow:
        nomination = uow.session.get(Nomination, nid)
        assert nomination is not None and nomination.status == "awaiting_decision"
        dossier_hash = nomination.data["dossier"]["to_trinh"]
    page = app.test_client().get("/cong-khai").text
    assert "UBND phường" in page and SUMMARY in page and "Ủy ban nhân dân phường Hiến Nam" in page
    assert "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh" in page
    for private in (dossier_hash, "Không áp dụng", "canbo.hiennam", "Nguyễn Thị Hoa", nid):
        assert private not in page


def test_draft_page_keeps_files_when_a_field_is_wrong(runtime: Runtime, app: Any) -> None:
    nid = draft(runtime)
    staff = actor_of(runtime, "canbo.hiennam")
    errors = save_draft_form(runtime, staff, nid, {"nominee_kind": "co_quan_don_vi", "award": "bang_khen",
                                                   "nominee_name": "UBND", "achievement_summary": "ngắn"},
                             [Upload("to_trinh", "to-trinh.pdf", PDF)])
    assert {e.path for e in errors} == {"achievement_summary"}  # too short; the name is fine
    with runtime.uow() as uow:
        stored = uow.session.get(Nomination, nid)
        assert stored is not None
        assert "achievement_summary" not in stored.data
        assert len(stored.data["dossier"]["to_trinh"]) == 64

    client = app.test_client()
    token = log_in(client, "canbo.hiennam")
    response = client.post(f"/nominations/{nid}/edit", data={
        "csrf_token": token, "action": "submit", "nominee_kind": "co_quan_don_vi", "award": "bang_khen",
        "nominee_name": "UBND phường", "achievement_summary": SUMMARY, "criteria": ["a1"],
        "dossier.to_trinh": stored.data["dossier"]["to_trinh"],
        "upload.bien_ban_hoi_dong": (io.BytesIO(PDF + b"2"), "bien-ban.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'id="f-dossier-bao_cao_thanh_tich-error"' in response.text  # beside the missing file
    assert "bien-ban.pdf" in response.text  # the upload made in the failed submission was kept
    response = client.post(f"/nominations/{nid}/edit", data={
        "csrf_token": token, "action": "submit", "nominee_kind": "co_quan_don_vi", "award": "bang_khen",
        "nominee_name": "UBND phường", "achievement_summary": SUMMARY, "criteria": ["a1"],
        "upload.bao_cao_thanh_tich": (io.BytesIO(PDF + b"3"), "bao-cao.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    with runtime.uow() as uow:
        assert uow.session.get(Nomination, nid).status == "unit_review"  # type: ignore[union-attr]


def test_comments_go_into_the_audit_trail(runtime: Runtime, app: Any) -> None:
    nid = submitted(runtime)
    client = app.test_client()
    token = log_in(client, "chutich.hiennam")
    client.post(f"/nominations/{nid}/comments", data={"csrf_token": token, "text": "  Đề nghị bổ sung số liệu. "})
    client.post(f"/nominations/{nid}/comments", data={"csrf_token": token, "text": "   "})
    with runtime.uow() as uow:
        notes = uow.session.scalars(select(AuditEvent).where(AuditEvent.kind == "comment")).all()
        assert [n.detail["text"] for n in notes] == ["Đề nghị bổ sung số liệu."]
    assert "Đề nghị bổ sung số liệu." in client.get(f"/nominations/{nid}").text
    outsider = actor_of(runtime, "canbo.taichinh")  # another unit's officer may neither see nor comment
    try:
        add_comment(runtime, outsider, nid, "xin chào")
    except Exception as exc:  # noqa: BLE001
        assert exc.__class__.__name__ in ("Forbidden", "NotFound")
    else:
        raise AssertionError("an outsider commented")
    other = app.test_client()
    log_in(other, "canbo.taichinh")
    assert other.get(f"/nominations/{nid}").status_code in (403, 404)


def test_inbox_filters_by_the_nominating_unit_and_searches_unit_names(runtime: Runtime, app: Any) -> None:
    first = submitted(runtime)
    second = submitted(runtime, unit="so-tai-chinh", staff="canbo.taichinh", name="Phòng Tin học")
    advance(runtime, first, 1)
    with runtime.uow() as uow:
        task = uow.session.scalars(select(InboxRow.id).where(InboxRow.nomination_id == second)).one()
    complete_task(runtime, actor_of(runtime, "giamdoc.taichinh"), task, {"decision": "submit"})
    client = app.test_client()
    log_in(client, "chuyenvien.khcn")
    both = client.get("/inbox?scope=queue").text
    assert first in both and second in both
    only_tc = client.get("/inbox?scope=queue&unit=so-tai-chinh").text
    assert second in only_tc and first not in only_tc
    by_name = client.get("/inbox?scope=queue&q=Hiến Nam").text
    assert first in by_name and second not in by_name
    overdue = client.get("/inbox?scope=queue&overdue=1").text
    assert first not in overdue and "Không có việc nào khớp bộ lọc." in overdue


def test_bulk_claim_takes_what_it_can(runtime: Runtime) -> None:
    first, second = submitted(runtime), submitted(runtime, name="Tổ công nghệ số")
    for nid in (first, second):
        advance(runtime, nid, 2)
    with runtime.uow() as uow:
        tasks = list(uow.session.scalars(select(InboxRow.id).where(InboxRow.stage == "dost_selection")))
    lead = actor_of(runtime, "lanhdao.khcn")
    claimed, problems = claim_many(runtime, lead, [*tasks, "no-such-task"])
    assert claimed == 2 and len(problems) == 1
    with runtime.uow() as uow:
        assignees = {t.assignee_id for t in uow.session.scalars(select(InboxRow).where(InboxRow.id.in_(tasks)))}
    assert assignees == {lead.user_id}


def test_vendor_files_come_from_node_modules_only(app: Any) -> None:
    client = app.test_client()
    css = client.get("/static/vendor/swagger-ui/swagger-ui.css")
    assert css.status_code == 200 and b"swagger" in css.data
    assert client.get("/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js").status_code == 200
    assert client.get("/static/vendor/bpmn-js/assets/bpmn-js.css").status_code == 200
    assert client.get("/static/vendor/bpmn-js/../package.json").status_code == 404
    assert client.get("/static/vendor/bpmn-js/%2e%2e/package.json").status_code == 404
    assert client.get("/static/vendor/left-pad/index.js").status_code == 404
    assert client.get("/static/app.css").status_code == 200  # Flask's own static files still work
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text


def test_diagram_is_served_to_those_who_may_see_the_nomination(runtime: Runtime, app: Any) -> None:
    nid = submitted(runtime)
    client = app.test_client()
    log_in(client, "canbo.hiennam")
    xml = client.get(f"/nominations/{nid}/diagram.bpmn")
    assert xml.status_code == 200 and b"bpmndi:BPMNDiagram" in xml.data
    page = client.get(f"/nominations/{nid}").text
    assert "draft_nomination" in page and "unit_head_review" in page  # done and current steps, for the viewer
    other = app.test_client()
    log_in(other, "canbo.digital")
    assert other.get(f"/nominations/{nid}/diagram.bpmn").status_code in (403, 404)
