"""Background jobs (timer sweep, mail delivery). Filled in by the scheduler work; kept importable."""

from __future__ import annotations

from .runtime import Runtime


def start_in_process(runtime: Runtime) -> None:
    """Start the jobs inside this process; a no-op until the scheduler is implemented."""
    return None
