"""The process clock. Everything reads time through `now()`; `shift_to` moves the whole process
(APScheduler, PTB, the store) for demos and black-box tests (`dutybot run --clock-start`)."""

from __future__ import annotations

from datetime import UTC, datetime

_traveller = None


def now() -> datetime:
    return datetime.now(UTC)


def shift_to(start: datetime) -> None:
    """Make the wall clock read `start` now and tick on from there (time-machine patches the
    C-level clock functions, so libraries that call datetime.now() or time.time() follow too)."""
    global _traveller
    import time_machine

    if start.tzinfo is None:
        raise ValueError("clock start needs a timezone, e.g. 2026-11-30T08:59:50+08:00")
    if _traveller is not None:
        _traveller.stop()
    _traveller = time_machine.travel(start, tick=True)
    _traveller.start()
