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


# EXT4_IOC_SHUTDOWN (the same number as XFS_IOC_GOINGDOWN, which xfstests' `godown` sends): the
# filesystem stops at once and every later read, write and open on it fails with EIO, as when a disk
# or its SAN path is gone. NOLOGFLUSH: not even the journal is written.
EXT4_IOC_SHUTDOWN, NOLOGFLUSH = 0x8004587D, 2


@contextlib.contextmanager
def disk_that_can_fail(path: Path, size_mb: int = 64) -> Iterator[Path]:
    """A real ext4 filesystem on a loop device, mounted at `path` (root only, else the test is
    skipped); `fail_disk(path)` then takes it away under whatever has files open on it."""
    missing = [tool for tool in ("losetup", "mkfs.ext4") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"no {', '.join(missing)} here (Debian's util-linux, e2fsprogs)")
    path.mkdir(parents=True, exist_ok=True)
    image = path.with_name(path.name + ".img")
    with image.open("wb") as handle:
        handle.truncate(size_mb * 1024 * 1024)
    device = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True)
    if device.returncode != 0:
        image.unlink()
        pytest.skip(f"no loop device here (needs root): {device.stderr.strip()}")
    loop = device.stdout.strip()
    try:
        subprocess.run(["mkfs.ext4", "-q", loop], check=True, capture_output=True)
        subprocess.run(["mount", loop, str(path)], check=True, capture_output=True)
        os.chmod(path, 0o777)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)
        subprocess.run(["losetup", "-d", loop], check=False, capture_output=True)
        image.unlink(missing_ok=True)


def fail_disk(path: Path) -> None:
    import fcntl
    import struct

    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, struct.pack("I", NOLOGFLUSH))
    finally:
        os.close(fd)
