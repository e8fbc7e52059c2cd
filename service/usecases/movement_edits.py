"""An admin edits a movement's lists in the browser: the award kinds it offers and, per nominee kind,
the criteria (the plan's a–d lists). Checked as a whole before anything is written: no empty title, no
code given twice, and nothing a nomination already uses (a kind, an award, a criterion) removed or
renamed — its code is what the nomination stores. Two admins editing at once: the later save, read at an
older version, is refused (409). Each edit is audited with what changed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.core.errors import Conflict, InvalidInput, NotFound, catalogued
from service.core.runtime import Runtime
from service.db.models import Movement, Nomination
from service.security.access import Actor, require_admin
from service.usecases.audit import audit
from workflows.forms import FieldError

CODE = re.compile(r"^[a-z0-9_.]{1,32}$")  # the columns that keep a code hold 32 characters
MAX_TITLE = 2000
MAX_ITEMS = 200
STALE = catalogued("Phong trào thi đua vừa được người khác sửa: hãy tải lại trang để xem bản mới rồi sửa lại")


@dataclass(frozen=True)
class Lists:
    """What the edit form sends: [{code, title, decided_by}] and [{code, title, individual, criteria}]."""

    awards: Sequence[dict[str, Any]]
    nominee_kinds: Sequence[dict[str, Any]]


@dataclass(frozen=True)
class Facts:
    """What the movement's documents cite of it (its decisions, Tờ trình, Giấy khen decisions)."""

    name: str
    plan_number: str
    plan_date: date | None
    authority: str


def edit_facts(runtime: Runtime, actor: Actor, movement_id: int, version: int, facts: Facts) -> int:
    """Stores the movement's name, plan number and date, launching authority; returns its new version.
    A document already drafted keeps what it cites; the next draft cites the new values."""
    require_admin(actor)
    cleaned = {"name": " ".join(facts.name.split()), "plan_number": facts.plan_number.strip(),
               "plan_date": facts.plan_date, "authority": " ".join(facts.authority.split())}
    problems = [FieldError(field, "Trường này là bắt buộc") for field in ("name", "authority") if not cleaned[field]]
    if problems:
        raise InvalidInput("Thông tin phong trào thi đua không hợp lệ; chưa lưu thay đổi nào", problems)
    with runtime.uow() as uow:
        session = uow.session
        movement = _at_version(session, movement_id, version)
        if cleaned["name"] != movement.name and session.scalars(select(Movement.id).where(
                Movement.name == cleaned["name"], Movement.year == movement.year)).first() is not None:
            raise InvalidInput("Thông tin phong trào thi đua không hợp lệ; chưa lưu thay đổi nào", [FieldError(
                "name", f"Đã có phong trào thi đua “{cleaned['name']}” năm {movement.year}")])
        before = {field: getattr(movement, field) for field in cleaned}
        _compare_and_set(session, movement_id, version, cleaned)
        audit(session, runtime, "movement_facts_edited", actor_id=actor.user_id, movement_id=movement_id,
              version=version + 1, changed={field: {"from": _plain(before[field]), "to": _plain(value)}
                                            for field, value in cleaned.items() if before[field] != value})
        uow.commit()
        return version + 1


def _at_version(session: Session, movement_id: int, version: int) -> Movement:
    movement = session.get(Movement, movement_id)
    if movement is None:
        raise NotFound(f"Không tìm thấy phong trào thi đua {movement_id}")
    if movement.version != version:
        raise Conflict(STALE)
    return movement


def _compare_and_set(session: Session, movement_id: int, version: int, values: dict[str, Any]) -> None:
    """A concurrent save that read the same version loses here, not silently."""
    changed = session.execute(update(Movement).where(Movement.id == movement_id, Movement.version == version)
                              .values(**values, version=version + 1))
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(STALE)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def edit_lists(runtime: Runtime, actor: Actor, movement_id: int, version: int, lists: Lists) -> int:
    """Stores the movement's new lists; returns its new version."""
    require_admin(actor)
    awards, kinds, problems = _clean(runtime, lists)
    with runtime.uow() as uow:
        session = uow.session
        movement = _at_version(session, movement_id, version)
        problems += _still_used(session, movement_id, awards, kinds)
        if problems:
            raise InvalidInput("Danh sách của phong trào thi đua không hợp lệ; chưa lưu thay đổi nào", problems)
        changes = _changes(movement.awards, movement.nominee_kinds, awards, kinds)  # before the update syncs them
        _compare_and_set(session, movement_id, version, {"awards": awards, "nominee_kinds": kinds})
        audit(session, runtime, "movement_lists_edited", actor_id=actor.user_id, movement_id=movement_id,
              version=version + 1, **changes)
        uow.commit()
        return version + 1


def _clean(runtime: Runtime, lists: Lists) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[FieldError]]:
    problems: list[FieldError] = []
    seen: dict[str, str] = {}  # code → where first given: one code names one thing in the movement

    def code_of(raw: Any, path: str, what: str) -> str:
        code = str(raw or "").strip()
        if not CODE.match(code):
            problems.append(FieldError(path, f"Mã {what} “{code[:40]}” không hợp lệ: 1–32 ký tự a–z, 0–9, "
                                             "dấu chấm hoặc gạch dưới"))
        elif code in seen:
            problems.append(FieldError(path, f"Mã “{code}” đã dùng ở {seen[code]}"))
        else:
            seen[code] = what
        return code

    def title_of(raw: Any, path: str) -> str:
        title = " ".join(str(raw or "").split())
        if not title:
            problems.append(FieldError(path, "Tên không được để trống"))
        elif len(title) > MAX_TITLE:
            problems.append(FieldError(path, f"Tên dài quá {MAX_TITLE} ký tự"))
        return title

    if not lists.awards:
        problems.append(FieldError("awards", "Phong trào cần ít nhất một hình thức khen thưởng"))
    if not lists.nominee_kinds:
        problems.append(FieldError("nominee_kinds", "Phong trào cần ít nhất một đối tượng khen thưởng"))
    if len(lists.awards) > MAX_ITEMS or len(lists.nominee_kinds) > MAX_ITEMS:
        raise InvalidInput(f"Mỗi danh sách có tối đa {MAX_ITEMS} mục")
    awards = []
    for i, award in enumerate(lists.awards):
        decided_by = str(award.get("decided_by") or "")
        if decided_by not in runtime.roles.roles:
            problems.append(FieldError(f"awards[{i}].decided_by", "Hãy chọn người quyết định khen thưởng"))
        awards.append({"code": code_of(award.get("code"), f"awards[{i}].code", "hình thức khen thưởng"),
                       "title": title_of(award.get("title"), f"awards[{i}].title"), "decided_by": decided_by})
    kinds = []
    for i, kind in enumerate(lists.nominee_kinds):
        criteria = kind.get("criteria") or []
        if len(criteria) > MAX_ITEMS:
            raise InvalidInput(f"Mỗi danh sách có tối đa {MAX_ITEMS} mục")
        cleaned: dict[str, Any] = {"code": code_of(kind.get("code"), f"nominee_kinds[{i}].code", "đối tượng"),
                   "title": title_of(kind.get("title"), f"nominee_kinds[{i}].title"),
                   "criteria": [{"code": code_of(c.get("code"), f"nominee_kinds[{i}].criteria[{j}].code", "tiêu chuẩn"),
                                 "title": title_of(c.get("title"), f"nominee_kinds[{i}].criteria[{j}].title")}
                                for j, c in enumerate(criteria)]}
        if kind.get("individual"):
            cleaned["individual"] = True
        kinds.append(cleaned)
    return awards, kinds, problems


def _still_used(session: Session, movement_id: int, awards: list[dict[str, Any]],
                kinds: list[dict[str, Any]]) -> list[FieldError]:
    """What the new lists leave out although a nomination of the movement stores its code."""
    kept_awards = {a["code"] for a in awards}
    kept_kinds = {k["code"] for k in kinds}
    kept_criteria = {c["code"] for k in kinds for c in k["criteria"]}
    problems = []
    of_movement = Nomination.movement_id == movement_id
    for code in sorted({c for c in session.scalars(select(Nomination.award).where(of_movement).distinct()) if c}
                       - kept_awards):
        if code:
            problems.append(FieldError("awards", f"Hình thức khen thưởng “{code}” đã có hồ sơ đề nghị: không xóa "
                                                 "hay đổi mã được (chỉ sửa tên)"))
    for code in sorted({c for c in session.scalars(select(Nomination.nominee_kind).where(of_movement).distinct())
                        if c} - kept_kinds):
        if code:
            problems.append(FieldError("nominee_kinds", f"Đối tượng “{code}” đã có hồ sơ đề nghị: không xóa hay "
                                                        "đổi mã được (chỉ sửa tên)"))
    used: set[str] = set()
    for data in session.scalars(select(Nomination.data).where(of_movement).execution_options(yield_per=1000)):
        picked = (data or {}).get("criteria")
        if isinstance(picked, list):
            used.update(str(code) for code in picked)
    for code in sorted(used - kept_criteria):
        problems.append(FieldError("nominee_kinds", f"Tiêu chuẩn “{code}” đã được chọn trong hồ sơ đề nghị: không "
                                                    "xóa hay đổi mã được (chỉ sửa nội dung)"))
    return problems


def _changes(old_awards: list[Any], old_kinds: list[Any], awards: list[dict[str, Any]],
             kinds: list[dict[str, Any]]) -> dict[str, Any]:
    """Codes added, removed and retitled, for the audit trail."""
    def flat(award_list: list[Any], kind_list: list[Any]) -> dict[str, str]:
        items = {f"award:{a['code']}": a["title"] for a in award_list}
        for kind in kind_list:
            items[f"kind:{kind['code']}"] = kind["title"]
            items.update({f"criterion:{c['code']}": c["title"] for c in kind.get("criteria", [])})
        return items

    before, after = flat(old_awards, old_kinds), flat(awards, kinds)
    return {"added": sorted(after.keys() - before.keys()), "removed": sorted(before.keys() - after.keys()),
            "retitled": sorted(k for k in after.keys() & before.keys() if after[k] != before[k])}
