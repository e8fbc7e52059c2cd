"""One nomination from the unit's officer to the Chairman's signature, in a real browser, as each
role in turn: a return for revision, validation errors beside their fields, bulk claim, a batch,
the signed decision, and the public list. Every page is saved under test-output/screenshots/."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from service.documents.demo_pki import PASSPHRASE
from service.usecases import nominations
from service.usecases.drafts import save_and_submit
from service.usecases.tasks import complete_task
from tests.support.pki import LocalPki
from tests.support.signing import write_setup

from .conftest import PASSWORD, LiveServer, Screenshots

NOMINEE = "Ủy ban nhân dân phường Hiến Nam"
SUMMARY_SHORT = "Chuyển đổi số tốt."
SUMMARY = ("Phường Hiến Nam đưa 100% thủ tục hành chính lên dịch vụ công trực tuyến toàn trình, "
           "triển khai Bình dân học vụ số cho 4.200 người dân và xây dựng kho dữ liệu dùng chung.")


def pdf(label: str) -> dict[str, object]:
    body = f"%PDF-1.4\n% {label}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return {"name": f"{label}.pdf", "mimeType": "application/pdf", "buffer": body.encode()}


class Session:
    """One person at the browser."""

    def __init__(self, page: Page, server: LiveServer, shots: Screenshots):
        self.page, self.server, self.shots = page, server, shots

    def go(self, path: str, shot: str | None = None) -> None:
        self.page.goto(self.server.url + path)
        if shot:
            self.shot(shot)

    def shot(self, name: str) -> None:
        self.shots.take(self.page, name)

    def login(self, username: str, shot: bool = False) -> None:
        self.go("/login")
        self.page.get_by_label("Tên đăng nhập").fill(username)
        self.page.get_by_label("Mật khẩu").fill(PASSWORD)
        if shot:
            self.shot("login")
        self.page.get_by_role("button", name="Đăng nhập").click()
        expect(self.page.locator(".topbar .who")).to_have_text(username)

    def logout(self) -> None:
        self.page.get_by_role("button", name="Đăng xuất").click()
        expect(self.page.get_by_role("heading", name="Đăng nhập")).to_be_visible()

    def open_task(self, nominee: str, scope: str = "queue") -> None:
        self.go(f"/inbox?scope={scope}")
        self.page.locator(".task", has_text=nominee).get_by_role("link", name="Xử lý").click()

    def choose(self, label: str) -> None:
        self.page.get_by_label(label, exact=True).check()

    def complete(self) -> None:
        self.page.get_by_role("button", name="Hoàn thành").click()

    def error_beside(self, field_id: str) -> str:
        error = self.page.locator(f"#{field_id}-error")
        expect(error).to_be_visible()
        return error.inner_text()


def seed_second_nomination(server: LiveServer) -> str:
    """Another unit's nomination, already with the DOST officer: the inboxes hold more than one row."""
    rt = server.runtime
    staff = server.actor("canbo.digital")
    nid = nominations.create_draft(rt, staff, "cty-hung-yen-digital", {
        "nominee_kind": "doanh_nghiep", "award": "bang_khen", "nominee_name": "Công ty Cổ phần Công nghệ số Hưng Yên"})
    from service.usecases.drafts import Upload

    uploads = [Upload(slot, f"{slot}.pdf", pdf(f"digital-{slot}")["buffer"])  # type: ignore[arg-type]
               for slot in ("to_trinh", "bien_ban_hoi_dong", "bao_cao_thanh_tich")]
    save_and_submit(rt, staff, nid, {
        "nominee_kind": "doanh_nghiep", "award": "bang_khen", "nominee_name": "Công ty Cổ phần Công nghệ số Hưng Yên",
        "achievement_summary": "Làm chủ nền tảng dữ liệu sản xuất thông minh cho 30 doanh nghiệp trong tỉnh.",
        "criteria": ["c1", "c2", "c5"]}, uploads)
    head = server.actor("giamdoc.digital")
    with rt.uow() as uow:
        from sqlalchemy import select

        from service.db.models import InboxRow

        task_id = uow.session.scalars(select(InboxRow.id).where(InboxRow.nomination_id == nid)).one()
    complete_task(rt, head, task_id, {"decision": "submit", "submission_number": "08/TTr-CTY"})
    return nid


def seed_at_selection(server: LiveServer) -> str:
    """A third nomination already checked by the DOST officer: the lead compares two at selection."""
    rt = server.runtime
    staff = server.actor("canbo.taichinh")
    data = {"nominee_kind": "co_quan_don_vi", "award": "bang_khen", "nominee_name": "Sở Tài chính"}
    nid = nominations.create_draft(rt, staff, "so-tai-chinh", data)
    from service.usecases.drafts import Upload

    uploads = [Upload(slot, f"{slot}.pdf", pdf(f"taichinh-{slot}")["buffer"])  # type: ignore[arg-type]
               for slot in ("to_trinh", "bien_ban_hoi_dong", "bao_cao_thanh_tich")]
    save_and_submit(rt, staff, nid, {**data, "criteria": ["a1", "a2"],
                                     "achievement_summary": "Số hóa hồ sơ quyết toán ngân sách tỉnh từ năm 2010."},
                    uploads)
    for username, answer in (("giamdoc.taichinh", {"decision": "submit", "submission_number": "21/TTr-STC"}),
                             ("chuyenvien.khcn", {"decision": "complete", "criteria_met": ["a1"]})):
        with rt.uow() as uow:
            from sqlalchemy import select

            from service.db.models import InboxRow

            task_id = uow.session.scalars(select(InboxRow.id).where(InboxRow.nomination_id == nid)).one()
        complete_task(rt, server.actor(username), task_id, answer)
    return nid


def test_whole_nomination_from_unit_to_chairman(live_server: LiveServer, browser: object, shots: Screenshots,
                                               pki: LocalPki) -> None:
    write_setup(live_server.runtime, pki)
    seed_second_nomination(live_server)
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")  # type: ignore[attr-defined]
    page.set_default_timeout(15_000)
    me = Session(page, live_server, shots)

    # --- the public page, before anyone logs in
    me.go("/cong-khai", "public-before")
    expect(page.get_by_text("Hiện không có hồ sơ nào đang chờ quyết định.")).to_be_visible()

    # --- unit staff drafts, uploads, and meets a validation error beside the missing file
    me.login("canbo.hiennam", shot=True)
    me.shot("staff-inbox-empty")
    page.get_by_role("link", name="Lập hồ sơ mới").first.click()
    me.shot("staff-new-nomination")
    me.choose("a) Cơ quan, tổ chức, đơn vị; Ủy ban nhân dân xã, phường")
    me.choose("Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh")
    page.get_by_label("Tên tập thể hoặc họ và tên cá nhân được đề nghị khen thưởng").fill(NOMINEE)
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.get_by_role("heading", name=NOMINEE)).to_be_visible()
    # the criteria shown are kind a)'s, from the plan: nine of them, none of the enterprises' list
    expect(page.locator('input[name="criteria"]')).to_have_count(9)
    me.shot("staff-draft-form")
    page.get_by_label("Tóm tắt thành tích").fill(SUMMARY_SHORT)
    for code in ("a1", "a3", "a6", "a9"):
        page.locator(f'input[name="criteria"][value="{code}"]').check()
    page.locator('input[name="upload.to_trinh"]').set_input_files(pdf("to-trinh"))
    page.locator('input[name="upload.bien_ban_hoi_dong"]').set_input_files(pdf("bien-ban"))
    page.get_by_role("button", name="Gửi thủ trưởng đơn vị").click()
    assert "bắt buộc" in me.error_beside("f-dossier-bao_cao_thanh_tich")
    assert "20" in me.error_beside("f-achievement_summary")
    expect(page.locator(".current-file")).to_have_count(2)  # the two uploads were kept in the draft
    me.shot("staff-submit-errors")
    page.get_by_label("Tóm tắt thành tích").fill(SUMMARY)
    page.locator('input[name="upload.bao_cao_thanh_tich"]').set_input_files(pdf("bao-cao"))
    page.get_by_role("button", name="Gửi thủ trưởng đơn vị").click()
    expect(page.locator(".flash")).to_contain_text("Đã gửi hồ sơ")
    expect(page.locator("ul.files li")).to_have_count(3)
    expect(page.locator("#diagram.ready")).to_be_visible()
    nomination_url = page.url
    me.shot("staff-nomination-submitted")
    me.logout()

    # --- unit head returns it for revision; a return needs a reason
    me.login("chutich.hiennam")
    me.shot("head-inbox")
    me.open_task(NOMINEE)
    me.shot("head-task")
    me.choose("Trả lại để hoàn thiện")
    me.complete()
    assert "bắt buộc" in me.error_beside("f-reason")
    me.shot("head-return-without-reason")
    page.get_by_label("Lý do").fill("Bổ sung số liệu về dịch vụ công trực tuyến năm 2026.")
    me.complete()
    expect(page.locator(".flash")).to_contain_text("Đã hoàn thành")
    me.logout()

    # --- staff sees the reason, fixes and resubmits
    me.login("canbo.hiennam")
    me.shot("staff-inbox-returned")
    # The returned draft is its own step, due in 5 working days (its diagram's timers): returned Monday 13/4.
    returned = page.locator("li.task", has_text=NOMINEE)
    expect(returned).to_contain_text("Hoàn thiện hồ sơ theo yêu cầu")
    expect(returned).to_contain_text("20/04/2026")
    me.open_task(NOMINEE)
    expect(page.locator(".notice.warn")).to_contain_text("Bổ sung số liệu")
    expect(page.locator(".notice.warn .resubmit-due")).to_contain_text("Hạn gửi lại: 20/04/2026 17:00")
    me.shot("staff-returned-draft")
    page.goto(nomination_url)
    expect(page.locator("section.current")).to_contain_text("Hoàn thiện hồ sơ theo yêu cầu")
    expect(page.locator("#diagram.ready")).to_be_visible()
    me.shot("staff-returned-nomination-steps")
    me.open_task(NOMINEE)
    page.get_by_label("Tóm tắt thành tích").fill(SUMMARY + " Năm 2026 đạt 98% hồ sơ trực tuyến.")
    page.get_by_role("button", name="Gửi thủ trưởng đơn vị").click()
    expect(page.locator(".flash")).to_contain_text("Đã gửi hồ sơ")
    me.logout()

    # --- unit head signs the tờ trình and sends it up
    me.login("chutich.hiennam")
    me.open_task(NOMINEE)
    me.choose("Ký tờ trình, gửi Sở Khoa học và Công nghệ")
    page.get_by_label("Số tờ trình").fill("15/TTr-UBND")
    me.shot("head-submit")
    me.complete()
    me.logout()

    # --- DOST officer claims and checks the dossier, ticking kind a)'s criteria
    me.login("chuyenvien.khcn")
    me.go("/inbox?scope=queue", "dost-officer-queue")
    page.locator(".task", has_text=NOMINEE).get_by_role("button", name="Nhận việc").click()
    expect(page.locator(".flash")).to_contain_text("Đã nhận việc")
    me.go("/inbox?scope=mine", "dost-officer-mine")
    me.open_task(NOMINEE, scope="mine")
    expect(page.locator('input[name="criteria_met"]')).to_have_count(9)
    me.choose("Hồ sơ đầy đủ, hợp lệ")
    for code in ("a1", "a3", "a6"):
        page.locator(f'input[name="criteria_met"][value="{code}"]').check()
    me.shot("dost-officer-task")
    me.complete()
    me.logout()

    # --- DOST lead claims in bulk, then selects
    seed_at_selection(live_server)
    me.login("lanhdao.khcn")
    me.go("/inbox?scope=queue")
    page.locator(".task", has_text=NOMINEE).locator('input[name="selected"]').check()
    me.shot("dost-lead-bulk-select")
    page.get_by_role("button", name="Nhận các việc đã chọn").click()
    expect(page.locator(".flash")).to_contain_text("Đã nhận 1 việc")
    me.open_task(NOMINEE, scope="mine")
    # what the desks before entered: the unit head's tờ trình number, the officer's ticks and verdict
    expect(page.locator(".submission-number")).to_contain_text("15/TTr-UBND")
    expect(page.locator(".desk-results")).to_contain_text("Hồ sơ đầy đủ, hợp lệ")
    expect(page.locator(".desk-results ul.ticks li")).to_have_count(3)
    # and every nomination at the selection step, side by side
    expect(page.locator(".peers tbody tr")).to_have_count(2)
    expect(page.locator(".peers tbody tr.current")).to_contain_text("3/4")
    me.choose("Lựa chọn, đề nghị khen thưởng")
    me.shot("dost-lead-task")
    me.complete()
    me.logout()

    # --- eight days later the Home Affairs completeness check is overdue
    live_server.clock.advance(timedelta(days=8))
    me.login("chuyenvien.noivu")
    me.shot("home-affairs-officer-inbox-overdue")
    expect(page.locator(".task", has_text=NOMINEE).locator(".badge")).to_contain_text("Quá hạn")
    me.open_task(NOMINEE)
    me.choose("Hồ sơ đầy đủ, hợp lệ")
    me.shot("home-affairs-check")
    me.complete()
    me.open_task(NOMINEE)
    me.choose("Đủ điều kiện, trình Chủ tịch UBND tỉnh")
    page.get_by_label("Ý kiến thẩm định").fill("Đủ tiêu chuẩn theo mục III.2.1.a Kế hoạch; hồ sơ đầy đủ.")
    me.shot("home-affairs-appraise")
    me.complete()
    me.go(nomination_url.removeprefix(live_server.url))
    expect(page.locator(".status").first).to_contain_text("chờ quyết định")
    me.logout()

    # --- the public page now lists it as proposed
    me.go("/cong-khai", "public-proposed")
    expect(page.locator("ol.public-list").first).to_be_visible()

    # --- Home Affairs lead creates a batch and prepares the tờ trình and draft decision
    me.login("lanhdao.noivu")
    me.go("/inbox")
    expect(page.locator(".waiting-work")).to_contain_text("1 hồ sơ đã thẩm định đang chờ lập đợt trình")
    me.shot("home-affairs-lead-inbox-waiting-work")
    page.locator(".waiting-work").get_by_role("link", name="Lập đợt trình").click()
    me.shot("home-affairs-lead-batches")
    page.get_by_role("button", name="Lập đợt trình mới").click()  # the content comes first
    expect(page.locator("#batch-title-error")).to_contain_text("trích yếu")
    page.get_by_label("Trích yếu").fill("Về việc tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh năm 2026")
    page.get_by_role("button", name="Lập đợt trình mới").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Về việc tặng Bằng khen")
    me.shot("batch-created")
    page.get_by_role("link", name="Mở việc").click()
    expect(page.get_by_label("Trích yếu quyết định")).to_have_value(
        "Về việc tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh năm 2026")
    page.get_by_label(NOMINEE, exact=False).check()
    page.get_by_label("Trích yếu quyết định").fill(
        "Về việc tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh năm 2026")
    page.get_by_label("Dự thảo quyết định").fill(
        "Điều 1. Tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh cho Ủy ban nhân dân phường Hiến Nam "
        "đã có thành tích xuất sắc trong Phong trào thi đua năm 2026.\nĐiều 2. Chánh Văn phòng UBND tỉnh, "
        "Giám đốc Sở Nội vụ và các đơn vị liên quan chịu trách nhiệm thi hành Quyết định này.")
    me.shot("prepare-batch")
    me.complete()
    expect(page.locator(".awardees")).to_contain_text(NOMINEE)
    me.shot("batch-prepared")
    batch_path = page.url.removeprefix(live_server.url)
    me.logout()

    # --- Home Affairs drafts the decision from the batch; the Chairman cannot type a number, he signs
    me.login("chuyenvien.noivu")
    me.go(batch_path)
    page.get_by_role("button", name="Tạo dự thảo tờ trình, quyết định").click()
    expect(page.locator("table.files")).to_contain_text("Quyết định (PDF)")
    me.logout()
    me.login("chutich.tinh")
    expect(page.locator(".task").first).to_contain_text("Về việc tặng Bằng khen")
    expect(page.locator(".task").first).to_contain_text("1 hồ sơ")
    expect(page.locator(".task").first).to_contain_text("Người trình: Đặng Quang Huy")
    expect(page.locator("select#kind")).to_have_count(0)
    me.shot("chairman-inbox")
    page.locator(".task").first.get_by_role("link", name="Xử lý").click()
    expect(page.locator(".decision-draft")).to_contain_text("Điều 1.")
    me.shot("chairman-sign-task")
    me.choose("Ký quyết định khen thưởng")
    me.complete()
    expect(page.locator(".error-summary, .error").first).to_contain_text("chữ ký số")
    me.shot("chairman-sign-refused-without-signature")
    page.get_by_label("Mật khẩu (mã PIN) khóa ký số").fill(PASSPHRASE.decode())
    page.get_by_role("button", name="Ký số quyết định").click()
    expect(page.locator(".status").first).to_contain_text("Đã ký")
    citation = page.locator(".decision-cited strong").inner_text()
    assert citation.startswith("Quyết định số 01/QĐ-UBND ngày ")
    me.shot("batch-signed")
    me.logout()

    # --- the public page shows the award and its decision's number and date, without private data;
    # anyone may send a comment
    me.go("/cong-khai", "public-awarded")
    page.get_by_label("Họ và tên").fill("Nguyễn Văn Bình")
    page.get_by_label("Thông tin liên hệ").fill("0912 345 678")
    page.get_by_label("Góp ý về").select_option(label=NOMINEE)
    page.get_by_label("Nội dung góp ý").fill("Đề nghị nêu rõ số hồ sơ trực tuyến toàn trình của phường.")
    page.get_by_role("button", name="Gửi góp ý").click()
    expect(page.locator(".flash")).to_contain_text("góp ý không được đăng công khai")
    expect(page.get_by_text("Đề nghị nêu rõ số hồ sơ")).to_have_count(0)
    me.shot("public-comment-sent")
    awarded = page.locator("section", has_text="Đã được khen thưởng")
    expect(awarded).to_contain_text(NOMINEE)
    expect(awarded).to_contain_text(citation)
    assert "canbo.hiennam" not in page.content()

    # --- Home Affairs reads the comment in its inbox
    me.login("chuyenvien.noivu")
    expect(page.locator(".waiting-work")).to_contain_text("1 góp ý của công chúng chưa đọc")
    page.get_by_role("link", name="Đọc góp ý").click()
    expect(page.locator(".public-comments")).to_contain_text("0912 345 678")
    me.shot("home-affairs-public-comments")
    me.logout()

    # --- the unit's officer reads the whole story: timeline, files, diagram; adds a comment
    me.login("canbo.hiennam")
    me.go(nomination_url.removeprefix(live_server.url))
    expect(page.locator("#diagram.ready")).to_be_visible()
    expect(page.locator("#diagram .djs-element.step-done").first).to_be_attached()
    page.get_by_label("Thêm ý kiến").fill("Cảm ơn các cơ quan đã thẩm định.")
    page.get_by_role("button", name="Gửi ý kiến").click()
    expect(page.locator("ul.comments")).to_contain_text("Cảm ơn")
    expect(page.locator("#diagram.ready")).to_be_visible()
    me.shot("nomination-awarded-with-diagram")
    expect(page.locator("ol.timeline")).to_contain_text("Gửi thủ trưởng đơn vị")
    expect(page.locator("ol.timeline")).to_contain_text("Số tờ trình: 15/TTr-UBND")
    me.go("/nominations", "staff-nominations-list")
    # --- how one hears of new work: mail at once or the morning digest only
    me.go("/account")
    page.get_by_label("Chỉ báo trong thư tổng hợp buổi sáng").check()
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_label("Chỉ báo trong thư tổng hợp buổi sáng")).to_be_checked()
    me.shot("account-mail-choice")

    # --- English on request
    me.go("/inbox?lang=en")
    expect(page.get_by_role("link", name="My tasks")).to_be_visible()
    me.shot("inbox-english")
    me.go(nomination_url.removeprefix(live_server.url))
    expect(page.locator("#diagram.ready")).to_be_visible()
    expect(page.get_by_text("Summary of achievements")).to_be_visible()
    me.shot("nomination-english")
    me.go(nomination_url.removeprefix(live_server.url) + "?lang=vi")
    expect(page.get_by_role("heading", name="Diễn biến")).to_be_visible()
    me.logout()
    page.close()


def test_phone_layout(live_server: LiveServer, browser: object, shots: Screenshots) -> None:
    """The same pages on a phone-sized screen: no sideways scrolling, forms usable."""
    page: Page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,  # type: ignore[attr-defined]
                                  has_touch=True, locale="vi-VN")
    page.set_default_timeout(15_000)
    me = Session(page, live_server, shots)
    me.login("chuyenvien.khcn", shot=True)
    for path, name in (("/inbox?scope=queue", "phone-inbox"), ("/nominations", "phone-nominations"),
                       ("/cong-khai", "phone-public")):
        me.go(path, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"
    me.open_task("Công ty")
    me.shot("phone-task")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    me.go("/follow-up", "phone-follow-up")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    me.logout()
    for username, path, name in (("lanhdao.noivu", "/batches", "phone-batches"),
                                 ("quantri", "/admin/outbox", "phone-outbox")):
        me.login(username)
        me.go(path, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"
        me.logout()
    page.close()
