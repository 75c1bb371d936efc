"""Injected failures: 5xx answers, hangs, random errors, for testing how the bot copes."""

from __future__ import annotations

import random
from dataclasses import dataclass

_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Fault:
    method: str | None  # None: any Bot API method
    status: int = 500
    count: int | None = 1  # None: until cleared
    hang: float | None = None  # seconds to hold the request before answering
    then: str = "fail"  # after a hang: "fail" answers `status`, "process" handles the call normally
    rate: float | None = None  # random faults: probability per call
    retry_after: int | None = None  # status 429 only
    description: str | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class FaultAction:
    status: int
    body: dict
    hang: float | None
    process_after_hang: bool


class FaultInjector:
    def __init__(self) -> None:
        self.rules: list[Fault] = []
        self.rng = random.Random(0)
        self.served = 0

    def add(self, fault: Fault, seed: int | None = None) -> None:
        if fault.rate is not None:
            self.rng = random.Random(seed)
        self.rules.append(fault)

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, method: str) -> FaultAction | None:
        """The fault this call meets, if any (and use one of its count)."""
        for fault in self.rules:
            if fault.method is not None and fault.method.lower() != method.lower():
                continue
            if fault.rate is not None and self.rng.random() >= fault.rate:
                continue
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.rules.remove(fault)
            self.served += 1
            return FaultAction(
                status=fault.status,
                body=self._body(fault),
                hang=fault.hang,
                process_after_hang=fault.then == "process",
            )
        return None

    @staticmethod
    def _body(fault: Fault) -> dict:
        description = fault.description or _REASONS.get(fault.status, "Injected fault")
        if fault.status == 429:
            retry = fault.retry_after or 1
            return {
                "ok": False,
                "error_code": 429,
                "description": fault.description or f"Too Many Requests: retry after {retry}",
                "parameters": {"retry_after": retry},
            }
        return {"ok": False, "error_code": fault.status, "description": description}
