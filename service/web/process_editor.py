"""/admin/processes: the diagrams, their versions and drafts; the bpmn-js editor. Admins only.

The pages only render; every change goes through the admin API (/api/v1/admin/processes) from the
editor's script, with the session cookie and the CSRF token, so the browser and API clients share
one set of rules (validation, optimistic concurrency, migration safety).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from service.core.errors import Conflict, NotFound
from service.usecases import incidents, processes
from service.web.common import admin_required, runtime

bp = Blueprint("process_editor", __name__, url_prefix="/admin/processes")
API = "/api/v1/admin/processes"



@bp.route("")
def index() -> Any:
    actor = admin_required()
    return render_template("admin_processes.html", processes=processes.overview(runtime(), actor), api=API,
                           incidents=incidents.open_incidents(runtime(), actor))


@bp.route("/incidents/<instance_id>/retry", methods=["POST"])
def retry_incident(instance_id: str) -> Any:
    actor = admin_required()  # the CSRF token was checked before this view (auth._identify)
    try:
        incidents.retry(runtime(), actor, instance_id)
    except Conflict as exc:
        flash(exc.detail, "error")
    else:
        flash(gettext("Đã chạy lại quy trình; sự cố đã được giải quyết."))
    return redirect(url_for("process_editor.index") + "#incidents")


def _stages(process_id: str) -> dict[str, list[list[str]]]:
    """The stages this kind of process may declare (config/contracts.toml), for the panel's selects."""
    contract = runtime().loader.contracts.get(process_id)
    if contract is None:
        return {"task": [], "end": []}
    return {"task": [[k, v] for k, v in contract.task_stages.items()],
            "end": [[k, v] for k, v in contract.end_stages.items()]}


@bp.route("/<process_id>/edit")
def edit(process_id: str) -> Any:
    """Opens the newest version (or `?version=n`, or a saved `?draft=id`) in the modeler."""
    actor = admin_required()
    entry = next((p for p in processes.overview(runtime(), actor) if p["process_id"] == process_id), None)
    if entry is None:
        raise NotFound(f"Không tìm thấy quy trình {process_id}")
    latest = max((v["version"] for v in entry["versions"]), default=0)
    draft_id = request.args.get("draft", type=int)
    draft = None
    if draft_id is not None:
        draft, _ = processes.draft_detail(runtime(), actor, process_id, draft_id)
        source = f"{API}/{process_id}/drafts/{draft_id}/bpmn"
        opened = draft["base_version"] or 0
    else:
        opened = request.args.get("version", type=int) or latest
        processes.version_detail(runtime(), actor, process_id, opened)  # 404 for an unknown version
        source = f"{API}/{process_id}/versions/{opened}/bpmn"
    config = {
        "processId": process_id,
        "api": f"{API}/{process_id}",
        "validateUrl": f"{API}/validate",
        "source": source,
        "openedVersion": opened,
        "latestVersion": latest,
        "draft": {"id": draft["id"], "revision": draft["revision"], "note": draft["note"]} if draft else None,
        "listUrl": url_for("process_editor.index"),
        "roles": sorted(role.title_vi for role in runtime().roles.roles.values()),
        "forms": sorted(p.name for p in runtime().forms.directory.glob("*.schema.json")),
        "stages": _stages(process_id),
    }
    return render_template("admin_process_edit.html", process=entry, draft=draft, opened=opened, latest=latest,
                           config=config)
