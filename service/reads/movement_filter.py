"""The movement a page or an API call is filtered by, read the same way everywhere.

`?movement=<id>` names one movement; `?movement=` (empty) asks for all of them; a value that is not a
movement id (`abc`, `-1`, `1.5`) is refused with 400 and an id no movement has with 404, never read as
"all" (which would show a user figures they did not ask for, under the filter they believe they set).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from service.core.errors import DomainError, NotFound, catalogued
from service.core.runtime import Runtime
from service.db.models import Movement

ALL = None  # no movement: every movement's rows
MALFORMED = catalogued("Mã phong trào thi đua “%(value)s” không hợp lệ: cần một số nguyên dương, hoặc để trống "
                       "để xem tất cả các phong trào")
UNKNOWN = catalogued("Không tìm thấy phong trào thi đua %(id)s")
_MAX_DIGITS = 9  # an id column is a 32-bit integer


class MalformedFilter(DomainError):
    status = 400
    title = "Yêu cầu không hợp lệ"


def parse_movement(runtime: Runtime, raw: str | None, absent: int | None = ALL) -> int | None:
    """The movement id `raw` names (checked to exist); `absent` when the argument is not given at all,
    ALL when it is given empty."""
    if raw is None:
        return absent
    value = raw.strip()
    if value == "":
        return ALL
    if not (value.isascii() and value.isdigit()) or len(value) > _MAX_DIGITS or int(value) == 0:
        raise MalformedFilter(MALFORMED % {"value": value[:40]})
    return known_movement(runtime, int(value))


def known_movement(runtime: Runtime, movement_id: int | None) -> int | None:
    """`movement_id` unchanged when a movement has it (or it is ALL); 404 otherwise."""
    if movement_id is ALL:
        return ALL
    with runtime.read() as uow:
        if uow.session.scalar(select(Movement.id).where(Movement.id == movement_id)) is None:
            message = UNKNOWN % {"id": movement_id}
            raise NotFound(message)
    return movement_id


def movement_arg(runtime: Runtime, args: Mapping[str, Any], name: str = "movement",
                 absent: int | None = ALL) -> int | None:
    """The movement filter of a request's query string (`request.args`)."""
    return parse_movement(runtime, args.get(name), absent)
