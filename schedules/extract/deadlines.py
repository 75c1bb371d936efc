"""One-off deadlines in a clause: "2022年3月底前", "9月底前", "12月31日前", "年底前"."""

from __future__ import annotations

import calendar
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date

from .cadence import _ANCHOR, _SENTENCE_END
from .numbers import number

_DEADLINE = re.compile(
    r"(?:(?P<year>20\d\d)\s*年?\s*)?"
    r"(?:(?P<month>1[0-2]|0?[1-9])\s*月(?:(?P<day>[12]\d|3[01]|0?[1-9])\s*[日号])?"
    r"(?P<when>底|末|份|中旬|上旬|下旬)?|(?P<yearend>年底|年末)"
    r"|第?(?P<quarter>[一二三四1-4])季度(?:末|底)|(?P<half>上半年|年中)(?:末|底)?)"
    r"\s*(?:前|以前|之前)"
)
_YEAR = re.compile(r"(20\d\d)\s*年")


@dataclass
class Deadline:
    due: date
    start: int
    end: int
    segment_start: int  # the part of the clause the task is about: the deadline up to the sentence end
    segment_end: int
    year_guessed: bool
    note: str = ""


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def find(clause: str, default_year: int, year_known: bool) -> list[Deadline]:
    """Deadlines that are one-off: "每年12月底前" is part of a yearly duty and is left out."""
    out: list[Deadline] = []
    clause_year: int | None = None
    ends = [e.end() for e in _SENTENCE_END.finditer(clause)]
    years = [(y.start(), int(y[1])) for y in _YEAR.finditer(clause)]
    for m in _DEADLINE.finditer(clause):
        if m["year"] is None and m.start() > 0 and clause[m.start() - 1].isdigit():
            continue  # "10月" inside "2010月" is no deadline
        i = bisect_right(ends, m.start())
        sentence_start = ends[i - 1] if i else 0
        # "每年12月底前" is part of a yearly duty: look for a period word just before the deadline
        anchors = list(_ANCHOR.finditer(clause, max(sentence_start, m.start() - 12), m.start()))
        if anchors and m.start() - anchors[-1].end() <= 4:
            continue
        if m["year"]:
            year, guessed = int(m["year"]), False
        else:
            j = bisect_right(years, (m.start(), 0))
            if j:
                year, guessed = years[j - 1][1], False
            elif clause_year:
                year, guessed = clause_year, False
            else:
                year, guessed = default_year, not year_known
        if not 2000 <= year <= 2100:
            continue
        clause_year = year
        note = ""
        if m["yearend"]:
            due = date(year, 12, 31)
        elif m["quarter"]:
            due = _last_day(year, 3 * int(number(m["quarter"]) or 1))
        elif m["half"]:
            due = date(year, 6, 30)
        else:
            month = int(m["month"])
            if m["day"]:
                day = min(int(m["day"]), calendar.monthrange(year, month)[1])
                due = date(year, month, day)
            elif m["when"] in ("中旬",):
                due = date(year, month, 20)
            elif m["when"] == "上旬":
                due = date(year, month, 10)
            elif m["when"]:
                due = _last_day(year, month)
            else:  # "9月前": before September
                due = _last_day(year, month - 1) if month > 1 else date(year - 1, 12, 31)
                note = f"原文“{m.group(0)}”，按{due.month}月底起草"
        k = bisect_right(ends, m.end())
        segment_end = ends[k] - 1 if k < len(ends) else len(clause)
        out.append(Deadline(due, m.start(), m.end(), m.start(), segment_end, guessed, note))
    return out
