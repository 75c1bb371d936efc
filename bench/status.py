"""Benchmark: "who has not reported" (/overdue, `dutybot status`) over 1.5 M duty instances.

    .venv/bin/python bench/status.py                          # SQLite in a temp dir
    .venv/bin/python bench/status.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/status.py --people 10000 --months 12 --duties 12 --repeat 5

A year of history for a large organisation: P people (default 10,000) in 50 units, each with D
monthly duties (default 12) over M months (default 12, the last one current) = 1.44 M instances,
plus a quarterly duty each (40,000 more). Past periods are closed (done 80 %, late 8 %, missed
12 %); in the current month 35 % are still open. Then, timed (median of --repeat runs):
- not_reported(now)            open instances whose window contains now, with people and duties
- not_reported(now, unit)      the same for one unit
- current(now) + stats         every current instance (`dutybot status`) and its completion rates
- current_stats(now)           the completion rates counted by the database (/stats)
- for_period("<month>")        `dutybot status --period`
and the query plans, to show which index each query uses. Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bot.services import status  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.models import Duty, DutyInstance, Person, Unit  # noqa: E402

KINDS = ["inspection", "meeting", "report", "study", "drill", "training", "other"]
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 2026-11-20 10:00 in Shanghai
CHUNK = 20_000


def month_start(year: int, month: int) -> datetime:
    # 00:00 Shanghai on the first day, in UTC
    return datetime(year, month, 1, tzinfo=UTC) - timedelta(hours=8)


def months_back(n: int) -> list[tuple[int, int]]:
    out, year, month = [], NOW.year, NOW.month
    for _ in range(n):
        out.append((year, month))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


def fill(store: Store, people: int, duties: int, months: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    units = [f"单位{u:02d}" for u in range(50)]
    with store.engine.begin() as conn:
        conn.execute(insert(Unit), [{"id": u, "name": u} for u in units])
        conn.execute(insert(Duty), [{"id": f"d{d:02d}", "item": "duty", "title": f"职责{d:02d}",
                                     "kind": KINDS[d % len(KINDS)], "frequency": "每月至少1次",
                                     "source_document": "", "source_clause": "", "content_hash": ""}
                                    for d in range(duties + 1)])
        for start in range(0, people, CHUNK):
            conn.execute(insert(Person), [{"id": f"p{p:05d}", "name": f"人员{p:05d}", "unit_id": units[p % 50],
                                           "position": "", "roles": [], "telegram_id": 10_000_000 + p,
                                           "is_office": False}
                                          for p in range(start, min(start + CHUNK, people))])

    def closed_status() -> tuple[str, int]:
        r = rng.random()
        return ("done", 1) if r < 0.80 else ("late", 1) if r < 0.88 else ("missed", 0)

    rows: list[dict] = []
    total = 0

    def flush(conn) -> None:
        nonlocal rows, total
        if rows:
            conn.execute(insert(DutyInstance), rows)
            total += len(rows)
            rows = []

    periods = months_back(months)
    with store.engine.begin() as conn:
        for year, month in periods:
            opens = month_start(year, month)
            nxt = (year + (month == 12), month % 12 + 1)
            due = month_start(*nxt) - timedelta(hours=6)  # 18:00 on the last day
            current = (year, month) == (NOW.year, NOW.month)
            for p in range(people):
                for d in range(duties):
                    if current:
                        st, done = ("open", 0) if rng.random() < 0.35 else ("done", 1)
                    else:
                        st, done = closed_status()
                    rows.append({"duty_id": f"d{d:02d}", "person_id": f"p{p:05d}", "period_key": f"{year}-{month:02d}",
                                 "opens_at": opens, "due_at": due, "closes_at": due + timedelta(days=3),
                                 "required": 1, "done_count": done, "status": st})
                    if len(rows) >= CHUNK:
                        flush(conn)
        # one quarterly duty per person for the last four quarters (Q4 current)
        for q, (year, month) in enumerate([(2026, 1), (2026, 4), (2026, 7), (2026, 10)]):
            opens = month_start(year, month)
            due = month_start(year + (month == 10), (month + 3 - 1) % 12 + 1) - timedelta(hours=6)
            for p in range(people):
                current = q == 3
                st, done = (("open", 0) if rng.random() < 0.6 else ("done", 1)) if current else closed_status()
                rows.append({"duty_id": f"d{duties:02d}", "person_id": f"p{p:05d}", "period_key": f"{year}-Q{q + 1}",
                             "opens_at": opens, "due_at": due, "closes_at": due + timedelta(days=3),
                             "required": 1, "done_count": done, "status": st})
                if len(rows) >= CHUNK:
                    flush(conn)
        flush(conn)
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return total


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def explain(store: Store, sql: str, params: dict) -> list[str]:
    prefix = "EXPLAIN" if store.is_postgres else "EXPLAIN QUERY PLAN"
    with store.engine.connect() as conn:
        rows = conn.execute(text(f"{prefix} {sql}"), params).all()
    return [" ".join(str(c) for c in r) for r in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--duties", type=int, default=12)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{tmp.name}/bench.db"
    store = Store(url)
    with store.session() as s:
        if s.get(Unit, "单位00") is not None:
            print("the database is not empty; give an empty one", file=sys.stderr)
            return 1
    t0 = time.perf_counter()
    total = fill(store, args.people, args.duties, args.months)
    print(f"{store.engine.dialect.name}: {total:,} instances for {args.people:,} people "
          f"(filled in {time.perf_counter() - t0:.0f} s)")

    def session_call(fn):
        def run():
            with store.session() as s:
                return fn(s)
        return run

    cases = [
        ("not_reported(now)", session_call(lambda s: status.not_reported(s, NOW))),
        ("not_reported(now, unit)", session_call(lambda s: status.not_reported(s, NOW, "单位07"))),
        ("current(now) + stats", session_call(lambda s: status.stats(status.current(s, NOW)))),
        ("current_stats(now)", session_call(lambda s: status.current_stats(s, NOW))),
        ("for_period('2026-10')", session_call(lambda s: status.for_period(s, "2026-10"))),
    ]
    print(f"{'query':28} {'median':>9} {'rows':>9}")
    for name, fn in cases:
        seconds, result = timed(fn, args.repeat)
        rows = result.overall.total if isinstance(result, status.Stats) else len(result)
        print(f"{name:28} {seconds * 1000:8.0f}ms {rows:9,}")

    print("\nplans:")
    now = NOW.replace(tzinfo=None)
    plans = {
        "not_reported": ("SELECT id FROM dutyinstance WHERE status = 'open' AND opens_at <= :now AND closes_at > :now",
                         {"now": now}),
        "current": ("SELECT id FROM dutyinstance WHERE opens_at <= :now AND closes_at > :now", {"now": now}),
        "for_period": ("SELECT id FROM dutyinstance WHERE period_key = :p", {"p": "2026-10"}),
    }
    for name, (sql, params) in plans.items():
        print(f"  {name}:")
        for line in explain(store, sql, params):
            print(f"    {line}")
    store.dispose()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
