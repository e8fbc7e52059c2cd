"""/statistics: the movement's figures as charts with their tables beside them, and each table (or all
of them, or the full list of nominations) as .xlsx. The page and the workbook are built from the same
`StatTable`s, filled by one call to `reads.statistics.figures`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

from flask import Blueprint, abort, render_template, request, send_file
from flask_babel import gettext, lazy_gettext

from service.core.media_types import XLSX
from service.exports.xlsx import LOCAL, Column, Table, open_xlsx
from service.reads import movements as movement_reads
from service.reads import statistics as stats
from service.reads.movement_filter import movement_arg
from service.reads.reports import KIND_TITLES as ROUND_KIND_TITLES
from service.security.headers import DOWNLOAD_POLICY
from service.web.charts import bar_chart
from service.web.common import STATUS_LABELS, actor_required, choice_label, role_title, runtime, t

bp = Blueprint("statistics", __name__)  # page module: nested under "pages" by register_pages

UNIT_KIND_LABELS = {
    "provincial_agency": lazy_gettext("Cơ quan, tổ chức, đơn vị cấp tỉnh"),
    "commune_ward": lazy_gettext("Ủy ban nhân dân xã, phường"),
    "front_organisation": lazy_gettext("Mặt trận Tổ quốc, tổ chức chính trị - xã hội"),
    "enterprise": lazy_gettext("Doanh nghiệp"),
    "province_office": lazy_gettext("Cơ quan tham mưu cấp tỉnh"),
}
OUTCOME_LABELS = {"in_progress": lazy_gettext("Đang xử lý"), "awarded": lazy_gettext("Được khen thưởng"),
                  "unit_certificate": lazy_gettext("Thủ trưởng đơn vị tặng Giấy khen"),
                  "not_awarded": lazy_gettext("Không được khen thưởng"), "closed": lazy_gettext("Đã kết thúc")}
SHOWN_UNITS = 30  # the page lists the units with most nominations; the workbook has every one


@dataclass
class StatTable:
    key: str
    table: Table
    chart: tuple[int, int] | None = None  # (label column, value column) of the bar chart
    rows: list[Sequence[Any]] | None = None

    def chart_svg(self, series: int) -> Any:
        if self.chart is None or not self.rows:
            return ""
        label, value = self.chart
        bars = [(str(row[label]), float(row[value] or 0)) for row in self.rows[:15]]
        return bar_chart(str(self.table.title), bars, series=series)


def cell(value: Any) -> Any:
    """A table cell as the page shows it: '.' between thousands, ',' before the decimal, dates as
    dd/mm/yyyy, text as it is (escaped by the template). A function, not a Jinja macro: a macro call
    per cell cost more than the rest of the page's Python."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, Real):
        return f"{float(value):.1f}".replace(".", ",")
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return value


def _kind(code: str) -> str:
    return choice_label("nominee_kind", code) if code else gettext("(chưa chọn)")


def _award(code: str) -> str:
    return choice_label("award", code) if code else gettext("(chưa chọn)")


def stage_title(process_id: str, stage: str) -> str:
    """A stage's title as the diagram contract names it (config/contracts.toml)."""
    contract = runtime().loader.contracts.get(process_id)
    title = contract.task_stages.get(stage) if contract is not None else None
    return t(title) if title else (stage or gettext("(chưa khai báo bước)"))


def _table(key: str, title: str, columns: list[Column], rows: list[Sequence[Any]],
           chart: tuple[int, int] | None = (0, 1)) -> StatTable:
    return StatTable(key, Table(title, columns, rows), chart, rows)


def build_tables(figures: stats.Figures) -> list[StatTable]:
    # Each label translated once, not once per unit: a lazy string translates on every use, and
    # 2,000 units' translations were a third of the page's time.
    unit_kinds = {code: str(label) for code, label in UNIT_KIND_LABELS.items()}
    n = gettext("Số hồ sơ")
    got = gettext("Được khen thưởng")
    tables = [
        _table("by_unit", gettext("Hồ sơ theo đơn vị"), [
            Column(gettext("Mã đơn vị"), width=22), Column(gettext("Đơn vị"), width=44),
            Column(gettext("Loại đơn vị"), width=30), Column(n, "int", 12), Column(gettext("Đang xử lý"), "int", 12),
            Column(got, "int", 14), Column(gettext("Không được khen thưởng"), "int", 14)],
            [(u, name, unit_kinds.get(kind, kind), total, going, won, lost)
             for u, name, kind, total, going, won, lost in figures.by_unit], chart=(1, 3)),
        _table("by_kind", gettext("Hồ sơ theo đối tượng"), [
            Column(gettext("Đối tượng"), width=60), Column(n, "int", 12), Column(got, "int", 14)],
            sorted(((_kind(k), total, won) for k, total, won in figures.by_kind), key=lambda r: -r[1])),
        _table("by_award", gettext("Hồ sơ theo hình thức khen thưởng"), [
            Column(gettext("Hình thức khen thưởng"), width=50), Column(n, "int", 12), Column(got, "int", 14)],
            sorted(((_award(a), total, won) for a, total, won in figures.by_award), key=lambda r: -r[1])),
        _table("by_status", gettext("Hồ sơ theo bước xử lý"), [
            Column(gettext("Bước xử lý"), width=44), Column(n, "int", 12)],
            sorted(((str(STATUS_LABELS.get(s, s)), c) for s, c in figures.by_status), key=lambda r: -r[1])),
        _table("open_by_stage", gettext("Hồ sơ đang ở từng bước (việc đang mở)"), [
            Column(gettext("Bước xử lý"), width=50), Column(gettext("Việc đang mở"), "int", 14),
            Column(gettext("Quá hạn"), "int", 12)],
            [(stage_title(p, st), n, k) for p, st, n, k in figures.open_by_stage]),
        _table("by_outcome", gettext("Hồ sơ theo kết quả"), [
            Column(gettext("Kết quả"), width=40), Column(n, "int", 12)],
            sorted(((str(OUTCOME_LABELS.get(o, o)), c) for o, c in figures.by_outcome), key=lambda r: -r[1])),
        _table("awards_by_unit_kind", gettext("Khen thưởng theo loại đơn vị"), [
            Column(gettext("Loại đơn vị"), width=40), Column(gettext("Hình thức khen thưởng"), width=50),
            Column(gettext("Số khen thưởng"), "int", 14)],
            [(str(UNIT_KIND_LABELS.get(k, k)), _award(a), c) for k, a, c in figures.awards_by_unit_kind], chart=(0, 2)),
        _table("desk_times", gettext("Thời gian xử lý tại từng vị trí (ngày làm việc)"), [
            Column(gettext("Vị trí xử lý"), width=44), Column(gettext("Số việc đã xong"), "int", 14),
            Column(gettext("Trung bình"), "float", 12), Column(gettext("Trung vị"), "int", 12),
            Column(gettext("Phân vị 90"), "int", 12)],
            sorted(((role_title(r), done, mean, median, p90) for r, done, mean, median, p90 in figures.desk_times),
                   key=lambda r: -r[4]), chart=(0, 4)),
        _table("overdue_by_desk", gettext("Việc quá hạn theo vị trí"), [
            Column(gettext("Vị trí xử lý"), width=44), Column(gettext("Việc đang mở"), "int", 14),
            Column(gettext("Quá hạn"), "int", 12)],
            [(role_title(r), open_, late) for r, open_, late in figures.overdue_by_desk], chart=(0, 2)),
        _table("overdue_by_person", gettext("Việc quá hạn theo người xử lý"), [
            Column(gettext("Người xử lý"), width=34), Column(gettext("Vị trí xử lý"), width=44),
            Column(gettext("Quá hạn"), "int", 12)],
            [(who or gettext("(chưa có người nhận)"), role_title(r), late)
             for who, r, late in figures.overdue_by_person],
            chart=None),
        _table("rounds", gettext("Báo cáo theo đợt (đã gửi, gửi muộn, chưa gửi)"), [
            Column(gettext("Đợt báo cáo"), width=44), Column(gettext("Loại báo cáo"), width=24),
            Column(gettext("Hạn gửi"), "date", 14), Column(gettext("Số đơn vị"), "int", 12),
            Column(gettext("Đã gửi"), "int", 12), Column(gettext("Trong đó gửi muộn"), "int", 14),
            Column(gettext("Chưa gửi"), "int", 12)],
            [(title, t(ROUND_KIND_TITLES.get(kind, kind)), due_at.astimezone(LOCAL).date(), units, sent, late, missing)
             for _, title, kind, due_at, units, sent, late, missing in figures.rounds], chart=(0, 6)),
    ]
    for table in tables:
        table.table = Table(t(table.table.title), table.table.columns, table.rows or [])
    return tables


def _scope() -> tuple[Any, int | None]:
    """Whose figures, for which movement: ?movement=<id>; ?movement= (empty) for all movements; none
    given, the one running today (or else the newest)."""
    actor = actor_required()
    movement_id = movement_arg(runtime(), request.args, absent=movement_reads.current_movement_id(runtime()))
    return stats.scope_for(runtime(), actor, movement_id), movement_id


@bp.route("/statistics")
def statistics() -> Any:
    scope, movement_id = _scope()
    tables = build_tables(stats.figures(runtime(), scope))
    return render_template("statistics.html", tables=tables, movement_id=movement_id, shown_units=SHOWN_UNITS,
                           cell=cell, movements=movement_reads.movement_list(runtime()),
                           own_units=scope.unit_ids is not None)


@bp.route("/statistics/export.xlsx")
def statistics_export() -> Any:
    """One table (?table=key) or all of them, one sheet each."""
    scope, movement_id = _scope()
    tables = build_tables(stats.figures(runtime(), scope))
    key = request.args.get("table")
    if key is not None:
        tables = [table for table in tables if table.key == key]
        if not tables:
            abort(404)
    return _workbook([table.table for table in tables], f"thong-ke-{key or 'tat-ca'}-{movement_id or 'all'}.xlsx")


@bp.route("/statistics/nominations.xlsx")
def statistics_nominations() -> Any:
    """Every nomination in scope, one row each: streamed from the database to a temporary file."""
    scope, movement_id = _scope()
    columns = [Column(gettext("Mã hồ sơ"), width=18), Column(gettext("Đơn vị"), width=44),
               Column(gettext("Loại đơn vị"), width=30), Column(gettext("Đối tượng"), width=40),
               Column(gettext("Tên tập thể, cá nhân"), width=40), Column(gettext("Hình thức khen thưởng"), width=40),
               Column(gettext("Trạng thái"), width=30), Column(gettext("Ngày lập"), "datetime", 18),
               Column(gettext("Cập nhật"), "datetime", 18)]
    labels: dict[tuple[str, str], str] = {}

    def label(kind: str, code: str | None, make: Callable[[str], str]) -> str:
        key = (kind, code or "")
        if key not in labels:
            labels[key] = make(code or "")
        return labels[key]

    def unit_kind(code: str) -> str:
        return str(UNIT_KIND_LABELS.get(code, code))

    def status_label(code: str) -> str:
        return str(STATUS_LABELS.get(code, code))

    # Labels are translated once per code, not once per row (a lazy string translates on every use).
    rows = ((nid, unit, label("u", unit_kind_code, unit_kind), label("k", kind, _kind), name,
             label("a", award, _award), label("s", status, status_label), created, updated)
            for nid, unit, unit_kind_code, kind, name, award, status, created, updated
            in stats.nomination_rows(runtime(), scope))
    return _workbook([Table(gettext("Danh sách hồ sơ"), columns, rows)], f"ho-so-{movement_id or 'all'}.xlsx")


def _workbook(tables: list[Table], filename: str) -> Any:
    # Written to disk as it is built (the writer keeps one row in memory), then sent from that file: a
    # zip cannot be sent before it is finished, and memory stays flat whatever the number of rows.
    response = send_file(open_xlsx(tables), mimetype=XLSX, as_attachment=True, download_name=filename)
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    response.headers["Cache-Control"] = "private, no-store"
    return response
