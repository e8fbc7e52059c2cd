"""The decision register gives consecutive numbers per authority and year: no gap, no double, under
concurrent signings on SQLite and PostgreSQL; a signing that fails consumes no number."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.models import RegisterEntry
from service.documents.register import authorities, next_number, register

THREADS = 8


def sign(runtime: Runtime, signed_on: date, subject: str = "Về việc tặng Bằng khen", *, fail: bool = False) -> int:
    province = authorities()["province"]
    with runtime.uow() as uow:
        entry = register(uow.session, province, "QĐ", signed_on, subject, "Trần Văn Quyết", 3, runtime.clock.now())
        if fail:
            raise RuntimeError("the signature could not be made")
        uow.commit()
        return entry.number


def numbers(runtime: Runtime) -> list[tuple[str, int, int]]:
    with runtime.read() as uow:
        rows = uow.session.execute(select(RegisterEntry.authority_id, RegisterEntry.year, RegisterEntry.number)
                                   .order_by(RegisterEntry.year, RegisterEntry.number)).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_eight_concurrent_signings_get_eight_consecutive_numbers(runtime: Runtime) -> None:
    barrier = threading.Barrier(THREADS)
    got: list[int] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            got.append(sign(runtime, date(2026, 5, 15), f"Đợt {i}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got) == list(range(1, THREADS + 1))
    assert [n for _, _, n in numbers(runtime)] == list(range(1, THREADS + 1))


def test_a_failed_signing_consumes_no_number(runtime: Runtime) -> None:
    assert sign(runtime, date(2026, 5, 15)) == 1
    with pytest.raises(RuntimeError):
        sign(runtime, date(2026, 5, 16), fail=True)
    assert sign(runtime, date(2026, 5, 17)) == 2
    assert numbers(runtime) == [("province", 2026, 1), ("province", 2026, 2)]


def test_each_year_starts_again_at_one(runtime: Runtime) -> None:
    assert sign(runtime, date(2026, 12, 31)) == 1
    assert sign(runtime, date(2027, 1, 4)) == 1
    assert sign(runtime, date(2026, 12, 31)) == 2


def test_authorities_have_their_own_sequences(runtime: Runtime) -> None:
    with runtime.uow() as uow:
        first = [next_number(uow.session, "province", 2026), next_number(uow.session, "so-khcn", 2026),
                 next_number(uow.session, "province", 2026)]
        uow.commit()
    assert first == [1, 1, 2]


def test_the_shipped_province_authority() -> None:
    province = authorities()["province"]
    assert (province.symbol("QĐ"), province.issuer.place, province.signer_title) == ("QĐ-UBND", "Hưng Yên", "CHỦ TỊCH")
    assert authorities()["so-noi-vu"].symbol("TTr") == "TTr-SNV"
