"""总览 and 未报告 in a real browser: the dashboard, filtering by unit, 催报 one row (the message
arrives in the sandbox chat), 催报 all, downloads opened with openpyxl, bad filters."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
import time_machine
from sqlmodel import select

from bot import clock
from bot.store.models import DutyInstance, Person

pytest_plugins = ["support.harness", "support.browser", "support.web_fixtures"]

SHOTS = "test-artifacts/screenshots"
DAYTIME = datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=8)))  # outside quiet hours


@pytest.fixture(autouse=True)
def daytime():
    """A weekday morning: nudges go out at once (at night they wait for the quiet hours to end)."""
    with time_machine.travel(DAYTIME, tick=True):
        yield


async def _world(web):
    """Instances of the windows open now; 王海涛 bound to a sandbox user."""
    h = web.harness
    tg = await h.bind("王海涛")
    await h.reconcile(clock.now())
    with h.session() as s:
        me = s.get(Person, web.person_id("王海涛"))
        open_now = s.exec(select(DutyInstance).where(DutyInstance.person_id == me.id,
                                                     DutyInstance.status == "open")).all()
    assert open_now, "the example catalogue has open duties for 王海涛 now"
    return tg, me


async def test_dashboard(web, page):
    await _world(web)
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/")
    await page.get_by_role("heading", name="总览").wait_for()
    await page.get_by_text("总体完成率（").wait_for()
    assert await page.get_by_role("img", name="各单位完成情况").count() == 1
    assert await page.get_by_role("img", name="近 12 个月完成率").count() == 1
    await page.screenshot(path=f"{SHOTS}/web-overview.png", full_page=True)


async def test_filter_by_unit_and_nudge_one_row(web, page):
    tg, me = await _world(web)
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/overdue")
    await page.get_by_role("heading", name="未报告").wait_for()
    with web.harness.session() as s:
        unit_name = s.get(Person, me.id).unit_id
    await page.get_by_label("单位").select_option(unit_name)
    await page.get_by_role("button", name="筛选", exact=True).click()
    await page.wait_for_url("**unit=*")
    names = await page.locator("tbody td[data-label='姓名']").all_inner_texts()
    assert names and "王海涛" in names
    with web.harness.session() as s:
        same_unit = {p.name for p in s.exec(select(Person).where(Person.unit_id == me.unit_id))}
    assert set(names) <= same_unit
    await page.screenshot(path=f"{SHOTS}/web-overdue.png", full_page=True)
    since = await web.harness.cursor()
    button = page.get_by_role("button", name="催报 王海涛").first
    await button.click()
    await page.get_by_text("已催报").first.wait_for()
    message = await web.harness.wait_for_message(tg, since=since)
    assert message["text"].startswith("【安委办督办】")
    await page.reload()
    await page.get_by_text("已催报（已送达）").first.wait_for()


async def test_nudge_all_filtered(web, page):
    tg, me = await _world(web)
    await web.sign_in(page, "孙丽")
    with web.harness.session() as s:
        unit = s.get(Person, me.id).unit_id
    await page.goto(web.url + f"/overdue?unit={unit}")
    since = await web.harness.cursor()
    await page.get_by_role("button", name="催报全部筛选结果").click()
    await page.get_by_role("status").wait_for()
    assert "已催报" in await page.get_by_role("status").inner_text()
    await web.harness.wait_for_message(tg, since=since)


async def test_download_xlsx_and_csv(web, page, tmp_path):
    await _world(web)
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/overdue?status=all")
    total = await page.locator("tbody tr").count()
    async with page.expect_download() as info:
        await page.get_by_role("link", name="下载 Excel").click()
    download = await info.value
    path = tmp_path / download.suggested_filename
    await download.save_as(path)
    assert download.suggested_filename.startswith("未报告_") and download.suggested_filename.endswith(".xlsx")
    ws = openpyxl.load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("单位", "姓名", "职责")
    assert len(rows) - 1 >= total and len(rows) > 1
    async with page.expect_download() as info:
        await page.get_by_role("link", name="下载 CSV").click()
    text = Path(await (await info.value).path()).read_text(encoding="utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[0][0] == "单位"


async def test_bad_filters_say_which_value(web, page):
    await web.sign_in(page, "孙丽")
    for query, expected in [("unit=nowhere", "单位“nowhere”不存在"), ("period=2026-13", "期间“2026-13”无法识别"),
                            ("status=lost", "状态“lost”不存在"), ("kind=x", "类别“x”不存在"), ("page=-1", "页码")]:
        response = await page.goto(web.url + "/overdue?" + query)
        assert response.status == 400, query
        assert expected in await page.content(), query


async def test_prints_cleanly_and_fits_a_phone(web, page):
    await _world(web)
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/overdue")
    await page.emulate_media(media="print")
    assert not await page.get_by_role("navigation", name="主导航").is_visible()
    assert not await page.get_by_role("button", name="筛选", exact=True).is_visible()
    assert await page.locator("tbody tr").first.is_visible()
    await page.screenshot(path=f"{SHOTS}/web-overdue-print.png", full_page=True)
    await page.emulate_media(media="screen")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(web.url + f"/people/{web.person_id('王海涛')}")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, "no sideways scrolling on a phone"
    await page.screenshot(path=f"{SHOTS}/web-person-phone.png", full_page=True)


async def test_pager_links_read_by_keyset(web_all):
    """The pager's links name the row the next (previous) page follows (precedes); following them
    walks the whole list once, in order, on SQLite and PostgreSQL; a bad anchor is refused."""
    import html
    import re

    import aiohttp

    from bot.services import overdue, signin

    h = web_all.harness
    await h.reconcile(clock.now())
    with h.session() as s:
        token = signin.create_link(s, web_all.person_id("孙丽"), clock.now(), via="test")
        session_id = signin.redeem(s, token, clock.now()).session_id
        f = overdue.Filter(period="2026", status="all", sort="unit", desc=True)
        whole = [str(r.instance_id) for r in overdue.page(s, f, clock.now(), h.ctx.settings.zone, per_page=100_000).rows]
    assert len(whole) > 50  # more than one page
    seen: list[str] = []
    async with aiohttp.ClientSession(cookies={"dutybot_session": session_id}) as http:
        path = "/overdue?period=2026&status=all&sort=unit&desc=1"
        async with http.get(web_all.url + path) as r:  # 末页: the list's last rows, read from the end
            last = html.unescape(re.search(r'href="([^"]*)" rel="last"', await r.text())[1])
        async with http.get(web_all.url + last) as r:
            body = await r.text()
        assert re.findall(r'<tr data-instance="(\d+)"', body) == whole[(len(whole) - 1) // 50 * 50:]
        first = html.unescape(re.search(r'href="([^"]*)" rel="first"', body)[1])
        async with http.get(web_all.url + first) as r:
            assert re.findall(r'<tr data-instance="(\d+)"', await r.text()) == whole[:50]
        while path:
            async with http.get(web_all.url + path) as r:
                assert r.status == 200
                body = await r.text()
            seen += re.findall(r'<tr data-instance="(\d+)"', body)
            following = re.search(r'href="(/overdue\?[^"]*after=[^"]*)"', body)
            path = html.unescape(following[1]) if following else None
            if path:
                assert "page=" in path
        back = re.search(r'href="(/overdue\?[^"]*before=[^"]*)"', body)
        async with http.get(web_all.url + "/overdue?period=2026&status=all&after=x1") as r:
            assert r.status == 400
    assert seen == whole
    assert back is not None
