"""Restored process instances kept between requests of one process.

Restoring an instance from its stored state costs about as much as the engine step itself. After a
committed step the advanced instance in memory *is* the stored state, so the next step on the same
instance (the next reviewer, a decision for the whole batch) can skip the restore.

Correctness rests on the row's optimistic `version`, which every ORM write of an instance bumps:
an entry is used only when its version equals the version of the row the caller has just locked.
An entry is taken out while a step runs (no two threads share one mutable instance) and is put back
only by a caller whose transaction has committed; any failure simply leaves it out, and the next
caller restores from the database.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

from workflows.engine import ProcessInstance

# ~0.3 MB per restored instance: a few hundred keep the active ones without holding the process.
DEFAULT_SIZE = 256


class InstanceCache:
    def __init__(self, size: int = DEFAULT_SIZE):
        self.size = size
        self._entries: OrderedDict[str, tuple[int, ProcessInstance]] = OrderedDict()
        self._lock = Lock()
        self.hits = self.misses = 0

    def take(self, instance_id: str, version: int) -> ProcessInstance | None:
        """The cached instance at exactly `version`, removed from the cache; None otherwise."""
        with self._lock:
            entry = self._entries.pop(instance_id, None)
            if entry is not None and entry[0] == version:
                self.hits += 1
                return entry[1]
            self.misses += 1
            return None

    def put(self, instance_id: str, version: int, instance: ProcessInstance) -> None:
        """Only after the transaction that wrote `version` of this instance has committed."""
        if self.size <= 0:
            return
        with self._lock:
            self._entries[instance_id] = (version, instance)
            self._entries.move_to_end(instance_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
