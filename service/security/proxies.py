"""The client's address behind a reverse proxy. `X-Forwarded-For` is anyone's to write, so it is read
(by werkzeug's ProxyFix, one hop) only on requests whose peer is one of NOMFLOW_TRUSTED_PROXIES;
from anyone else the socket's peer address is the client. The log-in throttle keys on this address."""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import ip_address, ip_network
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxyFix:
    def __init__(self, app: Any, trusted: Iterable[str]):
        self.networks = [ip_network(entry, strict=False) for entry in trusted]  # a typo fails at start-up
        self.app = app
        self.behind_proxy = ProxyFix(app, x_for=1, x_proto=1)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._trusted(environ.get("REMOTE_ADDR")):
            return self.behind_proxy(environ, start_response)
        return self.app(environ, start_response)

    def _trusted(self, peer: str | None) -> bool:
        try:
            address = ip_address(peer or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)
