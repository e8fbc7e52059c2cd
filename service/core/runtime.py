"""What a use case needs: the database, the clock and the workflow engine, wired once per app."""

from __future__ import annotations

from datetime import date, datetime
from threading import Lock
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.config import ServiceConfig
from service.core.instance_cache import InstanceCache
from service.db.models import InstanceRow, ProcessVersion
from service.db.session import Database, UnitOfWork
from service.jobs.wakeup import Doorbell
from workflows.calendar import WorkingCalendar
from workflows.clock import Clock, SystemClock
from workflows.diagrams import DiagramLoader, HumanTaskSpec, ProcessDefinition
from workflows.engine import WorkflowEngine
from workflows.forms import FormLibrary
from workflows.settings import EngineSettings, RoleCatalog


def local_date(runtime: Runtime, instant: datetime) -> date:
    """The day `instant` falls on where the calendar's deadlines are counted."""
    return instant.astimezone(ZoneInfo(runtime.calendar.timezone)).date()


class Runtime:
    def __init__(self, config: ServiceConfig, clock: Clock | None = None, database: Database | None = None):
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.db = database or Database(config.db_url)
        self.roles = RoleCatalog.default()
        self.forms = FormLibrary.default()
        self.engine_settings = EngineSettings.default()
        self.calendar = WorkingCalendar.default(self.engine_settings.timezone)
        self.loader: DiagramLoader = WorkflowEngine.loader(self.roles, self.forms, self.engine_settings)
        self.engine = WorkflowEngine({}, clock=self.clock, calendar=self.calendar, settings=self.engine_settings,
                                     roles=self.roles, forms=self.forms)
        self._definitions: dict[int, ProcessDefinition] = {}
        self._lock = Lock()
        self.instances = InstanceCache()
        # A commit that enqueued mail wakes the delivery job in the jobs process (jobs/wakeup.py).
        self.doorbell = Doorbell(self.db.url)
        self.doorbell.ring_after_commit(self.db.sessions)
        self.touches: dict[str, datetime] = {}  # token or session -> when this process last recorded its use

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db)

    def read(self) -> UnitOfWork:
        """For queries: never commits, and on SQLite does not queue behind writers."""
        return UnitOfWork(self.db, read_only=True)

    def lookup(self) -> UnitOfWork:
        """For reads whose statements need no common snapshot: no transaction around them."""
        return UnitOfWork(self.db, per_statement=True)

    def definition(self, version: ProcessVersion) -> ProcessDefinition:
        """Parsed once per stored version; instances on old versions keep working."""
        with self._lock:
            cached = self._definitions.get(version.id)
            if cached is None:
                cached = self.loader.load(version.bpmn, version.filename, stored=True)[version.process_id]
                self._definitions[version.id] = cached
                self.engine.add(cached, active=False)
            return cached

    def definition_of(self, session: Session, version_id: int) -> ProcessDefinition:
        """As definition(), reading the version row (and its BPMN bytes) only if not parsed yet."""
        cached = self._definitions.get(version_id)
        if cached is not None:
            return cached
        version = session.get(ProcessVersion, version_id)
        if version is None:
            raise LookupError(f"unknown process version {version_id}")
        return self.definition(version)

    def warm_up(self) -> None:
        """Parse every stored version now, then freeze the long-lived objects: a full garbage
        collection over the parsed specs would otherwise pause requests for ~15 ms."""
        import gc

        with self.uow() as uow:
            for version in uow.session.scalars(select(ProcessVersion)):
                self.definition(version)
        gc.collect()
        gc.freeze()

    def active_definition(self, session: Session, process_id: str) -> tuple[ProcessVersion, ProcessDefinition]:
        version = session.scalars(
            select(ProcessVersion).where(ProcessVersion.process_id == process_id, ProcessVersion.active)
        ).first()
        if version is None:
            raise LookupError(f"no active version of process {process_id!r}: run `nomflow init-db`")
        return version, self.definition(version)

    def stage_task(self, session: Session, process_id: str, stage: str) -> HumanTaskSpec:
        """The user task of `stage` in the active version of `process_id` (its role, its form)."""
        _, definition = self.active_definition(session, process_id)
        found = definition.tasks_of_stage(stage)
        if not found:  # the upload check makes this unreachable for a deployed version
            raise LookupError(f"process {process_id!r} declares no user task of stage {stage!r}")
        return found[0]

    def definition_for(self, session: Session, instance_id: str | None) -> ProcessDefinition | None:
        """The diagram version an instance runs on (what its stages and names mean)."""
        row = session.get(InstanceRow, instance_id) if instance_id else None
        return self.definition_of(session, row.process_version_id) if row is not None else None
