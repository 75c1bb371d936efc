"""Comparing a draft with a hand-written expected table (tests/fixtures/extract_expected/*.yaml).

Used by the tests and by bench/extract_accuracy.py. A found duty matches an expected row when the
row's `at` snippet is in the duty's source clause and period and count agree (one-to-one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from .draft import Draft, DraftDuty


def norm(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("（", "(").replace("）", ")").replace("，", ",").replace("：", ":")


@dataclass
class Score:
    expected: int = 0
    found: int = 0  # scheduled duties in the draft
    matched: int = 0
    role_ok: int = 0
    kind_ok: int = 0
    missed: list[dict] = field(default_factory=list)
    false: list[DraftDuty] = field(default_factory=list)
    wrong_role: list[tuple[dict, DraftDuty]] = field(default_factory=list)
    wrong_kind: list[tuple[dict, DraftDuty]] = field(default_factory=list)
    tasks_expected: int = 0
    tasks_matched: int = 0
    tasks_missed: list[dict] = field(default_factory=list)
    checks_expected: int = 0
    checks_matched: int = 0
    checks_missed: list[dict] = field(default_factory=list)
    traps_hit: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 1.0

    @property
    def false_rate(self) -> float:
        return len(self.false) / self.found if self.found else 0.0

    @property
    def precision(self) -> float:
        return 1.0 - self.false_rate

    def add(self, other: Score) -> None:
        for name in ("expected", "found", "matched", "role_ok", "kind_ok", "tasks_expected", "tasks_matched",
                     "checks_expected", "checks_matched"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("missed", "false", "wrong_role", "wrong_kind", "tasks_missed", "checks_missed", "traps_hit"):
            getattr(self, name).extend(getattr(other, name))


def _due_matches(value, due: date) -> bool:
    """`value` is a date, "YYYY-MM-DD", or "MM-DD" when the list names no year."""
    if isinstance(value, date):
        return value == due
    text = str(value)
    if len(text) == 5:
        return text == due.strftime("%m-%d")
    return date.fromisoformat(text) == due


def score(draft: Draft, expected: dict) -> Score:
    s = Score()
    rows = list(expected.get("duties") or [])
    duties = draft.scheduled
    s.expected, s.found = len(rows), len(duties)
    used: set[int] = set()
    for row in rows:
        at = norm(row["at"])
        hit = next((i for i, d in enumerate(duties) if i not in used and at in norm(d.clause)
                    and d.period is not None and d.period.value == row["period"] and d.count == row["count"]), None)
        if hit is None:
            s.missed.append(row)
            continue
        used.add(hit)
        s.matched += 1
        d = duties[hit]
        if row.get("role") is None or row["role"] in d.roles:
            s.role_ok += 1
        else:
            s.wrong_role.append((row, d))
        if row.get("kind") is None or row["kind"] == d.kind.value:
            s.kind_ok += 1
        else:
            s.wrong_kind.append((row, d))
    s.false = [d for i, d in enumerate(duties) if i not in used]
    for trap in expected.get("traps") or []:
        if any(norm(trap) in norm(d.clause) for d in s.false):
            s.traps_hit.append(trap)

    tasks = list(expected.get("tasks") or [])
    s.tasks_expected = len(tasks)
    used_t: set[int] = set()
    for row in tasks:
        at = norm(row["at"])
        hit = next((i for i, t in enumerate(draft.tasks)
                    if i not in used_t and at in norm(t.clause) and _due_matches(row["due"], t.due)), None)
        if hit is None:
            s.tasks_missed.append(row)
        else:
            used_t.add(hit)
            s.tasks_matched += 1

    checks = list(expected.get("holiday_checks") or [])
    s.checks_expected = len(checks)
    for row in checks:
        at = norm(row["at"])
        ok = any(at in norm(c.clause) and (not row.get("holidays") or tuple(row["holidays"]) == c.holidays)
                 for c in draft.holiday_checks)
        if ok:
            s.checks_matched += 1
        else:
            s.checks_missed.append(row)
    return s
