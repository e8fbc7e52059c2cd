"""What every staff page shares: who is calling, labels, dates, the form helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_babel import gettext, lazy_gettext, ngettext
from werkzeug.datastructures import MultiDict

from service.core.i18n import current_language
from service.core.runtime import Runtime
from service.reads import movements as movement_reads
from service.reads import pages as page_queries
from service.security.access import Actor, can_view_batches, has_province_role
from service.security.auth import current_actor
from service.web import formrender
from workflows.contract import DRAFT, NOMINATION

STATUS_LABELS = {
    "draft": lazy_gettext("Đang lập hồ sơ"),
    "returned": lazy_gettext("Bị trả lại để hoàn thiện"),
    "unit_review": lazy_gettext("Thủ trưởng đơn vị xem xét"),
    "dost_review": lazy_gettext("Sở KH&CN kiểm tra hồ sơ"),
    "dost_selection": lazy_gettext("Sở KH&CN lựa chọn"),
    "home_affairs_review": lazy_gettext("Sở Nội vụ kiểm tra hồ sơ"),
    "home_affairs_appraisal": lazy_gettext("Sở Nội vụ thẩm định"),
    "awaiting_decision": lazy_gettext("Đề nghị khen thưởng, chờ quyết định"),
    "awarded": lazy_gettext("Đã khen thưởng"),
    "unit_certificate": lazy_gettext("Thủ trưởng đơn vị tặng Giấy khen"),
    "not_awarded": lazy_gettext("Không khen thưởng"),
    "closed": lazy_gettext("Đã kết thúc"),
    "withdrawn": lazy_gettext("Đơn vị đã rút hồ sơ"),
}
BATCH_STATUS_LABELS = {
    "open": lazy_gettext("Đang trình"),
    "signed": lazy_gettext("Đã ký quyết định"),
    "abandoned": lazy_gettext("Dừng trình"),
    "cancelled": lazy_gettext("Đã hủy"),
}


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["nomflow"]
    return rt


def actor_required() -> Actor:
    actor = current_actor()
    if actor is None:
        abort(redirect(url_for("auth.login", next=request.full_path.rstrip("?"))))
    return actor



def admin_required() -> Actor:
    actor = actor_required()
    if not actor.is_admin:
        abort(403)
    return actor

def lang() -> str:
    return current_language()


def t(text: str) -> str:
    """Translate text that comes from data (form labels): unknown text is shown as it is."""
    return gettext(text) if text else text


def stage_role(process_id: str, stage: str) -> str:
    """The role of a stage's task in the active diagram (who drafts, who opens batches), once per request."""
    cache = g.setdefault("stage_roles", {})
    if (process_id, stage) not in cache:
        with runtime().lookup() as uow:
            cache[(process_id, stage)] = runtime().stage_task(uow.session, process_id, stage).role
    return str(cache[(process_id, stage)])


def may_draft(actor: Actor | None) -> bool:
    """Whether the nomination links show: the actor holds the draft stage's role."""
    return actor is not None and actor.has_role(stage_role(NOMINATION, DRAFT))


def draft_form(movement_id: int | None = None) -> Any:
    """The draft stage's form of the active nomination diagram with one movement's lists (kinds,
    criteria, awards), or, for labels on pages that span movements, every movement's. Once per request."""
    cache = g.setdefault("draft_forms", {})
    if movement_id not in cache:
        cache[movement_id] = page_queries.draft_form(runtime(), movement_reads.choices(runtime(), movement_id))
    return cache[movement_id]


def local_time(value: datetime | None, with_time: bool = True) -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(runtime().calendar.timezone))
    return local.strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")


def choice_label(field: str, code: str | None) -> str:
    if not code:
        return ""
    schema = draft_form().schema["properties"].get(field, {})
    return t(dict(formrender.choices_of(schema)).get(code, code))


def kind_letter(code: str | None) -> str:
    """a)–d): the plan's own numbering of nominee kinds (section III.2.1)."""
    codes = [c for c, _ in formrender.choices_of(draft_form().schema["properties"]["nominee_kind"])]
    return "abcdefgh"[codes.index(code)] if code in codes else ""


def role_title(key: str | None) -> str:
    role = runtime().roles.roles.get(key or "")
    return role.title(lang()) if role else (key or "")


def due_label(task: dict[str, Any]) -> tuple[str, str]:
    """("overdue"|"soon"|"ok"|"none", text) for a task's deadline, in working days."""
    left = task.get("working_days_left")
    if task.get("due_at") is None or left is None:
        return "none", gettext("Không có hạn")
    if task.get("overdue"):
        late = max(-left, 0)
        if late == 0:
            return "overdue", gettext("Đã quá giờ hạn hôm nay")
        return "overdue", ngettext("Quá hạn %(num)d ngày làm việc", "Quá hạn %(num)d ngày làm việc", late)
    return ("soon" if left <= 1 else "ok"), ngettext("%(num)d ngày làm việc còn lại",
                                                     "%(num)d ngày làm việc còn lại", left)


def init_templates(app: Flask) -> None:
    app.jinja_env.globals.update(
        may_draft=may_draft, role_title=role_title, choice_label=choice_label, kind_letter=kind_letter,
        due_label=due_label,
        status_label=lambda s: STATUS_LABELS.get(s or "", s), t=t,
        errors_of=lambda fields: [f for f in formrender.walk(fields) if f.errors],
        batch_status_label=lambda s: BATCH_STATUS_LABELS.get(s or "", s), can_view_batches=can_view_batches,
        can_view_statistics=lambda actor: actor.may("unit_statistics")
        or has_province_role(actor, runtime().roles),
        follows_others=lambda actor: any(r.follows for key, _ in actor.grants
                                         if (r := runtime().roles.roles.get(key))))
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = lambda v: local_time(v, with_time=False)


def fields_for(schema: dict[str, Any], ui: dict[str, Any], data: dict[str, Any] | None = None,
               errors: Any = (), **overrides: Any) -> tuple[list[formrender.Field], list[str]]:
    fields, leftovers = formrender.build_fields(schema, ui, data or {}, errors, translate=t, **overrides)
    for f in formrender.walk(fields):
        if f.name == "nominee_kind":  # shown with the plan's own letters a)–d)
            f.options = [(code, f"{kind_letter(code)}) {title}") for code, title in f.options]
    return fields, leftovers


def extra_rows(form_data: MultiDict[str, str]) -> dict[str, int]:
    """A "Thêm dòng" button posts `_add_row=<field>`: the page comes back with one more blank row
    for that repeated group (blank rows are dropped when the form is read)."""
    return {name: 1 for name in form_data.getlist("_add_row")}
