"""A real small filesystem for the full-disk tests: a tmpfs of a few megabytes mounted for one test.

Writes on it fail the way they do on a full production disk (ENOSPC from the kernel, "database or
disk is full" from SQLite), which a mock cannot show: how much a `.part` file took before it
failed, whether SQLite's WAL still had room, what statvfs reports. Mounting needs root (CAP_SYS_ADMIN);
without it the tests that need one are skipped with the reason, never faked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_disk(path: Path, size_kb: int) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0777", "nomflow-test",
                              str(path)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        # Lazy: a connection the test left open (SQLite's files) must not keep the mount alive.
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def fill(disk: Path, leave_bytes: int = 0) -> Path:
    """Write a filler file until only `leave_bytes` remain free (0: the disk is full)."""
    filler = disk / "filler.bin"
    chunk = b"\0" * 65536
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while (free := shutil.disk_usage(disk).free - leave_bytes) > 0:
            try:
                os.write(fd, chunk[:min(len(chunk), free)])
            except OSError:
                break
    finally:
        os.close(fd)
    return filler


def leftovers(directory: Path) -> list[Path]:
    """Half-written files under a directory (what a failed upload must never leave)."""
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name.endswith(".part"))
