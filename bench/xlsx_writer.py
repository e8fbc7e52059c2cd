"""The .xlsx writer alone: N rows shaped like the full nominations export (7 texts, 2 times), written by
service.exports.xlsx.write_xlsx to a file, each size in a fresh process: its wall and CPU time and its
peak resident memory (ru_maxrss) before and after the write. Flat memory means the peak does not move
with N; the rows come from a generator, never a list.

Run: .venv/bin/python bench/xlsx_writer.py [--rows 100000,400000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def rows(count: int) -> Iterator[tuple[Any, ...]]:
    start = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    for i in range(count):
        yield (f"{i:08x}-6f1c-4c6e-9d4b-5a1f0e2c3b7d", f"Ủy ban nhân dân phường số {i % 2000}", "Phường, xã",
               "Cá nhân", f"Nguyễn Văn Thành {i}", "Giấy khen của Chủ tịch UBND tỉnh", "Đang thẩm định",
               start + timedelta(minutes=i), start + timedelta(minutes=2 * i))


def child(count: int, target: str) -> None:
    sys.path[:0] = [str(ROOT)]
    from service.exports.xlsx import Column, Table, write_xlsx

    columns = [Column(f"Cột {n}") for n in range(7)] + [Column("Ngày lập", "datetime"), Column("Cập nhật", "datetime")]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = time.perf_counter(), time.process_time()
    with open(target, "wb") as out:
        write_xlsx([Table("Danh sách hồ sơ", columns, rows(count))], out)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": count, "wall_s": wall, "cpu_s": cpu, "rss_before_mib": before / 1024,
                      "rss_peak_mib": after / 1024, "mb": Path(target).stat().st_size / 1e6}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="100000,400000")
    parser.add_argument("--child", type=int)
    parser.add_argument("--target")
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.target)
        return
    print("| rows | file MB | wall s | CPU s | peak RSS MiB (before the write) |")
    print("|---:|---:|---:|---:|---:|")
    for count in (int(n) for n in args.rows.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            result = json.loads(subprocess.run(
                [sys.executable, __file__, "--child", str(count), "--target", f"{folder}/out.xlsx"],
                check=True, capture_output=True, text=True).stdout)
        print(f"| {result['rows']:,} | {result['mb']:.1f} | {result['wall_s']:.2f} | {result['cpu_s']:.2f} | "
              f"{result['rss_peak_mib']:.0f} ({result['rss_before_mib']:.0f}) |")


if __name__ == "__main__":
    main()
