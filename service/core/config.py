"""Service settings: embedded defaults for `make run`, overridden by NOMFLOW_* / DATABASE_URL."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ServiceConfig:
    instance_dir: Path = ROOT / "instance"
    database_url: str = ""
    attachments_dir: Path | None = None
    secret_key: str = ""
    base_url: str = ""  # links in mails; unset: the address `nomflow serve` listens on
    max_attachment_bytes: int = 20 * 1024 * 1024  # multipart uploads only
    max_json_bytes: int = 256 * 1024  # any JSON body: far below uploads, it is parsed and validated
    max_form_bytes: int = 1024 * 1024  # a page's urlencoded form (long texts, percent-encoded)
    # Uploads stop while less than this is free on the attachments' disk (plus the SQLite database's
    # size when it shares that disk: filestore.reserve_bytes); quota 0 = no quota on the attachments.
    attachments_reserve_mb: int = 100
    attachments_quota_mb: int = 0
    scheduler_in_process: bool = True
    shutdown_grace: float = 30.0  # seconds SIGTERM leaves running requests and jobs to finish
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"  # starttls | ssl | none
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str = "nomflow <no-reply@nomflow.local>"
    testing: bool = False
    secure_cookies: bool = True  # session cookies only over HTTPS; `nomflow demo` (make run) turns it off
    session_idle_minutes: int = 8 * 60  # a browser session ends after this long without a request
    session_max_days: int = 7  # and this long after log-in, whatever
    token_default_days: int = 90  # an API token's life when its creator names none
    token_max_days: int = 365
    trusted_proxies: tuple[str, ...] = ()  # addresses or networks whose X-Forwarded-For is believed

    @property
    def attachments_path(self) -> Path:
        return self.attachments_dir or self.instance_dir / "attachments"

    @property
    def link_base(self) -> str:
        return (self.base_url or "http://127.0.0.1:5000").rstrip("/")

    def serving_at(self, host: str, port: int) -> ServiceConfig:
        """Links in mails follow the address being served, unless NOMFLOW_BASE_URL names another
        (a proxy's public address, or a worker that serves nothing)."""
        if self.base_url:
            return self
        if host in ("0.0.0.0", "::", ""):
            import socket

            host = socket.getfqdn()
        return replace(self, base_url=f"http://{host}:{port}")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_dir / 'nomflow.sqlite3'}"

    @classmethod
    def from_env(cls, **overrides: Any) -> ServiceConfig:
        env = os.environ
        config = cls(
            instance_dir=Path(env.get("NOMFLOW_INSTANCE_DIR", ROOT / "instance")),
            database_url=env.get("DATABASE_URL", ""),
            attachments_dir=Path(env["NOMFLOW_ATTACHMENTS_DIR"]) if env.get("NOMFLOW_ATTACHMENTS_DIR") else None,
            secret_key=env.get("NOMFLOW_SECRET_KEY", ""),
            attachments_reserve_mb=int(env.get("NOMFLOW_ATTACHMENTS_RESERVE_MB", "100")),
            attachments_quota_mb=int(env.get("NOMFLOW_ATTACHMENTS_QUOTA_MB", "0")),
            base_url=env.get("NOMFLOW_BASE_URL", ""),
            scheduler_in_process=env.get("NOMFLOW_SCHEDULER", "1") not in ("0", "false", "no"),
            shutdown_grace=float(env.get("NOMFLOW_SHUTDOWN_GRACE", "30")),
            smtp_host=env.get("NOMFLOW_SMTP_HOST") or None,
            smtp_port=int(env.get("NOMFLOW_SMTP_PORT", "587")),
            smtp_security=env.get("NOMFLOW_SMTP_SECURITY", "starttls"),
            smtp_username=env.get("NOMFLOW_SMTP_USERNAME") or None,
            smtp_password=env.get("NOMFLOW_SMTP_PASSWORD") or None,
            mail_from=env.get("NOMFLOW_MAIL_FROM", "nomflow <no-reply@nomflow.local>"),
            secure_cookies=env.get("NOMFLOW_SECURE_COOKIES", "1") not in ("0", "false", "no"),
            session_idle_minutes=int(env.get("NOMFLOW_SESSION_IDLE_MINUTES", "480")),
            session_max_days=int(env.get("NOMFLOW_SESSION_MAX_DAYS", "7")),
            token_default_days=int(env.get("NOMFLOW_TOKEN_DAYS", "90")),
            token_max_days=int(env.get("NOMFLOW_TOKEN_MAX_DAYS", "365")),
            trusted_proxies=tuple(p.strip() for p in env.get("NOMFLOW_TRUSTED_PROXIES", "").split(",") if p.strip()),
            max_json_bytes=int(env.get("NOMFLOW_MAX_JSON_BYTES", 256 * 1024)),
            max_form_bytes=int(env.get("NOMFLOW_MAX_FORM_BYTES", 1024 * 1024)),
        )
        return replace(config, **overrides)

    def with_secret(self) -> ServiceConfig:
        """A stable secret key: from config, else one generated once into the instance folder."""
        if self.secret_key:
            return self
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        key_file = self.instance_dir / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        return replace(self, secret_key=key_file.read_text().strip())
