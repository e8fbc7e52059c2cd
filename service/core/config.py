"""Service settings: embedded defaults for `make run`, overridden by NOMFLOW_* / DATABASE_URL."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ServiceConfig:
    instance_dir: Path = ROOT / "instance"
    database_url: str = ""
    attachments_dir: Path | None = None
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:5000"
    max_attachment_bytes: int = 20 * 1024 * 1024  # multipart uploads only
    max_json_bytes: int = 256 * 1024  # any JSON body: far below uploads, it is parsed and validated
    max_form_bytes: int = 1024 * 1024  # a page's urlencoded form (long texts, percent-encoded)
    scheduler_in_process: bool = True
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"  # starttls | ssl | none
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str = "nomflow <no-reply@nomflow.local>"
    testing: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def attachments_path(self) -> Path:
        return self.attachments_dir or self.instance_dir / "attachments"

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
            base_url=env.get("NOMFLOW_BASE_URL", "http://127.0.0.1:5000"),
            scheduler_in_process=env.get("NOMFLOW_SCHEDULER", "1") not in ("0", "false", "no"),
            smtp_host=env.get("NOMFLOW_SMTP_HOST") or None,
            smtp_port=int(env.get("NOMFLOW_SMTP_PORT", "587")),
            smtp_security=env.get("NOMFLOW_SMTP_SECURITY", "starttls"),
            smtp_username=env.get("NOMFLOW_SMTP_USERNAME") or None,
            smtp_password=env.get("NOMFLOW_SMTP_PASSWORD") or None,
            mail_from=env.get("NOMFLOW_MAIL_FROM", "nomflow <no-reply@nomflow.local>"),
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
