"""import-list accuracy on the former blind hold-outs (lists written without reading the extractor).

Same scoring as bench/extract_accuracy.py, on tests/fixtures/holdout_blind/expected/*.yaml. These
lists and tables were written, and their checksums recorded in bench/RESULTS.md, before the importer
was first run on them; they must not be edited to follow the importer. Only that first run estimated
accuracy on unseen lists: the importer has since been tuned on them, so they are tuning fixtures now.

    .venv/bin/python bench/extract_blind.py [-v]
"""

from __future__ import annotations

import argparse
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
EXPECTED = FIXTURES / "holdout_blind" / "expected"
YEAR = 2026  # the year bench/extract_accuracy.py drafts for
GOAL_RECALL, GOAL_FALSE = 0.95, 0.02


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:5.1f}%" if b else "    -"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss and false duty")
    args = parser.parse_args()
    header = (f"{'fixture':24} {'expected':>8} {'drafted':>7} {'found':>5} {'recall':>7} {'false':>5} "
              f"{'false %':>7} {'role ok':>7} {'kind ok':>7} {'tasks':>6} {'holiday':>7} {'ms':>5}")
    print(header)
    print("-" * len(header))
    total = Score()
    for path in sorted(EXPECTED.glob("*.yaml")):
        expected = yaml.safe_load(path.read_text(encoding="utf-8"))
        started = time.perf_counter()
        draft = extract(read_list(str(FIXTURES / expected["fixture"])), YEAR)
        elapsed = (time.perf_counter() - started) * 1000
        s = score(draft, expected)
        total.add(s)
        print(f"{path.stem:24} {s.expected:8} {s.found:7} {s.matched:5} {_pct(s.matched, s.expected):>7} "
              f"{len(s.false):5} {_pct(len(s.false), s.found):>7} {_pct(s.role_ok, s.matched):>7} "
              f"{_pct(s.kind_ok, s.matched):>7} {s.tasks_matched:>2}/{s.tasks_expected:<3} "
              f"{s.checks_matched:>3}/{s.checks_expected:<3} {elapsed:5.0f}")
        if args.verbose:
            for row in s.missed:
                print(f"    missed: {row['at']} ({row['period']} {row['count']})")
            for d in s.false:
                print(f"    false:  {d.id} {d.frequency} — {d.clause[:60]}")
            for trap in s.traps_hit:
                print(f"    trap:   {trap}")
            for row, d in s.wrong_role:
                print(f"    role:   {row['at']}: expected {row['role']}, drafted {'/'.join(d.roles)}")
            for row, d in s.wrong_kind:
                print(f"    kind:   {row['at']}: expected {row['kind']}, drafted {d.kind.value}")
    print("-" * len(header))
    print(f"{'all blind':24} {total.expected:8} {total.found:7} {total.matched:5} "
          f"{_pct(total.matched, total.expected):>7} {len(total.false):5} {_pct(len(total.false), total.found):>7} "
          f"{_pct(total.role_ok, total.matched):>7} {_pct(total.kind_ok, total.matched):>7} "
          f"{total.tasks_matched:>2}/{total.tasks_expected:<3} {total.checks_matched:>3}/{total.checks_expected:<3}")
    ok = total.recall >= GOAL_RECALL and total.false_rate <= GOAL_FALSE
    print(f"\ngoal: recall ≥ {GOAL_RECALL:.0%}, false duties ≤ {GOAL_FALSE:.0%} → "
          f"recall {total.recall:.1%}, false {total.false_rate:.1%}: {'met' if ok else 'NOT met'} on these lists")
    print("note: tuned on since their first run, so this overstates accuracy on unseen lists; see bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
