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


# Keys of the notation for the refined periods (tests/fixtures/holdout_blind4 and later tables):
#   period: day|week|xun|halfmonth|month|quarter|half|year|season, count: N, and optionally
#   n: 2 (every 2 months / 2 years), days: [10, 24], weekday: fri, due: "05" | "11-30", which: H1|H2,
#   season: 汛期 + when: before|during|after.
REFINED_KEYS = ("n", "days", "weekday", "due", "which", "season", "when")
REFINED_PERIODS = ("halfmonth", "season")


def uses_refined_notation(expected: dict) -> bool:
    """A table written before the refined periods existed expects what the importer could draft then
    (每半月 → month ×2, 每两个月 → year ×6): such a table is scored by those forms."""
    rows = list(expected.get("duties") or [])
    return any(k in row for row in rows for k in REFINED_KEYS) or any(row.get("period") in REFINED_PERIODS
                                                                      for row in rows)


def _row_form(row: dict) -> tuple:
    """(period, extras) of an expected row, normalized: month with n 3 is a quarter, and so on."""
    from ..catalog import DEFAULT_SEASONS
    from ..frequency import weekday_of

    period, extras = str(row["period"]), {}
    n = int(row.get("n") or 1)
    if period == "month" and n in (3, 6, 12):
        period, n = {3: "quarter", 6: "half", 12: "year"}[n], 1
    if n > 1:
        extras["n"] = n
    if row.get("days"):
        extras["days"] = tuple(sorted(int(d) for d in row["days"]))
    if row.get("weekday") is not None:
        extras["weekday"] = weekday_of(row["weekday"])
    if row.get("due") is not None:
        due = str(row["due"]).strip()
        month, _, day = due.rpartition("-")
        extras["due"] = (int(month or 0), int(day))
    if row.get("which"):
        extras["which"] = str(row["which"]).upper()
    if period == "season":
        extras["season"] = row.get("season") or next(iter(DEFAULT_SEASONS))
        extras["when"] = row.get("when") or "during"
    return period, extras


def _draft_form(d: DraftDuty) -> tuple:
    r = d.rule
    if r is None:
        return d.period.value, {}  # type: ignore[union-attr]
    if r.season is not None:
        return "season", {"season": r.season, "when": r.when or "during"}
    extras: dict = {}
    if r.n > 1:
        extras["n"] = r.n
    if r.days:
        extras["days"] = r.days
    if r.weekday is not None:
        extras["weekday"] = r.weekday
    if r.due is not None:
        extras["due"] = r.due
    if r.which:
        extras["which"] = r.which
    return r.every.value, extras


def _legacy_form(d: DraftDuty) -> tuple[str, int]:
    """What the importer drafted for a refined period before it had them (for older tables)."""
    r, count = d.rule, d.count or 0
    if d.period is not None and d.period.value == "halfmonth":
        return "month", 2 * count
    if r is None:
        return d.period.value, count  # type: ignore[union-attr]
    if r.n > 1 and r.every.value == "month":
        return "year", 12 // r.n * count
    if r.days:
        return "month", len(r.days) * count
    if r.season is not None:
        return "year", count
    return r.every.value, count


def matches(row: dict, d: DraftDuty, refined: bool) -> bool:
    """Period and count (and, in the refined notation, every refinement) agree. A row with fixed days
    may count per day (每月10日、24日 各1次: 1) or per month (2)."""
    if d.period is None or d.count is None:
        return False
    if not refined:
        return _legacy_form(d) == (row["period"], row["count"])
    if _row_form(row) != _draft_form(d):
        return False
    per_month = d.count * len(d.rule.days) if d.rule is not None and d.rule.days else d.count
    return row["count"] in (d.count, per_month)


def score(draft: Draft, expected: dict) -> Score:
    s = Score()
    rows = list(expected.get("duties") or [])
    refined = uses_refined_notation(expected)
    # An older table could not expect a duty every n years (the importer left them unscheduled): such a
    # table neither counts them found nor false.
    duties = [d for d in draft.scheduled if refined or not d.every_years]
    s.expected, s.found = len(rows), len(duties)
    used: set[int] = set()
    for row in rows:
        at = norm(row["at"])
        hit = next((i for i, d in enumerate(duties) if i not in used and at in norm(d.clause)
                    and matches(row, d, refined)), None)
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
