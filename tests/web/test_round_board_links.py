"""The follow-up board builds its 2,000 unit links from one url_for: each must be exactly what url_for
gives for that unit, whatever characters the unit's id holds."""

from __future__ import annotations

from typing import Any

from flask import url_for

from service.web.rounds import unit_report_links

ODD_IDS = ["phuong-hien-nam", "so khcn", "đơn-vị/1", "a?b#c", "100%", "x&y=z", "ký@tự:lạ;+,"]


def test_each_link_is_what_url_for_gives(app: Any) -> None:
    with app.test_request_context("/"):
        links = unit_report_links("r1", ODD_IDS)
        assert links == {u: url_for("pages.rounds.unit_report", round_id="r1", unit_id=u) for u in ODD_IDS}
    with app.test_request_context("/", base_url="http://example.org/nomflow/"):
        assert unit_report_links("r/2", ["a b"]) == {
            "a b": url_for("pages.rounds.unit_report", round_id="r/2", unit_id="a b")}
