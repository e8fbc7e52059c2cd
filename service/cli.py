"""`nomflow` command line (click, through Flask)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from service.core.runtime import Runtime


def _runtime() -> Runtime:
    rt: Runtime = current_app.extensions["nomflow"]
    return rt


def register_cli(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(user_group)
    app.cli.add_command(serve_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(outbox_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(calendar_group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or migrate the schema and deploy the shipped diagrams."""
    from service.usecases.setup import init_db

    deployed = init_db(_runtime())
    click.echo(f"Cơ sở dữ liệu sẵn sàng: {_runtime().db.url}")
    for process_id in deployed:
        click.echo(f"  đã cài quy trình {process_id} (phiên bản 1)")


@click.command("seed-demo")
@click.option("--password", default=None, help="one password for every demo user (default: random each)")
@with_appcontext
def seed_demo_command(password: str | None) -> None:
    """Create the Hưng Yên demo organisation with one user per role; prints the passwords."""
    from service.usecases.setup import seed_demo

    users = seed_demo(_runtime(), password)
    click.echo("Tài khoản demo (tên đăng nhập / mật khẩu / vai trò / đơn vị):")
    for user in users:
        click.echo(f"  {user.username:<20} {user.password:<20} {user.role:<22} {user.unit_id or ''}")


@click.group("user")
def user_group() -> None:
    """Manage user accounts."""


@user_group.command("add")
@click.argument("username")
@click.option("--name", "full_name", required=True)
@click.option("--role", required=True)
@click.option("--unit", "unit_id", default=None)
@click.option("--email", default=None)
@click.option("--password", default=None, help="default: a random one, printed")
@with_appcontext
def user_add(username: str, full_name: str, role: str, unit_id: str | None, email: str | None,
             password: str | None) -> None:
    from service.core.errors import DomainError
    from service.usecases.setup import add_user

    try:
        created = add_user(_runtime(), username, full_name, role, unit_id, email, password)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"{created.username} / {created.password} / {created.role} / {created.unit_id or ''}")


@user_group.command("lock")
@click.argument("username")
@click.option("--until", default=None, help="ISO time with zone; default: until unlocked")
@with_appcontext
def user_lock(username: str, until: str | None) -> None:
    """Refuse log-in; end the user's sessions and API tokens."""
    from datetime import datetime

    from service.usecases.account_status import lock_user

    _account_action(lock_user, username, until=datetime.fromisoformat(until) if until else None)


@user_group.command("unlock")
@click.argument("username")
@with_appcontext
def user_unlock(username: str) -> None:
    """Lift a lock and forget the failed log-ins counted against the username."""
    from service.usecases.account_status import unlock_user

    _account_action(unlock_user, username)


@user_group.command("deactivate")
@click.argument("username")
@with_appcontext
def user_deactivate(username: str) -> None:
    """The person left: end their sessions, tokens and substitutions; keep their history."""
    from service.usecases.account_status import deactivate_user

    _account_action(deactivate_user, username)


def _account_action(use_case: Any, username: str, **kwargs: Any) -> None:
    from service.core.errors import DomainError

    try:
        view = use_case(_runtime(), None, username, **kwargs)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    state = "active" if view["active"] else "deactivated"
    click.echo(f"{view['username']}: {state}, locked until {view['locked_until'] or '-'}")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--threads", default=8, type=int)
@click.option("--scheduler/--no-scheduler", default=None, help="run the timer and mail jobs beside the web server")
@with_appcontext
def serve_command(host: str, port: int, threads: int, scheduler: bool | None) -> None:
    """Serve the web app and API with gunicorn (one process, threads), and the jobs in a process beside it."""
    from service.serve import serve

    runtime = _runtime()
    runtime.config = runtime.config.serving_at(host, port)
    click.echo(f"nomflow đang chạy tại http://{host}:{port}/")
    _warm_up(runtime)
    serve(current_app._get_current_object(), runtime, host, port, threads,  # type: ignore[attr-defined]
          scheduler if scheduler is not None else runtime.config.scheduler_in_process)


def _warm_up(runtime: Runtime) -> None:
    """Parse the stored diagrams before serving; with the database down or not migrated yet, serve
    anyway (/readyz says why until it is fixed) instead of exiting into a restart loop."""
    from sqlalchemy.exc import SQLAlchemyError

    from service.db.session import describe

    try:
        runtime.warm_up()
    except SQLAlchemyError as exc:
        click.echo(f"database not ready at start, serving anyway: {describe(exc)}", err=True)


@click.command("demo")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.pass_context
@with_appcontext
def demo_command(ctx: click.Context, host: str, port: int) -> None:
    """`make run`: install the schema, seed the demo organisation once, print the logins, serve."""
    import os

    from service.usecases.setup import demo_logins

    if "NOMFLOW_SECURE_COOKIES" not in os.environ:  # the demo is plain HTTP on this machine
        current_app.config.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)
    ctx.invoke(init_db_command)
    logins = demo_logins(_runtime())
    click.echo("")
    click.echo(f"  Mở trình duyệt (open): http://{host}:{port}/")
    click.echo(f"  Tài khoản demo (demo logins), mật khẩu chung (password): {logins.password}")
    for user in logins.users:
        click.echo(f"    {user.username:<20} {user.role:<22} {user.unit_id or ''}")
    click.echo("  Thư chưa gửi (no SMTP configured) nằm ở /admin/outbox (đăng nhập: quantri).")
    from contextlib import ExitStack

    from service.usecases.demo_signing import start_demo_signing

    with ExitStack() as keep:
        passphrase = start_demo_signing(_runtime(), keep)
        if passphrase:
            click.echo(f"  Ký số thử nghiệm (demo PKI): mật khẩu khóa của Chủ tịch (passphrase): {passphrase}")
        click.echo("")
        ctx.invoke(serve_command, host=host, port=port, threads=8, scheduler=None)


@click.command("worker")
@click.option("--wake-every", default=1.0, type=float, show_default=True, help="seconds between timer sweeps")
@click.option("--deliver-every", default=1.0, type=float, show_default=True, help="seconds between outbox runs")
@click.option("--digest-at", default="07:30", show_default=True, help="local time of the daily digest")
@with_appcontext
def worker_command(wake_every: float, deliver_every: float, digest_at: str) -> None:
    """Run the timer, mail and digest jobs in the foreground until SIGTERM (any number of workers)."""
    from datetime import time

    from service.jobs.scheduler import Schedule, run_worker, worker_logging

    worker_logging()
    runtime = _runtime()
    smtp = runtime.config.smtp_host or "(không cấu hình: thư nằm chờ trong hộp thư đi)"
    click.echo(f"nomflow worker: {runtime.db.url.split('@')[-1]}, SMTP {smtp}")
    run_worker(runtime, Schedule(wake_every, deliver_every, time.fromisoformat(digest_at)))


@click.group("outbox")
def outbox_group() -> None:
    """The outgoing mail queue."""


@outbox_group.command("resend")
@click.argument("mail_ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="every failed mail")
@with_appcontext
def outbox_resend(mail_ids: tuple[int, ...], all_failed: bool) -> None:
    """Put failed mails back in the queue (same Message-ID, fresh retry budget)."""
    from service.usecases.outbox import failed_ids, resend

    ids = failed_ids(_runtime()) if all_failed else list(mail_ids)
    click.echo(f"Đã đưa lại {resend(_runtime(), ids)} thư vào hàng đợi gửi.")


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(directory: Path) -> None:
    """Back up the database, the dossier files and the secret key into DIRECTORY (new or empty),
    consistently, while the service keeps running."""
    from service.ops.backup import BackupError, backup

    try:
        done = backup(_runtime(), directory)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Đã sao lưu vào {directory} trong {done.seconds:.1f} giây: {_summary(done.manifest)}")


@click.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="overwrite a database or attachments folder that holds data")
@with_appcontext
def restore_command(directory: Path, force: bool) -> None:
    """Restore a backup made by `nomflow backup` into this instance (its database, attachments folder
    and secret key), after checking every file against the manifest. Stop the service first."""
    from service.ops.backup import BackupError, restore

    try:
        done = restore(_runtime(), directory, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Đã khôi phục từ {directory} trong {done.seconds:.1f} giây: {_summary(done.manifest)}")
    click.echo("Chạy `nomflow init-db` nếu phiên bản phần mềm mới hơn bản sao lưu (nâng cấp lược đồ).")


def _summary(manifest: dict[str, Any]) -> str:
    counts = manifest["counts"]
    size = sum(f["size"] for f in manifest["files"].values()) / (1024 * 1024)
    return (f"{counts['nomination']} hồ sơ, {counts['attachment']} tệp đính kèm, {counts['audit_event']} dòng "
            f"nhật ký, {counts['outbox_mail']} thư; {size:.1f} MB")


@click.group("calendar")
def calendar_group() -> None:
    """The working-day calendar: reviewed years in config/calendar/, proposals from the library."""


@calendar_group.command("check")
@click.option("--year", type=int, default=None, help="default: this year and the next")
@with_appcontext
def calendar_check(year: int | None) -> None:
    """Say which years have a reviewed list; exit 1 if one of those asked for has none."""
    runtime = _runtime()
    today = runtime.clock.now().date()
    years = [year] if year else [today.year, today.year + 1]
    missing = [y for y in years if not runtime.calendar.is_reviewed(y)]
    for y in years:
        state = "đã duyệt" if y not in missing else "CHƯA DUYỆT: chỉ tính các ngày lễ của Bộ luật Lao động"
        click.echo(f"{y}: {state}")
    if missing:
        click.echo(f"Chạy `nomflow calendar propose {missing[0]}` rồi duyệt danh sách đề xuất.")
        raise SystemExit(1)


@calendar_group.command("propose")
@click.argument("year", type=int)
@with_appcontext
def calendar_propose(year: int) -> None:
    """Print the library's proposal for YEAR as a draft config/calendar/YEAR.toml, and how it differs
    from the reviewed list if there is one. Nothing is saved: a person accepts each day."""
    from workflows.calendar_review import differences, propose, to_toml

    proposal = propose(year)
    reviewed = _runtime().calendar.reviewed.get(year)
    if reviewed is not None:
        lines = differences(reviewed, proposal)
        click.echo(f"# Khác biệt với config/calendar/{year}.toml đã duyệt: {len(lines)}", err=True)
        for line in lines:
            click.echo(f"#   {line}", err=True)
    click.echo(to_toml(proposal), nl=False)


def main() -> None:
    from service.app import create_app

    FlaskGroup(create_app=create_app, name="nomflow",
               help="nomflow: đề nghị khen thưởng").main()
