"""`dutybot warn` and `dutybot callout` against a real store (the running bot would deliver)."""

from __future__ import annotations

import json

import pytest
from conftest import make_database_url
from sqlmodel import select
from support.callout_fixtures import CATALOG, seed, small_catalog

from bot.cli import main
from bot.store import Store
from bot.store.models import Callout, CalloutTarget, Outbox


@pytest.fixture
def env(tmp_path, monkeypatch):
    """SQLite only: the command line is a thin shell over the services, whose tests cover PostgreSQL."""
    url, drop = make_database_url("sqlite", tmp_path)
    module_store = Store(url)
    seed(module_store, small_catalog())
    duties = tmp_path / "duties.yaml"
    duties.write_text(CATALOG, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", module_store.url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    yield module_store, duties
    module_store.dispose()
    drop()


def run(env, capsys, *args):
    store, duties = env
    code = main(["--duties", str(duties), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_warn_issues_and_lifts(env, capsys, tmp_path):
    store, _ = env
    picture = tmp_path / "雷达图.png"
    picture.write_bytes(b"\x89PNG fake")
    code, out, _ = run(env, capsys, "warn", "--level", "红", "--units", "甲部,乙部", "--text", "今夜特大暴雨",
                       "--hazard", "暴雨", "--file", str(picture), "--by", "孙安")
    assert code == 0 and "已发布叫应第 1 号" in out and "甲部长" in out
    with store.session() as s:
        c = s.exec(select(Callout)).one()
        assert c.units == ["甲部", "乙部"] and c.issued_by == "孙安" and c.board_chat_id == 106
        assert c.attachment["kind"] == "photo" and c.attachment["filename"] == "雷达图.png"
        assert (tmp_path / "data" / c.attachment["path"]).read_bytes() == b"\x89PNG fake"
        files = s.exec(select(Outbox).where(Outbox.dedupe_key.like("callout:1:%:file"))).all()
        assert files and files[0].payload["method"] == "sendPhoto" and files[0].payload["path"] == c.attachment["path"]
        names = {t.person_id for t in s.exec(select(CalloutTarget))}
    assert names == {"张主任", "李分管", "甲部长", "乙部长"}

    code, out, _ = run(env, capsys, "callout", "status", "1", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["id"] == 1 and data["counts"]["total"] == 4
    row = next(t for t in data["targets"] if t["person"] == "甲部长")
    assert row["calls_made"] == 1 and row["first_sent_at"].endswith("+08:00") and row["acked_at"] is None
    assert set(row) >= {"person", "first_sent_at", "calls_made", "acked_at", "escalated_to", "report_at"}

    code, out, _ = run(env, capsys, "callout", "status", "1")
    assert code == 0 and "应叫应 4" in out and "甲部长" in out

    code, out, _ = run(env, capsys, "callout", "list")
    assert code == 0 and "红色" in out and "0/4" in out

    code, out, _ = run(env, capsys, "warn", "--lift", "1")
    assert code == 0 and "已解除第 1 号" in out
    with store.session() as s:
        assert len(s.exec(select(Outbox).where(Outbox.dedupe_key.like("callout:1:%:lift"))).all()) == 4
    code, out, err = run(env, capsys, "warn", "--lift", "1")
    assert code == 1 and "已于" in err
    code, out, _ = run(env, capsys, "callout", "list")
    assert "没有正在进行" in out
    code, out, _ = run(env, capsys, "callout", "list", "--all", "--format", "json")
    assert json.loads(out)[0]["lifted_at"].endswith("+08:00")


MISTAKES = [
    (["warn", "--level", "purple", "--text", "x"], "未知预警级别"),
    (["warn", "--level", "red", "--text", " "], "不能为空"),
    (["warn", "--level", "red"], "不能为空"),
    (["warn", "--text", "x"], "--level"),
    (["warn", "--level", "red", "--text", "x", "--units", "外星部"], "未知单位"),
    (["warn", "--level", "red", "--text", "x", "--file", "/nonexistent.pdf"], "找不到文件"),
    (["warn", "--level", "red", "--text", "x", "--by", "甲部长"], "不是安委办"),
    (["warn", "--level", "red", "--text", "x", "--by", "无名氏"], "未知人员"),
    (["warn", "--lift", "42"], "找不到第 42 号"),
    (["callout", "status", "42"], "找不到第 42 号"),
]


def test_mistakes_are_refused_and_change_nothing(env, capsys):
    store, _ = env
    for args, message in MISTAKES:
        code, _, err = run(env, capsys, *args)
        assert code == 1 and message in err, (args, err)
    with store.session() as s:
        assert s.exec(select(Callout)).all() == [] and s.exec(select(Outbox)).all() == []


def test_board_goes_to_a_bound_office_member_when_no_issuer(env, capsys):
    store, _ = env
    code, _, _ = run(env, capsys, "warn", "--level", "yellow", "--text", "大风黄色预警")
    assert code == 0
    with store.session() as s:
        c = s.exec(select(Callout)).one()
        assert c.issued_by is None and c.board_chat_id == 106
