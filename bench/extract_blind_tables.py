"""import-list accuracy on a directory of blind expected tables (lists written without reading the
extractor): blind round 2 by default, rounds 3 and 4 by naming their directory.

Formerly bench/extract_blind2.py (tests/fixtures/holdout_blind2/README.md, checksummed, still names it).
bench/extract_blind.py scores one fixed directory; this script takes the directory as an argument and
shares its scoring pieces (bench/extract_scoring.py: same year, same goal, same Score). The round-2 lists and tables
(tests/fixtures/holdout_blind2/) were written, and their checksums recorded in SHA256SUMS there, before
the importer was first run on them; bench/RESULTS.md records that first run.

    .venv/bin/python bench/extract_blind_tables.py [-v] [EXPECTED_DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from extract_scoring import FIXTURES, Score, details, goal_line, header, row, score_table  # noqa: E402

DEFAULT_DIR = FIXTURES / "holdout_blind2" / "expected"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR, help="directory of expected tables")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss, false duty, trap, role and kind")
    args = parser.parse_args()
    tables = sorted(args.directory.glob("*.yaml"))
    if not tables:
        print(f"no expected tables (*.yaml) in {args.directory}", file=sys.stderr)
        return 2
    head = header(28)
    print(head)
    print("-" * len(head))
    total = Score()
    for path in tables:
        s, elapsed = score_table(path)
        total.add(s)
        print(row(path.stem, s, 28, ms=f"{elapsed:.0f}"))
        if args.verbose:
            print("\n".join(details(s)) or "    (no misses, false duties, traps, role or kind errors)")
    print("-" * len(head))
    print(row("all", total, 28, ms=""))
    print(goal_line(total, "met on these lists", "NOT met on these lists"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
