"""Running a call that may hang, so that a test can say it did not."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def in_thread(fn: Callable[[], Any], timeout: float = 30.0) -> tuple[bool, Any, float]:
    """Run fn() in a daemon thread; (finished, result-or-exception, seconds)."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed back to the test
            box["result"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), box.get("result"), time.monotonic() - started


def at_once(fn: Callable[[Any], Any], args: list[Any]) -> tuple[list[Any], list[BaseException]]:
    """fn(arg) for each arg, in as many threads started together (a barrier); (results, errors)."""
    barrier = threading.Barrier(len(args))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(arg: Any) -> None:
        try:
            barrier.wait()
            results.append(fn(arg))
        except BaseException as exc:  # handed back to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(arg,)) for arg in args]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
