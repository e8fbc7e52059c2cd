"""Errors a use case raises; the web layer maps them to problem details (RFC 9457)."""

from __future__ import annotations

from collections.abc import Iterable

from workflows.forms import FieldError


class DomainError(Exception):
    status = 400
    title = "Yêu cầu không hợp lệ"

    def __init__(self, detail: str, errors: Iterable[FieldError] = ()):
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)


class NotFound(DomainError):
    status = 404
    title = "Không tìm thấy"


class Forbidden(DomainError):
    status = 403
    title = "Không có quyền"


class Conflict(DomainError):
    status = 409
    title = "Xung đột: dữ liệu đã thay đổi"


class InvalidInput(DomainError):
    status = 422
    title = "Dữ liệu không hợp lệ"


class TooManyAttempts(DomainError):
    status = 429
    title = "Quá nhiều lần thử"


class Unavailable(DomainError):
    """The database cannot serve now; the client may try again after `retry_after` seconds."""

    status = 503
    title = "Dịch vụ tạm thời không sẵn sàng"
    retry_after = 5
