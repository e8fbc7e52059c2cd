"""A document's words, from a TOML file in config/documents/: templates rendered in Jinja's sandbox.

Admins edit these files, so they are data: a template cannot reach Python objects beyond what it is
given, a placeholder that does not exist is an error naming it, never an empty gap in a decision.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from service.core.config import ROOT

DOCUMENTS_DIR = ROOT / "config" / "documents"
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class WordingError(ValueError):
    """A wording file that cannot be read or rendered; the message names the file and key."""


class Wording:
    def __init__(self, path: Path, data: Mapping[str, Any]):
        self.path, self.data = path, data

    @classmethod
    def load(cls, name: str, directory: Path = DOCUMENTS_DIR) -> Wording:
        path = directory / f"{name}.toml"
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise WordingError(f"{path}: {exc}") from exc
        return cls(path, data)

    def raw(self, key: str) -> Any:
        try:
            return self.data[key]
        except KeyError:
            raise WordingError(f"{self.path}: thiếu khoá '{key}'") from None

    def text(self, key: str, context: Mapping[str, Any], template: str | None = None) -> str:
        source = self.raw(key) if template is None else template
        if not isinstance(source, str):
            raise WordingError(f"{self.path}: '{key}' phải là một chuỗi")
        try:
            return _ENV.from_string(source).render(context)
        except TemplateError as exc:
            raise WordingError(f"{self.path}: '{key}': {exc}") from exc

    def texts(self, key: str, context: Mapping[str, Any]) -> list[str]:
        items = self.raw(key)
        if not isinstance(items, list):
            raise WordingError(f"{self.path}: '{key}' phải là một danh sách")
        return [self.text(f"{key}[{i}]", context, item) for i, item in enumerate(items)]
