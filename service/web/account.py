"""/account: the signed-in person's own API tokens (with when each was last used and when it expires)
and the substitutions that concern them."""

from __future__ import annotations

from typing import Any

from flask import render_template

from service.reads import api as queries
from service.usecases.substitutes import list_substitutes
from service.web.common import actor_required, bp, runtime


@bp.route("/account")
def account() -> Any:
    actor = actor_required()
    users = {u.id: u.username for u in queries.usernames(runtime())}
    return render_template("account.html", tokens=queries.my_tokens(runtime(), actor),
                           substitutes=list_substitutes(runtime(), actor), users=users,
                           now=runtime().clock.now())
