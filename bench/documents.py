"""Documents and the decision register: prints a table.

- an award decision with 500 awardees: DOCX (python-docx) and PDF (LibreOffice), time and peak memory;
- 1,000 register numbers taken by 8 threads at once, on SQLite and PostgreSQL: throughput, gaps and
  doubles, beside the floor measured in the same run (1,000 one-row UPDATE + commit, one thread).

.venv/bin/python bench/documents.py [--awardees 500] [--numbers 1000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from sqlalchemy import select, update  # noqa: E402

from service.app import create_app  # noqa: E402
from service.core.config import ServiceConfig  # noqa: E402
from service.core.runtime import Runtime  # noqa: E402
from service.db.models import RegisterCounter, RegisterEntry  # noqa: E402
from service.documents.award_decision import AwardDocument, Awardee, render_docx  # noqa: E402
from service.documents.pdf import docx_to_pdf  # noqa: E402
from service.documents.register import authorities, register  # noqa: E402
from service.usecases.setup import init_db  # noqa: E402

THREADS = 8


def decision(count: int) -> AwardDocument:
    province = authorities()["province"]
    kinds = ("co_quan_don_vi", "mat_tran_to_chuc", "doanh_nghiep", "ca_nhan")
    people = [Awardee(kinds[i % 4], f"Nguyễn Thị Hường {i}", "Số hóa toàn bộ hồ sơ một cửa; sáng kiến chuyển đổi số.",
                      "Chuyên viên", "Sở Tài chính") for i in range(count)]
    return AwardDocument(province.issuer, province.province, province.symbol("QĐ"), 2026, province.signer_title,
                         "Trần Văn Quyết", {"name": "Phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số",
                                            "year": 2026, "plan_number": "125/KH-UBND", "plan_date": "05/5/2026",
                                            "authority": "Ủy ban nhân dân tỉnh"},
                         {"number": "210/TTr-SNV", "date": "10/11/2026"}, people, number=12,
                         signed_on=date(2026, 5, 15))


def documents(count: int) -> list[list[Any]]:
    started = time.perf_counter()
    docx = render_docx(decision(count))
    docx_s = time.perf_counter() - started
    tracemalloc.start()  # a second rendering, traced: tracing slows it several times, so not timed
    render_docx(decision(count))
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    pdf = docx_to_pdf(docx)
    pdf_s = time.perf_counter() - started
    soffice_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return [["documents", f"decision, {count} awardees", "DOCX (python-docx)", f"{docx_s:.2f} s",
             f"peak {python_peak / 2**20:.0f} MiB Python", f"{len(docx) / 1024:.0f} KiB"],
            ["documents", f"decision, {count} awardees", "PDF (LibreOffice)", f"{pdf_s:.2f} s",
             f"peak {soffice_rss:.0f} MiB RSS", f"{len(pdf) / 1024:.0f} KiB"],
            signature_row(pdf, count)]


def signature_row(pdf: bytes, count: int) -> list[Any]:
    """PAdES with an RFC 3161 timestamp and revocation information, against the demo PKI on loopback."""
    from datetime import UTC, datetime

    from service.documents.demo_pki import PASSPHRASE, local_pki, seal_png, signature_png
    from service.documents.signing import SigningKey, Trust, sign
    from service.documents.stamp import signature_place
    from tests.support.postgres import free_port

    with tempfile.TemporaryDirectory(prefix="nomflow-bench-pki-") as tmp, local_pki(Path(tmp), free_port()) as pki:
        key = SigningKey(pki.pkcs12("chairman"), PASSPHRASE, "Ủy ban nhân dân tỉnh Hưng Yên", signature_png(),
                         seal_png())
        trust, place = Trust((pki.root_pem,), pki.tsa_url), signature_place(pdf, "Trần Văn Quyết")
        started = time.perf_counter()
        signed = sign(pdf, key, trust, place, datetime.now(UTC))
        took = time.perf_counter() - started
        tracemalloc.start()  # a second signature, traced and not timed (tracing slows it)
        sign(pdf, key, trust, place, datetime.now(UTC))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return ["documents", f"decision, {count} awardees", "PAdES + RFC 3161 timestamp + LTV (pyHanko, local TSA)",
            f"{took:.2f} s", f"peak {peak / 2**20:.0f} MiB Python", f"{len(signed) / 1024:.0f} KiB"]


def registers(backend: str, url: str, workdir: Path, count: int) -> list[list[Any]]:
    app = create_app(ServiceConfig(instance_dir=workdir, database_url=url, secret_key="bench",
                                   scheduler_in_process=False))
    runtime: Runtime = app.extensions["nomflow"]
    init_db(runtime)
    province = authorities()["province"]
    with runtime.uow() as uow:  # the floor: the same kind of one-row UPDATE, committed alone, one thread
        register(uow.session, province, "QĐ", date(2025, 1, 2), "floor", "-", 0, runtime.clock.now())
        uow.commit()
    started = time.perf_counter()
    for _ in range(count):
        with runtime.uow() as uow:
            uow.session.execute(update(RegisterCounter).where(RegisterCounter.year == 2025)
                                .values(last_number=RegisterCounter.last_number))
            uow.commit()
    floor_s = time.perf_counter() - started
    per_thread = count // THREADS
    barrier = threading.Barrier(THREADS)

    def worker() -> None:
        barrier.wait()
        for _ in range(per_thread):
            with runtime.uow() as uow:
                register(uow.session, province, "QĐ", date(2026, 5, 15), "Về việc tặng Bằng khen", "Trần Văn Quyết", 1,
                         runtime.clock.now())
                uow.commit()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    with runtime.read() as uow:
        got = uow.session.scalars(select(RegisterEntry.number).where(RegisterEntry.year == 2026)).all()
    total = per_thread * THREADS
    gaps = len(set(range(1, total + 1)) - set(got))
    doubles = len(got) - len(set(got))
    runtime.db.dispose()
    return [["register", backend, f"floor: {count} one-row UPDATE + commit, 1 thread", f"{floor_s:.2f} s",
             f"{count / floor_s:.0f} /s", ""],
            ["register", backend, f"{total} numbers, {THREADS} threads", f"{elapsed:.2f} s",
             f"{total / elapsed:.0f} /s", f"gaps {gaps}, doubles {doubles}"]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--awardees", type=int, default=500)
    parser.add_argument("--numbers", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    rows = documents(args.awardees)
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix=f"nomflow-bench-{backend}-") as tmp:
            if backend == "sqlite":
                rows += registers(backend, f"sqlite:///{tmp}/bench.sqlite3", Path(tmp), args.numbers)
            else:
                from tests.support.postgres import PostgresServer

                pg = PostgresServer.start()
                try:
                    rows += registers(backend, pg.create_database(pg.new_name("bench")), Path(tmp), args.numbers)
                finally:
                    pg.stop()
    headers = ["part", "case", "operation", "time", "rate / memory", "result"]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
