"""Application factory: `create_app(config)` wires everything; nothing happens at import time."""

from __future__ import annotations

from flask import Flask

from service.core.config import ServiceConfig
from service.core.runtime import Runtime
from workflows.clock import Clock


def create_app(config: ServiceConfig | None = None, clock: Clock | None = None,
               runtime: Runtime | None = None) -> Flask:
    config = (config or ServiceConfig.from_env()).with_secret()
    app = Flask(__name__, instance_path=str(config.instance_dir), instance_relative_config=False)
    app.config.update(
        SECRET_KEY=config.secret_key,
        TESTING=config.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=config.max_attachment_bytes + 1024 * 1024,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in auth.before_request, only for cookie sessions
        WTF_CSRF_TIME_LIMIT=None,
        API_TITLE="nomflow API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/static/vendor/swagger-ui/",
    )
    app.extensions["nomflow"] = runtime or Runtime(config, clock=clock)
    if config.trusted_proxies:
        from service.security.proxies import TrustedProxyFix

        app.wsgi_app = TrustedProxyFix(app.wsgi_app, config.trusted_proxies)  # type: ignore[method-assign]

    from service.api import register_api
    from service.cli import register_cli
    from service.core import filestore, request_guard
    from service.security import auth, headers
    from service.web import register_pages

    request_guard.install_converter(app)
    app.before_request(lambda: request_guard.limit_size(config.max_json_bytes, config.max_form_bytes))
    auth.init_app(app)
    headers.init_app(app, config.secure_cookies)
    filestore.refuse_large_uploads_without_room(app)  # after sign-in: strangers learn nothing of the disk
    app.before_request(request_guard.check_body)
    register_api(app)
    register_pages(app)
    register_cli(app)
    return app
