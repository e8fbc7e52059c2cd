"""`nomflow` with a frozen clock, for tests that run the real command in a subprocess.

The production entry point (service.cli:main) has no way to freeze its clock: a test hook there
would let an environment variable stop a live service's deadlines. Run this module instead:
`python -m tests.support.frozen_cli 2026-04-20T10:00:00+07:00 worker ...`.
"""

from __future__ import annotations

import sys
from datetime import datetime

from flask.cli import FlaskGroup

from service.app import create_app
from workflows.clock import FixedClock


def main() -> None:
    now = datetime.fromisoformat(sys.argv[1])
    FlaskGroup(create_app=lambda: create_app(clock=FixedClock(now)), name="nomflow").main(args=sys.argv[2:])


if __name__ == "__main__":
    main()
