"""PDF from DOCX with LibreOffice, so the PDF says exactly what the DOCX says (one source, no second
template). Debian's libreoffice-writer-nogui and fonts-liberation2 (Liberation Serif: the metrics of
Times New Roman and every Vietnamese glyph) are installed by the set-up command."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CONVERT_TIMEOUT_S = 120


class PdfError(RuntimeError):
    """The converter is missing or failed; the message says which, in Vietnamese."""


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise PdfError("Chưa cài LibreOffice (gói Debian libreoffice-writer-nogui) để tạo tệp PDF")
    return found


def docx_to_pdf(docx: bytes) -> bytes:
    with tempfile.TemporaryDirectory(prefix="nomflow-pdf-") as work:
        folder = Path(work)
        source = folder / "document.docx"
        source.write_bytes(docx)
        # A profile of its own: two conversions at once would otherwise share (and lock) one.
        profile = (folder / "profile").as_uri()
        try:
            done = subprocess.run(
                [soffice(), f"-env:UserInstallation={profile}", "--headless", "--norestore",
                 "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(folder), str(source)],
                capture_output=True, timeout=CONVERT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"LibreOffice không chuyển xong tệp PDF sau {CONVERT_TIMEOUT_S} giây") from exc
        target = folder / "document.pdf"
        if done.returncode != 0 or not target.exists():
            tail = (done.stderr or done.stdout).decode(errors="replace")[-500:]
            raise PdfError(f"LibreOffice không tạo được tệp PDF: {tail}")
        return target.read_bytes()
