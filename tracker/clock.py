"""The one place services read the time, so tests (time-machine) and the demo seed move it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_fixed: ContextVar[datetime | None] = ContextVar("fixed_time", default=None)


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _fixed.get() or datetime.now(UTC)


@contextmanager
def fixed(moment: datetime) -> Iterator[None]:
    """Run a block as if it were `moment`: the demo seed writes past history this way."""
    token = _fixed.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _fixed.reset(token)
