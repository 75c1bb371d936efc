"""The CLI fuzz sweep's world, strategies and oracle (tests/test_fuzz_cli.py, bench/fuzz.py).

`CliWorld(root)` is a data directory with a synced SQLite store (the example catalogue, a bound
office member, an issued 叫应) and a set of hostile places to write to: a directory, an existing
file, a path under a file, a missing parent, a name too long, paths in /proc and /sys. `argv()` is
a hypothesis strategy of `dutybot` command lines, every subcommand with arguments in every wrong
shape; `world.run(argv)` runs `bot.cli.main` in-process (environment, working directory, stdin,
stdout and stderr swapped for the call) and `world.problem(outcome, before, after)` names what is
wrong with a run:

- it raised instead of returning (or exiting) 0, 1 or 2, or printed a traceback;
- it failed without a message on stderr;
- it failed and changed the store (a checksum of every table's rows), the data directory or the
  working directory (a listing with sizes and content hashes), or a file it was pointed at.

`demo` and `run` are swept only with arguments they must refuse (they would otherwise serve).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st
from sqlalchemy import MetaData, select

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "duties.yaml"
PEOPLE = ["张建国", "李卫东", "王海涛", "孙丽", "周敏", "马超"]
UNITS = ["园区管委会", "规划建设部", "经济运行部"]
OFFICE = "孙丽"
COMMANDS = ["check", "schedule", "sync", "invite", "status", "warn", "callout", "rank", "export", "verify",
            "import-list", "run", "demo"]


@dataclass
class Outcome:
    argv: list[str]
    code: int | None
    out: str
    err: str
    raised: str | None = None  # the traceback when main() raised something other than SystemExit


class CliWorld:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.data_dir = self.root / "data"
        self.work = self.root / "work"  # the working directory of every run (default export names land here)
        self.work.mkdir(parents=True, exist_ok=True)
        self.env = {"DATA_DIR": str(self.data_dir), "DUTIES_FILE": str(EXAMPLE), "DATABASE_URL": "",
                    "BOT_TOKEN": "", "BOT_USERNAME": "", "TELEGRAM_API_BASE_URL": "", "TZ": "Asia/Shanghai"}
        places = self.root / "places"
        (places / "a-directory").mkdir(parents=True, exist_ok=True)
        self.existing = places / "existing.xlsx"
        self.existing.write_bytes(b"an earlier export")
        (places / "notes.txt").write_text("职责清单\n每月检查一次。\n", encoding="utf-8")
        (places / "binary.docx").write_bytes(bytes(range(256)) * 4)
        (places / "empty.txt").write_bytes(b"")
        (places / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)
        self.paths = [str(p) for p in (
            places / "a-directory", places / "a-directory" / "", self.existing, places / "notes.txt",
            places / "binary.docx", places / "empty.txt", places / "photo.jpg",
            places / "existing.xlsx" / "under-a-file.xlsx", places / "missing" / "parent" / "x.xlsx",
            places / ("长" * 200 + ".xlsx"), places / "x.zip", places / "out.xlsx", places / "draft.yaml")] + [
            "/proc/x.zip", "/proc/x.xlsx", "/proc/self/mem", "/proc/self/status", "/sys/x.xlsx", "/dev/null",
            "/dev/full", "/", ".", "..", "", " ", "-", "x.zip", "out.xlsx", "draft.yaml", "~/x.xlsx",
            "data", "data/dutybot.db", "a\nb.xlsx", "nul\x01.xlsx"]
        self.watched = [self.existing, places / "notes.txt"]
        self.code, out, err = self._setup()
        assert self.code == 0, f"world setup failed:\n{out}\n{err}"

    def _setup(self) -> tuple[int, str, str]:
        from bot.store import Store
        from bot.store.models import Person

        o = self.run(["sync"])
        if o.code != 0:
            return o.code, o.out, o.err
        store = Store(f"sqlite:///{self.data_dir / 'dutybot.db'}")
        try:
            with store.session() as s:
                from schedules import load_catalog

                office = load_catalog(EXAMPLE).find_person(OFFICE)
                s.get(Person, office.id).telegram_id = 7_000_001
        finally:
            store.dispose()
        o = self.run(["warn", "--level", "red", "--text", "暴雨红色预警", "--units", UNITS[1], "--by", OFFICE])
        return o.code or 0, o.out, o.err

    # --- running --------------------------------------------------------------------------------------
    def run(self, argv: list[str], stdin: str = "") -> Outcome:
        from bot.cli import main

        out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
        # Real streams, strict UTF-8 like a terminal: text that cannot be encoded fails here as there.
        out = io.TextIOWrapper(out_bytes, encoding="utf-8", errors="strict", write_through=True)
        err = io.TextIOWrapper(err_bytes, encoding="utf-8", errors="backslashreplace", write_through=True)
        code: int | None = None
        raised = None
        with self._environment(), _swapped(io.StringIO(stdin), out, err):
            try:
                code = main(list(argv))
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
                if e.code is not None and not isinstance(e.code, int):
                    print(e.code, file=err)
            except BaseException:  # noqa: BLE001 - whatever escapes is the finding
                raised = traceback.format_exc()
        with contextlib.suppress(ValueError):
            out.flush()
            err.flush()
        return Outcome(list(argv), code, out_bytes.getvalue().decode("utf-8", "replace"),
                       err_bytes.getvalue().decode("utf-8", "replace"), raised)

    @contextlib.contextmanager
    def _environment(self):
        saved_env = {k: os.environ.get(k) for k in self.env}
        saved_cwd = os.getcwd()
        os.environ.update(self.env)
        os.environ.pop("DATABASE_URL", None)  # the default: DATA_DIR/dutybot.db
        os.chdir(self.work)
        try:
            yield
        finally:
            os.chdir(saved_cwd)
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    # --- state ----------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        return {"store": store_checksum(f"sqlite:///{self.data_dir / 'dutybot.db'}"),
                "data": listing(self.data_dir, skip=("dutybot.db",)), "work": listing(self.work),
                "watched": {str(p): _digest(p) for p in self.watched}}

    def clean_work(self) -> None:
        """Forget what successful exports left in the working directory (keeps each run's diff small)."""
        for p in self.work.iterdir():
            if p.is_file():
                p.unlink()

    @staticmethod
    def problem(o: Outcome, before: dict, after: dict) -> str | None:
        if o.raised:
            return f"raised:\n{o.raised}"
        if o.code not in (0, 1, 2):
            return f"exit code {o.code!r}"
        if "Traceback (most recent call last)" in o.out + o.err:
            return "printed a traceback"
        if o.code != 0 and not (o.err.strip() or o.out.strip()):  # usage on stdout is a message too
            return f"exit {o.code} without a message"
        if o.code != 0:
            if "verify" in o.argv:  # a failed verification is an outcome, kept for the console (verify_runs)
                before, after = _without_keyvalue(before), _without_keyvalue(after)
            changed = [k for k in before if before[k] != after[k]]
            if changed:
                detail = {k: _diff(before[k], after[k]) for k in changed}
                return f"refused (exit {o.code}) but changed {', '.join(changed)}: {detail}"
        return None


@contextlib.contextmanager
def _swapped(stdin, stdout, stderr):
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def listing(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every file under root (relative path -> size and content hash); directories as 'dir'."""
    found: dict[str, str] = {}
    if not root.exists():
        return found
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        for d in dirnames:
            found[str(rel_dir / d)] = "dir"
        for f in filenames:
            if any(f.startswith(s) for s in skip):
                continue
            p = Path(dirpath) / f
            found[str(rel_dir / f)] = f"{p.stat().st_size}:{_digest(p)}"
    return found


def store_checksum(url: str) -> dict[str, str]:
    """Per table, a hash of its rows in primary-key order."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        sums = {}
        with engine.connect() as conn:
            for name, table in sorted(meta.tables.items()):
                order = list(table.primary_key.columns) or list(table.columns)
                h = hashlib.sha256()
                for row in conn.execute(select(table).order_by(*order)):
                    h.update(repr(tuple(row)).encode())
                sums[name] = h.hexdigest()[:16]
        return sums
    finally:
        engine.dispose()


def _without_keyvalue(snapshot: dict) -> dict:
    return {**snapshot, "store": {t: v for t, v in snapshot["store"].items() if t != "keyvalue"}}


def _diff(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b), key=str) if a.get(k) != b.get(k)}
    return (a, b)


# --- strategies ---------------------------------------------------------------------------------------
CONTROL = "\x00\x01\x07\x08\x1b\x7f\u200b\u202e\ufeff\udcff"  # NUL, bell, escape, RTL override, a lone surrogate
junk_text = st.one_of(
    st.sampled_from(["", " ", "\t", "-", "--", "--help", "0", "-1", "null", "None", "’", "🙂", "\n", "%s", "{0}",
                     "../../etc/passwd", "'; DROP TABLE person; --", "a" * 5000]),
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(CONTROL), max_size=40),
)
bad_dates = st.one_of(
    st.sampled_from(["2026-13-01", "2026-02-30", "2026-00-10", "0000-00-00", "0001-01-01", "9999-12-31",
                     "26-1-1", "2026/01/01", "2026-1-1", "20260101", "２０２６-０１-０１", "2026-01-01T00:00",
                     "1e9", "2026-W10", "2026-Q1", "today", "昨天"]),
    st.dates().map(str), junk_text)
good_dates = st.dates(min_value=__import__("datetime").date(2025, 1, 1),
                      max_value=__import__("datetime").date(2027, 12, 31)).map(str)
dates = st.one_of(good_dates, bad_dates)
periods = st.one_of(
    st.sampled_from(["2026-13", "2026-00", "2026-Q5", "2026-Q0", "2026-H3", "2026-H0", "2026-W54", "2026-W00",
                     "2026-02-30", "2026-03-4", "2026-03-0", "99999", "0", "2026-", "-2026", "2026-春节", "2026-元宵",
                     "2026#1", "2026#9", "2026-11", "2026-Q4", "2026-H2", "2026", "2026-W07", "2026-03-2",
                     "2026-03-15", "2026-q4", " 2026-11 ", "2026-11-", "２０２６-１１", "ⅱ", "2026-Q4#1"]),
    st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(-5, 99999), st.integers(-1, 99)),
    junk_text)
moments = st.one_of(st.sampled_from(["2026-07-01T12:00", "2026-07-01T12:00+08:00", "2026-07-01", "9999-12-31T23:59",
                                     "0001-01-01T00:00+14:00", "2026-07-01T25:00", "2026-13-01T00:00", "now",
                                     "2026-07-01T12:00+99:00", "2026-07-01T12:00Z"]), junk_text)
numbers = st.one_of(st.integers(-2**70, 2**70).map(str), st.integers(0, 3).map(str),
                    st.sampled_from(["1e3", "NaN", "inf", "-inf", "0x10", "٣", "1_000", "9" * 40, "-0", ""]))
floats = st.one_of(st.sampled_from(["nan", "inf", "-inf", "-1", "1e308", "-1e308", "1e400", "86400000", "x"]),
                   st.floats(allow_nan=True).filter(lambda f: not 0 <= f <= 600).map(str))
names = st.one_of(st.sampled_from(PEOPLE + ["张", "不存在的人", "p-unknown", "孙丽 ", "ZHANG"]), junk_text)
units = st.one_of(st.sampled_from(UNITS + ["部", "全部", "不存在的部门", "经济运行部,规划建设部", "，"]), junk_text)
levels = st.one_of(st.sampled_from(["red", "orange", "yellow", "blue", "红", "橙", "黄", "蓝", "RED", "purple", "紫"]),
                   junk_text)
formats = st.one_of(st.sampled_from(["table", "json", "ics", "xlsx", "zip", "text", "csv"]), junk_text)


def paths(world: CliWorld):
    return st.one_of(st.sampled_from(world.paths), junk_text)


def _options(*pairs) -> st.SearchStrategy[list[str]]:
    """Each (option, value strategy or None for a flag) included or not; the result flattened."""
    parts = []
    for opt, values in pairs:
        item = st.just([opt]) if values is None else values.map(lambda v, o=opt: [o, v])
        parts.append(st.one_of(st.just([]), item))
    return st.tuples(*parts).map(lambda chunks: [x for c in chunks for x in c]) if parts else st.just([])


def commands(world: CliWorld) -> dict[str, st.SearchStrategy[list[str]]]:
    p = paths(world)
    return {
        "check": st.tuples(st.one_of(st.just([]), p.map(lambda v: [v])), _options(("--year", numbers)))
                   .map(lambda t: ["check", *t[0], *t[1]]),
        "schedule": _options(("--from", dates), ("--to", dates), ("--person", names), ("--format", formats))
                      .map(lambda a: ["schedule", *a]),
        "sync": st.just(["sync"]),
        "invite": st.tuples(names, _options(("--bot-username", junk_text)))
                    .map(lambda t: ["invite", t[0], *t[1]]),
        "status": _options(("--period", periods), ("--unit", units), ("--format", formats))
                    .map(lambda a: ["status", *a]),
        "warn": st.tuples(_options(("--level", levels), ("--text", junk_text), ("--hazard", junk_text),
                                   ("--file", p), ("--by", names), ("--lift", numbers)),
                          st.lists(units, max_size=3))
                  .map(lambda t: ["warn", *t[0], *(["--units", *t[1]] if t[1] else [])]),
        "callout": st.one_of(
            st.tuples(numbers, _options(("--format", formats))).map(lambda t: ["callout", "status", t[0], *t[1]]),
            _options(("--all", None), ("--format", formats)).map(lambda a: ["callout", "list", *a]),
            junk_text.map(lambda v: ["callout", v]), st.just(["callout"])),
        "rank": _options(("--quarter", periods), ("--format", formats), ("--at", moments))
                  .map(lambda a: ["rank", *a]),
        "export": _options(("--from", dates), ("--to", dates), ("--out", p), ("--person", names),
                           ("--format", formats), ("--at", moments)).map(lambda a: ["export", *a]),
        "verify": _options(("--head", junk_text), ("--no-files", None), ("--format", formats))
                    .map(lambda a: ["verify", *a]),
        "import-list": st.tuples(p, _options(("--out", p))).map(lambda t: ["import-list", t[0], *t[1]]),
        # Only arguments these must refuse: with good ones they would start serving.
        "run": st.tuples(junk_text.filter(_refused_clock), _options(("--listen", junk_text)))
                 .map(lambda t: ["run", "--clock-start", t[0], *t[1]]),
        "demo": floats.map(lambda v: ["demo", "--lead", v]),
    }


def _refused_clock(text: str) -> bool:
    """--clock-start values `run` must refuse (any other would start the bot): not a date-time, or
    one outside the years the product accepts."""
    from datetime import datetime

    from bot.cli.args import MAX_DATE, MIN_DATE

    try:
        return not MIN_DATE <= datetime.fromisoformat(text).date() <= MAX_DATE
    except ValueError:
        return True


def argv(world: CliWorld, only: str | None = None) -> st.SearchStrategy[list[str]]:
    """A whole command line: maybe a hostile --duties first, then one subcommand (or junk)."""
    table = commands(world)
    body = table[only] if only else st.one_of(*table.values(), st.lists(junk_text, max_size=4))
    duties = st.one_of(st.just([]), st.just([]), st.just([]), paths(world).map(lambda v: ["--duties", v]))
    # No NUL: a real command line cannot carry one (execve), only an in-process call could.
    return st.tuples(duties, body).map(lambda t: [a.replace("\x00", "") for a in (*t[0], *t[1])])
