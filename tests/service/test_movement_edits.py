"""An admin edits a movement's award kinds and criteria on /admin/movements/<id>/lists, on SQLite and
PostgreSQL: the edit shows in the nomination form; empty titles, doubled codes and removing (or
re-coding) a criterion a nomination uses are refused with a clear message and change nothing; a stale
edit answers 409; each edit is audited."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.models import AuditEvent, Movement
from tests.service.helpers import ADMIN, STAFF, create_nomination
from tests.service.test_statistics import log_in

NEW_CRITERION = "Có mô hình “Bình dân học vụ số” được nhân rộng trong toàn tỉnh."


def stored(runtime: Runtime) -> Movement:
    with runtime.read() as uow:
        movement = uow.session.scalars(select(Movement).where(Movement.year == 2026)).one()
        uow.session.expunge(movement)
        return movement


def form_of(page: str) -> dict[str, Any]:
    """What the browser would post back untouched: every input, textarea, ticked box and selected option."""
    tree = html.fromstring(page)
    form = tree.xpath("//form[contains(@class, 'movement-lists')]")[0]
    return dict(form.form_values())


def edit(client: FlaskClient, movement_id: int, change: Any) -> Any:
    page = client.get(f"/admin/movements/{movement_id}/lists")
    assert page.status_code == 200
    data = form_of(page.text)
    change(data)
    return client.post(f"/admin/movements/{movement_id}/lists", data=data)


def field_named(data: dict[str, Any], suffix: str, value: str) -> str:
    """The name of the form field ending in `suffix` that holds `value` (e.g. the row of criterion a9)."""
    [name] = [k for k, v in data.items() if k.endswith(suffix) and v == value]
    return name


def test_an_admin_edits_the_criteria_and_awards(client: FlaskClient, runtime: Runtime, auth) -> None:
    movement = stored(runtime)
    log_in(client, ADMIN)

    def change(data: dict[str, Any]) -> None:
        a9 = field_named(data, "-code", "a9").removesuffix("-code")
        new_row = a9.rsplit("-", 1)[0] + "-" + str(int(a9.rsplit("-", 1)[1]) + 1)
        data[f"{new_row}-code"], data[f"{new_row}-title"] = "a10", NEW_CRITERION
        data[field_named(data, "-code", "a8").replace("-code", "-remove")] = "1"
        bang_khen = field_named(data, "-code", "bang_khen").removesuffix("-code")
        data[f"{bang_khen}-title"] = "Bằng khen của Chủ tịch UBND tỉnh Hưng Yên"

    response = edit(client, movement.id, change)
    assert response.status_code == 302, response.text
    after = stored(runtime)
    kinds = {k["code"]: k for k in after.nominee_kinds}
    assert [c["code"] for c in kinds["co_quan_don_vi"]["criteria"]] == [f"a{i}" for i in (1, 2, 3, 4, 5, 6, 7, 9, 10)]
    assert kinds["co_quan_don_vi"]["criteria"][-1]["title"] == NEW_CRITERION
    assert kinds["ca_nhan"]["individual"] is True and kinds["doanh_nghiep"] == next(
        k for k in movement.nominee_kinds if k["code"] == "doanh_nghiep")
    assert after.awards[0] == {"code": "bang_khen", "title": "Bằng khen của Chủ tịch UBND tỉnh Hưng Yên",
                               "decided_by": "chairman"}
    assert after.version == movement.version + 1
    with runtime.read() as uow:
        event = uow.session.scalars(select(AuditEvent).where(AuditEvent.kind == "movement_lists_edited")).one()
    assert event.detail["added"] == ["criterion:a10"] and event.detail["removed"] == ["criterion:a8"]
    assert event.detail["retitled"] == ["award:bang_khen"]

    # The nomination form offers the new criterion and no longer the removed one.
    nomination_id = create_nomination(client, auth)
    log_in(client, STAFF)
    page = client.get(f"/nominations/{nomination_id}/edit").text
    assert NEW_CRITERION in page and "Thực hiện có hiệu quả việc tinh gọn bộ máy" not in page


def test_bad_lists_are_refused_and_change_nothing(client: FlaskClient, runtime: Runtime, auth) -> None:
    movement = stored(runtime)
    create_nomination(client, auth)  # its draft ticks criterion a1 (tests/workflows/conftest.py draft_data)
    log_in(client, ADMIN)
    cases = {
        "Tên không được để trống": lambda d: d.__setitem__(
            field_named(d, "-code", "a2").replace("-code", "-title"), "   "),
        "Mã “a3” đã dùng ở tiêu chuẩn": lambda d: d.__setitem__(field_named(d, "-code", "a2"), "a3"),
        "Mã “bang_khen” đã dùng ở hình thức khen thưởng": lambda d: d.__setitem__(
            field_named(d, "-code", "giay_khen"), "bang_khen"),
        "Tiêu chuẩn “a1” đã được chọn trong hồ sơ đề nghị": lambda d: d.__setitem__(
            field_named(d, "-code", "a1").replace("-code", "-remove"), "1"),
        "Tiêu chuẩn “a1” đã được chọn": lambda d: d.__setitem__(field_named(d, "-code", "a1"), "a1x"),
        "Đối tượng “co_quan_don_vi” đã có hồ sơ đề nghị": lambda d: d.__setitem__(
            field_named(d, "-code", "co_quan_don_vi").replace("-code", "-remove"), "1"),
    }
    for message, change in cases.items():
        response = edit(client, movement.id, change)
        assert response.status_code == 422, message
        assert message in response.text, message
        assert "chưa lưu thay đổi nào" in response.text
        after = stored(runtime)
        assert (after.awards, after.nominee_kinds, after.version) == (movement.awards, movement.nominee_kinds,
                                                                      movement.version)


def test_a_stale_edit_answers_409(client: FlaskClient, runtime: Runtime) -> None:
    movement = stored(runtime)
    log_in(client, ADMIN)
    first = form_of(client.get(f"/admin/movements/{movement.id}/lists").text)
    second = dict(first)
    first[field_named(first, "-code", "d2").replace("-code", "-title")] = "Các đối tượng khác (sửa lần một)"
    assert client.post(f"/admin/movements/{movement.id}/lists", data=first).status_code == 302
    second[field_named(second, "-code", "d1").replace("-code", "-title")] = "Cán bộ, công chức (sửa lần hai)"
    response = client.post(f"/admin/movements/{movement.id}/lists", data=second)
    assert response.status_code == 409
    assert "vừa được người khác sửa" in response.text
    after = stored(runtime)
    titles = {c["code"]: c["title"] for k in after.nominee_kinds for c in k["criteria"]}
    assert titles["d2"] == "Các đối tượng khác (sửa lần một)" and "sửa lần hai" not in titles["d1"]
    assert after.version == movement.version + 1
