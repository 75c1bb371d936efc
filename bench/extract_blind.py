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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from extract_scoring import FIXTURES, Score, details, goal_line, header, row, score_table  # noqa: E402

EXPECTED = FIXTURES / "holdout_blind" / "expected"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss and false duty")
    args = parser.parse_args()
    head = header(24)
    print(head)
    print("-" * len(head))
    total = Score()
    for path in sorted(EXPECTED.glob("*.yaml")):
        s, elapsed = score_table(path)
        total.add(s)
        print(row(path.stem, s, 24, ms=f"{elapsed:.0f}"))
        if args.verbose:
            for line in details(s, clause_chars=60):
                print(line)
    print("-" * len(head))
    print(row("all blind", total, 24))
    print(goal_line(total, "met on these lists", "NOT met on these lists"))
    print("note: tuned on since their first run, so this overstates accuracy on unseen lists; see bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
