"""Benchmark: the web console's pages at scale, and how fast a 收到 reaches an open 叫应 board.

    .venv/bin/python bench/web.py                                   # 2,000 people, SQLite and PostgreSQL
    .venv/bin/python bench/web.py --people 10000                    # the goal's world: 1.5 M instances
    .venv/bin/python bench/web.py --people 10000 --backends sqlite --repeat 30

The world is bench/report.py's (`populate`: 100 units, P people × 152 instances a year, check-ins,
evidence, a chained ledger), "now" is its 2026-12-15 10:00 Shanghai. The console runs in this
process (bot/web/app.py's WebServer, as `dutybot run` serves it) and is asked over real HTTP by
an aiohttp client signed in as an office member. Per page: the first request (cold; it also fills
the 30-second 总览 cache), then --repeat timed requests: p50 and p95 in milliseconds, and the
response size.

Goals (issue 9): /overdue p95 < 150 ms on PostgreSQL and < 300 ms on SQLite at 10,000 people and
1.5 M instances, for any filter; a 收到 shows on an open board within 200 ms p99.

The board: a callout with --targets recipients; each round one of them answers (the service the
bot runs on a 收到 press, `callouts.answers.ack`, in its own transaction) and the time is taken
until the board shows it: with a server-sent-events board (/callouts/{id}/events) until the event
arrives and until the fragment the page then fetches has come back; with a polled board
(/callouts/{id}/status?v=) until the status answers with a new version (asked every 20 ms). The
bench finds which of the two the build has. PostgreSQL gets the VACUUM ANALYZE autovacuum would
run after a bulk load. 排名's default quarters are computed in the
background when the console starts: the bench says how long that took and then times the pages.

    --world DIR [--pg-db NAME]   build the world once and reuse it (SQLite in DIR, PostgreSQL in
                                 the database NAME, created beforehand)
    --matrix [--match S ...]     未报告 over every period × status × sort × direction × depth (first
                                 page, page 200 and the pager's next link after it, the last page)
                                 and unit / kind filters: the slowest p95 per backend
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.report import DEFAULT_PG, NOW, populate, scratch_database  # noqa: E402
from bot import clock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.process import settled_heap  # noqa: E402
from bot.services import signin  # noqa: E402
from bot.services.callouts import answers  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.models import Callout, CalloutTarget, DutyInstance, Person  # noqa: E402
from bot.telegram.context import BotContext  # noqa: E402
from bot.web.app import WebServer  # noqa: E402
from bot.web.views.rank import RANKINGS  # noqa: E402
from schedules import Schedule, load_catalog  # noqa: E402

PAGES = [
    ("总览 /", "/"),
    ("未报告 (default: unreported, open now)", "/overdue"),
    ("未报告 unit", "/overdue?unit=U007"),
    ("未报告 unit + kind + overdue", "/overdue?unit=U007&kind=meeting&status=overdue"),
    ("未报告 month, all statuses", "/overdue?period=2026-11&status=all"),
    ("未报告 quarter, missed, by person", "/overdue?period=2026-Q3&status=missed&sort=person"),
    ("未报告 year, all statuses (1.5 M rows)", "/overdue?period=2026&status=all"),
    ("未报告 year, all, page 200, sort duty desc", "/overdue?period=2026&status=all&sort=duty&desc=1&page=200"),
    ("未报告 year, done, kind", "/overdue?period=2026&status=done&kind=inspection"),
    ("履职档案 /people/P00042", "/people/P00042"),
    ("日历 /calendar", "/calendar?month=2026-11"),
    ("排名 /rank", "/rank?quarter=2026-Q3"),
    ("免考核 /exemptions", "/exemptions"),
    ("叫应 /callouts", "/callouts"),
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def office_session(store: Store) -> str:
    with store.session() as s:
        s.get(Person, "P00001").is_office = True
    with store.session() as s:
        token = signin.create_link(s, "P00001", clock.now(), via="bench")
    with store.session() as s:
        return signin.redeem(s, token, clock.now()).session_id


def make_callout(store: Store, targets: int) -> tuple[int, list[tuple[int, str]]]:
    with store.session() as s:
        c = Callout(level="red", hazard="暴雨", text="bench", issued_at=clock.now(), policy={"report_within": 900})
        s.add(c)
        s.flush()
        rows = []
        for n in range(2, targets + 2):
            pid = f"P{n:05d}"
            t = CalloutTarget(callout_id=c.id, person_id=pid, calls_made=1, first_sent_at=clock.now(),
                              last_called_at=clock.now())
            s.add(t)
            s.flush()
            rows.append((t.id, pid))
        return c.id, rows


async def time_pages(http: aiohttp.ClientSession, url: str, repeat: int) -> list[tuple[str, float, float, int, int]]:
    out = []
    for label, path in PAGES:
        t0 = time.perf_counter()
        async with http.get(url + path) as r:  # the first request: cold (and fills the 总览/排名 caches)
            status = r.status
            await r.read()
        first = (time.perf_counter() - t0) * 1000
        times, size = [], 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            async with http.get(url + path) as r:
                body = await r.read()
            times.append((time.perf_counter() - t0) * 1000)
            size = len(body)
        out.append((label, statistics.median(times), pct(times, 0.95), size, status, first))
        print(f"  {label:<48} first {first:7.1f} ms  p50 {statistics.median(times):7.1f} ms  "
              f"p95 {pct(times, 0.95):7.1f} ms  {size / 1024:6.0f} KB  HTTP {status}", flush=True)
    return out


PERIODS = ("", "2026-12", "2026-11", "2026-Q3", "2026-H2", "2026")
STATUSES = ("unreported", "overdue", "open", "missed", "late", "done", "excused", "all")
SORTS = ("due", "person", "unit", "duty", "period", "status")


def matrix() -> list[str]:
    """未报告 views: every period × status × sort × direction on the first page, page 200 and the last
    page (page=99999 is answered with the last); every period × sort × direction for one unit and for
    one kind (all statuses), and the two together."""
    out = []
    for period in PERIODS:
        for sort in SORTS:
            for desc in ("", "1"):
                base = {"period": period, "sort": sort, "desc": desc}
                for st in STATUSES:
                    for page in ("", "200", "99999"):
                        out.append({**base, "status": st, "page": page})
                for extra in ({"unit": "U007"}, {"kind": "inspection"}, {"unit": "U007", "kind": "meeting"}):
                    out.append({**base, "status": "all", **extra})
                    out.append({**base, "status": "unreported", "page": "99999", **extra})
    return ["/overdue?" + "&".join(f"{k}={v}" for k, v in q.items() if v) for q in out]


GOALS = {"sqlite": 300, "postgresql": 150}  # 未报告 p95, ms (issue 9)
NEXT = re.compile(r'href="(/overdue\?[^"]*after=[^"]*)"')


async def time_matrix(http: aiohttp.ClientSession, url: str, repeat: int, backend: str,
                      match: list[str]) -> list:
    """(path, first, p50, p95) of every view of matrix(), and after each page 200 its pager's next
    link (a keyset page), slowest p95 first."""
    out = []
    views = [v for v in matrix() if all(part in v for part in match)]
    n = 0
    while n < len(views):
        path = views[n]
        n += 1
        times = []
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            async with http.get(url + path) as r:
                body = await r.text()
                if r.status != 200:
                    raise SystemExit(f"{path}: HTTP {r.status}")
            times.append((time.perf_counter() - t0) * 1000)
        following = NEXT.search(body)
        if "page=200" in path and following:  # the pager's own next link: a keyset page that deep
            views.insert(n, html.unescape(following[1]))
        out.append((path, times[0], statistics.median(times[1:]), pct(times[1:], 0.95)))
        if n % 100 == 0:
            worst = max(out, key=lambda x: x[3])
            print(f"  [{backend}] matrix {n}/{len(views)}; worst p95 so far {worst[3]:.0f} ms {worst[0]}", flush=True)
    out.sort(key=lambda x: -x[3])
    for path, first, p50, p95 in out[:12]:
        print(f"  {p95:7.1f} ms p95 (first {first:.0f}, p50 {p50:.0f})  {path}", flush=True)
    return out


def answer(store: Store, target_id: int, person_id: str) -> None:
    with store.session() as s:
        answers.ack(s, target_id, person_id, clock.now())


async def board_latency(http: aiohttp.ClientSession, url: str, store: Store, callout_id: int,
                        targets: list[tuple[int, str]]) -> tuple[str, list[float], list[float]]:
    """(how, to the change being visible to the board, to the board's new content fetched)."""
    async with http.get(f"{url}/callouts/{callout_id}/events") as probe:
        streaming = probe.status == 200
    if not streaming:
        async with http.get(f"{url}/callouts/{callout_id}/status") as probe:
            if probe.status != 200:
                return "none", [], []
        return "polled", *await polled_latency(http, url, store, callout_id, targets)
    to_event, to_board = [], []
    async with http.get(f"{url}/callouts/{callout_id}/events", timeout=aiohttp.ClientTimeout(total=None)) as stream:
        await stream.content.readline()  # retry: …
        await stream.content.readline()
        for target_id, person_id in targets:
            t0 = time.perf_counter()

            await asyncio.to_thread(answer, store, target_id, person_id)
            while True:
                line = (await stream.content.readline()).decode()
                if line.startswith("data:"):
                    await stream.content.readline()
                    break
            t1 = time.perf_counter()
            async with http.get(f"{url}/callouts/{callout_id}/board") as r:
                await r.read()
            t2 = time.perf_counter()
            to_event.append((t1 - t0) * 1000)
            to_board.append((t2 - t0) * 1000)
    return "sse", to_event, to_board


async def polled_latency(http: aiohttp.ClientSession, url: str, store: Store, callout_id: int,
                         targets: list[tuple[int, str]]) -> tuple[list[float], list[float]]:
    """A board polled through /callouts/{id}/status?v=VERSION (JSON with the new HTML when it
    changed): the bench asks every 20 ms, so the first figure is how soon the server shows the
    change; a page polling every P ms adds up to P on top."""
    to_change, to_board = [], []
    async with http.get(f"{url}/callouts/{callout_id}/status") as r:
        version = (await r.json())["v"]
    for target_id, person_id in targets:
        t0 = time.perf_counter()
        await asyncio.to_thread(answer, store, target_id, person_id)
        while True:
            async with http.get(f"{url}/callouts/{callout_id}/status", params={"v": version}) as r:
                body = await r.json()
            if body["v"] != version:
                version = body["v"]
                break
            await asyncio.sleep(0.02)
        t1 = time.perf_counter()
        to_change.append((t1 - t0) * 1000)
        to_board.append((t1 - t0) * 1000)
    return to_change, to_board


def load_world(backend: str, url: str, args, data_dir: Path, marker: Path | None) -> tuple[Store, int]:
    """The bench world: built here, or (--world, with its marker file) the one an earlier run left."""
    if marker is not None and marker.exists():
        store = Store(url)  # migrations added since it was built run here
        with store.session() as s:
            instances = int(s.exec(select(func.count()).select_from(DutyInstance)).one())
        print(f"[{backend}] reusing the world of {marker.parent} ({instances:,} instances)", flush=True)
    else:
        print(f"[{backend}] loading {args.people:,} people …", flush=True)
        store = Store(url)
        counts, load_s = populate(store, args.people, 0.0, data_dir)
        instances = counts.instances
        print(f"[{backend}] {instances:,} instances loaded in {load_s:.0f} s", flush=True)
    if store.is_postgres:  # what autovacuum does after a bulk load: visibility map for index-only scans
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    if marker is not None:
        marker.write_text(f"{args.people}\n")
    return store, instances


async def measure(backend: str, url: str, args, workdir: Path, marker: Path | None = None) -> dict:
    data_dir = workdir / "data"
    store, instances = load_world(backend, url, args, data_dir, marker)
    catalog = load_catalog(ROOT / "duties.yaml")
    settings = Settings(database_url=url, data_dir=data_dir)
    ctx = BotContext(settings, store, catalog, Schedule(catalog))
    server = WebServer(ctx, "127.0.0.1:0")
    t0 = time.perf_counter()
    await server.start()
    rankings = server.app[RANKINGS]  # 排名 is computed in the background from the start: how long
    while not all(q in rankings.kept for q in rankings.defaults()):
        await asyncio.sleep(0.05)
    print(f"[{backend}] 排名's default quarters {rankings.defaults()} computed in the background "
          f"{time.perf_counter() - t0:.1f} s after the start", flush=True)
    sid = office_session(store)
    callout_id, targets = make_callout(store, args.targets)
    how, to_event, to_board, pages, worst = "none", [], [], [], []
    settled = settled_heap() if args.settle else contextlib.nullcontext()  # as `dutybot run` and `web` run
    try:
        with settled:
            async with aiohttp.ClientSession(cookies={"dutybot_session": sid}) as http:
                if args.pages:
                    pages = await time_pages(http, server.url, args.repeat)
                if args.matrix:
                    worst = await time_matrix(http, server.url, args.matrix_repeat, backend, args.match)
                if args.targets:
                    how, to_event, to_board = await board_latency(http, server.url, store, callout_id, targets)
    finally:
        await server.stop()
        store.dispose()
    if to_event:
        print(f"  收到 → board ({how}) change  p50 {statistics.median(to_event):.0f} ms  p95 {pct(to_event, .95):.0f} ms"
              f"  p99 {pct(to_event, .99):.0f} ms", flush=True)
        print(f"  收到 → board ({how}) shown   p50 {statistics.median(to_board):.0f} ms  p95 {pct(to_board, .95):.0f} ms"
              f"  p99 {pct(to_board, .99):.0f} ms", flush=True)
    else:
        print("  收到 → board: no board in this build (/callouts/{id}/events or /status)", flush=True)
    return {"backend": backend, "instances": instances, "pages": pages, "event": to_event, "board": to_board,
            "how": how, "worst": worst}


def table(results: list[dict], args) -> str:
    lines = [f"people {args.people:,}, instances {results[0]['instances']:,}, repeat {args.repeat}", "",
             "| page | " + " | ".join(f"{r['backend']} first; p50 / p95 ms" for r in results) + " |",
             "|---|" + "---|" * len(results)]
    for r in results:
        if r["worst"]:
            goal = GOALS[r["backend"]]
            over = sum(1 for *_x, p95 in r["worst"] if p95 >= goal)
            lines[1:1] = ["", f"{r['backend']}: 未报告 matrix, {len(r['worst'])} views × {args.matrix_repeat}; "
                          f"{over} with p95 ≥ the goal's {goal} ms; the slowest by p95 (first; p50 / p95 ms):", ""]
            at = 4
            for path, first, p50, p95 in r["worst"][:args.show_worst]:
                lines.insert(at, f"    {p95:6.0f}  ({first:.0f}; {p50:.0f})  {path}")
                at += 1
    for i, (label, *_rest) in enumerate(results[0]["pages"]):
        cells = [f"{r['pages'][i][5]:.0f}; {r['pages'][i][1]:.0f} / {r['pages'][i][2]:.0f}" for r in results]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for key, label in (("event", "收到 → the board's change is visible"), ("board", "收到 → the board's content fetched")):
        cells = [f"{r['how']}: {statistics.median(r[key]):.0f} / {pct(r[key], .95):.0f} (p99 {pct(r[key], .99):.0f})"
                 if r[key] else "no board" for r in results]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def main_async(args) -> int:
    clock.shift_to(NOW)
    results = []
    for backend in args.backends:
        if args.world:  # built once, kept for the next run (SQLite file; PostgreSQL database --pg-db)
            workdir = Path(args.world) / backend
            workdir.mkdir(parents=True, exist_ok=True)
            if backend == "sqlite":
                url = f"sqlite:///{workdir}/bench.db"
            else:
                url = make_url(args.pg_url).set(database=args.pg_db).render_as_string(hide_password=False)
            results.append(await measure(backend, url, args, workdir, workdir / f"built-{args.people}"))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            url, drop = scratch_database(backend, Path(tmp), args.pg_url)
            try:
                results.append(await measure(backend, url, args, Path(tmp)))
            finally:
                drop()
    print()
    print(table(results, args))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--people", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--targets", type=int, default=100, help="board rounds (one 收到 each)")
    p.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    p.add_argument("--pg-url", default=DEFAULT_PG)
    p.add_argument("--world", help="keep the built world in this directory (SQLite) and database --pg-db "
                   "(PostgreSQL, created beforehand) and reuse it on the next run")
    p.add_argument("--pg-db", default="bench_web", help="with --world: the PostgreSQL database of the world")
    p.add_argument("--no-pages", dest="pages", action="store_false", help="skip the fixed list of pages")
    p.add_argument("--no-settle", dest="settle", action="store_false",
                   help="leave the start-up objects to the garbage collector (bot.process.settled_heap)")
    p.add_argument("--matrix", action="store_true", help="also every 未报告 filter × sort × direction × page depth")
    p.add_argument("--matrix-repeat", type=int, default=5)
    p.add_argument("--match", nargs="*", default=[], help="only the matrix views containing all of these")
    p.add_argument("--show-worst", type=int, default=12)
    return asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
