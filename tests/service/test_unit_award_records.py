"""A unit's Giấy khen decision as a record beside the province's (issue 11, sections 3 and 5): the public
check by number names the issuing authority when a ward's QĐ-UBND and the province's share a number; the
statistics export's rows follow what the reader may see; a head may sign elsewhere and upload. SQLite and
PostgreSQL, a real local PKI (certomancer), pyHanko as the external signing tool."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.models import RegisterEntry
from service.documents.batch_documents import Movement
from service.documents.demo_pki import LocalPki
from service.documents.register import authorities, register
from tests.service.helpers import ADMIN, CHAIRMAN, DOST_LEAD, HA_OFFICER, HEAD, HIEN_NAM, STAFF, Auth
from tests.service.test_statistics import log_in, page_tables, workbook_tables
from tests.service.test_unit_award import (  # noqa: F401 - criteria_set is a fixture
    WARD_COUNCIL,
    council_approves,
    criteria_set,
    sign,
    to_council,
    unit_signers,
)

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "unit_award"
PROVINCE_SUBJECT = "Về việc tặng Bằng khen của Chủ tịch UBND tỉnh"


def ward_decision(client: FlaskClient, auth: Auth) -> str:
    """The ward Hiền Nam's first Giấy khen decision: 01/QĐ-UBND of its own register."""
    nomination_id = to_council(client, auth, STAFF, HIEN_NAM, name="Lê Văn Cường")
    council_approves(client, auth, nomination_id, council=WARD_COUNCIL)
    response = sign(client, auth, nomination_id, HEAD)
    assert response.get_json()["citation"] == "01/QĐ-UBND", response.get_json()
    return nomination_id


def province_entry(runtime: Runtime, number_on: date) -> None:
    """The province's own 01/QĐ-UBND in the register (its signing is proven in test_decisions)."""
    with runtime.uow() as uow:
        entry = register(uow.session, authorities()[Movement.load().decision_authority], "QĐ", number_on,
                         PROVINCE_SUBJECT, "Nguyễn Văn Chủ", 3, datetime(2026, 5, 1, tzinfo=UTC))
        entry.pdf_sha256 = "ab" * 32
        uow.commit()


def verdicts(client: FlaskClient, **form: str) -> tuple[str, list[str]]:
    page = client.post("/xac-thuc", data=form)
    assert page.status_code == 200, page.text
    tree = html.fromstring(page.text)
    shown = [" ".join(dd.text_content().split()) for dd in tree.xpath(
        "//section[contains(@class,'result')]//dt[.='Cơ quan ban hành']/following-sibling::dd[1]")]
    return " ".join(tree.xpath("string(//section[contains(@class,'result')])").split()), shown


@pytest.mark.usefixtures("criteria_set")
def test_a_number_shared_by_two_authorities_lists_both_and_the_authority_narrows_it(
        client: FlaskClient, auth: Auth, runtime: Runtime, pki: LocalPki) -> None:
    unit_signers(runtime, pki)
    ward_decision(client, auth)
    province_entry(runtime, date(2026, 5, 1))
    with runtime.read() as uow:
        assert len(uow.session.scalars(select(RegisterEntry).where(RegisterEntry.symbol == "QĐ-UBND")).all()) == 2
    web = client.application.test_client()
    text, shown = verdicts(web, number="01/QĐ-UBND")
    assert "Có 2 quyết định đã ký mang số này" in text
    assert len(shown) == 2 and sum("Hiến Nam" in name for name in shown) == 1
    assert "Có trong sổ đăng ký:" not in text  # no single verdict is given for an ambiguous number
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "xac-thuc-trung-so.html").write_text(web.post("/xac-thuc", data={"number": "01/QĐ-UBND"}).text)
    # The page offers the authorities with signed decisions; choosing one gives its decision only.
    choices = html.fromstring(web.get("/xac-thuc").text).xpath("//select[@name='authority']/option/@value")
    assert HIEN_NAM in choices and Movement.load().decision_authority in choices
    text, shown = verdicts(web, number="01/QĐ-UBND", authority=HIEN_NAM)
    assert len(shown) == 1 and "Hiến Nam" in shown[0] and "Có trong sổ đăng ký:" in text
    assert PROVINCE_SUBJECT not in text
    text, shown = verdicts(web, number="01/QĐ-UBND/2026", authority=Movement.load().decision_authority)
    assert len(shown) == 1 and "Hiến Nam" not in shown[0] and PROVINCE_SUBJECT in text
    text, shown = verdicts(web, number="02/QĐ-UBND", authority=HIEN_NAM)
    assert not shown and "Không có quyết định đã ký nào mang số này" in text


@pytest.mark.usefixtures("criteria_set")
def test_the_list_export_shows_a_given_giay_khen_to_its_unit_and_only_counts_it_for_the_province(
        client: FlaskClient, auth: Auth, runtime: Runtime, pki: LocalPki) -> None:
    unit_signers(runtime, pki)
    given = ward_decision(client, auth)
    for user, listed in ((DOST_LEAD, False), (HA_OFFICER, False), (CHAIRMAN, False), (STAFF, True),
                         (HEAD, True), (ADMIN, True)):
        web = client.application.test_client()
        log_in(web, user)
        export = web.get("/statistics/nominations.xlsx?movement=1")
        if export.status_code == 403:  # a unit role without statistics: nothing to list
            continue
        assert export.status_code == 200, user
        rows = next(iter(workbook_tables(export.data).values()))[1:]
        assert (given in {row[0] for row in rows}) is listed, user
        if not listed:  # the province still counts the unit's result
            by_award = {row[0]: row[1:] for row in page_tables(web.get("/statistics?movement=1").text)["by_award"][1:]}
            assert by_award["Giấy khen của Thủ trưởng các cơ quan, tổ chức, đơn vị"] == ["1", "1"], user
