"""The scoring and printing shared by the import-list accuracy benches.

bench/extract_accuracy.py, bench/extract_blind.py and bench/extract_blind_tables.py draft every fixture named
by a directory of expected tables, score it with schedules.extract.evaluate and print one row per table;
their tables differ only in a few columns, so each passes what it shows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.importer import read_list  # noqa: E402
from schedules.extract import extract  # noqa: E402
from schedules.extract.evaluate import Score, score  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
YEAR = 2026  # the year every accuracy bench drafts for
GOAL_RECALL, GOAL_FALSE = 0.97, 0.01  # issue 12 (issue 6 asked 95% and 2%)

def pct(a: int, b: int) -> str:
    return f"{100 * a / b:5.1f}%" if b else "    -"


def score_table(path: Path) -> tuple[Score, float]:
    """Score the draft of one expected table's fixture; also return the drafting time in ms."""
    expected = yaml.safe_load(path.read_text(encoding="utf-8"))
    started = time.perf_counter()
    draft = extract(read_list(str(FIXTURES / expected["fixture"])), YEAR)
    elapsed = (time.perf_counter() - started) * 1000
    return score(draft, expected), elapsed


def header(width: int, precision: bool = False) -> str:
    """The column heads; `precision` shows drafted duties that were right instead of the false share."""
    false_col = f"{'precision':>9}" if precision else f"{'false %':>7}"
    return (f"{'fixture':{width}} {'expected':>8} {'drafted':>7} {'found':>5} {'recall':>7} {'false':>5} "
            f"{false_col} {'role ok':>7} {'kind ok':>7} {'tasks':>6} {'holiday':>7} {'ms':>5}")


def row(name: str, s: Score, width: int, precision: bool = False, ms: str | None = None,
        columns: int | None = None) -> str:
    """One score as a table row: `ms` None leaves the time column out, `columns` keeps only the first ones."""
    false_col = (f"{pct(s.found - len(s.false), s.found):>9}" if precision
                 else f"{pct(len(s.false), s.found):>7}")
    cells = [f"{name:{width}}", f"{s.expected:8}", f"{s.found:7}", f"{s.matched:5}",
             f"{pct(s.matched, s.expected):>7}", f"{len(s.false):5}", false_col,
             f"{pct(s.role_ok, s.matched):>7}", f"{pct(s.kind_ok, s.matched):>7}",
             f"{s.tasks_matched:>2}/{s.tasks_expected:<3}", f"{s.checks_matched:>3}/{s.checks_expected:<3}"]
    if ms is not None:
        cells.append(f"{ms:>5}")
    return " ".join(cells[:columns])


def details(s: Score, clause_chars: int | None = None, traps: bool = True) -> list[str]:
    """Every miss, false duty (its clause cut to `clause_chars`), trap hit, wrong role and wrong kind."""
    lines = [f"    missed: {r['at']} ({r['period']} {r['count']})" for r in s.missed]
    lines += [f"    false:  {d.id} {d.frequency} — {d.clause[:clause_chars]}" for d in s.false]
    if traps:
        lines += [f"    trap:   {t}" for t in s.traps_hit]
    lines += [f"    role:   {r['at']}: expected {r['role']}, drafted {'/'.join(d.roles)}" for r, d in s.wrong_role]
    lines += [f"    kind:   {r['at']}: expected {r['kind']}, drafted {d.kind.value}" for r, d in s.wrong_kind]
    return lines


def goal_line(total: Score, met: str, not_met: str) -> str:
    ok = total.recall >= GOAL_RECALL and total.false_rate <= GOAL_FALSE
    return (f"\ngoal: recall ≥ {GOAL_RECALL:.0%}, false duties ≤ {GOAL_FALSE:.0%} → "
            f"recall {total.recall:.1%}, false {total.false_rate:.1%}: {met if ok else not_met}")
