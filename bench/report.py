"""Assessment at scale: 10,000 people, one year of duty instances (≈1.5 million rows), on SQLite and
PostgreSQL. Times the office's "who has not reported" query for the current period, a full-year
export and `dutybot verify`, and prints the figures (Markdown, ready for bench/RESULTS.md).

    .venv/bin/python bench/report.py                      # both backends, 10,000 people (~10 min)
    .venv/bin/python bench/report.py --people 1000 --backends sqlite   # a quick look
    .venv/bin/python bench/report.py --record             # also append the figures to bench/RESULTS.md

The data is made in bulk (executemany on SQLite, COPY on PostgreSQL), deterministically (a seeded
generator), with the ledger chained exactly as `ledger.record` does, so verify walks a real chain.
"As of" is 2026-12-15 10:00 Shanghai: December's, Q4's, H2's and the year's windows are open;
everything before is closed (82% done, 8% late, 8% missed, 2% excused). Each done or late
instance has one check-in; 1% of the check-ins (--photo-share) have a 1 KB "photo" on disk.

PostgreSQL: --pg-url or $TEST_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
is used to create and drop a scratch database.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.services import export, ledger, status, verify  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.models import DutyInstance, Person  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=SH).astimezone(UTC)
YEAR = 2026
UNITS = 100
CHUNK = 20_000
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
KINDS = ("inspection", "meeting", "study", "report", "drill", "training", "other")


# ---------------------------------------------------------------------------------------------
# The synthetic year
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Win:
    duty: str
    period: str
    opens: datetime
    due: datetime
    closes: datetime


def _window(duty: str, period: str, first: date, last: date) -> Win:
    opens = datetime.combine(first, dtime(0), SH).astimezone(UTC)
    due = datetime.combine(last, dtime(18), SH).astimezone(UTC)
    return Win(duty, period, opens, due, due + timedelta(days=3))


def _last_day(year: int, month: int) -> date:
    return (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)


def duties() -> list[tuple[str, str, str]]:
    """(id, title, kind): 10 monthly, 6 quarterly, 3 half-yearly, 2 yearly → 152 instances a person."""
    out = [(f"m{n:02d}", f"每月安全生产工作{n:02d}", KINDS[n % len(KINDS)]) for n in range(1, 11)]
    out += [(f"q{n}", f"每季度安全生产工作{n}", KINDS[n % len(KINDS)]) for n in range(1, 7)]
    out += [(f"h{n}", f"每半年安全生产工作{n}", KINDS[n % len(KINDS)]) for n in range(1, 4)]
    out += [(f"y{n}", f"年度安全生产工作{n}", KINDS[n % len(KINDS)]) for n in range(1, 3)]
    return out


def windows() -> list[Win]:
    out = []
    for duty, _, _ in duties():
        if duty.startswith("m"):
            out += [_window(duty, f"{YEAR}-{m:02d}", date(YEAR, m, 1), _last_day(YEAR, m)) for m in range(1, 13)]
        elif duty.startswith("q"):
            out += [_window(duty, f"{YEAR}-Q{q}", date(YEAR, 3 * q - 2, 1), _last_day(YEAR, 3 * q)) for q in range(1, 5)]
        elif duty.startswith("h"):
            out += [_window(duty, f"{YEAR}-H{h}", date(YEAR, 6 * h - 5, 1), _last_day(YEAR, 6 * h)) for h in (1, 2)]
        else:
            out.append(_window(duty, f"{YEAR}", date(YEAR, 1, 1), date(YEAR, 12, 31)))
    return sorted(out, key=lambda w: (w.due, w.duty))


@dataclass
class Rows:
    instances: list[tuple] = field(default_factory=list)
    checkins: list[tuple] = field(default_factory=list)
    evidence: list[tuple] = field(default_factory=list)
    ledger: list[tuple] = field(default_factory=list)


@dataclass
class Counts:
    instances: int = 0
    checkins: int = 0
    evidence: int = 0
    ledger: int = 0
    files: dict[str, bytes] = field(default_factory=dict)


def person_id(n: int) -> str:
    return f"P{n:05d}"


def generate(people: int, photo_share: float, sink: Callable[[Rows], None], counts: Counts,
             db_time: Callable[[datetime], object]) -> None:
    """Instances, check-ins, evidence and the ledger chain, handed to `sink` in chunks, each row
    already in the form the database takes (`db_time` converts a UTC datetime)."""
    rnd = random.Random(20261215)
    prev = ledger.GENESIS
    iid = cid = eid = seq = 0
    rows = Rows()
    pids = [person_id(n) for n in range(1, people + 1)]
    for w in windows():
        current = w.opens <= NOW < w.closes
        opens, due, closes = db_time(w.opens), db_time(w.due), db_time(w.closes)
        for pid in pids:
            iid += 1
            r = rnd.random()
            at = None
            if current:
                state = "done" if r < 0.45 else "open"
                if state == "done":
                    at = max(NOW - timedelta(seconds=rnd.randrange(60, 10 * 86400)), w.opens + timedelta(hours=1))
            elif r < 0.82:
                state = "done"
                at = max(w.due - timedelta(seconds=rnd.randrange(60, 20 * 86400)), w.opens + timedelta(hours=1))
            elif r < 0.90:
                state, at = "late", w.due + timedelta(seconds=rnd.randrange(60, 3 * 86400 - 60))
            elif r < 0.98:
                state = "missed"
            else:
                state = "excused"
            if at is None:
                rows.instances.append((iid, w.duty, pid, w.period, opens, due, closes, 1, 0, state, None,
                                       closes if state == "missed" else None))
                continue
            at_db = db_time(at)
            rows.instances.append((iid, w.duty, pid, w.period, opens, due, closes, 1, 1, state, at_db, None))
            cid += 1
            photo = rnd.random() < photo_share
            unique = f"u{cid}"
            attachments = [{"file_id": f"f{cid}", "file_unique_id": unique}] if photo else []
            body = f"检查情况：第{cid}次，发现问题已整改"
            rows.checkins.append((cid, iid, pid, body, at_db, json.dumps(attachments) if photo else "[]"))
            content = ledger.CONTENT["checkin"](SimpleNamespace(
                id=cid, instance_id=iid, person_id=pid, text=body, at=at, update_id=None, media_group_id=None,
                attachments=attachments))
            seq += 1
            prev = _chain(rows, seq, "checkin", cid, at_db, content, prev)
            if photo:
                data = hashlib.sha256(f"photo {cid}".encode()).digest() * 32  # 1 KB, unique per check-in
                sha = hashlib.sha256(data).hexdigest()
                counts.files[sha] = data
                eid += 1
                ev_at = at + timedelta(seconds=5)
                rows.evidence.append((eid, cid, sha, f"evidence/{sha[:2]}/{sha}", "image/jpeg", len(data), unique,
                                      db_time(ev_at), ""))
                content = ledger.CONTENT["evidence"](SimpleNamespace(
                    id=eid, checkin_id=cid, callout_target_id=None, sha256=sha, size=len(data), mime="image/jpeg",
                    tg_file_unique_id=unique, at=ev_at))
                seq += 1
                prev = _chain(rows, seq, "evidence", eid, db_time(ev_at), content, prev)
            if len(rows.instances) >= CHUNK:
                _flush(rows, sink, counts)
                rows = Rows()
    _flush(rows, sink, counts)


def _chain(rows: Rows, seq: int, kind: str, ref: int, at: object, content: dict, prev: str) -> str:
    c_hash = ledger.content_hash(content)
    h = ledger.chain_hash(prev, kind, ref, c_hash)
    rows.ledger.append((seq, kind, ref, at, c_hash, prev, h))
    return h


def _flush(rows: Rows, sink: Callable[[Rows], None], counts: Counts) -> None:
    sink(rows)
    counts.instances += len(rows.instances)
    counts.checkins += len(rows.checkins)
    counts.evidence += len(rows.evidence)
    counts.ledger += len(rows.ledger)


# ---------------------------------------------------------------------------------------------
# Bulk loading
# ---------------------------------------------------------------------------------------------
COLUMNS = {
    "dutyinstance": "id, duty_id, person_id, period_key, opens_at, due_at, closes_at, required, done_count, status, "
                    "done_at, closed_at",
    "checkin": "id, instance_id, person_id, text, at, attachments",
    "evidence": "id, checkin_id, sha256, path, mime, size, tg_file_unique_id, at, tg_file_id",
    "ledgerentry": "seq, kind, ref_id, at, content_hash, prev_hash, hash",
}


def sqlite_time(dt: datetime) -> str:
    """SQLAlchemy's SQLite DateTime storage format (naive UTC), so the store reads them back."""
    return dt.replace(tzinfo=None).isoformat(" ", "microseconds")


def pg_time(dt: datetime) -> datetime:
    return dt.replace(tzinfo=None)


BIG = ("dutyinstance", "checkin", "ledgerentry")


class Loader:
    """Bulk inserts: secondary indexes are dropped first and built once at the end (building an
    index over sorted data beats 1.5 M random B-tree inserts), SQLite gets a large page cache."""

    def __init__(self, store: Store):
        self.store = store
        self.sqlite = not store.is_postgres
        self.raw = store.engine.raw_connection()
        self.recreate: list[str] = []
        cur = self.raw.cursor()
        if self.sqlite:
            cur.execute("PRAGMA cache_size = -400000")  # 400 MB
            cur.execute("PRAGMA synchronous = OFF")
            for table in BIG:
                cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                            "AND sql IS NOT NULL", (table,))
                for name, sql in cur.fetchall():
                    self.recreate.append(sql)
                    cur.execute(f'DROP INDEX "{name}"')
        else:
            for table in BIG:
                cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                            "WHERE conrelid = %s::regclass AND contype = 'u'", (table,))
                for name, definition in cur.fetchall():
                    self.recreate.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                    cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                            "AND indexname NOT LIKE '%%_pkey'", (table,))
                for name, definition in cur.fetchall():
                    self.recreate.append(definition)
                    cur.execute(f'DROP INDEX "{name}"')
        self.raw.commit()
        cur.close()

    def __call__(self, rows: Rows) -> None:
        for table, data in (("dutyinstance", rows.instances), ("checkin", rows.checkins),
                            ("evidence", rows.evidence), ("ledgerentry", rows.ledger)):
            if data:
                self.insert(table, data)
        self.raw.commit()

    def insert(self, table: str, data: list[tuple]) -> None:
        cols = COLUMNS[table]
        cur = self.raw.cursor()
        if self.sqlite:
            marks = ", ".join("?" for _ in cols.split(","))
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", data)
        else:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for r in data:
                    copy.write_row(r)
        cur.close()

    def finish(self) -> None:
        cur = self.raw.cursor()
        for sql in self.recreate:
            cur.execute(sql)
        if not self.sqlite:  # the serial sequences must continue after the ids given explicitly
            for table, col in (("dutyinstance", "id"), ("checkin", "id"), ("evidence", "id"), ("ledgerentry", "seq")):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{col}'), "
                            f"coalesce((SELECT max({col}) FROM {table}), 1))")
        self.raw.commit()
        cur.execute("ANALYZE")
        if self.sqlite:  # give the page cache back: the measurements after this use normal settings
            cur.execute("PRAGMA cache_size = -2000")
            cur.execute("PRAGMA shrink_memory")
        self.raw.commit()
        cur.close()
        self.raw.close()


def populate(store: Store, people: int, photo_share: float, data_dir: Path) -> tuple[Counts, float]:
    from bot.store.models import Duty, Unit

    t0 = time.perf_counter()
    with store.session() as s:
        for u in range(1, UNITS + 1):
            s.add(Unit(id=f"U{u:03d}", name=f"单位{u:03d}"))
        s.flush()
        for n in range(1, people + 1):
            s.add(Person(id=person_id(n), name=f"人员{n:05d}", unit_id=f"U{(n - 1) % UNITS + 1:03d}",
                         roles=["部门负责人"], telegram_id=10_000_000 + n))
            if n % 2000 == 0:
                s.flush()
        for did, title, kind in duties():
            s.add(Duty(id=did, title=title, kind=kind, frequency="bench"))
    counts = Counts()
    loader = Loader(store)
    generate(people, photo_share, loader, counts, sqlite_time if loader.sqlite else pg_time)
    loader.finish()
    for sha, data in counts.files.items():
        path = data_dir / "evidence" / sha[:2] / sha
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    counts.files = {k: b"" for k in counts.files}  # keep the count, free the bytes
    return counts, time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------
def rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], object], runs: int) -> tuple[list[float], object]:
    out, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        out.append((time.perf_counter() - t) * 1000)
    return out, result


def pct(values: list[float], p: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def unreported_lean(session) -> list:
    """The same list as status.not_reported, read as plain columns (no ORM objects per row)."""
    from bot.store.models import Duty, Unit

    q = (select(DutyInstance.id, Person.name, Unit.name, Duty.title, DutyInstance.period_key, DutyInstance.due_at)
         .join(Person, Person.id == DutyInstance.person_id)
         .join(Unit, Unit.id == Person.unit_id, isouter=True)
         .join(Duty, Duty.id == DutyInstance.duty_id, isouter=True)
         .where(DutyInstance.status == "open", DutyInstance.opens_at <= NOW, DutyInstance.closes_at > NOW)
         .order_by(Person.unit_id, Person.id, DutyInstance.due_at))
    return session.exec(q).all()


def unreported_counts(session) -> list:
    """The office's one-screen view: per unit, how many current-period instances are unreported."""
    return list(status.unreported_by_unit(session, NOW).items())


@dataclass
class Figures:
    backend: str
    people: int
    counts: Counts
    load_s: float
    queries: dict[str, tuple[float, float, int, int]] = field(default_factory=dict)  # p50, p95, rows, runs
    export_s: float = 0.0
    export_rows: dict[str, int] = field(default_factory=dict)
    export_mb: float = 0.0
    peak_before_export: float = 0.0
    peak_after_export: float = 0.0
    verify_s: float = 0.0
    verify_chain_s: float = 0.0
    verify_inserted_s: float = 0.0
    verify_files_s: float = 0.0
    verify_records: int = 0
    verify_files: int = 0
    verify_ok: bool = False


def measure(backend: str, url: str, args, data_dir: Path, workdir: Path) -> Figures:
    store = Store(url)
    try:
        counts, load_s = populate(store, args.people, args.photo_share, data_dir)
        fig = Figures(backend, args.people, counts, load_s)
        print(f"[{backend}] loaded {counts.instances:,} instances, {counts.checkins:,} check-ins, "
              f"{counts.evidence:,} evidence, {counts.ledger:,} ledger entries in {load_s:.1f} s", flush=True)

        def q_all():
            with store.session() as s:
                return len(status.not_reported(s, NOW))

        def q_unit(state={"n": 0}):  # noqa: B006 (a counter across runs: a different unit each time)
            state["n"] += 1
            with store.session() as s:
                return len(status.not_reported(s, NOW, unit_id=f"U{state['n'] % UNITS + 1:03d}"))

        def q_counts():
            with store.session() as s:
                return len(unreported_counts(s))

        def q_lean():
            with store.session() as s:
                return len(unreported_lean(s))

        slow = max(3, args.runs // 10)
        for name, fn, runs in (("status.not_reported, one unit (~1% of people)", q_unit, args.runs),
                               ("unreported counts per unit (status.unreported_by_unit)", q_counts, args.runs),
                               ("every unit, plain columns (bench's own query)", q_lean, slow),
                               ("status.not_reported, every unit", q_all, slow)):
            if runs == args.runs:
                fn()  # warm the cache (the slow ones warm it on their first run)
            times, rows = timed(fn, runs)
            fig.queries[name] = (pct(times, 50), pct(times, 95), int(rows), runs)
            print(f"[{backend}] {name}: p50 {fig.queries[name][0]:.1f} ms, p95 {fig.queries[name][1]:.1f} ms "
                  f"({rows:,} rows)", flush=True)

        if not args.skip_export:
            out = workdir / f"export-{backend}.xlsx"
            fig.peak_before_export = rss_mb()
            t = time.perf_counter()
            result = export.write_xlsx(store, out, date(YEAR, 1, 1), date(YEAR, 12, 31), NOW, data_dir=data_dir)
            fig.export_s = time.perf_counter() - t
            fig.peak_after_export = rss_mb()
            fig.export_rows = result.rows
            fig.export_mb = out.stat().st_size / 1e6
            out.unlink()
            print(f"[{backend}] full-year export: {fig.export_s:.1f} s, {result.rows}, {fig.export_mb:.0f} MB",
                  flush=True)

        # One pass of `dutybot verify`, its three steps timed apart.
        result = verify.Result()
        with store.engine.connect() as conn:
            t = time.perf_counter()
            verify.walk_chain(conn, result)
            fig.verify_chain_s = time.perf_counter() - t
            t = time.perf_counter()
            verify.find_inserted(conn, result)
            fig.verify_inserted_s = time.perf_counter() - t
            t = time.perf_counter()
            verify.check_files(conn, data_dir, result)
            fig.verify_files_s = time.perf_counter() - t
        fig.verify_s = fig.verify_chain_s + fig.verify_inserted_s + fig.verify_files_s
        fig.verify_records, fig.verify_files, fig.verify_ok = result.count, result.files, result.ok
        print(f"[{backend}] verify: {result.count:,} records, {result.files:,} files, "
              f"{'OK' if result.ok else 'FAILED: ' + result.problem.describe()}; chain {fig.verify_chain_s:.1f} s, "
              f"unchained rows {fig.verify_inserted_s:.1f} s, files {fig.verify_files_s:.1f} s", flush=True)
        return fig
    finally:
        store.dispose()


# ---------------------------------------------------------------------------------------------
# Databases and the report
# ---------------------------------------------------------------------------------------------
def scratch_database(backend: str, workdir: Path, pg_url: str) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        return f"sqlite:///{workdir}/bench.db", lambda: None
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    name = f"dutybot_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(pg_url).set(database=name).render_as_string(hide_password=False), drop


def report(figs: list[Figures], command: str, total_s: float) -> str:
    f0 = figs[0]
    lines = [
        "## Assessment at scale: who has not reported, full-year export, verify",
        "",
        f"Command: `{command}` (total {total_s / 60:.1f} min, peak RSS "
        f"{rss_mb():.0f} MB). Machine: {os.cpu_count()} CPUs, "
        "shared with other work while it ran.",
        "",
        f"Data: {f0.people:,} people in {UNITS} units, 21 duties (10 monthly, 6 quarterly, 3 half-yearly, 2 yearly) → "
        f"{f0.counts.instances:,} instances for {YEAR}, {f0.counts.checkins:,} check-ins, {f0.counts.evidence:,} "
        f"evidence files, {f0.counts.ledger:,} ledger entries; as of {NOW.astimezone(SH):%Y-%m-%d %H:%M} Shanghai "
        "(the December, Q4, H2 and year windows are current).",
        "",
        "| | " + " | ".join(f.backend for f in figs) + " |",
        "|---|" + "---:|" * len(figs),
        "| bulk load (s) | " + " | ".join(f"{f.load_s:.0f}" for f in figs) + " |",
    ]
    for name in f0.queries:
        lines.append(f"| {name}: p50 / p95 (ms) | " + " | ".join(
            f"{f.queries[name][0]:.0f} / {f.queries[name][1]:.0f} ({f.queries[name][2]:,} rows, "
            f"{f.queries[name][3]} runs)" for f in figs) + " |")
    if any(f.export_s for f in figs):
        lines.append("| full-year export (s) | " + " | ".join(
            f"{f.export_s:.0f} ({sum(f.export_rows.values()):,} rows, {f.export_mb:.0f} MB)" for f in figs) + " |")
        lines.append("| peak RSS before → after the export (MB) | " + " | ".join(
            f"{f.peak_before_export:.0f} → {f.peak_after_export:.0f}" for f in figs) + " |")
    lines.append("| **verify: s per 100,000 ledger records** (chain walk + unchained-row check) | " + " | ".join(
        f"**{(f.verify_chain_s + f.verify_inserted_s) / max(f.verify_records, 1) * 100_000:.1f}**" for f in figs)
        + " |")
    lines.append("| verify: evidence files hashed, s per 1,000 files | " + " | ".join(
        f"{f.verify_files_s / max(f.verify_files, 1) * 1000:.2f}" for f in figs) + " |")
    lines.append("| verify: whole run, s (records, files, result) | " + " | ".join(
        f"{f.verify_s:.0f} ({f.verify_records:,}, {f.verify_files:,}, {'OK' if f.verify_ok else 'FAILED'})"
        for f in figs) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--people", type=int, default=10_000)
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG)
    p.add_argument("--runs", type=int, default=30, help="runs per query timing (the every-unit lists: a tenth, ≥ 3)")
    p.add_argument("--photo-share", type=float, default=0.01, help="share of check-ins with a photo file")
    p.add_argument("--skip-export", action="store_true")
    p.add_argument("--workdir", help="where the SQLite file, photos and export go (default: a temp dir)")
    p.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    args = p.parse_args(argv)
    command = "python bench/report.py " + " ".join(argv if argv is not None else sys.argv[1:])
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="dutybot-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    started = time.perf_counter()
    figs = []
    try:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            url, drop = scratch_database(backend, workdir, args.pg_url)
            try:
                figs.append(measure(backend, url, args, data_dir, workdir))
            finally:
                drop()
                if backend == "sqlite":
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{workdir}/bench.db{suffix}").unlink(missing_ok=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    text_out = report(figs, command.strip(), time.perf_counter() - started)
    print()
    print(text_out)
    if args.record:
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as f:
            f.write("\n" + text_out)
    return 0 if all(f.verify_ok for f in figs) else 1


if __name__ == "__main__":
    sys.exit(main())
