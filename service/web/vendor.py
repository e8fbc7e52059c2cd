"""Browser parts from the npm registry, served straight out of node_modules (installed by the set-up
command from package.json, never copied into the repo)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, send_from_directory

from service.core.config import ROOT

NODE_MODULES = ROOT / "node_modules"
# URL name → folder inside node_modules. Only these folders are reachable.
PACKAGES = {
    "bpmn-js": "bpmn-js/dist",
    "swagger-ui": "swagger-ui-dist",
}
bp = Blueprint("vendor", __name__)


@bp.route("/static/vendor/<package>/<path:filename>")
def vendor_file(package: str, filename: str) -> Any:
    folder = PACKAGES.get(package)
    if folder is None or not (NODE_MODULES / folder).is_dir():
        abort(404)  # node_modules missing: run `make run` or `npm ci`
    # send_from_directory refuses paths that leave the folder ("..", absolute paths).
    return send_from_directory(NODE_MODULES / folder, filename, max_age=24 * 3600)
