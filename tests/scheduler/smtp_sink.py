"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests and the bench."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    message_id: str
    to: list[str]
    subject: str
    text: str
    html: str
    at: float  # time.time() when the server accepted it
    message: EmailMessage


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """`start()` / `stop()` any number of times on the same port (the server "going down")."""

    def __init__(self, port: int | None = None, parse: bool = True):
        self.port = port or free_port()
        self.parse = parse
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address.endswith("@refused.invalid"):  # a mailbox that does not exist: a permanent refusal
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        raw = envelope.original_content or envelope.content
        message: EmailMessage = message_from_bytes(raw, policy=policy.default)  # type: ignore[assignment]
        text = html = ""
        if self.parse:
            plain, rich = message.get_body(("plain",)), message.get_body(("html",))
            text = plain.get_content() if plain is not None else ""  # type: ignore[attr-defined]
            html = rich.get_content() if rich is not None else ""  # type: ignore[attr-defined]
        with self._lock:
            self.received.append(Received(str(message["Message-ID"]), list(envelope.rcpt_tos),
                                          str(message["Subject"]), text, html, time.time(), message))
        return "250 OK"

    def start(self) -> SmtpSink:
        if self._controller is None:
            self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:  # a fixture's `with SmtpSink() as sink: yield sink`
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def counts(self) -> Counter[str]:
        return Counter(r.message_id for r in self.messages())

    def to(self, address: str) -> list[Received]:
        return [r for r in self.messages() if address in r.to]
