"""import-list accuracy on blind round 2 (lists written without reading the extractor), or on any
directory of expected tables.

bench/extract_blind.py scores one fixed directory; this script takes the directory as an argument and
reuses its scoring pieces (same year, same goal, same Score). The round-2 lists and tables
(tests/fixtures/holdout_blind2/) were written, and their checksums recorded in SHA256SUMS there, before
the importer was first run on them; bench/RESULTS.md records that first run.

    .venv/bin/python bench/extract_blind2.py [-v] [EXPECTED_DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import extract_blind as blind  # noqa: E402  (puts the repository root on sys.path)

DEFAULT_DIR = blind.FIXTURES / "holdout_blind2" / "expected"


def score_table(path: Path) -> tuple[blind.Score, float]:
    """Score the draft of one expected table's fixture; also return the drafting time in ms."""
    expected = yaml.safe_load(path.read_text(encoding="utf-8"))
    started = time.perf_counter()
    draft = blind.extract(blind.read_list(str(blind.FIXTURES / expected["fixture"])), blind.YEAR)
    elapsed = (time.perf_counter() - started) * 1000
    return blind.score(draft, expected), elapsed


def _row(name: str, s: blind.Score, ms: str) -> str:
    p = blind._pct
    return (f"{name:28} {s.expected:8} {s.found:7} {s.matched:5} {p(s.matched, s.expected):>7} "
            f"{len(s.false):5} {p(len(s.false), s.found):>7} {p(s.role_ok, s.matched):>7} "
            f"{p(s.kind_ok, s.matched):>7} {s.tasks_matched:>2}/{s.tasks_expected:<3} "
            f"{s.checks_matched:>3}/{s.checks_expected:<3} {ms:>5}")


def _details(s: blind.Score) -> list[str]:
    lines = [f"    missed: {r['at']} ({r['period']} {r['count']})" for r in s.missed]
    lines += [f"    false:  {d.id} {d.frequency} — {d.clause}" for d in s.false]
    lines += [f"    trap:   {t}" for t in s.traps_hit]
    lines += [f"    role:   {r['at']}: expected {r['role']}, drafted {'/'.join(d.roles)}" for r, d in s.wrong_role]
    lines += [f"    kind:   {r['at']}: expected {r['kind']}, drafted {d.kind.value}" for r, d in s.wrong_kind]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR, help="directory of expected tables")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss, false duty, trap, role and kind")
    args = parser.parse_args()
    tables = sorted(args.directory.glob("*.yaml"))
    if not tables:
        print(f"no expected tables (*.yaml) in {args.directory}", file=sys.stderr)
        return 2
    header = (f"{'fixture':28} {'expected':>8} {'drafted':>7} {'found':>5} {'recall':>7} {'false':>5} "
              f"{'false %':>7} {'role ok':>7} {'kind ok':>7} {'tasks':>6} {'holiday':>7} {'ms':>5}")
    print(header)
    print("-" * len(header))
    total = blind.Score()
    for path in tables:
        s, elapsed = score_table(path)
        total.add(s)
        print(_row(path.stem, s, f"{elapsed:.0f}"))
        if args.verbose:
            print("\n".join(_details(s)) or "    (no misses, false duties, traps, role or kind errors)")
    print("-" * len(header))
    print(_row("all", total, ""))
    ok = total.recall >= blind.GOAL_RECALL and total.false_rate <= blind.GOAL_FALSE
    print(f"\ngoal: recall ≥ {blind.GOAL_RECALL:.0%}, false duties ≤ {blind.GOAL_FALSE:.0%} → "
          f"recall {total.recall:.1%}, false {total.false_rate:.1%}: {'met' if ok else 'NOT met'} on these lists")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
