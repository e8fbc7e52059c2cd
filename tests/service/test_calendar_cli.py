"""`nomflow calendar`: which years are reviewed, and the library's proposal for an admin to accept."""

from __future__ import annotations

from pathlib import Path

from service.app import create_app
from service.core.config import ServiceConfig
from workflows.clock import FixedClock


def cli(tmp_path: Path, clock: FixedClock):
    config = ServiceConfig(instance_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/c.sqlite3", testing=True,
                           secret_key="test-secret", scheduler_in_process=False)
    return create_app(config, clock=clock).test_cli_runner()


def test_check_fails_for_a_year_with_no_reviewed_list(tmp_path: Path, clock: FixedClock) -> None:
    runner = cli(tmp_path, clock)
    ok = runner.invoke(args=["calendar", "check", "--year", "2026"])
    assert ok.exit_code == 0 and "2026: đã duyệt" in ok.output
    missing = runner.invoke(args=["calendar", "check", "--year", "2027"])
    assert missing.exit_code == 1
    assert "CHƯA DUYỆT" in missing.output and "calendar propose 2027" in missing.output


def test_propose_prints_a_draft_and_the_differences(tmp_path: Path, clock: FixedClock) -> None:
    result = cli(tmp_path, clock).invoke(args=["calendar", "propose", "2026"])
    assert result.exit_code == 0
    assert "year = 2026" in result.stdout
    assert "+ rest_day 2026-11-24" in result.stderr
    assert "# date = 2026-11-24" in result.stdout  # proposed, never accepted silently
