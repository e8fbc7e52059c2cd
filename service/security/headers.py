"""Response headers that make the browser refuse what the service never does: run a script or load
a part from elsewhere, be framed by another page, guess a file's type, leak the address in a
Referer, or send the session cookie over plain HTTP.

A small after_request rather than flask-talisman: the service needs five fixed headers, no nonce
(the pages, bpmn-js and swagger-ui run from static files, with no inline script or style), and no
HTTPS redirect of its own (the reverse proxy terminates TLS).
"""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask, Response, send_file

from service.usecases.files import safe_download_name

# Everything from this origin only. 'unsafe-inline' is absent on purpose: an injected <script> or
# on*= handler does not run. img-src allows data: because bpmn-js and swagger-ui draw their icons
# with data: URLs. form-action 'self': a form injected into a page cannot post elsewhere.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# A stored file is never a page: even opened in a tab it runs nothing and reaches nothing.
DOWNLOAD_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask, secure_cookies: bool) -> None:
    """Every response gets the headers (a route's own CSP, e.g. a download's, is kept); cookies
    are Secure when `secure_cookies` (NOMFLOW_SECURE_COOKIES), which needs HTTPS in front."""
    app.config.update(SESSION_COOKIE_SECURE=secure_cookies, REMEMBER_COOKIE_SECURE=secure_cookies)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def send_attachment(body: Path | bytes, content_type: str, filename: str) -> Response:
    """A file (stored at a path, or made in memory) as a download, never rendered by the browser: every
    download route answers through here. Content-Disposition attachment with an RFC 6266 filename* for
    Vietnamese names (werkzeug), the type without sniffing, a sandboxing policy, not cached."""
    source = io.BytesIO(body) if isinstance(body, bytes) else body
    response = send_file(source, mimetype=content_type, as_attachment=True,
                         download_name=safe_download_name(filename))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    response.headers["Cache-Control"] = "private, no-store"
    return response
