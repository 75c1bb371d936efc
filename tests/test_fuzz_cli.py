"""Fuzz sweep over the command line: every subcommand with generated arguments (tests/support/fuzz_cli.py).

Every run must end with exit code 0, 1 or 2 and a message, never a traceback; a refused command
must leave the store, the data directory and the working directory as they were. FUZZ_EXAMPLES
(default 20) is the number of generated command lines per subcommand; bench/fuzz.py runs longer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from support.fuzz_cli import COMMANDS, ROOT, CliWorld, argv

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
SWEEP = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not os.environ.get("FUZZ_SEED"),
                 phases=[Phase.explicit, Phase.generate],  # no shrinking: each run is slow; the failing line is shown
                 suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> CliWorld:
    return CliWorld(tmp_path_factory.mktemp("fuzz-cli"))


def check(world: CliWorld, line: list[str]) -> None:
    world.clean_work()
    before = world.snapshot()
    outcome = world.run(line)
    after = world.snapshot()
    problem = world.problem(outcome, before, after)
    assert problem is None, f"dutybot {line!r}: {problem}\n--- stdout\n{outcome.out[-2000:]}\n--- stderr\n{outcome.err[-2000:]}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_survives_generated_arguments(world, command):
    @SWEEP
    @given(st.data())
    def sweep(data):
        check(world, data.draw(argv(world, command)))

    sweep()


def test_command_lines_of_junk(world):
    @SWEEP
    @given(st.data())
    def sweep(data):
        check(world, data.draw(argv(world)))

    sweep()


# --- the cases the issue names, and a few more, each pinned ------------------------------------------------
@pytest.mark.parametrize("line, says", [
    (["export", "--person", "张建国", "--format", "zip", "--out", "/proc/x.zip"], "/proc/x.zip"),
    (["export", "--out", "/proc/x.xlsx"], "/proc/x.xlsx"),
    (["status", "--period", "2026-13"], "2026-13"),
    (["status", "--period", "2026-Q5"], "2026-Q5"),
    (["rank", "--quarter", "2026-Q5"], "2026-Q5"),
    (["schedule", "--from", "0001-01-01", "--to", "9999-12-31"], "0001-01-01"),
    (["schedule", "--from", "2026-01-01", "--to", "2099-12-31"], "10"),
    (["status", "--period", ""], "2026-11"),
    (["run", "--clock-start", ""], "--clock-start"),
    (["callout", "status", str(2**70)], str(2**70)),
    (["callout", "status", str(2**31)], str(2**31)),  # past PostgreSQL's INTEGER ids: was a DataError there
    (["warn", "--lift", str(2**70)], str(2**70)),
    (["warn", "--level", "red", "--text", "x", "--file", "/proc/self/mem"], "/proc/self/mem"),
    (["demo", "--lead", "nan"], "nan"),
])
def test_named_cases_get_a_message(world, line, says):
    world.clean_work()
    before = world.snapshot()
    o = world.run(line)
    assert world.problem(o, before, world.snapshot()) is None, o.raised or o.err
    assert o.code in (1, 2) and says in o.err, o.err


def test_export_out_is_a_directory_or_under_a_file(world):
    for out in [str(world.root / "places" / "a-directory"), str(world.existing / "x.xlsx"),
                str(world.root / "places" / "missing" / "x.xlsx")]:
        before = world.snapshot()
        o = world.run(["export", "--out", out])
        assert world.problem(o, before, world.snapshot()) is None, o.raised or o.err
        assert o.code == 1 and str(Path(out).parent) in o.err and "/" in o.err, o.err
        assert not (world.root / "places" / "missing").exists()


@pytest.mark.parametrize("args", [
    ["export", "--person", "张建国", "--format", "zip", "--out", "/proc/x.zip"],
    ["status", "--period", "2026-13"],
    ["schedule", "--from", "2026-02-30", "--to", "2026-03-01"],
])
def test_real_processes_print_a_message_not_a_traceback(world, args):
    env = {**os.environ, **world.env, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.run([sys.executable, "-m", "bot", *args], cwd=world.work, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode in (1, 2), proc
    assert "Traceback" not in proc.stderr and proc.stderr.strip(), proc.stderr
