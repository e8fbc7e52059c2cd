"""The decision in a real browser: Home Affairs drafts it from the batch, the Chairman signs it on the
server, the public page links the signed PDF, /xac-thuc confirms it (by number and by the file);
a second batch is signed elsewhere (the PDF nomflow numbered, signed by the Chairman's key outside,
uploaded back) and gets the next number. Pages are saved under test-output/screenshots/, a signed
page under test-output/documents/."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from playwright.sync_api import Page, expect

from service.core.config import ROOT
from service.documents.demo_pki import PASSPHRASE
from service.documents.signing import Trust, sign, verify
from service.documents.stamp import signature_place
from service.usecases.batches import create_batch
from service.usecases.tasks import complete_task
from tests.support.pki import LocalPki
from tests.support.signing import SIGNER, write_setup

from .conftest import LiveServer, Screenshots
from .test_journey import Session
from .test_pages import STEPS, submitted

PAGES = ROOT / "test-output" / "documents"


def ready_batch(server: LiveServer, name: str) -> str:
    """A batch at the Chairman's signature with one nomination, moved there through the use cases."""
    from sqlalchemy import select

    from service.db.models import InboxRow

    rt = server.runtime
    nid = submitted(rt, name=name)
    for username, data in STEPS:
        with rt.uow() as uow:
            task = uow.session.scalars(select(InboxRow.id).where(InboxRow.nomination_id == nid)).one()
        complete_task(rt, server.actor(username), task, data)
    batch_id = create_batch(rt, server.actor("lanhdao.noivu"))
    with rt.uow() as uow:
        task = uow.session.scalars(select(InboxRow.id).where(InboxRow.batch_id == batch_id)).one()
    complete_task(rt, server.actor("lanhdao.noivu"), task, {
        "nomination_ids": [nid], "decision_title": "Về việc tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh",
        "decision_draft": "Tặng Bằng khen cho các tập thể có thành tích xuất sắc."})
    return batch_id


def off_loop(call: Any, *args: Any) -> Any:
    """pyHanko runs its own asyncio loop; Playwright's sync API holds one in this thread already."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call, *args).result()


def fetch(page: Page, server: LiveServer, href: str | None) -> Any:
    """A link of the page, fetched with the page's cookies."""
    return page.request.get(server.url + (href))


def test_draft_sign_publish_verify_and_the_next_number(live_server: LiveServer, browser: object, shots: Screenshots,
                                                       pki: LocalPki) -> None:
    write_setup(live_server.runtime, pki)
    first = ready_batch(live_server, "Ủy ban nhân dân phường An Tảo")
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")  # type: ignore[attr-defined]
    page.set_default_timeout(60_000)
    me = Session(page, live_server, shots)

    # --- Home Affairs drafts the Tờ trình and the Quyết định from the batch
    me.login("chuyenvien.noivu")
    me.go(f"/batches/{first}", "batch-before-draft")
    page.get_by_label("Số tờ trình của Sở Nội vụ (nếu đã có)").fill("210/TTr-SNV")
    page.get_by_label("Ngày tờ trình").fill("10/11/2026")
    page.get_by_role("button", name="Tạo dự thảo tờ trình, quyết định").click()
    expect(page.locator(".flash")).to_contain_text("Đã tạo dự thảo")
    expect(page.locator("table.files")).to_contain_text("Tờ trình (DOCX)")
    me.shot("batch-drafted")
    draft = fetch(page, live_server, page.get_by_role("link", name="Quyết định (PDF)").first.get_attribute("href"))
    assert draft.ok and draft.body().startswith(b"%PDF-")
    me.logout()

    # --- the Chairman: the typed number is gone; he signs with his key on the server
    me.login("chutich.tinh")
    page.locator(".task").first.get_by_role("link", name="Xử lý").click()
    expect(page.get_by_role("button", name="Ký số quyết định")).to_be_visible()
    expect(page.get_by_label("Số quyết định")).to_have_count(0)
    me.shot("chairman-signing-panel")
    page.get_by_label("Mật khẩu (mã PIN) khóa ký số").fill("sai-mat-khau")
    page.get_by_role("button", name="Ký số quyết định").click()
    expect(page.locator(".error")).to_contain_text("Sai mật khẩu")
    me.shot("chairman-wrong-passphrase")
    page.get_by_label("Mật khẩu (mã PIN) khóa ký số").fill(PASSPHRASE.decode())
    page.get_by_role("button", name="Ký số quyết định").click()
    expect(page.locator(".flash")).to_contain_text("Đã ký số: Quyết định số 01/QĐ-UBND ngày")
    citation = page.locator(".decision-cited strong").inner_text()
    me.shot("batch-signed-on-server")
    signed_link = page.get_by_role("link", name="Tải quyết định đã ký số (PDF)").get_attribute("href")
    signed = fetch(page, live_server, signed_link).body()
    trust = Trust((pki.root_pem,), pki.tsa_url)
    report = off_loop(verify, signed, trust)  # pyHanko's validator
    assert (report.valid, report.trusted, report.timestamped, report.signer) == (True, True, True, SIGNER)
    PAGES.mkdir(parents=True, exist_ok=True)
    (PAGES / "journey-signed-decision.pdf").write_bytes(signed)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(PAGES / "journey-signed-decision.pdf"),
                    str(PAGES / "journey-signed-decision")], check=True)
    me.go("/so-dang-ky", "register")
    expect(page.locator("table.register")).to_contain_text("01/QĐ-UBND")
    me.logout()

    # --- the public page links the signed decision; /xac-thuc confirms it
    me.go("/cong-khai", "public-with-signed-decision")
    link = page.get_by_role("link", name=citation)
    expect(link).to_be_visible()
    assert fetch(page, live_server, link.get_attribute("href")).body() == signed
    me.go("/xac-thuc")
    page.get_by_label("Số, ký hiệu").fill("01/QĐ-UBND")
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.locator(".verdict")).to_contain_text("Có trong sổ đăng ký: " + citation)
    me.shot("verify-by-number")
    page.get_by_label("Tệp PDF quyết định").set_input_files(
        {"name": "quyet-dinh.pdf", "mimeType": "application/pdf", "buffer": signed})
    page.get_by_role("button", name="Kiểm tra tệp").click()
    expect(page.locator(".verdict")).to_contain_text("Quyết định thật, còn nguyên vẹn")
    expect(page.locator(".facts")).to_contain_text(SIGNER)
    me.shot("verify-by-file")

    # --- a second batch, signed elsewhere: it gets the next number
    second = ready_batch(live_server, "Ủy ban nhân dân phường Lam Sơn")
    me.login("chuyenvien.noivu")
    me.go(f"/batches/{second}")
    page.get_by_role("button", name="Tạo dự thảo tờ trình, quyết định").click()
    expect(page.locator(".flash")).to_contain_text("Đã tạo dự thảo")
    me.logout()
    me.login("chutich.tinh")
    me.go(f"/batches/{second}")
    page.get_by_role("button", name="Lấy số, tạo bản PDF để ký").click()
    expect(page.locator(".flash")).to_contain_text("Đã lấy số 02/QĐ-UBND")
    me.shot("second-batch-numbered-for-external-signing")
    final_link = page.get_by_role("link", name="Tải bản PDF số 02/QĐ-UBND để ký").get_attribute("href")
    final = fetch(page, live_server, final_link).body()
    from tests.documents.test_signing import NOW, key

    elsewhere = off_loop(sign, final, key(pki, "chairman"), trust, signature_place(final, SIGNER), NOW)
    page.get_by_label("Tệp PDF đã ký số").set_input_files(
        {"name": "qd-02.pdf", "mimeType": "application/pdf", "buffer": elsewhere})
    page.get_by_role("button", name="Tải lên quyết định đã ký").click()
    expect(page.locator(".flash")).to_contain_text("Đã nhận quyết định đã ký số: Quyết định số 02/QĐ-UBND")
    me.shot("second-batch-signed-elsewhere")
    me.go("/so-dang-ky", "register-two-decisions")
    expect(page.locator("table.register tbody tr")).to_have_count(2)
    me.logout()
    page.close()
