"""The office's other pages in a real browser: approve and revoke an exemption (the revocation is
chained and verify stays green), a 叫应 board that shows a 收到 without reloading, export jobs with
progress and a download opened by openpyxl, /verify, /duties, /calendar, the calendar feed, /rank."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest
import time_machine
from sqlmodel import select

from bot import clock
from bot.services import exemptions, verify
from bot.store.models import DutyInstance, ExemptionRevocation, LedgerEntry

pytest_plugins = ["support.harness", "support.browser", "support.web_fixtures"]

SHOTS = "test-artifacts/screenshots"
DAYTIME = datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=8)))


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 90, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def daytime():
    with time_machine.travel(DAYTIME, tick=True):
        yield


async def test_approve_and_revoke_an_exemption(web, page):
    h = web.harness
    tg = await h.bind("王海涛")
    await h.reconcile(clock.now())
    me = web.person_id("王海涛")
    with h.session() as s:
        ex = exemptions.submit(s, me, "出差", "赴省厅培训 11月25日-11月30日", clock.now())
        exemption_id = ex.id
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/exemptions")
    await page.get_by_text("赴省厅培训").wait_for()
    await page.screenshot(path=f"{SHOTS}/web-exemptions.png", full_page=True)
    since = await h.cursor()
    await page.get_by_role("button", name="批准 王海涛").click()
    await page.get_by_role("status").wait_for()
    assert "已批准" in await page.get_by_role("status").inner_text()
    await h.wait_for_message(tg, contains="已批准", since=since)
    with h.session() as s:
        excused = s.exec(select(DutyInstance).where(DutyInstance.person_id == me,
                                                    DutyInstance.status == "excused")).all()
    assert excused, "the approval excused the instances due in those days"
    # revoke: a reason is required
    since = await h.cursor()
    await page.get_by_label("撤销原因（必填） 王海涛").fill("培训取消，照常履职")
    await page.get_by_role("button", name="撤销 王海涛").click()
    await page.get_by_text("已撤销，相关职责恢复考核").wait_for()
    await page.get_by_text("培训取消，照常履职").wait_for()
    await h.wait_for_message(tg, contains="已被撤销", since=since)
    with h.session() as s:
        assert s.exec(select(DutyInstance).where(DutyInstance.person_id == me,
                                                 DutyInstance.status == "excused")).all() == []
        revocation = s.exec(select(ExemptionRevocation).where(ExemptionRevocation.exemption_id == exemption_id)).one()
        entry = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "revocation")).one()
        assert entry.ref_id == revocation.id and revocation.reinstated == [i.id for i in excused]
    result = verify.verify(h.store.engine, h.settings.data_dir)
    assert result.ok, result.problem


async def test_callout_board_shows_an_ack_without_reloading(web, page):
    h = web.harness
    tg = await h.bind("王海涛")
    await h.bind("孙丽")
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/callouts")
    await page.get_by_label("级别").select_option("red")
    await page.get_by_label("灾种").fill("暴雨")
    await page.get_by_label("内容").fill("红色暴雨预警，请立即组织巡查")
    await page.get_by_label("图片或文件").set_input_files({"name": "雷达图.png", "mimeType": "image/png",
                                                      "buffer": _png()})
    await page.get_by_role("button", name="发布并叫应").click()
    await page.wait_for_url(re.compile(r".*/callouts/\d+$"))
    acked = page.get_by_test_id("acked")
    before = await acked.inner_text()
    assert before.startswith("0/")
    await h.wait_for_message(tg, predicate=lambda m: m["method"] == "sendPhoto")  # the uploaded picture
    call = await h.wait_for_message(tg, contains="红色暴雨预警")
    data = next(b["callback_data"] for row in call["reply_markup"]["inline_keyboard"] for b in row
                if b.get("callback_data", "").startswith("c:ack:"))
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    await h.users.press_button(tg, call["message_id"], data)
    await page.get_by_text("收到（", exact=False).first.wait_for()
    assert (await acked.inner_text()).startswith("1/")
    assert navigations == [], "the board updated in place"
    await page.screenshot(path=f"{SHOTS}/web-callout-board.png", full_page=True)
    await page.get_by_label("总结").fill("雨情平稳，各单位已完成巡查")
    await page.get_by_role("button", name="解除预警").click()
    await page.get_by_text("总结：雨情平稳").wait_for()
    response = await page.goto(web.url + "/callouts/999")
    assert response.status == 404


async def test_export_job_progress_and_download(web, page, tmp_path):
    h = web.harness
    await h.reconcile(clock.now())
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/exports")
    await page.get_by_role("button", name="开始导出考核表").click()
    await page.wait_for_url(web.url + "/exports")
    link = page.get_by_role("link", name=re.compile("下载 履职记录_.*xlsx"))
    await link.wait_for(timeout=60_000)  # the list refreshes itself until the job is done
    await page.screenshot(path=f"{SHOTS}/web-exports.png", full_page=True)
    async with page.expect_download() as info:
        await link.click()
    download = await info.value
    path = tmp_path / download.suggested_filename
    await download.save_as(path)
    assert openpyxl.load_workbook(path, read_only=True).sheetnames[:2] == ["汇总", "明细"]
    # a person's archive
    await page.get_by_label("姓名").select_option(label="王海涛")
    await page.get_by_role("button", name="开始导出履职档案").click()
    await page.get_by_role("link", name=re.compile("下载 履职档案_王海涛.*zip")).wait_for(timeout=60_000)


async def test_verify_page_runs_again(web, page, monkeypatch):
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/verify")
    await page.get_by_text("还没有校验过").wait_for()
    await page.get_by_role("button", name="重新校验").click()
    await page.get_by_text("记录完整").wait_for(timeout=30_000)
    await page.get_by_text("网页工作台").wait_for()
    await page.screenshot(path=f"{SHOTS}/web-verify.png", full_page=True)
    # a `dutybot verify` on the server is the last result too
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", web.harness.database_url)
    monkeypatch.setenv("DATA_DIR", str(web.harness.settings.data_dir))
    assert main(["--duties", str(web.harness.duties_file), "verify"]) == 0
    await page.reload()
    await page.get_by_text("命令行 dutybot verify").wait_for()


async def test_duties_calendar_feed_and_rank(web, page):
    h = web.harness
    await h.reconcile(clock.now())
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/duties")
    await page.get_by_role("heading", name="职责清单").wait_for()
    await page.get_by_text("带队检查安全生产工作").first.wait_for()
    await page.screenshot(path=f"{SHOTS}/web-duties.png", full_page=True)
    await page.goto(web.url + "/calendar?month=2026-11")
    await page.get_by_role("heading", name="到期日历 · 2026年11月").wait_for()
    await page.get_by_text("带队检查安全生产工作").first.wait_for()
    await page.screenshot(path=f"{SHOTS}/web-calendar.png", full_page=True)
    response = await page.goto(web.url + "/calendar?month=2026-13")
    assert response.status == 400
    await page.goto(web.url + "/rank?quarter=2026-Q3")
    await page.get_by_role("heading", name=re.compile("季度考核排名")).wait_for()
    await page.screenshot(path=f"{SHOTS}/web-rank.png", full_page=True)
    response = await page.goto(web.url + "/rank?quarter=2026-Q9")
    assert response.status == 400
    # a leader's own calendar feed: made, fetched, revoked
    await page.context.clear_cookies()
    await web.sign_in(page, "王海涛")
    await page.get_by_role("button", name="生成订阅链接").click()
    url = await page.get_by_role("textbox", name="日历订阅").input_value()
    assert re.fullmatch(re.escape(web.url) + r"/ics/[A-Za-z0-9_-]+\.ics", url)
    async with web.http.get(url) as r:
        assert r.status == 200 and r.content_type == "text/calendar"
        body = await r.text()
    assert body.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in body and "BEGIN:VALARM" in body
    await page.goto(web.url + f"/people/{web.person_id('王海涛')}")
    await page.get_by_role("button", name="撤销订阅链接").click()
    await page.get_by_text("订阅链接已撤销").wait_for()
    async with web.http.get(url) as r:
        assert r.status == 404
