"""`dutybot schedule` and how every command finds its catalogue: --duties, $DUTIES_FILE, ./duties.yaml."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

CATALOGS = Path(__file__).resolve().parent / "fixtures" / "catalogs"
SMALL = CATALOGS / "valid_small.yaml"  # people 甲 乙 丙; duty d-month for 甲 and 乙; task t-1 for 乙
OTHER = """\
roles: {r: r}
people: [{name: 丁, roles: [r]}]
duties: [{id: only-here, title: 别处的职责, who: [r], frequency: 每季度1次}]
"""
MARCH = ["schedule", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json"]


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Run from an empty directory with no $DUTIES_FILE, so nothing is found by accident."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DUTIES_FILE", raising=False)
    return tmp_path


def exit_code(argv: list[str]) -> int:
    """main()'s return value, or the code it exits with (a catalogue that does not load exits 1)."""
    try:
        return main(argv)
    except SystemExit as e:
        return e.code


def run_json(capsys, *argv: str) -> list[dict]:
    assert main(list(argv)) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return json.loads(out)


def test_duties_option(capsys, elsewhere):
    rows = run_json(capsys, "--duties", str(SMALL), *MARCH)
    assert sorted((r["person"], r["duty"], r["period"]) for r in rows) == [
        ("乙", "d-month", "2026-03"), ("乙", "t-1", "t-1"), ("甲", "d-month", "2026-03")]


def test_duties_file_variable(capsys, elsewhere, monkeypatch):
    (elsewhere / "other.yaml").write_text(OTHER, encoding="utf-8")
    monkeypatch.setenv("DUTIES_FILE", str(elsewhere / "other.yaml"))
    rows = run_json(capsys, *MARCH)
    assert [(r["person"], r["duty"], r["period"]) for r in rows] == [("丁", "only-here", "2026-Q1")]
    # --duties wins over the variable
    rows = run_json(capsys, "--duties", str(SMALL), *MARCH)
    assert {r["duty"] for r in rows} == {"d-month", "t-1"}


def test_default_is_duties_yaml_in_the_working_directory(capsys, elsewhere):
    shutil.copy(SMALL, elsewhere / "duties.yaml")
    rows = run_json(capsys, *MARCH)
    assert {r["duty"] for r in rows} == {"d-month", "t-1"}
    assert main(["check"]) == 0
    assert "duties.yaml: OK" in capsys.readouterr().out


def test_no_catalogue_found(capsys, elsewhere):
    assert exit_code(MARCH) == 1
    _, err = capsys.readouterr()
    assert "duties.yaml" in err and "找不到文件 / file not found" in err and "Traceback" not in err


def test_person_filter(capsys, elsewhere):
    rows = run_json(capsys, "--duties", str(SMALL), *MARCH, "--person", "乙")
    assert {r["person"] for r in rows} == {"乙"} and len(rows) == 2
    year = run_json(capsys, "--duties", str(SMALL), "schedule", "--from", "2026-01-01", "--to", "2026-12-31",
                    "--format", "json", "--person", "甲")
    assert [r["period"] for r in year] == [f"2026-{m:02d}" for m in range(1, 13)]


def test_unknown_person(capsys, elsewhere):
    assert main(["--duties", str(SMALL), *MARCH, "--person", "无名氏"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "未知人员 “无名氏” / unknown person" in err and "Traceback" not in err


def test_dates_are_inclusive_and_ordered(capsys, elsewhere):
    one_day = run_json(capsys, "--duties", str(SMALL), "schedule", "--from", "2026-03-31", "--to", "2026-03-31",
                       "--format", "json")
    assert {r["period"] for r in one_day} == {"2026-03", "t-1"}  # windows overlapping that day
    assert main(["--duties", str(SMALL), "schedule", "--from", "2026-04-01", "--to", "2026-03-01"]) == 1
    assert "--to 早于 --from" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["2026-02-30", "2026/03/01", "tomorrow", ""])
def test_bad_date_is_an_argparse_error(capsys, elsewhere, bad):
    with pytest.raises(SystemExit) as e:
        main(["--duties", str(SMALL), "schedule", "--from", bad, "--to", "2026-03-31"])
    assert e.value.code == 2
    _, err = capsys.readouterr()
    assert "日期应为 YYYY-MM-DD / date must be YYYY-MM-DD" in err and "Traceback" not in err


def test_bad_date_in_a_real_process(tmp_path):
    exe = Path(sys.executable).with_name("dutybot")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot"]
    done = subprocess.run([*cmd, "--duties", str(SMALL), "schedule", "--from", "2026-13-01", "--to", "2026-12-31"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert "date must be YYYY-MM-DD" in done.stderr and "Traceback" not in done.stderr


def test_table_format(capsys, elsewhere):
    assert main(["--duties", str(SMALL), "schedule", "--from", "2026-03-01", "--to", "2026-03-31"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["人员", "职责", "标题", "周期", "开始", "截止", "次数"]
    assert any(line.split()[:4] == ["甲", "d-month", "每月检查", "2026-03"] and "2026-03-31 18:00" in line
               for line in lines)
    assert "共 3 项 / 3 instances" in out


def test_ics_for_one_person(capsysbinary, elsewhere):
    from icalendar import Calendar

    assert main(["--duties", str(SMALL), "schedule", "--from", "2026-01-01", "--to", "2026-12-31",
                 "--format", "ics", "--person", "乙"]) == 0
    cal = Calendar.from_ical(capsysbinary.readouterr().out)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == 12 + 1
    assert all(str(e["UID"]).endswith(".乙@dutybot") for e in events)


def test_invalid_catalogue_stops_schedule(capsys, elsewhere):
    assert exit_code(["--duties", str(CATALOGS / "unknown_role.yaml"), *MARCH]) == 1
    _, err = capsys.readouterr()
    assert "unknown_role.yaml:4:30: 未知角色 “总工程师”" in err and "Traceback" not in err
