"""`dutybot invite` and `dutybot run`'s refusals, in-process."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.cli import main
from bot.services import invites
from bot.store import Store
from bot.store.models import Invite

pytest_plugins = ["support.harness"]
from support.harness import EXAMPLE  # noqa: E402


@pytest.fixture
def env(monkeypatch, tmp_path, sqlite_url):
    for name in ("BOT_TOKEN", "TELEGRAM_API_BASE_URL", "TELEGRAM_FILE_BASE_URL", "BOT_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    return sqlite_url


def test_invite_prints_a_single_use_link_and_stores_only_the_hash(env, capsys):
    assert main(["--duties", str(EXAMPLE), "invite", "王海涛", "--bot-username", "@park_duty_bot"]) == 0
    out = capsys.readouterr().out
    link = re.search(r"https://t\.me/park_duty_bot\?start=([A-Za-z0-9_-]+)", out)
    assert link, out
    token = link[1]
    assert len(token) <= 64
    store = Store(env)
    with store.session() as s:
        invite = s.exec(select(Invite)).one()
    store.dispose()
    assert invite.person_id == "王海涛" and invite.token_hash == invites.token_hash(token)
    assert invite.expires_at - invite.created_at == timedelta(days=7)


def test_invite_refuses_unknown_people_and_missing_username(env, capsys, monkeypatch):
    assert main(["--duties", str(EXAMPLE), "invite", "不存在的人", "--bot-username", "x_bot"]) == 1
    assert "不存在的人" in capsys.readouterr().err
    assert main(["--duties", str(EXAMPLE), "invite", "王海涛"]) == 1
    assert "--bot-username" in capsys.readouterr().err
    monkeypatch.setenv("BOT_USERNAME", "env_bot")
    assert main(["--duties", str(EXAMPLE), "invite", "王海涛"]) == 0
    assert "https://t.me/env_bot?start=" in capsys.readouterr().out


def test_clock_start_is_refused_against_the_real_telegram(env, capsys, monkeypatch):
    monkeypatch.setenv("BOT_TOKEN", "123456:real-looking-token")
    assert main(["--duties", str(EXAMPLE), "run", "--clock-start", "2026-11-30T08:59:50+08:00"]) == 1
    assert "real Telegram" in capsys.readouterr().err
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")
    assert main(["--duties", str(EXAMPLE), "run", "--clock-start", "11/30 08:59"]) == 1
    assert "时间格式错误" in capsys.readouterr().err


def test_clock_start_without_an_offset_is_local_time():
    from bot.cli.run import parse_clock

    assert parse_clock("2026-12-24T08:59").isoformat() == "2026-12-24T08:59:00+08:00"
    assert parse_clock("2026-12-24T08:59:00+00:00").isoformat() == "2026-12-24T08:59:00+00:00"
