"""Roles and engine limits, read from config/ (data, not code)."""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


class SettingsError(ValueError):
    pass


# What a role may do besides the tasks its lanes give it. The service asks for these, never for a
# role key, so roles can be renamed or split in config/roles.toml without a code change.
CAPABILITIES = {
    "view_batches": "reads batches, their tờ trình and draft decisions (Home Affairs' papers to the Chairman)",
    "bulk_claim": "claims many queued tasks at once (a lead hands out work)",
    "follow_rounds": "opens reporting rounds, sees their follow-up board and urges late units",
    "unit_statistics": "sees the statistics of the units it holds this role in",
    "approve_substitutes": "approves substitutes for people of the units it holds this role in",
    "unit_reports": "writes its unit's reports and receives the urging mails about them",
    "draft_decisions": "drafts the award decision of a batch and uploads edited versions",
    "read_register": "reads the register of signed decisions",
    "read_comments": "reads the public's comments (góp ý)",
    "review_reports": "accepts or returns the units' plans and reports (DOST with Home Affairs, plan IV.5.1, 6.1)",
    "read_unit_register": "reads the register of its unit's own decisions (the Giấy khen its head signed)",
    "unit_award_criteria": "sets its unit's own Giấy khen criteria for a movement (plan III.2.2)",
}


@dataclass(frozen=True)
class Role:
    key: str
    title_vi: str
    title_en: str
    scope: str  # "unit": sees its own unit's nominations only; "province": sees all
    lead: str | None = None
    # Roles whose late tasks this role follows up and urges (the DOST urges the units, plan IV.5.1).
    follows: tuple[str, ...] = ()
    may: frozenset[str] = frozenset()  # capabilities beyond the tasks of its lanes (CAPABILITIES)
    # A desk, not a post: nobody is appointed to it; whoever holds a role given this capability works
    # its lane (the units' reports are received by DOST or Home Affairs, whichever comes first).
    worked_by: str | None = None

    def title(self, language: str = "vi") -> str:
        return self.title_en if language == "en" else self.title_vi


@dataclass(frozen=True)
class RoleCatalog:
    roles: dict[str, Role]
    _by_lane_name: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for role in self.roles.values():
            for name in (role.key, role.title_vi, role.title_en):
                self._by_lane_name[_normalise(name)] = role.key

    @classmethod
    def from_toml(cls, path: Path) -> RoleCatalog:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            roles = {
                key: Role(
                    key=key,
                    title_vi=str(entry["title_vi"]),
                    title_en=str(entry["title_en"]),
                    scope=str(entry.get("scope", "province")),
                    lead=entry.get("lead"),
                    follows=tuple(str(r) for r in entry.get("follows", ())),
                    may=frozenset(str(c) for c in entry.get("may", ())),
                    worked_by=entry.get("worked_by"),
                )
                for key, entry in raw["roles"].items()
            }
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise SettingsError(f"{path}: {exc}") from exc
        for role in roles.values():
            if role.scope not in ("unit", "province"):
                raise SettingsError(f"{path}: role {role.key}: scope must be 'unit' or 'province'")
            if role.lead is not None and role.lead not in roles:
                raise SettingsError(f"{path}: role {role.key}: unknown lead {role.lead!r}")
            if unknown := [r for r in role.follows if r not in roles]:
                raise SettingsError(f"{path}: role {role.key}: follows unknown roles {unknown!r}")
            if unknown := sorted(role.may - CAPABILITIES.keys()):
                raise SettingsError(f"{path}: role {role.key}: unknown capabilities {unknown!r}; "
                                    f"known: {sorted(CAPABILITIES)}")
            if role.worked_by is not None and role.worked_by not in CAPABILITIES:
                raise SettingsError(f"{path}: role {role.key}: worked_by names an unknown capability "
                                    f"{role.worked_by!r}; known: {sorted(CAPABILITIES)}")
        return cls(roles)

    def keys_that_may(self, capability: str) -> tuple[str, ...]:
        """The role keys given `capability` in config/roles.toml."""
        return tuple(key for key, role in self.roles.items() if capability in role.may)

    def holders(self, key: str) -> tuple[str, ...]:
        """The role keys whose assignment puts a person at `key`'s desk: the role itself, and for a
        desk worked by a capability, every role given that capability."""
        role = self.roles.get(key)
        if role is None or role.worked_by is None:
            return (key,)
        return (key, *self.keys_that_may(role.worked_by))

    def desks_for(self, capabilities: Iterable[str]) -> tuple[str, ...]:
        """The desks (roles worked by a capability) that these capabilities put a person at."""
        given = set(capabilities)
        return tuple(key for key, role in self.roles.items() if role.worked_by in given)

    @classmethod
    def default(cls) -> RoleCatalog:
        return cls.from_toml(CONFIG_DIR / "roles.toml")

    def role_for_lane(self, lane_name: str | None) -> Role | None:
        if not lane_name:
            return None
        key = self._by_lane_name.get(_normalise(lane_name))
        return self.roles[key] if key else None

    def __getitem__(self, key: str) -> Role:
        return self.roles[key]


def _normalise(name: str) -> str:
    # Lane names are typed by admins: be lenient about case, spacing and dash style, and about how the
    # keyboard composed Vietnamese letters (NFD "tổ hợp" input shows the same text as NFC).
    text = unicodedata.normalize("NFC", name)
    return " ".join(text.replace("—", "–").replace(" - ", " – ").split()).casefold()


@dataclass(frozen=True)
class EngineSettings:
    max_returns: int = 5
    max_returns_ceiling: int = 50
    max_bpmn_bytes: int = 2_000_000
    timezone: str = "Asia/Ho_Chi_Minh"
    # What one upload may hold (see engine.toml and workflows/diagram_limits.py).
    max_diagram_elements: int = 12_000
    max_flow_elements: int = 600
    max_diagram_depth: int = 40
    # What one engine run (a request's or a sweep's step of one instance) may cost.
    max_engine_steps: int = 2_000
    max_engine_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not 1 <= self.max_returns <= self.max_returns_ceiling:
            raise SettingsError(
                f"max_returns must be between 1 and {self.max_returns_ceiling}, got {self.max_returns}"
            )

    @classmethod
    def from_toml(cls, path: Path) -> EngineSettings:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            return cls(**raw)
        except (OSError, tomllib.TOMLDecodeError, TypeError) as exc:
            raise SettingsError(f"{path}: {exc}") from exc

    @classmethod
    def default(cls) -> EngineSettings:
        return cls.from_toml(CONFIG_DIR / "engine.toml")
