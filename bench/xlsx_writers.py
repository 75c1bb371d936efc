"""Benchmark: XlsxWriter (constant_memory) against the hand-written streaming writer
(bot/services/xlsx.py) on rows shaped like the assessment workbook's 明细 sheet.

    .venv/bin/python bench/xlsx_writers.py                 # 200,000 rows
    .venv/bin/python bench/xlsx_writers.py --rows 1500000  # a year of 10,000 people

Both write the same rows (19 columns: texts, local datetimes, integers, a multi-line cell now and
then) into one sheet with a bold frozen header; prints seconds, rows/s, the file size and peak RSS
growth of each (each in its own subprocess, so one's memory does not count for the other)."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rows(n: int):
    base = datetime(2026, 1, 1, 9, 0)
    for i in range(n):
        at = base + timedelta(minutes=i)
        yield [f"单位{i % 50:02d}", f"人员{i % 10000:05d}", f"duty-{i % 12:02d}", "组织研究分析分管行业安全生产形势",
               "会议", f"2026-{i % 12 + 1:02d}", at, at + timedelta(days=20), 1, i % 2, "已完成", at + timedelta(days=3),
               at + timedelta(days=3), "已组织专题研究，形成会议纪要" if i % 3 else "第一行\n第二行", i % 4,
               None, None, i, i + 7]


def hand(path: str, n: int) -> None:
    from bot.services import xlsx

    with xlsx.Workbook(path) as wb:
        sheet = wb.sheet("明细", [12] * 19, [xlsx.PLAIN] * 6 + [xlsx.DATE, xlsx.DATE] + [xlsx.PLAIN] * 3
                         + [xlsx.DATE, xlsx.DATE] + [xlsx.PLAIN] * 6, header=[f"列{k}" for k in range(19)])
        for r in rows(n):
            sheet.append(r)


def library(path: str, n: int) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    ws = wb.add_worksheet("明细")
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7"})
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    ws.set_column(0, 18, 12)
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, [f"列{k}" for k in range(19)], bold)
    for i, r in enumerate(rows(n), start=1):
        for col, v in enumerate(r):
            if v is None:
                continue
            if isinstance(v, datetime):
                ws.write_datetime(i, col, v, when)
            elif isinstance(v, str):
                ws.write_string(i, col, v, wrap if "\n" in v else None)
            else:
                ws.write_number(i, col, v)
    wb.close()


def one(kind: str, n: int) -> dict:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/out.xlsx"
        start = time.perf_counter()
        {"hand": hand, "xlsxwriter": library}[kind](path, n)
        seconds = time.perf_counter() - start
        size = Path(path).stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"kind": kind, "rows": n, "seconds": seconds, "size_mb": size / 1e6, "rss_growth_mb": (peak - before) / 1024}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--one", choices=["hand", "xlsxwriter"])
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.rows)))
        return 0
    results = {}
    for kind in ("hand", "xlsxwriter"):
        out = subprocess.run([sys.executable, __file__, "--one", kind, "--rows", str(args.rows)], capture_output=True,
                             text=True, check=True).stdout
        results[kind] = json.loads(out)
    print(f"rows: {args.rows:,}")
    for kind, r in results.items():
        print(f"{kind:>10}: {r['seconds']:.1f} s ({r['rows'] / r['seconds']:,.0f} rows/s), {r['size_mb']:.1f} MB, "
              f"peak RSS +{r['rss_growth_mb']:.0f} MB")
    print(f"xlsxwriter / hand-written time: {results['xlsxwriter']['seconds'] / results['hand']['seconds']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
