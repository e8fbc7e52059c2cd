"""In the browser: the Chairman leaves one nomination out of the decision with his reason, the
decision is re-drafted without it, he signs on the server, and the batch page marks it "Không được
khen thưởng" with the reason. Pages saved under test-output/screenshots/."""

from __future__ import annotations

import subprocess

from playwright.sync_api import Page, expect

from service.documents.demo_pki import PASSPHRASE
from tests.support.pki import LocalPki
from tests.support.signing import write_setup

from .conftest import LiveServer, Screenshots
from .test_decision_journey import PAGES, fetch, ready_batch
from .test_journey import Session

KEPT, DROPPED = "Ủy ban nhân dân phường Hồng Châu", "Ủy ban nhân dân phường Sơn Nam"
REASON = "Thành tích chưa tiêu biểu trong toàn tỉnh."


def test_the_chairman_leaves_one_out_and_signs_the_rest(live_server: LiveServer, browser: object,
                                                        shots: Screenshots, pki: LocalPki) -> None:
    write_setup(live_server.runtime, pki)
    batch_id = ready_batch(live_server, KEPT, DROPPED)
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")  # type: ignore[attr-defined]
    page.set_default_timeout(60_000)
    me = Session(page, live_server, shots)
    me.login("chuyenvien.noivu")
    me.go(f"/batches/{batch_id}")
    page.get_by_role("button", name="Tạo dự thảo tờ trình, quyết định").click()
    expect(page.locator(".flash")).to_contain_text("Đã tạo dự thảo")
    expect(page.get_by_role("button", name="Loại khỏi quyết định")).to_have_count(0)  # the Chairman's, not theirs
    me.logout()

    me.login("chutich.tinh")
    me.go(f"/batches/{batch_id}", "chairman-before-exclusion")
    page.get_by_label("Hồ sơ", exact=True).select_option(label=next(
        o for o in page.locator("#exclude-nomination option").all_inner_texts() if DROPPED in o))
    page.get_by_label("Lý do không khen thưởng").fill(REASON)
    page.get_by_role("button", name="Loại khỏi quyết định").click()
    expect(page.locator(".flash")).to_contain_text("Đã loại hồ sơ khỏi quyết định")
    expect(page.locator(".excluded-list")).to_contain_text(DROPPED)
    expect(page.locator(".excluded-list")).to_contain_text(REASON)
    me.shot("chairman-excluded-one")
    redrafted = fetch(page, live_server, page.get_by_role("link", name="Quyết định (PDF)").first.get_attribute("href"))
    PAGES.mkdir(parents=True, exist_ok=True)
    (PAGES / "redrafted-without-excluded.pdf").write_bytes(redrafted.body())
    text = subprocess.run(["pdftotext", str(PAGES / "redrafted-without-excluded.pdf"), "-"], capture_output=True,
                          check=True).stdout.decode()
    assert KEPT in " ".join(text.split()) and DROPPED not in " ".join(text.split())
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(PAGES / "redrafted-without-excluded.pdf"),
                    str(PAGES / "redrafted-without-excluded")], check=True)
    page.get_by_label("Mật khẩu (mã PIN) khóa ký số").fill(PASSPHRASE.decode())
    page.get_by_role("button", name="Ký số quyết định").click()
    expect(page.locator(".flash")).to_contain_text("Đã ký số: Quyết định số")
    expect(page.locator(".awardees li", has_text=DROPPED)).to_contain_text("Không được khen thưởng")
    expect(page.locator(".awardees li", has_text=DROPPED)).to_contain_text(REASON)
    expect(page.locator(".awardees li", has_text=KEPT)).not_to_contain_text("Không được khen thưởng")
    me.shot("batch-signed-with-one-excluded")
    me.logout()
    page.close()
