"""Tables. Instance state is the engine's spec-less JSON; everything a page lists is a projection
written in the same transaction (open tasks, audit events, outbox)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns aware datetimes on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        # PostgreSQL answers in the session's time zone; every reader gets UTC whatever the database.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


UNIT_KINDS = ("provincial_agency", "commune_ward", "front_organisation", "enterprise", "province_office")


class Unit(Base):
    __tablename__ = "unit"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    # Its register's ký hiệu for the Giấy khen its head decides (QĐ-<symbol>); set by an admin.
    register_symbol: Mapped[str | None] = mapped_column(String(32))


class UnitCriteria(Base):
    """A unit's own criteria for the Giấy khen it gives in a movement (plan III.2.2 leaves them to its head)."""

    __tablename__ = "unit_criteria"
    movement_id: Mapped[int] = mapped_column(ForeignKey("movement.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    criteria: Mapped[list[Any]]  # [{code, title}]


class Movement(Base):
    """An emulation movement (phong trào thi đua) as data: what it offers, whom it judges by which
    criteria, when it takes nominations, and which units take part. Next year's is a copy, not code."""

    __tablename__ = "movement"
    __table_args__ = (UniqueConstraint("name", "year", name="uq_movement_name_year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    year: Mapped[int] = mapped_column(Integer, index=True)
    plan_number: Mapped[str] = mapped_column(String(50), default="")  # số kế hoạch, e.g. 123/KH-UBND
    plan_date: Mapped[date | None] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(String(300))  # who launches it, e.g. Ủy ban nhân dân tỉnh
    # [{code, title, decided_by}]: the award kinds (hình thức khen thưởng) this movement offers.
    awards: Mapped[list[Any]]
    # [{code, title, individual?, criteria: [{code, title}]}]: nominee kinds and each one's criteria.
    nominee_kinds: Mapped[list[Any]]
    # [{code, title}]: the plan's contents (nội dung thi đua) that unit plans and reports follow.
    contents: Mapped[list[Any]]
    opens_on: Mapped[date] = mapped_column(Date)  # nominations are taken from this day ...
    closes_on: Mapped[date] = mapped_column(Date)  # ... to this one, inclusive (local dates)
    copied_from: Mapped[int | None] = mapped_column(ForeignKey("movement.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]
    # Raised by each edit of the lists; an edit read at an older version is refused (409).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class MovementUnit(Base):
    """A unit taking part in a movement."""

    __tablename__ = "movement_unit"
    movement_id: Mapped[int] = mapped_column(ForeignKey("movement.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), primary_key=True)


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(5), default="vi")
    # A task reaching one of their desks is mailed at once; False: only in the morning digest.
    mail_immediately: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Not read since log-in failures are counted per (username, client) in LoginThrottle; kept so that
    # code and tests writing them keep working until a later migration drops them.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]  # set by an admin only (lock), never by failed log-ins
    created_at: Mapped[datetime]
    roles: Mapped[list[RoleAssignment]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                       lazy="selectin")


class RoleAssignment(Base):
    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("user_id", "role", "unit_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("unit.id"))
    user: Mapped[User] = relationship(back_populates="roles")


class Substitute(Base):
    """`substitute` acts for `absent` between two dates inclusive (leave, business trips)."""

    __tablename__ = "substitute"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    absent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    substitute_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime | None]
    # Acting needs an approval: given at once when the substitute holds the absent person's roles in the
    # same units, or when a unit head or an admin names them; otherwise a head or an admin approves later.
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None]
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ended_at: Mapped[datetime | None]


class ApiToken(Base):
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class UserSession(Base):
    """A signed-in browser. The cookie holds a random id and this row its sha256: ending the row (log-out,
    password or role change, lock, deactivation) ends the session, wherever the cookie was copied to."""

    __tablename__ = "user_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_why: Mapped[str | None] = mapped_column(String(40))


class LoginThrottle(Base):
    """Failed log-ins per (username as typed, client address): a guesser waits longer and longer, from
    their address only, and the account's owner signs in from theirs. Unknown usernames get rows too, so
    that answers do not tell which usernames exist."""

    __tablename__ = "login_throttle"
    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime] = mapped_column(index=True)


class ProcessVersion(Base):
    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(200))
    bpmn: Mapped[bytes] = mapped_column(LargeBinary)
    checksum: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]


class ProcessDraft(Base):
    """A diagram being edited. Only drafts that pass validation are stored; deploying one copies it
    into a new immutable ProcessVersion. `revision` is the optimistic lock the editor sends back."""

    __tablename__ = "process_draft"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(200))
    bpmn: Mapped[bytes] = mapped_column(LargeBinary)
    checksum: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    base_version: Mapped[int | None] = mapped_column(Integer)  # the deployed version the edit started from
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | deployed | discarded
    deployed_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": revision}


class InstanceRow(Base):
    __tablename__ = "process_instance"
    __table_args__ = (Index("ix_process_instance_wake", "next_wake_at"),
                      Index("ix_process_instance_incident", "incident_at",
                            postgresql_where=text("incident IS NOT NULL"), sqlite_where=text("incident IS NOT NULL")))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    process_id: Mapped[str] = mapped_column(String(100))
    state: Mapped[dict[str, Any]]
    serializer_version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    end_event: Mapped[str | None] = mapped_column(String(100))
    next_wake_at: Mapped[datetime | None]
    # An engine run of this instance failed (see usecases/incidents.py); None when it runs normally.
    incident: Mapped[str | None] = mapped_column(Text)
    incident_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    __mapper_args__ = {"version_id_col": version}


class Nomination(Base):
    __tablename__ = "nomination"
    # The statistics page's GROUP BYs read these indexes only (reads/statistics.py).
    # unit_id and within_unit: a province role's scope reads them (0017, 0019).
    __table_args__ = (Index("ix_nomination_stats_unit", "movement_id", "unit_id", "award", "status", "within_unit"),
                      Index("ix_nomination_stats_kind", "movement_id", "nominee_kind", "award", "status",
                            "unit_id", "within_unit"))
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    nominee_kind: Mapped[str | None] = mapped_column(String(32))
    nominee_name: Mapped[str | None] = mapped_column(String(300))
    award: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), index=True)
    data: Mapped[dict[str, Any]]
    batch_id: Mapped[str | None] = mapped_column(String(32), index=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("movement.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Decided inside its unit (a Giấy khen): province roles never see it (security/access.py).
    within_unit: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Batch(Base):
    __tablename__ = "batch"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    title: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(32))
    decision_number: Mapped[str | None] = mapped_column(String(50))
    movement_id: Mapped[int] = mapped_column(ForeignKey("movement.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]


class RegisterCounter(Base):
    """The last number an issuing authority gave in a calendar year (sổ đăng ký văn bản đi)."""

    __tablename__ = "register_counter"
    authority_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class RegisterEntry(Base):
    """One issued document: its number is never reused, even if the document is later revoked."""

    __tablename__ = "register_entry"
    __table_args__ = (UniqueConstraint("authority_id", "year", "number", name="uq_register_number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    authority_id: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    symbol: Mapped[str] = mapped_column(String(32))  # ký hiệu, e.g. QĐ-UBND
    signed_on: Mapped[date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(500))  # trích yếu
    signer_name: Mapped[str] = mapped_column(String(200))
    awardee_count: Mapped[int] = mapped_column(Integer, default=0)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batch.id"))
    nomination_id: Mapped[str | None] = mapped_column(String(32), index=True)  # a unit's Giấy khen decision
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    docx_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class DecisionExclusion(Base):
    """A nomination the Chairman leaves out of the batch's decision, with his reason: the decision is
    re-drafted without it, and at signing it ends "not awarded" with this reason."""

    __tablename__ = "decision_exclusion"
    batch_id: Mapped[str] = mapped_column(ForeignKey("batch.id"), primary_key=True)
    nomination_id: Mapped[str] = mapped_column(ForeignKey("nomination.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    excluded_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    excluded_at: Mapped[datetime]


class DecisionFile(Base):
    """A file of a batch's decision or submission, kept forever with its sha256: each draft nomflow
    rendered, each version Home Affairs uploaded, the final one with its number and the signed PDF."""

    __tablename__ = "decision_file"
    __table_args__ = (UniqueConstraint("batch_id", "document", "version", "format", name="uq_decision_file"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batch.id"), index=True)
    document: Mapped[str] = mapped_column(String(20))  # decision | submission
    version: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(8))  # docx | pdf
    stage: Mapped[str] = mapped_column(String(16))  # draft | uploaded | final | signed
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    register_entry_id: Mapped[int | None] = mapped_column(ForeignKey("register_entry.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]


class InboxRow(Base):
    """The inbox: one row per open human task, replaced on every step of its instance."""

    __tablename__ = "open_task"
    __table_args__ = (
        Index("ix_open_task_queue", "role", "unit_id", "due_at"),
        Index("ix_open_task_role_due", "role", "due_at"),
        Index("ix_open_task_no_unit_due", "role", "due_at", postgresql_where=text("unit_id IS NULL"),
              sqlite_where=text("unit_id IS NULL")),
        Index("ix_open_task_assignee", "assignee_id", "due_at"),
        # The statistics page's open and overdue counts, read from the index alone (0015).
        Index("ix_open_task_stats", "movement_id", "process_id", "stage", "role", "assignee_id", "due_at", "batch_id",
              "unit_only"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_id: Mapped[str] = mapped_column(String(100))
    task_id: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str | None] = mapped_column(String(40))  # what the task is to the service (its diagram says)
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    form: Mapped[str | None] = mapped_column(String(200))
    ui_form: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None]
    opened_at: Mapped[datetime]
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    nomination_id: Mapped[str | None] = mapped_column(String(32), index=True)
    batch_id: Mapped[str | None] = mapped_column(String(32))
    nominee_name: Mapped[str | None] = mapped_column(String(300))
    nominee_kind: Mapped[str | None] = mapped_column(String(32))
    movement_id: Mapped[int | None] = mapped_column(Integer)  # its nomination's or batch's, never changes
    # Its nomination is the unit's own (a draft, or decided inside the unit): province roles do not see
    # it. Kept by triggers (0020_statistics_unit_only), never written by the service.
    unit_only: Mapped[bool] = mapped_column(Boolean, server_default=false())


class DeskTime(Base):
    """One completed human task and how long it stayed at its desk, in working days: the audit trail's
    task_opened / task_completed pair, kept as a row (written with the completion) so that the
    statistics page reads medians from an index instead of pairing millions of audit events."""

    __tablename__ = "desk_time"
    __table_args__ = (Index("ix_desk_time_movement_role", "movement_id", "role", "working_days"),)
    task_uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(36))
    nomination_id: Mapped[str | None] = mapped_column(String(32))
    batch_id: Mapped[str | None] = mapped_column(String(32))
    movement_id: Mapped[int | None] = mapped_column(Integer)
    unit_id: Mapped[str | None] = mapped_column(String(64))  # the nominating unit
    role: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str | None] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime]
    completed_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    working_days: Mapped[int] = mapped_column(Integer)


class Attachment(Base):
    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("nomination_id", "sha256", "filename"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nomination_id: Mapped[str] = mapped_column(ForeignKey("nomination.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime]


class AuditEvent(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    nomination_id: Mapped[str | None] = mapped_column(String(32), index=True)
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]]


class PublicComment(Base):
    """A comment (góp ý) sent from the public page: read by the Department of Home Affairs, never
    published by the system."""

    __tablename__ = "public_comment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nomination_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    client: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the sender's address (rate limit)
    created_at: Mapped[datetime] = mapped_column(index=True)
    read_at: Mapped[datetime | None]
    read_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class OutboxMail(Base):
    __tablename__ = "outbox_mail"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class ReportRound(Base):
    """A reporting round DOST or Home Affairs opens (plan IV.1.1: unit plans; IV.1.4: results reports):
    one UnitReport, run by its own process instance, per participating unit."""

    __tablename__ = "report_round"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # plan | results: the process the units' reports run
    title: Mapped[str] = mapped_column(String(300))
    year: Mapped[int] = mapped_column(Integer)
    movement_id: Mapped[int] = mapped_column(ForeignKey("movement.id"), index=True)
    due_at: Mapped[datetime]
    remind_at: Mapped[datetime]
    opened_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[datetime]


class UnitReport(Base):
    """One unit's plan or results report in a round; `version` is the optimistic lock of its draft."""

    __tablename__ = "unit_report"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),
                      Index("ix_unit_report_round_status", "round_id", "status"))
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("report_round.id"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    # not_started | drafting | unit_review | submitted | returned | accepted | stopped ("late" is read
    # from the round's due date: a state of the calendar, not of the report).
    status: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]]
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_type: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None]  # when the unit head sent it to the province (last time)
    accepted_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # sent after the round's due date
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}
