"""The Chairman's award decision as Decree 30 lays it out, in the DOCX officials edit and in the PDF
rendered from it (LibreOffice): each part of Appendix I, Vietnamese diacritics, a 500-row annex."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from docx import Document

from service.core.config import ROOT
from service.documents.award_decision import AwardDocument, Awardee, render_docx
from service.documents.decree30 import Issuer, document_number, place_and_date
from service.documents.pdf import docx_to_pdf
from service.documents.wording import Wording, WordingError

PAGES = ROOT / "test-output" / "documents"
AWARD = "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh"  # the movement's title of the award granted
KINDS = ("co_quan_don_vi", "mat_tran_to_chuc", "doanh_nghiep", "ca_nhan")
MOVEMENT = {"name": "Phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số", "year": 2026,
            "plan_number": "125/KH-UBND", "plan_date": "05/5/2026",
            "authority": "Ủy ban nhân dân tỉnh"}


def awardees(count: int) -> list[Awardee]:
    out = []
    for i in range(count):
        kind = KINDS[i % 4]
        if kind == "ca_nhan":
            out.append(Awardee(kind, f"Nguyễn Thị Hường {i:03d}", f"Số hóa hồ sơ một cửa, sáng kiến số {i:03d}.",
                               position="Chuyên viên", unit="Sở Tài chính"))
        else:
            out.append(Awardee(kind, f"Ủy ban nhân dân phường Hiến Nam {i:03d}",
                               f"Dịch vụ công trực tuyến toàn trình, mô hình số {i:03d}."))
    return out


def decision(count: int = 9, *, signed: bool = True) -> AwardDocument:
    return AwardDocument(
        issuer=Issuer(None, "ỦY BAN NHÂN DÂN\nTỈNH HƯNG YÊN", "Hưng Yên"), province="Hưng Yên",
        symbol="QĐ-UBND", year=2026, signer_authority="CHỦ TỊCH", signer_name="Trần Văn Quyết",
        movement=MOVEMENT, submission={"number": "210/TTr-SNV", "date": "10/11/2026"}, awardees=awardees(count),
        number=5 if signed else None, signed_on=date(2026, 2, 5) if signed else None, award_title=AWARD)


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            seen: set[int] = set()
            for cell in row.cells:  # a merged cell repeats in every column it spans
                if id(cell._tc) not in seen:
                    seen.add(id(cell._tc))
                    parts.append(cell.text)
    return "\n".join(parts)


def flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


@dataclass(frozen=True)
class Rendered:
    docx: bytes
    pdf: bytes
    docx_text: str
    pdf_text: str


@pytest.fixture(scope="module")
def big() -> Rendered:
    """500 awardees, signed: rendered once, to DOCX and PDF, and its pages saved as PNG to look at."""
    docx = render_docx(decision(500))
    pdf = docx_to_pdf(docx)
    PAGES.mkdir(parents=True, exist_ok=True)
    (PAGES / "award-decision-500.docx").write_bytes(docx)
    (PAGES / "award-decision-500.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-l", "3", str(PAGES / "award-decision-500.pdf"),
                    str(PAGES / "award-decision-500")], check=True)
    pdf_text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return Rendered(docx, pdf, docx_text(docx), pdf_text)


DECREE_30_PARTS = [
    "ỦY BAN NHÂN DÂN TỈNH HƯNG YÊN",  # issuing authority
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",  # Quốc hiệu
    "Độc lập - Tự do - Hạnh phúc",  # Tiêu ngữ
    "Số: 05/QĐ-UBND",  # number below 10 with its leading zero
    "Hưng Yên, ngày 05 tháng 02 năm 2026",  # place and date, zeros for day < 10 and month 2
    "QUYẾT ĐỊNH",
    "Về việc tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh",  # trích yếu
    "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH HƯNG YÊN",
    "Căn cứ Luật Thi đua, khen thưởng số 06/2022/QH15 ngày 15 tháng 6 năm 2022;",
    "Căn cứ Nghị định số 152/2025/NĐ-CP",
    "Căn cứ Kế hoạch số 125/KH-UBND ngày 05/5/2026",  # the movement's plan
    "Tờ trình số 210/TTr-SNV ngày 10/11/2026",
    "Điều 1. Tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh cho 375 tập thể và 125 cá nhân",
    "Điều 3.",
    "Nơi nhận:", "- Như Điều 3;", "- Lưu: VT, NC.",
    "CHỦ TỊCH", "Trần Văn Quyết",
    "DANH SÁCH TẬP THỂ, CÁ NHÂN ĐƯỢC TẶNG BẰNG KHEN",
    "(Kèm theo Quyết định số 05/QĐ-UBND ngày 5/2/2026 của Chủ tịch Ủy ban nhân dân tỉnh)",
    "I. TẬP THỂ", "1. Các cơ quan, tổ chức, đơn vị", "3. Doanh nghiệp", "II. CÁ NHÂN",
    "Nguyễn Thị Hường 499", "Chuyên viên, Sở Tài chính",
]


@pytest.mark.parametrize("part", DECREE_30_PARTS)
def test_the_docx_has_each_part_of_appendix_one(big: Rendered, part: str) -> None:
    assert flat(part) in flat(big.docx_text)


@pytest.mark.parametrize("part", DECREE_30_PARTS)
def test_the_pdf_says_what_the_docx_says(big: Rendered, part: str) -> None:
    assert flat(part) in flat(big.pdf_text)


def test_the_annex_lists_every_awardee_once_grouped_as_the_plan(big: Rendered) -> None:
    text = big.docx_text
    for awardee in awardees(500):
        assert text.count(awardee.name) == 1, awardee.name
    order = [text.index(h) for h in ("I. TẬP THỂ", "1. Các cơ quan, tổ chức, đơn vị", "2. Ủy ban Mặt trận Tổ quốc",
                                      "3. Doanh nghiệp", "II. CÁ NHÂN")]
    assert order == sorted(order)
    assert "\n500\n" in text and "\n501\n" not in text  # numbered 1..500 across the groups


def test_page_setup_and_fonts(big: Rendered) -> None:
    doc = Document(io.BytesIO(big.docx))
    section = doc.sections[0]
    sizes = (section.page_width, section.page_height, section.top_margin, section.bottom_margin,
             section.left_margin, section.right_margin)
    assert [round(size.mm) for size in sizes] == [210, 297, 20, 20, 30, 15]  # stored in twips
    assert doc.styles["Normal"].font.name == "Times New Roman"
    PAGES.joinpath("fonts-check.pdf").write_bytes(big.pdf)  # pdffonts reads a file, not standard input
    fonts = subprocess.run(["pdffonts", str(PAGES / "fonts-check.pdf")], capture_output=True,
                           check=True).stdout.decode()
    assert "LiberationSerif" in fonts  # Times New Roman's metrics, every Vietnamese glyph
    for row in fonts.splitlines()[2:]:
        assert " yes " in row, f"font not embedded: {row}"


def test_a_draft_leaves_number_and_date_for_the_register() -> None:
    text = flat(docx_text(render_docx(decision(4, signed=False))))
    assert "Số: /QĐ-UBND" in text
    assert "Hưng Yên, ngày tháng năm 2026" in text
    assert "05/QĐ-UBND" not in text


@pytest.mark.parametrize(("number", "expected"), [(5, "Số: 05/QĐ-UBND"), (12, "Số: 12/QĐ-UBND"),
                                                  (1234, "Số: 1234/QĐ-UBND")])
def test_document_number(number: int, expected: str) -> None:
    assert document_number(number, "QĐ-UBND") == expected


@pytest.mark.parametrize(("day", "expected"), [
    (date(2026, 2, 5), "Hưng Yên, ngày 05 tháng 02 năm 2026"),
    (date(2026, 1, 15), "Hưng Yên, ngày 15 tháng 01 năm 2026"),
    (date(2026, 5, 15), "Hưng Yên, ngày 15 tháng 5 năm 2026"),
    (date(2026, 12, 3), "Hưng Yên, ngày 03 tháng 12 năm 2026"),
])
def test_place_and_date(day: date, expected: str) -> None:
    assert place_and_date("Hưng Yên", day, day.year) == expected


def test_an_unknown_placeholder_is_named_not_left_blank(tmp_path: Path) -> None:
    (tmp_path / "award_decision.toml").write_text(
        (ROOT / "config" / "documents" / "award_decision.toml").read_text(encoding="utf-8")
        .replace("{{ movement.plan_number }}", "{{ movement.plan_numbr }}"), encoding="utf-8")
    with pytest.raises(WordingError, match="plan_numbr"):
        render_docx(decision(2), Wording.load("award_decision", tmp_path))


def test_a_wording_file_cannot_reach_python(tmp_path: Path) -> None:
    (tmp_path / "award_decision.toml").write_text(
        (ROOT / "config" / "documents" / "award_decision.toml").read_text(encoding="utf-8")
        .replace('kind = "QUYẾT ĐỊNH"', 'kind = "{{ province.__class__.__mro__ }}"'), encoding="utf-8")
    with pytest.raises(WordingError, match="kind"):
        render_docx(decision(2), Wording.load("award_decision", tmp_path))


def test_the_home_affairs_submission_shares_the_facts_and_layout() -> None:
    from service.documents.register import authorities

    office = authorities()["so-noi-vu"]
    submission = AwardDocument(
        issuer=office.issuer, province="Hưng Yên", symbol=office.symbol("TTr"), year=2026,
        signer_authority=office.signer_title, signer_name="Lê Thị Nội Vụ", movement=MOVEMENT,
        submission={}, awardees=awardees(8), number=210, signed_on=date(2026, 11, 10), award_title=AWARD)
    text = flat(docx_text(render_docx(submission, Wording.load("award_submission"))))
    for part in ("UBND TỈNH HƯNG YÊN", "SỞ NỘI VỤ", "Số: 210/TTr-SNV", "Hưng Yên, ngày 10 tháng 11 năm 2026",
                 "TỜ TRÌNH", "Về việc đề nghị tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh",
                 "Kính gửi: Chủ tịch Ủy ban nhân dân tỉnh Hưng Yên.", "cho 6 tập thể và 2 cá nhân",
                 "GIÁM ĐỐC", "Lê Thị Nội Vụ", "(Kèm theo Tờ trình số 210/TTr-SNV ngày 10/11/2026 của Sở Nội vụ)"):
        assert flat(part) in text, part
    assert "QUYẾT ĐỊNH" not in text and "Điều 1." not in text
