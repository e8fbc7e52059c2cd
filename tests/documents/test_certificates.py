"""Bằng khen certificates: one page per awardee with the decision's number and date, one combined
PDF for printing and one PDF per awardee, saved under test-output/ to look at."""

from __future__ import annotations

import subprocess

from service.core.config import ROOT
from service.documents.certificate import render_pdfs

from .test_award_decision import decision, flat

PAGES = ROOT / "test-output" / "documents"


def text_of(pdf: bytes) -> str:
    return flat(subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode())


def test_one_certificate_per_awardee_with_the_decision_cited() -> None:
    document = decision(5)
    combined, singles = render_pdfs(document)
    PAGES.mkdir(parents=True, exist_ok=True)
    (PAGES / "certificates.pdf").write_bytes(combined)
    subprocess.run(["pdftoppm", "-r", "50", "-l", "4", "-png", str(PAGES / "certificates.pdf"),
                    str(PAGES / "certificate")], check=True)
    assert len(singles) == 5
    for awardee, single in zip(document.awardees, singles, strict=True):
        text = text_of(single)
        assert "BẰNG KHEN" in text and flat(awardee.name) in text
        assert "Quyết định số 05/QĐ-UBND ngày 5/2/2026" in text
        assert "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH HƯNG YÊN" in text
    individual = text_of(singles[3])  # the fourth awardee is a person: position and unit are printed
    assert "Chuyên viên, Sở Tài chính" in individual
    assert "Chuyên viên" not in text_of(singles[0])
    assert text_of(combined).count("BẰNG KHEN") == 5
