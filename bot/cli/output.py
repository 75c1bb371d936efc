"""Plain-text tables that line up with Chinese characters (two columns wide each)."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, size: int) -> str:
    return text + " " * (size - width(text))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO | None = None) -> None:
    out = out or sys.stdout  # looked up per call: pytest and redirects swap sys.stdout
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    sizes = [max(width(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(pad(c, s) for c, s in zip(row, sizes, strict=True)).rstrip(), file=out)
        if n == 0:
            print("  ".join("-" * s for s in sizes), file=out)


def print_json(value: Any, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    json.dump(value, out, ensure_ascii=False, indent=2, default=str)
    out.write("\n")
