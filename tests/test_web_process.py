"""The console as the process serves it: `dutybot run` serves it on WEB_LISTEN next to the bot,
`dutybot web` alone, `dutybot web-link NAME` prints a link, and /web in Telegram sends one."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

import aiohttp
import pytest
from sqlmodel import select

from bot.cli import main
from bot.services import signin
from bot.store import Store
from bot.store.models import WebLink

pytest_plugins = ["support.harness", "support.browser", "support.web_fixtures"]
from support.harness import EXAMPLE, ROOT, eventually, limited_sandbox  # noqa: E402

CONSOLE = re.compile(r"web console: (http://127\.0\.0\.1:\d+)")


@pytest.fixture
def env(monkeypatch, tmp_path, sqlite_url):
    for name in ("BOT_TOKEN", "TELEGRAM_API_BASE_URL", "TELEGRAM_FILE_BASE_URL", "WEB_LISTEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WEB_BASE_URL", "https://duty.example.gov.cn/")
    monkeypatch.chdir(tmp_path)
    return sqlite_url


def test_web_link_prints_a_one_time_link(env, capsys):
    assert main(["--duties", str(EXAMPLE), "web-link", "孙丽"]) == 0
    captured = capsys.readouterr()
    link = re.fullmatch(r"https://duty\.example\.gov\.cn/login/([A-Za-z0-9_-]+)\n", captured.out)
    assert link, captured.out
    assert "10 分钟" in captured.err
    store = Store(env)
    with store.session() as s:
        row = s.exec(select(WebLink)).one()
    store.dispose()
    assert row.token_hash == signin.digest(link[1]) and (row.expires_at - row.created_at).total_seconds() == 600
    assert main(["--duties", str(EXAMPLE), "web-link", "不存在的人"]) == 1
    assert "不存在的人" in capsys.readouterr().err


async def test_run_serves_the_console(sqlite_url, tmp_path, bot_processes):
    async with limited_sandbox() as sandbox:
        proc = await bot_processes(sandbox, sqlite_url, tmp_path).start()
        url = await eventually(lambda: next((m[1] for line in proc.lines if (m := CONSOLE.search(line))), None),
                               10, "console url printed")
        async with aiohttp.ClientSession() as http, http.get(url + "/healthz") as r:
            assert r.status == 200 and (await r.json())["ok"] is True
        assert await proc.stop() == 0


async def test_web_serves_the_console_alone(sqlite_url, tmp_path):
    env = {"DATABASE_URL": sqlite_url, "DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT),
           "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--duties", str(EXAMPLE), "web",
                                                "--listen", "127.0.0.1:0", env=env, cwd=str(tmp_path),
                                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = None
        while url is None:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, "dutybot web exited"
            if m := CONSOLE.search(line):
                url = m[1]
        async with aiohttp.ClientSession() as http, http.get(url + "/healthz") as r:
            assert (await r.json())["ok"] is True
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 20) == 0


def test_a_running_process_keeps_its_start_up_objects_out_of_the_collectors_walk():
    """`run` and `web` freeze what exists once started (a full collection then walks only what was
    made since: bench/RESULTS.md) and unfreeze it when they stop."""
    import gc

    from bot.process import settled_heap

    assert gc.get_freeze_count() == 0
    with settled_heap():
        assert gc.get_freeze_count() > 1000
    assert gc.get_freeze_count() == 0


async def test_web_command_sends_a_link_that_signs_in(web, page):
    tg = await web.harness.bind("孙丽")
    await web.harness.users.send_text(tg, "/web")
    message = await web.harness.wait_for_message(tg, contains="/login/")
    link = re.search(r"http://\S+/login/\S+", message["text"])[0]
    assert link.startswith(web.url)
    await page.goto(link)
    await page.get_by_role("button", name="登录").click()
    await page.get_by_role("heading", name="总览").wait_for()
