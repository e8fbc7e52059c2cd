"""Open redirects (issue 14 item 2): every redirect target that comes from input stays on this site,
read the way a browser reads a Location header (TAB/CR/LF dropped, `\\` as `/`)."""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

import pytest

from service.security.redirects import safe_redirect_target

from .helpers import STAFF, create_nomination, submit
from .test_auth_pages import PASSWORD, csrf_token, login

FALLBACK = "/fallback"
SITE = "http://localhost"

# What the sweep found and its relatives: each leaves the site when a browser follows it as written.
HOSTILE = [
    "//evil.example", "//evil.example/", "///evil.example", "////evil.example", "/\\evil.example",
    "\\\\evil.example", "\\/evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example",
    "\t//evil.example", " //evil.example", "/%2F/evil.example", "/%2f%2fevil.example", "/%5Cevil.example",
    "/%09/evil.example", "/%252F/evil.example", "https://evil.example", "http:evil.example", "HTTPS://evil.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>", "evil.example",
    "https:/evil.example", "/\x00/evil.example", "/\u202e/evil.example", "/\u3000/evil.example",
    "\x0c//evil.example", "", "a" * 3000,
]
LOCAL = ["/", "/inbox", "/inbox?scope=queue&q=a%20b", "/nominations/abc#comments", "/api/v1/me",
         "/cong-khai?x=https://evil.example", "/a/b//c"]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_fall_back(target):
    assert safe_redirect_target(target, FALLBACK) == FALLBACK


@pytest.mark.parametrize("target", LOCAL)
def test_local_paths_are_kept(target):
    assert safe_redirect_target(target, FALLBACK) == target


def test_a_browser_following_any_accepted_target_stays_on_the_site():
    """Whatever passes is resolved against the site as a browser would (tabs and newlines dropped)."""
    for target in HOSTILE + LOCAL:
        kept = safe_redirect_target(target, FALLBACK)
        as_browser = "".join(c for c in kept if c not in "\t\r\n").replace("\\", "/")
        assert urlsplit(urljoin(SITE + "/page", as_browser)).netloc == "localhost", target


def test_not_a_string_falls_back():
    assert safe_redirect_target(None, FALLBACK) == FALLBACK
    assert safe_redirect_target(["/inbox"], FALLBACK) == FALLBACK


@pytest.mark.parametrize("target", ["%2F%09%2Fevil.example", "%2F%5Cevil.example", "%2F%2Fevil.example",
                                    "https%3A%2F%2Fevil.example", "javascript%3Aalert(1)", "%2F%0D%0A%2Fevil",
                                    "%2F%252F%2Fevil.example"])
def test_login_next_never_leaves_the_site(client, target):
    """The sweep's own request: /login?next=%2F%09%2Fevil.example went to evil.example. A target
    holding a control character (tab, CR, LF) is refused whole by the request guard (400)."""
    response = login(client, STAFF, PASSWORD, next_url=f"?next={target}")
    if any(code in target for code in ("%09", "%0D", "%0A")):
        assert response.status_code == 400
        return
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_next_keeps_a_local_path(client):
    response = login(client, STAFF, PASSWORD, next_url="?next=" + quote("/inbox?scope=queue", safe=""))
    assert response.headers["Location"] == "/inbox?scope=queue"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\\evil.example", "//evil.example", "https://evil.example",
                                    "/%2F/evil.example"])
def test_inbox_forms_go_back_only_to_this_site(client, auth, target):
    nomination_id = create_nomination(client, auth)
    submit(client, auth, nomination_id)
    assert login(client, "chutich.hiennam", PASSWORD).status_code == 302
    task = client.get("/api/v1/tasks?scope=queue").get_json()[0]["id"]
    response = client.post("/inbox/claim", data={"task": task, "next": target,
                                                 "csrf_token": csrf_token(client, "/inbox")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"
