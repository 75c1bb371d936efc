"""The validator: every class of mistake reported as `file:line:col: message`, through `dutybot check`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from schedules import CatalogError, Schedule, load_catalog, load_catalog_text

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = Path(__file__).resolve().parent / "fixtures" / "catalogs"
EXAMPLE = ROOT / "duties.yaml"


def check(capsys, name: str) -> tuple[str, list[str]]:
    """Run `dutybot check FILE` in-process; it must fail cleanly. Returns (path, problem lines)."""
    path = str(CATALOGS / name)
    assert main(["check", path]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err and out == ""
    lines = err.splitlines()
    assert re.fullmatch(rf"{len(lines) - 1} 个问题 / problem\(s\) in .*", lines[-1]), lines[-1]
    return path, lines[:-1]


def expect(lines: list[str], path: str, line: int, col: int, *fragments: str) -> None:
    prefix = f"{path}:{line}:{col}: "
    hits = [x for x in lines if x.startswith(prefix) and all(f in x for f in fragments)]
    assert hits, f"no problem {prefix}{' … '.join(fragments)} in:\n" + "\n".join(lines)


def test_yaml_syntax_error(capsys):
    path, lines = check(capsys, "yaml_syntax.yaml")
    assert len(lines) == 1
    # the unclosed [ of line 5 is noticed at the next key
    expect(lines, path, 6, 7, "YAML 语法错误", "expected ',' or ']'", "flow sequence, line 5")


def test_unknown_role(capsys):
    path, lines = check(capsys, "unknown_role.yaml")
    assert len(lines) == 2
    expect(lines, path, 4, 30, "未知角色 “总工程师”", "unknown role")  # in a person's roles
    expect(lines, path, 9, 18, "未知角色 “安全总监”", "unknown role")  # in a duty's who


def test_unknown_person_in_who_deputy_and_superior(capsys):
    path, lines = check(capsys, "unknown_person.yaml")
    assert len(lines) == 3
    expect(lines, path, 6, 13, "deputy", "未知人员 “丁”", "unknown person")
    expect(lines, path, 9, 15, "superior", "未知人员 “戊”")
    expect(lines, path, 14, 23, "未知人员 “己”")


def test_unknown_unit(capsys):
    path, lines = check(capsys, "unknown_unit.yaml")
    assert len(lines) == 3
    expect(lines, path, 7, 21, "未知单位 “财务部”", "unknown unit")  # a person's unit
    expect(lines, path, 12, 35, "未知单位 “后勤部”")  # who.units
    expect(lines, path, 19, 18, "未知单位 “宣传部”")  # a task's responsible units


def test_unparseable_frequency_is_quoted(capsys):
    path, lines = check(capsys, "bad_frequency.yaml")
    assert len(lines) == 2
    expect(lines, path, 10, 16, "无法识别的频次 “每月若干次”", "cannot parse frequency '每月若干次'", "每月至少1次")
    expect(lines, path, 15, 16, "结构化频次", "every: day|week|xun|month|quarter|half|year")


def test_duplicate_ids(capsys):
    path, lines = check(capsys, "duplicate_ids.yaml")
    assert len(lines) == 3
    expect(lines, path, 5, 5, "重复的人员", "“甲”", "first at line 4")
    expect(lines, path, 12, 5, "重复的职责", "“d-1”", "first at line 7")  # duty vs duty
    expect(lines, path, 18, 5, "重复的职责", "“d-1”", "first at line 7")  # a task reusing a duty id


def test_superior_cycle_and_deputy_cycle_of_three(capsys):
    path, lines = check(capsys, "cycles.yaml")
    assert len(lines) == 2  # each cycle once, however many people are on it
    expect(lines, path, 4, 39, "superior 形成循环", "甲 → 乙 → 甲")
    expect(lines, path, 6, 37, "deputy 形成循环", "丙 → 丁 → 戊 → 丙")


def test_deputy_pair_is_not_a_cycle(capsys):
    # valid_small.yaml has 甲 and 乙 standing in for each other: normal practice
    assert main(["check", str(CATALOGS / "valid_small.yaml")]) == 0
    capsys.readouterr()


def test_unknown_holiday_name(capsys):
    path, lines = check(capsys, "unknown_holiday.yaml")
    assert len(lines) == 2
    expect(lines, path, 8, 20, "未知节日 “圣诞节”", "unknown holiday", "春节")  # in holiday_checks
    expect(lines, path, 11, 12, "未知节日 “情人节”")  # in the holidays: override


def test_callout_with_an_empty_chain(capsys):
    path, lines = check(capsys, "callout_empty_chain.yaml")
    assert len(lines) == 1
    expect(lines, path, 8, 15, "叫应策略无法升级", "empty chain")


def test_callout_to_office_without_office_people(capsys):
    path, lines = check(capsys, "callout_no_office.yaml")
    assert len(lines) == 1
    expect(lines, path, 9, 15, "升级到 office 但没有安委办人员", "nobody has office: true")


def test_callout_to_superior_when_a_recipient_has_none(capsys):
    path, lines = check(capsys, "callout_no_superior.yaml")
    assert len(lines) == 1
    expect(lines, path, 9, 15, "叫应策略无法升级：甲 没有 superior", "cannot escalate for 甲")


def test_bad_durations_times_and_dates(capsys):
    path, lines = check(capsys, "bad_values.yaml")
    assert len(lines) == 6
    expect(lines, path, 2, 14, "remind_at", "HH:MM", "'9点'")
    expect(lines, path, 3, 13, "due_time", "HH:MM", "'25:00'")
    expect(lines, path, 7, 35, "from", "YYYY-MM-DD", "'2026-02-30'")  # looks like a date, is none
    expect(lines, path, 11, 10, "due", "YYYY-MM-DD", "'31/03/2026'")
    expect(lines, path, 16, 17, "ack_within", "30s, 3m, 1h", "'3 minutes'")
    expect(lines, path, 18, 15, "office")


def test_unknown_fields(capsys):
    path, lines = check(capsys, "unknown_fields.yaml")
    expect(lines, path, 4, 29, "person: 未知字段 'offce'", "office")
    expect(lines, path, 9, 11, "who: 未知字段 'role'", "roles")
    expect(lines, path, 10, 5, "duty: 未知字段 'frequncy'", "frequency")
    expect(lines, path, 15, 31, "frequency: 未知字段 'atleast'", "at_least")  # would silently mean 1


def test_several_problems_are_reported_at_once(capsys):
    path, lines = check(capsys, "many_problems.yaml")
    assert len(lines) == 5
    expect(lines, path, 4, 39, "superior: 未知人员 “无名氏”")
    expect(lines, path, 9, 11, "未知角色 “领导”")
    expect(lines, path, 10, 16, "“每月看情况”")
    expect(lines, path, 11, 5, "重复的职责")
    expect(lines, path, 19, 16, "未知节日 “万圣节”")
    numbers = [tuple(map(int, x[len(path) + 1:].split(":")[:2])) for x in lines]
    assert numbers == sorted(numbers)  # in file order


def test_the_example_passes_with_a_summary(capsys):
    assert main(["check", str(EXAMPLE), "--year", "2026"]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert f"{EXAMPLE}: OK" in out
    assert "人员 people: 14 (安委办 office: 2)" in out
    assert "职责 duties: 23 (定期 scheduled: 10, 无频次 unscheduled: 13)" in out
    assert "任务 tasks: 23   节前检查 holiday checks: 1" in out
    assert "2026 年实例 instances: 246   调度任务 scheduler jobs: 272" in out


def test_check_as_a_real_command_without_traceback(tmp_path):
    exe = Path(sys.executable).with_name("dutybot")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot"]
    bad = subprocess.run([*cmd, "check", str(CATALOGS / "many_problems.yaml")], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "many_problems.yaml:9:11: 未知角色 “领导”" in bad.stderr


def test_missing_file(capsys, tmp_path):
    assert main(["check", str(tmp_path / "nope.yaml")]) == 1
    _, err = capsys.readouterr()
    assert "找不到文件 / file not found" in err and "Traceback" not in err


@pytest.mark.parametrize("device", ["/dev/full", "/dev/zero"])
def test_a_file_that_never_ends_is_refused_not_read_to_the_end(capsys, device):
    """bench/fuzz.py found `--duties /dev/full invite ,` filling 24 GB of memory until the OOM killer came."""
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    with pytest.raises(SystemExit) as stop:  # the CLI stops on a catalogue it cannot load
        main(["--duties", device, "invite", "x"])
    assert stop.value.code == 1
    _, err = capsys.readouterr()
    assert "文件过大" in err and "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# Mistakes that once gave a traceback or were silently accepted
# ---------------------------------------------------------------------------------------------
BASE = "roles: {r: r}\npeople:\n  - {name: 甲, roles: [r]}\n"


def problems(text: str) -> list[str]:
    with pytest.raises(CatalogError) as e:
        load_catalog_text(text, "f.yaml")
    return [str(p) for p in e.value.problems]


def test_unknown_timezone():
    assert problems("timezone: Mars/Phobos\n" + BASE) == [
        "f.yaml:1:11: 未知时区 “Mars/Phobos” / unknown timezone; e.g. Asia/Shanghai"]


def test_two_people_on_one_telegram_account():
    found = problems(BASE + "  - {name: 乙, roles: [r], telegram_id: 5}\n  - {name: 丙, roles: [r], telegram_id: 5}\n")
    assert len(found) == 1 and found[0].startswith("f.yaml:5:40: 重复的Telegram id “5”")


def test_spread_into_more_parts_than_days():
    found = problems(BASE + "duties:\n  - {id: d, title: t, who: [r], frequency: 每周8次, spread: true}\n")
    assert len(found) == 1 and found[0].startswith("f.yaml:5:58: spread: 8 次多于周期的天数")
    # 7 parts of a week are fine: one a day
    load_catalog_text(BASE + "duties:\n  - {id: d, title: t, who: [r], frequency: 每周7次, spread: true}\n")


def test_unknown_field_in_a_holiday_override():
    found = problems(BASE + "holidays:\n  - {name: 春节, from: 2027-02-06, too: 2027-02-12}\n")
    assert found == [f for f in found if "未知字段 'too'" in f] and len(found) == 1


def test_unknown_yaml_tag():
    found = problems(BASE + "timezone: !shanghai x\n")
    assert len(found) == 1 and found[0].startswith("f.yaml:4:11: YAML 错误")
    # a standard tag on a value it cannot build (PyYAML raises IndexError on an empty !!int)
    found = problems(BASE + "defaults: {late_days: !!int }\n")
    assert len(found) == 1 and found[0].startswith("f.yaml:4:23: late_days 应为不小于 0 的整数")


def test_empty_file():
    assert problems("") == ["f.yaml:1:1: 文件为空 / the file is empty"]
    assert problems("- a\n- b\n")[0].startswith("f.yaml:1:1: duties.yaml 应为映射")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_edit_of_a_valid_file_gives_a_traceback(data):
    """Random cuts, duplications and insertions in a valid catalogue: loading either works or
    raises CatalogError with positioned problems, and a loaded catalogue schedules a year."""
    text = (CATALOGS / "valid_small.yaml").read_text(encoding="utf-8")
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 30)))
        junk = data.draw(st.sampled_from(["", ":", "- ", "[", "]", "{", "}", "\n", "  ", "'", "&a", "*a", "!!int ",
                                          "2026-13-01", "每月0次", "null", "0", "-1", "yes", "25:61", "x: y"]))
        text = text[:i] + junk + text[j:] if data.draw(st.booleans()) else text[:i] + text[i:j] * 2 + text[j:]
    try:
        catalog = load_catalog_text(text, "f.yaml")
    except CatalogError as e:
        assert e.problems
        for p in e.problems:
            assert str(p).startswith("f.yaml:") and p.line >= 1 and p.col >= 1 and p.message
        return
    from datetime import date

    list(Schedule(catalog).expand(date(2026, 1, 1), date(2027, 1, 1)))


def test_example_loads_and_copies_keep_their_positions(tmp_path):
    # a copy of the example with one typo points at the typo's line, whatever the file is called
    text = EXAMPLE.read_text(encoding="utf-8")
    line = next(n for n, x in enumerate(text.splitlines(), 1) if "frequency: 每季度1次" in x)
    bad = tmp_path / "copy.yaml"
    bad.write_text(text.replace("frequency: 每季度1次", "frequency: 每季度一回", 1), encoding="utf-8")
    with pytest.raises(CatalogError) as e:
        load_catalog(bad)
    assert [(p.path, p.line, p.col) for p in e.value.problems] == [(str(bad), line, 16)]
    shutil.copy(EXAMPLE, tmp_path / "ok.yaml")
    assert load_catalog(tmp_path / "ok.yaml").path == str(tmp_path / "ok.yaml")


def test_assessment_settings_reach_the_ranking_policy():
    from bot.services.assessment import RankingPolicy, Step, policy_from

    text = (CATALOGS / "valid_small.yaml").read_text(encoding="utf-8")
    assert policy_from(load_catalog_text(text)) == RankingPolicy()  # seed 003's rules by default
    custom = load_catalog_text(text + "assessment:\n  bottom: 1\n  top: 0\n  units: [安全部, 办公室]\n"
                                      "  steps:\n    - {after: 2, action: 约谈, by: 主要负责人}\n")
    policy = policy_from(custom)
    assert (policy.bottom, policy.top, policy.units) == (1, 0, ("安全部", "办公室"))
    assert policy.steps == (Step(2, "约谈", "主要负责人"),)


def test_assessment_with_an_unknown_role_or_unit(capsys):
    path, lines = check(capsys, "assessment_bad.yaml")
    n = len((CATALOGS / "valid_small.yaml").read_text(encoding="utf-8").splitlines())
    expect(lines, path, n + 3, 16, "未知单位 “财务部”")
    expect(lines, path, n + 6, 34, "未知角色 “书记”")
    assert len(lines) == 2


def test_phones_and_channel_steps_are_validated(capsys):
    path, lines = check(capsys, "callout_phones.yaml")
    assert len(lines) == 4, lines
    expect(lines, path, 4, 36, "电话号码格式不对", "bad phone number")
    expect(lines, path, 6, 49, "电话号码格式不对")
    expect(lines, path, 10, 15, "未知升级对象 “fax”", "voice or sms")
    expect(lines, path, 13, 15, "只有 voice/sms，没有人", "reaches nobody else")


def test_phone_numbers_are_normalised_and_channel_steps_kept():
    catalog = load_catalog_text(
        'roles: {负责人: 负责人}\npeople:\n  - {name: 甲, roles: [负责人], phone: "+86 138 0013 8000"}\n'
        '  - {name: 乙, roles: [负责人], superior: 甲, phone: "0571-88888888"}\n'
        "  - {name: 丙, office: true}\n"
        "callouts:\n  red:\n    who: [负责人]\n    escalate: [voice, voice, sms+superior+office]\n    redial_every: 90s\n",
        "phones.yaml")
    assert [p.phone for p in catalog.people] == ["13800138000", "057188888888", None]
    policy = next(iter(catalog.callouts.values()))
    assert policy.escalate == ("voice", "voice", "sms+superior+office") and policy.redial_every.total_seconds() == 90
