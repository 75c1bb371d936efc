"""Long fuzz run over the three surfaces the CI sweeps cover briefly (tests/test_fuzz_*.py):

    .venv/bin/python bench/fuzz.py --minutes 30                  # the time split over the surfaces
    .venv/bin/python bench/fuzz.py --minutes 5 --surfaces cli    # one surface
    .venv/bin/python bench/fuzz.py --seed 7                      # another stream of inputs
    .venv/bin/python bench/fuzz.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

--minutes is the whole run, split evenly over the surfaces. With a PostgreSQL URL (--database-url, or
TEST_DATABASE_URL when set and reachable) the updates and web surfaces each split their share between
SQLite and a fresh PostgreSQL database (created from that URL, dropped at the end); without one, and
always for cli (its command lines run against a SQLite DATA_DIR), they run on SQLite.

- cli:     `dutybot` command lines in-process (tests/support/fuzz_cli.py): exit 0/1/2 with a message,
           no traceback, a refused command changes neither the store nor DATA_DIR nor the working dir;
- updates: Telegram updates through the Bot API sandbox at the whole bot (tests/support/fuzz_updates.py):
           no logged error, no failed inbox row, nothing recorded for strangers or forged data, and
           the bot still answers /mine every 25 updates;
- web:     requests to every route of the web console (tests/support/fuzz_web.py): no 5xx, 4xx with
           a message, refusals audited and changing nothing.

Prints, per surface, the inputs tried, the failures found (the first few shown) and the rate.
Hypothesis generates (no shrinking, no example database); a failing input is recorded and the run
goes on. Not a test: a figure for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


class TimeUp(Exception):
    pass


class Tally:
    def __init__(self, name: str):
        self.name = name
        self.tried = 0
        self.failures: list[str] = []
        self.seconds = 0.0


def sweep(tally: Tally, strategy: st.SearchStrategy, attempt: Callable[[object], str | None], seconds: float,
          seed_value: int, every: Callable[[int], None] | None = None) -> None:
    deadline = time.monotonic() + seconds
    started = time.monotonic()

    @seed(seed_value)
    @settings(max_examples=10**9, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(value):
        if time.monotonic() > deadline:
            raise TimeUp
        problem = attempt(value)
        tally.tried += 1
        if problem:
            tally.failures.append(f"{value!r}\n    {problem[:1500]}")
        if every is not None:
            every(tally.tried)

    with contextlib.suppress(TimeUp):
        run()
    tally.seconds = time.monotonic() - started


@contextlib.contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A throw-away database on the server of `admin_url`, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"fuzz_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def reachable(url: str | None) -> str | None:
    if not url:
        return None
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as err:  # noqa: BLE001
        print(f"PostgreSQL at {url} not reachable ({type(err).__name__}); SQLite only", flush=True)
        return None
    return url


@contextlib.contextmanager
def database(backend: str, tmp: Path, admin_url: str | None) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp}/dutybot.db"
    else:
        with fresh_postgres(admin_url) as url:
            yield url


def fuzz_cli(seconds: float, seed: int, backend: str = "sqlite", admin_url: str | None = None) -> Tally:
    from support.fuzz_cli import CliWorld, argv

    tally = Tally(f"cli/{backend}")
    world = CliWorld(Path(tempfile.mkdtemp(prefix="fuzz-cli-")))

    def attempt(line):
        world.clean_work()
        before = world.snapshot()
        outcome = world.run(line)
        return world.problem(outcome, before, world.snapshot())

    sweep(tally, argv(world), attempt, seconds, seed)
    return tally


def fuzz_updates(seconds: float, seed: int, backend: str = "sqlite", admin_url: str | None = None) -> Tally:
    from support.fuzz_updates import LoopThread, UpdateWorld, cases

    tally = Tally(f"updates/{backend}")
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-updates-"))
    with LoopThread() as loop, database(backend, tmp, admin_url) as url:
        world = UpdateWorld.start(loop, tmp, url)
        try:
            def attempt(case):
                before = world.snapshot()
                world.call(world.deliver(case))
                return world.problem(case, before, world.snapshot())

            def every(n: int) -> None:
                if n % 25 == 0:
                    try:
                        world.call(world.still_answers())
                    except Exception as err:  # noqa: BLE001
                        tally.failures.append(f"the bot stopped answering after {n} updates: {err!r}")

            sweep(tally, cases(world), attempt, seconds, seed, every)
        finally:
            world.stop()
    return tally


def fuzz_web(seconds: float, seed: int, backend: str = "sqlite", admin_url: str | None = None) -> Tally:
    from support.fuzz_updates import LoopThread
    from support.fuzz_web import WebWorld, requests

    tally = Tally(f"web/{backend}")
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-web-"))
    with LoopThread() as loop, database(backend, tmp, admin_url) as url:
        world = WebWorld.start(loop, tmp, url)
        try:
            def attempt(req):
                before = world.snapshot()
                res = world.call(world.send(req))
                return world.problem(req, res, before, world.snapshot())

            sweep(tally, requests(world), attempt, seconds, seed)
        finally:
            world.stop()
    return tally


SURFACES = {"cli": fuzz_cli, "updates": fuzz_updates, "web": fuzz_web}
ON_POSTGRES = {"updates", "web"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0, help="total, split evenly over the surfaces")
    parser.add_argument("--surfaces", default="cli,updates,web")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"),
                        help="a PostgreSQL server to create a throw-away database on (default TEST_DATABASE_URL)")
    parser.add_argument("--failures-out", type=Path, help="write every failure in full to this file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the sweeps capture ERROR records themselves
    admin_url = reachable(args.database_url)
    names = [n.strip() for n in args.surfaces.split(",") if n.strip()]
    share = args.minutes * 60 / len(names)
    tallies = []
    for name in names:
        backends = ["sqlite", "postgresql"] if admin_url and name in ON_POSTGRES else ["sqlite"]
        for backend in backends:
            seconds = share / len(backends)
            print(f"… {name}/{backend}: {seconds / 60:.1f} min", flush=True)
            t = SURFACES[name](seconds, args.seed, backend, admin_url)
            tallies.append(t)
            print(f"  {t.tried} inputs, {len(t.failures)} failures", flush=True)
    print(f"\nfuzz run: {args.minutes:g} min, seed {args.seed}")
    print(f"{'surface':<18} {'inputs':>7} {'failures':>9} {'inputs/s':>9}")
    for t in tallies:
        print(f"{t.name:<18} {t.tried:>7} {len(t.failures):>9} {t.tried / max(t.seconds, 1e-9):>9.1f}")
    for t in tallies:
        for f in t.failures[:5]:
            print(f"\n[{t.name}] {f}")
    if args.failures_out:
        args.failures_out.write_text("".join(f"[{t.name}] {f}\n\n" for t in tallies for f in t.failures),
                                     encoding="utf-8")
    return 1 if any(t.failures for t in tallies) else 0


if __name__ == "__main__":
    sys.exit(main())
