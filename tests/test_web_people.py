"""履职档案 and who sees what: a leader sees their own record and evidence, gets 403 on every office
page and on another person's evidence; the office sees everyone; the zip downloads."""

from __future__ import annotations

import re
import zipfile

from aiohttp import web as aioweb
from sqlmodel import select
from support.checkin_world import jpeg

from bot import clock
from bot.services import checkins, evidence
from bot.store.models import AuditLog, DutyInstance

pytest_plugins = ["support.harness", "support.browser", "support.web_fixtures"]

SHOTS = "test-artifacts/screenshots"


def office_pages(app, method: str = "GET") -> list[str]:
    """Every route of the console that is office-only, path parameters filled with 1."""
    out = []
    for route in app.router.routes():
        if route.method != method or isinstance(route.resource, aioweb.StaticResource):
            continue
        if getattr(route.handler, "__access__", "office") != "office":
            continue
        out.append(re.sub(r"\{[^}]+\}", "1", route.resource.canonical))
    return out



def check_in_with_photo(web, name: str, text: str) -> int:
    """A check-in with one stored photo for `name`'s first open instance; returns the evidence id."""
    h = web.harness
    pid = web.person_id(name)
    now = clock.now()
    with h.session() as s:
        inst = s.exec(select(DutyInstance).where(DutyInstance.person_id == pid, DutyInstance.status == "open")
                      .order_by(DutyInstance.id)).first()
        done = checkins.record(s, instance=inst, person_id=pid, chat_id=1, text=text, attachments=[], at=now,
                               update_id=None)
        sha, rel = evidence.store_bytes(h.settings.data_dir, jpeg((200, 60, 40), (640, 480)))
        ev = evidence.add_evidence(s, done.checkin.id, {"file_id": f"f-{pid}", "mime": "image/jpeg"}, sha, rel, 100,
                                   evidence.ImageInfo(640, 480), now)
        return ev.id


async def test_leader_sees_own_record_and_nothing_else(web, page):
    await web.harness.reconcile(clock.now())
    mine = check_in_with_photo(web, "王海涛", "已组织专题研究")
    theirs = check_in_with_photo(web, "赵明", "赵明的报告")
    await web.sign_in(page, "王海涛")
    me = web.person_id("王海涛")
    assert page.url.endswith(f"/people/{me}") or "/people/" in page.url
    await page.get_by_role("heading", name="王海涛 · 履职档案").wait_for()
    await page.get_by_text("已组织专题研究").wait_for()
    thumb = page.get_by_role("img", name="附件 1")
    await thumb.wait_for()
    assert await thumb.evaluate("img => img.naturalWidth") == 320
    await page.screenshot(path=f"{SHOTS}/web-person.png", full_page=True)
    async with page.context.expect_page() as opened:
        await thumb.click()
    original = await opened.value
    await original.wait_for_load_state()
    assert await original.evaluate("document.images[0].naturalWidth") == 640
    # the office's pages: 403 with a plain message, each audited
    pages = office_pages(web.server.app)
    assert {"/", "/overdue", "/overdue.xlsx"} <= set(pages)
    for path in pages:
        response = await page.goto(web.url + path)
        assert response.status == 403, path
        assert "仅限安委办" in await page.content(), path
    # another person's record and evidence
    other = web.person_id("赵明")
    for path in (f"/people/{other}", f"/evidence/{theirs}", f"/evidence/{theirs}/thumb", f"/people/{other}/archive.zip"):
        response = await page.goto(web.url + path)
        assert response.status == 403, path
    # the office's forms, posted with the leader's own valid CSRF token: refused too
    posts = office_pages(web.server.app, "POST")
    assert {"/overdue/nudge", "/exports", "/verify"} <= set(posts)
    csrf = await page.locator("input[name=csrf]").first.input_value()
    for path in posts:
        response = await page.request.post(web.url + path, form={"csrf": csrf})
        assert response.status == 403, path
    response = await page.goto(web.url + f"/evidence/{mine}")
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    response = await page.goto(web.url + "/evidence/999999")
    assert response.status == 404
    with web.harness.session() as s:
        refused = [a.detail["path"] for a in s.exec(select(AuditLog).where(AuditLog.action == "web.refused"))]
    assert set(pages) <= set(refused) and f"/evidence/{theirs}" in refused


async def test_office_sees_anyone_and_downloads_the_zip(web, page, tmp_path):
    await web.harness.reconcile(clock.now())
    check_in_with_photo(web, "赵明", "赵明的报告")
    await web.sign_in(page, "孙丽")
    other = web.person_id("赵明")
    await page.goto(web.url + f"/people/{other}")
    await page.get_by_text("赵明的报告").wait_for()
    async with page.expect_download() as info:
        await page.get_by_role("link", name="下载履职档案").click()
    download = await info.value
    path = tmp_path / download.suggested_filename
    await download.save_as(path)
    names = zipfile.ZipFile(path).namelist()
    assert any(n.endswith(".xlsx") for n in names) and any(n.endswith(".jpg") for n in names)
    response = await page.goto(web.url + "/people/nobody")
    assert response.status == 404
    response = await page.goto(web.url + f"/people/{other}?year=abc")
    assert response.status == 400 and "年度“abc”无效" in await page.content()
