"""Links in mails point at the address being served unless NOMFLOW_BASE_URL says otherwise."""

from __future__ import annotations

from pathlib import Path

from service.core.config import ServiceConfig
from service.usecases.notices import link


class _Runtime:
    def __init__(self, config: ServiceConfig):
        self.config = config


def test_links_follow_the_served_address(tmp_path: Path) -> None:
    served = ServiceConfig(instance_dir=tmp_path).serving_at("10.0.0.5", 5331)
    assert link(_Runtime(served), nomination_id="DN1") == "http://10.0.0.5:5331/nominations/DN1"  # type: ignore[arg-type]


def test_the_configured_base_url_wins(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NOMFLOW_BASE_URL", "https://khenthuong.hungyen.gov.vn/")
    config = ServiceConfig.from_env(instance_dir=tmp_path).serving_at("127.0.0.1", 5331)
    assert link(_Runtime(config), batch_id="DT1") == "https://khenthuong.hungyen.gov.vn/batches/DT1"  # type: ignore[arg-type]


def test_a_worker_that_serves_nothing_keeps_the_default(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("NOMFLOW_BASE_URL", raising=False)
    assert link(_Runtime(ServiceConfig.from_env(instance_dir=tmp_path))) == "http://127.0.0.1:5000/"  # type: ignore[arg-type]
