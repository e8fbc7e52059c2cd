"""SMTP transport: one connection for a batch of outbox mails, built from ServiceConfig.

Nothing here touches the database; the outbox use case decides what is sent and records the result.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr
from types import TracebackType
from typing import Protocol

from service.core.config import ServiceConfig
from service.db.models import OutboxMail

TIMEOUT_SECONDS = 30  # per SMTP command; the outbox lease is far longer, see usecases/outbox.py


class PermanentMailError(Exception):
    """The server refused this message for good (5xx on sender, recipient or content): retrying is useless."""


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipient: str
    data: bytes  # the message as sent, CRLF line ends

    @property
    def international(self) -> bool:
        return not (self.sender.isascii() and self.recipient.isascii())


class Connection(Protocol):
    def send(self, envelope: Envelope) -> None: ...

    def close(self) -> None: ...


class Mailer(Protocol):
    def connect(self) -> Connection: ...


# Base64 bodies use no "-", so no body line can ever start like a boundary line: one fixed boundary
# is enough, and the bytes of a retry are the same as those of the first attempt.
BOUNDARY = "=_nomflow_alternative_="
# The legacy email API (compat32): EmailMessage's header registry and folder cost ~4 ms a mail, more
# than the SMTP exchange, and after a sweep there are thousands to send; this one costs ~0.6 ms.
SMTP_POLICY = compat32.clone(linesep="\r\n")


def build_message(mail: OutboxMail, mail_from: str) -> Envelope:
    """The message exactly as stored: every retry carries the same Message-ID and Date, so a receiver
    that sees the message twice (a retry after a crash, see outbox.py) can tell it is the same one.
    Both parts are base64, so the message is 7-bit and any server takes it."""
    sender = parseaddr(mail_from)[1]
    message = MIMEMultipart("alternative", boundary=BOUNDARY)
    verbatim = {"Message-ID": mail.message_id, "From": formataddr(parseaddr(mail_from), charset="utf-8"),
                "To": mail.to_addr}
    for name, value in verbatim.items():
        if "\r" in value or "\n" in value:  # would end the header early and start one of its own
            raise ValueError(f"line break in the {name} header: {value!r}")
        message[name] = value
    message["Date"] = format_datetime(mail.created_at)
    # The legacy Header encoder keeps the spaces between encoded words; EmailMessage's folder
    # (CPython 3.11) dropped them, so a long Vietnamese subject arrived as "hạncuối".
    message["Subject"] = Header(mail.subject, "utf-8", header_name="Subject")  # type: ignore[assignment]
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to a robot
    for subtype, body in (("plain", mail.body_text), ("html", mail.body_html)):
        canonical = body.replace("\r\n", "\n").replace("\n", "\r\n")  # RFC 2045: CRLF before base64
        message.attach(MIMEText(canonical, subtype, "utf-8"))
    return Envelope(sender, mail.to_addr, message.as_bytes(policy=SMTP_POLICY))


class SmtpConnection:
    def __init__(self, config: ServiceConfig):
        host, port = config.smtp_host or "localhost", config.smtp_port
        if config.smtp_security == "ssl":
            self.smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS,
                                                       context=ssl.create_default_context())
        else:
            self.smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
        try:
            self.smtp.ehlo()
            if config.smtp_security == "starttls":
                self.smtp.starttls(context=ssl.create_default_context())
                self.smtp.ehlo()
            if config.smtp_username:
                self.smtp.login(config.smtp_username, config.smtp_password or "")
        except BaseException:
            self.close()
            raise

    def send(self, envelope: Envelope) -> None:
        options: tuple[str, ...] = ()
        if envelope.international:  # a non-ASCII address: only a server that speaks SMTPUTF8 can take it
            if not self.smtp.has_extn("smtputf8"):
                raise PermanentMailError(f"the server does not support SMTPUTF8, needed for {envelope.recipient}")
            options = ("SMTPUTF8", "BODY=8BITMIME")
        try:
            refused = self.smtp.sendmail(envelope.sender, [envelope.recipient], envelope.data, options)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentMailError(f"recipient refused: {exc.recipients}") from exc
            raise
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            if exc.smtp_code >= 500:
                raise PermanentMailError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise
        if refused:  # one recipient per mail, so a partial refusal cannot happen; keep it loud if it does
            raise PermanentMailError(f"recipient refused: {refused}")

    def cut(self) -> None:
        """From another thread: end a send that hangs (a stalled server) now; it fails with OSError."""
        sock = self.smtp.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()

    def __enter__(self) -> SmtpConnection:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class SmtpMailer:
    def __init__(self, config: ServiceConfig):
        self.config = config

    def connect(self) -> SmtpConnection:
        return SmtpConnection(self.config)


def mailer_for(config: ServiceConfig) -> Mailer | None:
    """None when no SMTP server is configured: mails then wait in the outbox for admins to read."""
    return SmtpMailer(config) if config.smtp_host else None
