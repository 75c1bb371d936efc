"""/duties, /calendar and the leader's own pages (/my/duties, /my/calendar) in a real browser; the
secret calendar feed (/ics/{token}.ics) fetched without a session, revoked, renewed."""

from __future__ import annotations

from datetime import date

from icalendar import Calendar
from sqlmodel import select

from bot import clock
from bot.services import signin
from bot.store.models import CalendarFeed

pytest_plugins = ["support.harness", "support.browser", "support.web_fixtures"]

SHOTS = "test-artifacts/screenshots"


def next_month(today: date) -> tuple[int, int]:
    return (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)


async def test_catalogue_and_calendar(web, page):
    catalog = web.harness.catalog
    duty = next(d for d in catalog.duties if d.scheduled and d.source.clause)
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/duties")
    await page.get_by_role("heading", name="职责清单").wait_for()
    row = page.get_by_role("row").filter(has_text=duty.id).first
    await row.get_by_text(duty.frequency.phrase or "", exact=False).first.wait_for()
    assert duty.source.clause[:20] in await row.inner_text()
    await page.screenshot(path=f"{SHOTS}/web-duties.png", full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=f"{SHOTS}/web-duties-phone.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})
    # one person's items only
    await page.get_by_label("适用于").select_option(label="吴刚")
    await page.wait_for_url("**/duties?person=*")
    shown = await page.get_by_role("row").count()
    assert 1 < shown < len(catalog.duties)

    await page.goto(web.url + "/calendar")
    today = clock.now().astimezone(web.harness.settings.zone).date()
    await page.get_by_role("heading", name=f"{today.year} 年 {today.month} 月").wait_for()
    await page.screenshot(path=f"{SHOTS}/web-calendar.png", full_page=True)
    await page.get_by_role("link", name="下月 ›").click()
    year, month = next_month(today)
    await page.get_by_role("heading", name=f"{year} 年 {month} 月").wait_for()
    assert f"month={year}-{month:02d}" in page.url
    assert await page.locator("table.month .due").count() > 0
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=f"{SHOTS}/web-calendar-phone.png", full_page=True)
    for bad, message in (("/calendar?month=2026-13", "月份“2026-13”无效"), ("/duties?person=nobody", "人员“nobody”不存在")):
        response = await page.goto(web.url + bad)
        assert response.status == 400 and message in await page.content()


async def test_leader_pages_and_calendar_feed(web, page):
    await web.sign_in(page, "吴刚")
    await page.get_by_role("link", name="我的职责").click()
    await page.get_by_role("heading", name="我的职责").wait_for()
    mine = {d.id for d in web.harness.catalog.duties if web.person_id("吴刚") in
            {p.id for p in web.harness.catalog.members(d.who)}}
    others = [d for d in web.harness.catalog.duties if d.id not in mine]
    content = await page.content()
    assert all(d in content for d in mine) and not any(f">{d.title}<" in content for d in others[:5])
    await page.screenshot(path=f"{SHOTS}/web-my-duties.png", full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=f"{SHOTS}/web-my-duties-phone.png", full_page=True)
    for office_page in ("/duties", "/calendar", "/rank", "/callouts", "/exemptions"):
        response = await page.goto(web.url + office_page)
        assert response.status == 403, office_page

    await page.goto(web.url + "/my/calendar")
    await page.get_by_role("button", name="生成订阅地址").click()
    url = await page.get_by_role("textbox", name="我的日历订阅").input_value()
    assert url.startswith(web.url + "/ics/") and url.endswith(".ics")
    await page.screenshot(path=f"{SHOTS}/web-my-calendar.png", full_page=True)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    with web.harness.session() as s:
        hashes = [f.token_hash for f in s.exec(select(CalendarFeed))]
    assert hashes == [signin.digest(token)]  # stored hashed
    async with web.http.get(url) as r:  # no cookies: phone calendars subscribe without a session
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/calendar")
        cal = Calendar.from_ical(await r.read())
    events = [e for e in cal.walk("VEVENT")]
    assert events and all(str(e["uid"]).endswith(f".{web.person_id('吴刚')}@dutybot") for e in events)
    assert "吴刚" in str(cal["x-wr-calname"])
    # the page no longer shows the URL, only that one exists and when it was used
    await page.goto(web.url + "/my/calendar")
    await page.get_by_text("最近使用").wait_for()
    assert token not in await page.content()
    # renew: the old URL stops working
    await page.get_by_role("button", name="撤销并重新生成").click()
    renewed = await page.get_by_role("textbox", name="我的日历订阅").input_value()
    assert renewed != url
    async with web.http.get(url) as r:
        assert r.status == 404
    async with web.http.get(renewed) as r:
        assert r.status == 200
    page.once("dialog", lambda d: d.accept())
    await page.get_by_role("button", name="撤销订阅地址").click()
    await page.get_by_role("status").filter(has_text="订阅地址已撤销").wait_for()
    async with web.http.get(renewed) as r:
        assert r.status == 404 and "已撤销" in await r.text()
    await page.get_by_role("button", name="生成订阅地址").wait_for()
