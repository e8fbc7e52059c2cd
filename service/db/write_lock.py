"""SQLite writers take turns through a lock file, so that none of them starves.

SQLite lets one writer in at a time. A writer that finds the database locked sleeps and tries
again, backing off up to 100 ms between tries (its busy handler), so under steady load the writers
that just arrived keep winning the lock while the one that has waited longest polls ten times a
second: with 16 clients a delivery job in its own process waited 10-30 s for each of its commits,
and the slowest web requests 2-3 s.

Here every write transaction first takes an exclusive `flock` on `<database>-writelock`, one open
file per connection, so threads of one process and processes of one machine queue alike. The kernel
wakes the waiters the moment the lock is released, so a writer waits for the transactions ahead of
it, no more; no one polls. The lock is taken just before BEGIN IMMEDIATE and released right after
COMMIT or ROLLBACK (or when the connection closes, or its process dies). SQLite's own lock and busy
timeout stay underneath, for any writer that does not use this file (the sqlite3 shell, a backup).

Short writers go first. A fair queue still makes the mail delivery wait behind every web request
for each of its one-row commits (one per mail, by design: outbox.py), so it sent ~2 mails/s while
16 clients enqueued 5/s. Ordinary writers therefore queue on a second file, `-writegate`, and only
the one at its head waits on the lock itself; a short writer (the outbox's claim and results) waits
on the lock directly, behind at most the transaction running and that one writer.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from typing import Any

_held = threading.local()  # connections holding the lock in this thread


class WriteTurnConnection(sqlite3.Connection):
    lock_path: str  # set on the subclass made for each database file, see for_database()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
        self._lock_fd = os.open(self.lock_path, flags, 0o600)
        self._gate_fd = os.open(self.lock_path.replace("-writelock", "-writegate"), flags, 0o600)
        self._locked = False

    def take_write_turn(self, short: bool = False) -> None:
        """Block until the writers ahead have finished (`short`: only the running one and the next).

        A thread that already holds the lock through another connection (a unit of work opened inside
        another) does not wait on itself: that connection's BEGIN IMMEDIATE meets SQLite's busy
        timeout, as it would without the lock."""
        if getattr(_held, "count", 0):
            return
        if short:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        else:
            fcntl.flock(self._gate_fd, fcntl.LOCK_EX)
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            finally:
                fcntl.flock(self._gate_fd, fcntl.LOCK_UN)
        self._locked = True
        _held.count = 1

    def end_write_turn(self) -> None:
        if self._locked:
            self._locked = False
            _held.count = 0
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_write_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_write_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_write_turn()
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                os.close(self._gate_fd)
                self._lock_fd = self._gate_fd = -1


def for_database(path: str) -> type[WriteTurnConnection]:
    """The connection class (sqlite3.connect's `factory`) for the database file at `path`."""
    return type("WriteTurnConnection", (WriteTurnConnection,), {"lock_path": f"{path}-writelock"})
