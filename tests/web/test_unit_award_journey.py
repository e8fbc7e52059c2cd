"""The Giấy khen path inside one unit, in a real browser: the head sets the unit's own criteria, the
staff drafts, the council secretary records the meeting and uploads the minutes, the head signs the
decision on the server (01/QĐ-UBND of the ward's own register); a province officer cannot open it.
Pages are saved under test-output/screenshots/, the signed decision's pages under test-output/documents/."""

from __future__ import annotations

import subprocess

from playwright.sync_api import Page, expect

from service.documents import signers
from service.documents.demo_pki import PASSPHRASE, seal_png, signature_png
from service.documents.signing import Trust, verify
from tests.support.pki import LocalPki
from tests.support.signing import write_setup

from .conftest import LiveServer, Screenshots
from .giay_khen import council_recommends, send_draft, set_criteria, start_draft
from .test_decision_journey import PAGES, fetch, off_loop
from .test_journey import Session

UNIT, HEAD_NAME = "phuong-hien-nam", "Trần Văn Minh"
NOMINEE = "Nguyễn Thị Mai Anh"


def test_giay_khen_inside_one_unit(live_server: LiveServer, browser: object, shots: Screenshots,
                                   pki: LocalPki) -> None:
    folder = write_setup(live_server.runtime, pki).parent
    signers.add_demo_signer(folder, UNIT, pkcs12=pki.pkcs12("unit_head"), certificate=pki.cert_pem("unit_head"),
                            name=HEAD_NAME, organisation="Ủy ban nhân dân phường Hiến Nam",
                            signature_png=signature_png(), seal_png=seal_png("ỦY BAN NHÂN DÂN PHƯỜNG HIẾN NAM"))
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")  # type: ignore[attr-defined]
    page.set_default_timeout(60_000)
    me = Session(page, live_server, shots)

    # --- the head sets the unit's own Giấy khen criteria (plan III.2.2)
    me.login("chutich.hiennam")
    set_criteria(me, "Hoàn thành xuất sắc nhiệm vụ chuyển đổi số được giao\n"
                     "Có sáng kiến áp dụng hiệu quả tại phường")
    expect(page.locator("#h-symbol").locator("..")).to_contain_text("…/QĐ-UBND")
    me.shot("giay-khen-unit-criteria")
    me.logout()

    # --- the staff drafts a Giấy khen: the unit's criteria are the choices
    me.login("canbo.hiennam")
    start_draft(me, NOMINEE)
    expect(page.locator('input[name="criteria"]')).to_have_count(2)
    nomination_url = send_draft(me, "Công chức Văn hóa – Xã hội",
                                "Hướng dẫn 1.200 người dân dùng dịch vụ công trực tuyến toàn trình.", "gk1",
                                shot="giay-khen-draft")
    me.shot("giay-khen-sent-to-council")
    me.logout()

    # --- the council secretary records the meeting, uploads the minutes
    me.login("thuky.hiennam")
    council_recommends(me, NOMINEE, "10/04/2026", "giay-khen-council")
    me.logout()

    # --- the head signs on the server: the ward's own register gives 01/QĐ-UBND
    me.login("chutich.hiennam")
    me.open_task(NOMINEE)
    expect(page.get_by_role("button", name="Ký số quyết định")).to_be_visible()
    # the form beside it returns or declines: no typed number, no "sign" without a signature
    expect(page.get_by_label("Số quyết định (do sổ đăng ký của đơn vị cấp khi ký số)")).to_have_count(0)
    expect(page.get_by_label("Ký quyết định tặng Giấy khen", exact=True)).to_have_count(0)
    expect(page.get_by_label("Trả lại để hoàn thiện")).to_have_count(1)
    me.shot("giay-khen-head-signing")
    page.get_by_label("Mật khẩu (mã PIN) khóa ký số").fill(PASSPHRASE.decode())
    page.get_by_role("button", name="Ký số quyết định").click()
    expect(page.locator(".flash")).to_contain_text("Đã ký số quyết định số 01/QĐ-UBND ngày 13/04/2026")
    expect(page.locator("ol.timeline")).to_contain_text("Thủ trưởng đơn vị ký số quyết định 01/QĐ-UBND")
    me.shot("giay-khen-signed")
    signed_link = page.locator("ul.files a", has_text="-da-ky.pdf").first.get_attribute("href")
    signed = fetch(page, live_server, signed_link).body()
    report = off_loop(verify, signed, Trust((pki.root_pem,), pki.tsa_url))  # pyHanko's validator
    assert (report.valid, report.trusted, report.timestamped) == (True, True, True)
    PAGES.mkdir(parents=True, exist_ok=True)
    (PAGES / "giay-khen-signed-decision.pdf").write_bytes(signed)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(PAGES / "giay-khen-signed-decision.pdf"),
                    str(PAGES / "giay-khen-signed-decision")], check=True)
    page.get_by_role("link", name="Giấy khen của đơn vị").click()
    expect(page.locator("table.register")).to_contain_text("01/QĐ-UBND")
    me.shot("giay-khen-unit-register")
    me.logout()

    # --- province roles never see it
    me.login("chuyenvien.khcn")
    response = page.goto(nomination_url)
    assert response is not None and response.status == 404
    me.go("/nominations", "giay-khen-hidden-from-province")
    expect(page.get_by_text(NOMINEE)).to_have_count(0)
    me.logout()
    page.close()
