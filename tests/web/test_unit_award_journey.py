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
from .test_decision_journey import PAGES, fetch, off_loop
from .test_journey import Session, pdf

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
    page.get_by_role("link", name="Giấy khen của đơn vị").click()
    page.get_by_label("Mỗi dòng một tiêu chuẩn").fill(
        "Hoàn thành xuất sắc nhiệm vụ chuyển đổi số được giao\nCó sáng kiến áp dụng hiệu quả tại phường")
    page.get_by_role("button", name="Lưu tiêu chuẩn").click()
    expect(page.locator(".flash")).to_contain_text("Đã lưu tiêu chuẩn Giấy khen")
    expect(page.locator("#h-symbol").locator("..")).to_contain_text("…/QĐ-UBND")
    me.shot("giay-khen-unit-criteria")
    me.logout()

    # --- the staff drafts a Giấy khen: the unit's criteria are the choices
    me.login("canbo.hiennam")
    page.get_by_role("link", name="Lập hồ sơ mới").first.click()
    me.choose("d) Cá nhân")
    me.choose("Giấy khen của Thủ trưởng các cơ quan, tổ chức, đơn vị")
    page.get_by_label("Tên tập thể hoặc họ và tên cá nhân được đề nghị khen thưởng").fill(NOMINEE)
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.get_by_role("heading", name=NOMINEE)).to_be_visible()
    expect(page.locator('input[name="criteria"]')).to_have_count(2)
    page.get_by_label("Chức vụ").fill("Công chức Văn hóa – Xã hội")
    page.get_by_label("Đơn vị công tác").fill("Ủy ban nhân dân phường Hiến Nam")
    page.get_by_label("Tóm tắt thành tích").fill("Hướng dẫn 1.200 người dân dùng dịch vụ công trực tuyến toàn trình.")
    page.locator('input[name="criteria"][value="gk1"]').check()
    page.locator('input[name="upload.bao_cao_thanh_tich"]').set_input_files(pdf("bao-cao-thanh-tich"))
    me.shot("giay-khen-draft")
    page.get_by_role("button", name="Gửi Hội đồng Thi đua – Khen thưởng của đơn vị").click()
    expect(page.locator(".flash")).to_contain_text("Đã gửi hồ sơ lên Hội đồng Thi đua – Khen thưởng của đơn vị")
    nomination_url = page.url
    me.shot("giay-khen-sent-to-council")
    me.logout()

    # --- the council secretary records the meeting, uploads the minutes
    me.login("thuky.hiennam")
    me.open_task(NOMINEE)
    me.choose("Đề nghị thủ trưởng đơn vị tặng Giấy khen")
    page.get_by_label("Ngày họp Hội đồng").fill("10/04/2026")
    page.get_by_label("Số thành viên dự họp").fill("7")
    page.get_by_label("Số phiếu đồng ý").fill("7")
    page.get_by_label("Số phiếu không đồng ý").fill("0")
    page.locator('input[name="upload.minutes_file"]').set_input_files(pdf("bien-ban-hop-hoi-dong"))
    me.shot("giay-khen-council")
    me.complete()
    expect(page.locator(".flash")).to_contain_text("Đã hoàn thành")
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
