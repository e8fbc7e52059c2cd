"""Versions stored before diagrams declared their stages keep working; `init_db` replaces its own
outdated install with the shipped diagram; open tasks of those days get their stage once."""

from __future__ import annotations

import hashlib
import io
import re

from alembic import command
from sqlalchemy import select, update

from service.core.runtime import Runtime
from service.db.migrate import alembic_config
from service.db.models import InboxRow, InstanceRow, ProcessVersion
from service.usecases.setup import init_db
from workflows.diagrams import BPMN_DIR

from .helpers import ADMIN, HEAD, act, assert_problem, create_nomination, detail, submit

NOMINATION = (BPMN_DIR / "nomination.bpmn").read_bytes()


def without_stages(bpmn: bytes) -> bytes:
    """The shipped diagram as it was stored before this change: no stage declared anywhere."""
    bpmn = re.sub(rb"\s*<bpmn:extensionElements>\s*<spiffworkflow:properties>\s*"
                  rb'<spiffworkflow:property name="stage" value="\w+" />\s*</spiffworkflow:properties>\s*'
                  rb"</bpmn:extensionElements>", b"", bpmn)
    return re.sub(rb'\s*<spiffworkflow:property name="stage" value="\w+" />', b"", bpmn)


def install_legacy(runtime: Runtime, bpmn: bytes, created_by: int | None = None) -> None:
    """As `init_db` (or an admin) left the database before diagrams declared stages."""
    with runtime.uow() as uow:
        session = uow.session
        session.execute(update(ProcessVersion).where(ProcessVersion.process_id == "nomination").values(active=False))
        session.add(ProcessVersion(process_id="nomination", version=2, name="Đề nghị khen thưởng",
                                   filename="nomination.bpmn", bpmn=bpmn, checksum=hashlib.sha256(bpmn).hexdigest(),
                                   note="", active=True, created_by=created_by, created_at=runtime.clock.now()))
        uow.commit()


def version_of(runtime: Runtime, nomination_id: str, client, auth) -> int:
    instance_id = detail(client, auth, nomination_id)["instance_id"]
    with runtime.read() as uow:
        return int(uow.session.scalars(select(ProcessVersion.version).join(
            InstanceRow, InstanceRow.process_version_id == ProcessVersion.id)
            .where(InstanceRow.id == instance_id)).one())


def test_a_version_stored_without_stages_runs_on_the_old_id_map_until_init_db_replaces_it(client, auth, runtime):
    legacy = without_stages(NOMINATION)
    assert b'name="stage"' not in legacy
    # Such a diagram is refused as an upload today: the contract asks for its stages...
    body = assert_problem(client.post("/api/v1/admin/processes/validate", headers=auth(ADMIN),
                                      data={"file": (io.BytesIO(legacy), "nomination.bpmn")},
                                      content_type="multipart/form-data"), 422)
    assert any("dost_selection" in e["message"] for e in body["errors"])
    # ... but one already stored keeps running, its stages from the contract's map of old ids.
    install_legacy(runtime, legacy)
    older = create_nomination(client, auth)
    assert submit(client, auth, older).status_code == 200
    assert detail(client, auth, older)["status"] == "unit_review"
    assert [t["stage"] for t in detail(client, auth, older)["tasks"]] == ["unit_review"]

    assert init_db(runtime) == ["nomination"]  # its own outdated install is replaced by the shipped diagram
    assert init_db(runtime) == []
    newer = create_nomination(client, auth)
    assert (version_of(runtime, older, client, auth), version_of(runtime, newer, client, auth)) == (2, 3)
    act(client, auth, older, "unit_review", HEAD, {"decision": "submit"})
    assert detail(client, auth, older)["status"] == "dost_review"  # still on version 2, still right
    assert detail(client, auth, newer)["status"] == "draft"


def test_init_db_leaves_an_admins_version_alone(client, auth, runtime):
    with runtime.read() as uow:
        from service.db.models import User
        admin_id = uow.session.scalars(select(User.id).where(User.username == ADMIN)).one()
    install_legacy(runtime, without_stages(NOMINATION), created_by=admin_id)
    assert init_db(runtime) == []
    nomination_id = create_nomination(client, auth)
    assert version_of(runtime, nomination_id, client, auth) == 2
    assert detail(client, auth, nomination_id)["status"] == "draft"


def test_the_migration_gives_open_tasks_of_old_versions_their_stage(client, auth, runtime):
    nomination_id = create_nomination(client, auth)
    assert submit(client, auth, nomination_id).status_code == 200
    config = alembic_config(runtime.db)
    with runtime.db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004_open_task_no_unit_due")
        command.upgrade(config, "head")
        connection.commit()
    with runtime.read() as uow:
        rows = uow.session.execute(select(InboxRow.task_id, InboxRow.stage)
                                   .where(InboxRow.nomination_id == nomination_id)).all()
    assert rows == [("unit_head_review", "unit_review")]
