"""Installing the schema, the shipped diagrams, the demo organisation and accounts."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from service.core.config import ROOT
from service.core.errors import InvalidInput
from service.core.runtime import Runtime
from service.db.migrate import upgrade
from service.db.models import ProcessVersion, RoleAssignment, Unit, User
from service.security.passwords import MIN_PASSWORD_LENGTH, hash_password, new_password
from service.usecases.audit import audit
from service.usecases.movements import seed_movements
from service.usecases.revocation import end_sessions
from workflows.diagram_checks import DiagramError
from workflows.diagrams import BPMN_DIR

DEMO_FILE = ROOT / "config" / "demo.toml"


def init_db(runtime: Runtime) -> list[str]:
    """Migrate to the newest schema and deploy each shipped diagram that has no version yet.

    A shipped diagram also replaces the version `init_db` itself installed earlier when that one no
    longer meets the contract (config/contracts.toml: installed before diagrams declared their
    stages). A version an admin deployed is never replaced: it keeps running, its stages taken from
    the contract's map of old ids, until the admin deploys one that declares them."""
    upgrade(runtime.db)
    deployed = []
    with runtime.uow() as uow:
        session = uow.session
        for path in sorted(BPMN_DIR.glob("*.bpmn")):
            data = path.read_bytes()
            for process_id, definition in runtime.loader.load(data, path.name).items():
                versions = session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                                           .order_by(ProcessVersion.version)).all()
                if versions and not _outdated_install(runtime, versions, definition.checksum):
                    continue
                for previous in versions:
                    previous.active = False
                number = versions[-1].version + 1 if versions else 1
                session.add(ProcessVersion(process_id=process_id, version=number, name=definition.name,
                                           filename=path.name, bpmn=data, checksum=definition.checksum,
                                           note="Phiên bản cài đặt ban đầu" if number == 1 else
                                           "Sơ đồ cài đặt kèm theo, khai báo các giai đoạn", active=True,
                                           created_at=runtime.clock.now()))
                audit(session, runtime, "process_deployed", process_id=process_id, version=number,
                      checksum=definition.checksum)
                deployed.append(process_id)
        uow.commit()
    return deployed


def _outdated_install(runtime: Runtime, versions: Sequence[ProcessVersion], shipped_checksum: str) -> bool:
    active = [v for v in versions if v.active]
    if len(active) != 1 or active[0].created_by is not None or active[0].checksum == shipped_checksum:
        return False  # none active, or an admin's own version, or already the shipped one
    try:
        runtime.loader.load(active[0].bpmn, active[0].filename)  # as an upload today: with the contract
    except DiagramError:
        return True
    return False


@dataclass(frozen=True)
class CreatedUser:
    username: str
    password: str
    role: str
    unit_id: str | None


def add_user(runtime: Runtime, username: str, full_name: str, role: str, unit_id: str | None,
             email: str | None = None, password: str | None = None, language: str = "vi") -> CreatedUser:
    if role not in runtime.roles.roles:
        raise InvalidInput(f"Vai trò không tồn tại: {role}")
    if runtime.roles.roles[role].scope == "unit" and not unit_id:
        raise InvalidInput(f"Vai trò {role} cần đơn vị")
    password = password or new_password()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự")
    with runtime.uow() as uow:
        session = uow.session
        if unit_id and session.get(Unit, unit_id) is None:
            raise InvalidInput(f"Không tìm thấy đơn vị {unit_id}")
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            user = User(username=username, full_name=full_name, email=email or f"{username}@nomflow.local",
                        password_hash=hash_password(password), language=language, active=True,
                        failed_logins=0, created_at=runtime.clock.now())
            session.add(user)
            session.flush()
        else:
            user.password_hash = hash_password(password)
            end_sessions(session, user.id, runtime.clock.now(), "password_changed")
        if not any(a.role == role and a.unit_id == unit_id for a in user.roles):
            user.roles.append(RoleAssignment(role=role, unit_id=unit_id))
            end_sessions(session, user.id, runtime.clock.now(), "role_changed")
        audit(session, runtime, "user_saved", username=username, role=role, unit_id=unit_id)
        uow.commit()
    return CreatedUser(username, password, role, unit_id)


def seed_demo(runtime: Runtime, password: str | None = None) -> list[CreatedUser]:
    demo = tomllib.loads(DEMO_FILE.read_text(encoding="utf-8"))
    with runtime.uow() as uow:
        for unit in demo["units"]:
            if uow.session.get(Unit, unit["id"]) is None:
                uow.session.add(Unit(id=unit["id"], name=unit["name"], kind=unit["kind"], email=unit.get("email"),
                                     register_symbol=unit.get("register_symbol")))
        uow.session.flush()
        seed_movements(uow.session, runtime.clock.now())
        uow.commit()
    return [add_user(runtime, u["username"], u["full_name"], u["role"], u.get("unit"), password=password)
            for u in demo["users"]]


@dataclass(frozen=True)
class DemoLogins:
    password: str
    users: list[CreatedUser]


def demo_logins(runtime: Runtime) -> DemoLogins:
    """Seed the demo organisation on first use with one shared password, kept in the instance folder
    so that later runs can print it again."""
    password_file = runtime.config.instance_dir / "demo-password.txt"
    with runtime.uow() as uow:
        seeded = uow.session.scalars(select(User.id)).first() is not None
    if not seeded or not password_file.exists():
        password = new_password()
        users = seed_demo(runtime, password)
        password_file.write_text(password)
        password_file.chmod(0o600)
        return DemoLogins(password, users)
    demo = tomllib.loads(DEMO_FILE.read_text(encoding="utf-8"))
    users = [CreatedUser(u["username"], "", u["role"], u.get("unit")) for u in demo["users"]]
    return DemoLogins(password_file.read_text().strip(), users)
