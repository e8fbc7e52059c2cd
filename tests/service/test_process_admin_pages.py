"""The admin pages: the list of diagrams and versions, and the bpmn-js editor, which calls the API with
the session cookie and its CSRF token."""

from __future__ import annotations

import re

from .helpers import ADMIN, DOST_OFFICER
from .test_auth_pages import PASSWORD, login
from .test_process_admin import BASE, NOMINATION, at_dost_check, deploy, dost_check_days

# --- pages --------------------------------------------------------------------------------------------

def page_login(client, username: str) -> None:
    assert login(client, username, PASSWORD).status_code == 302


def test_admin_pages_list_versions_and_open_the_editor(client, auth):
    at_dost_check(client, auth)
    deploy(client, auth, dost_check_days(3), note="Rút ngắn còn 3 ngày")
    page_login(client, ADMIN)
    listing = client.get("/admin/processes")
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert 'id="version-nomination-2"' in text and "Rút ngắn còn 3 ngày" in text
    assert 'data-process="nomination" data-target="2"' in text  # v1 still runs one nomination: migration panel
    editor = client.get("/admin/processes/nomination/edit")
    assert editor.status_code == 200
    html = editor.get_data(as_text=True)
    assert "bpmn-modeler.production.min.js" in html and "process_editor.js" in html
    assert '"source": "/api/v1/admin/processes/nomination/versions/2/bpmn"' in html
    assert client.get("/admin/processes/nomination/edit?version=9").status_code == 404
    # The editor's own calls: cookie session + CSRF token from the page.
    token = re.search(r'"csrf": "([^"]+)"', html).group(1)
    saved = client.post(f"{BASE}/nomination/drafts?note=x", data=dost_check_days(4),
                        headers={"Content-Type": "application/xml", "X-CSRFToken": token,
                                 "If-Match": '"nomination-v2"'})
    assert saved.status_code == 201, saved.get_json()
    no_token = client.post(f"{BASE}/validate", data=NOMINATION, headers={"Content-Type": "application/xml"})
    assert no_token.status_code == 400
    assert client.get(f"/admin/processes/nomination/edit?draft={saved.get_json()['id']}").status_code == 200


def test_admin_pages_are_for_admins_only(client):
    page_login(client, DOST_OFFICER)
    assert client.get("/admin/processes").status_code == 403
    assert client.get("/admin/processes/nomination/edit").status_code == 403
