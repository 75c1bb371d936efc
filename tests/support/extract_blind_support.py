"""What the blind-list tests (tests/test_extract_blind_rounds.py) share: one fixture directory of lists and
expected tables per round, checked by checksum, drafted by import-list, and scored against per-list floors.
The test module keeps the figures and floors; these helpers only read, draft and assert."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import yaml

from bot.importer import read_list, run_import_list
from schedules import load_catalog_text
from schedules.extract import extract
from schedules.extract.evaluate import Score, score

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
YEAR = 2026  # as bench/extract_scoring.py (bench/extract_accuracy.py, extract_blind.py, extract_blind_tables.py)


def tables(directory: Path) -> list[Path]:
    """The expected tables of one blind fixture directory, in name order."""
    return sorted((directory / "expected").glob("*.yaml"))


def load_table(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def recorded_digests(directory: Path) -> dict[str, str]:
    """SHA256SUMS of a round (written before its first run): {relative path: sha256}."""
    lines = (directory / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split(maxsplit=1) for line in lines if line.strip())}


def assert_unchanged(directory: Path, sha256: dict[str, str]) -> None:
    """The fixtures still have the digests recorded before their first run."""
    changed = [name for name, digest in sha256.items()
               if hashlib.sha256((directory / name).read_bytes()).hexdigest() != digest]
    assert not changed, f"blind fixtures edited after their first run: {changed}"


def score_table(table: Path) -> Score:
    expected = load_table(table)
    return score(extract(read_list(str(FIXTURES / expected["fixture"])), YEAR), expected)


def total_score(paths: list[Path]) -> Score:
    total = Score()
    for table in paths:
        total.add(score_table(table))
    return total


def assert_draft_loads(table: Path, tmp_path: Path) -> None:
    """import-list drafts the table's list without error, and the draft loads as a catalogue with duties."""
    source = FIXTURES / load_table(table)["fixture"]
    out = tmp_path / "draft.yaml"
    stderr = io.StringIO()
    assert run_import_list(str(source), str(out), stderr, current_year=YEAR) == 0, stderr.getvalue()
    catalog = load_catalog_text(out.read_text(encoding="utf-8"), str(out))
    assert catalog.duties, "the draft has no duties"


def assert_recall_and_false_duties(s: Score, rows: int, matched: int, false: int) -> None:
    """`rows` expected, at least `matched` of them found, at most `false` false duties (a trap hit is one)."""
    assert s.expected == rows
    missed = [f"{r['at']} ({r['period']} {r['count']})" for r in s.missed]
    drafted_false = [f"{d.frequency}: {d.clause}" for d in s.false]
    assert s.matched >= matched, f"recall {s.recall:.1%}; missed {missed}"
    assert len(s.false) <= false, f"false {s.false_rate:.1%}: {drafted_false}"
    assert len(s.traps_hit) <= false, s.traps_hit


def assert_roles(s: Score, role_ok: int) -> None:
    assert s.role_ok >= role_ok, [(r["at"], r["role"], d.roles) for r, d in s.wrong_role]


def assert_tasks_and_holiday_checks(total: Score, tasks: int, holiday_checks: int) -> None:
    assert total.tasks_matched >= tasks, [r["at"] for r in total.tasks_missed]
    assert total.checks_matched >= holiday_checks, [r["at"] for r in total.checks_missed]
