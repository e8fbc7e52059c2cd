"""/follow-up: late tasks at the desks the signed-in person's roles follow (the DOST urges units)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from service.reads.follow_up import follow_up, followed_roles
from service.web.common import actor_required, runtime

bp = Blueprint("follow_up", __name__)  # page module: nested under "pages" by register_pages


@bp.route("/follow-up")
def follow_up_page() -> Any:
    actor = actor_required()
    if not followed_roles(runtime(), actor):
        abort(403)
    return render_template("follow_up.html", tasks=follow_up(runtime(), actor))
