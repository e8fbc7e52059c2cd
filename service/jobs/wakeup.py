"""A doorbell from the web processes to the jobs process: "a commit just enqueued mail".

Without it a mail enqueued by a web request waits for the next delivery tick. The bell is a UNIX
datagram socket in Linux's abstract namespace, named after the database, so no file is left behind
and any process of the machine on the same database can ring it; the jobs process that bound it
starts a delivery at once. Ringing is one non-blocking `sendto`, and a ring nobody hears (no jobs
process on this machine, another one bound it first) is simply lost: the delivery tick still
catches the mail, so the bell only shortens the wait, it is never needed for correctness.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MAIL_ENQUEUED = "nomflow.mail_enqueued"  # session.info key set by outbox.enqueue()


def _address(database_url: str) -> bytes:
    return b"\0nomflow-outbox-" + hashlib.sha256(database_url.encode()).hexdigest()[:24].encode()


class Doorbell:
    def __init__(self, database_url: str):
        self.address = _address(database_url)
        self._socket: socket.socket | None = None

    def ring(self) -> None:
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
            self._socket.sendto(b"mail", self.address)
        except OSError:  # nobody listening, or its queue is full (it has a delivery coming anyway)
            pass

    def ring_after_commit(self, sessions: sessionmaker[Session]) -> None:
        """Ring when a session of `sessions` commits a transaction in which mail was enqueued."""

        def committed(session: Session) -> None:
            if session.info.pop(MAIL_ENQUEUED, False):
                self.ring()

        def rolled_back(session: Session, *_args: Any) -> None:
            session.info.pop(MAIL_ENQUEUED, None)

        event.listen(sessions, "after_commit", committed)
        event.listen(sessions, "after_soft_rollback", rolled_back)


def listen(database_url: str, on_ring: Callable[[], None]) -> bool:
    """Call `on_ring` (in a daemon thread) each time the bell rings; False if another process of
    this machine listens already (both deliver; only that one is woken early)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(_address(database_url))
    except OSError:
        sock.close()
        return False

    def loop() -> None:
        while True:
            sock.recv(64)
            try:
                on_ring()
            except Exception:  # a failing hand-over must not silence the bell
                log.exception("outbox doorbell")

    threading.Thread(target=loop, name="outbox-doorbell", daemon=True).start()
    return True
