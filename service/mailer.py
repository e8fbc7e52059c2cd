"""SMTP transport: one connection for a batch of outbox mails, built from ServiceConfig.

Nothing here touches the database; the outbox use case decides what is sent and records the result.
"""

from __future__ import annotations

import smtplib
import ssl
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from types import TracebackType
from typing import Protocol

from .config import ServiceConfig
from .db.models import OutboxMail

TIMEOUT_SECONDS = 30  # per SMTP command; the outbox lease is far longer, see usecases/outbox.py


class PermanentMailError(Exception):
    """The server refused this message for good (5xx on sender, recipient or content): retrying is useless."""


class Connection(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class Mailer(Protocol):
    def connect(self) -> Connection: ...


def build_message(mail: OutboxMail, mail_from: str) -> EmailMessage:
    """The message exactly as stored: every retry carries the same Message-ID and Date, so a receiver
    that sees the message twice (a retry after a crash, see outbox.py) can tell it is the same one."""
    message = EmailMessage()
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at)
    # Subject and From are encoded here, not by EmailMessage: its folder (CPython 3.11) drops the space
    # between two encoded words, so a long Vietnamese subject arrived as "hạncuối". The legacy Header
    # encoder keeps spaces inside the encoded words, and lines this short are emitted untouched.
    message.set_raw("From", formataddr(parseaddr(mail_from), charset="utf-8"))
    message["To"] = mail.to_addr
    message.set_raw("Subject", Header(mail.subject, "utf-8", header_name="Subject").encode())
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to a robot
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype="html")
    return message


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

    def send(self, message: EmailMessage) -> None:
        try:
            refused = self.smtp.send_message(message)
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
