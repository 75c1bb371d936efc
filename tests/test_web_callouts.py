"""/callouts in a real browser: issue a warning from the form (with a photo), watch its board, a
recipient presses 收到 in the sandbox chat and the open board shows it without a reload; 解除."""

from __future__ import annotations

import io

from PIL import Image
from sqlmodel import select

from bot.store.models import Callout, CalloutTarget

pytest_plugins = ["support.harness", "support.browser", "support.web_fixtures"]

SHOTS = "test-artifacts/screenshots"


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 90, 200)).save(out, "PNG")
    return out.getvalue()


def ack_data(message: dict) -> str | None:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard") or []:
        for b in row:
            if b.get("callback_data", "").startswith("c:ack:"):
                return b["callback_data"]
    return None


async def test_issue_watch_ack_lift(web, page):
    h = web.harness
    leader = await h.bind("吴刚")
    office = await h.bind("孙丽")
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/callouts")
    await page.get_by_text("还没有发布过预警").wait_for()
    await page.get_by_role("radio", name="蓝色").check()
    await page.get_by_role("checkbox", name="规划建设部").check()
    await page.get_by_label("灾种").fill("暴雨")
    await page.get_by_label("预警内容").fill("今晚有大暴雨，请立即检查在建工地")
    await page.get_by_label("附图").set_input_files({"name": "雨情.png", "mimeType": "image/png", "buffer": _photo()})
    await page.screenshot(path=f"{SHOTS}/web-callouts.png", full_page=True)
    await page.get_by_role("button", name="发布并叫应").click()
    await page.wait_for_url("**/callouts/*")
    await page.get_by_role("heading", name="蓝色预警 · 暴雨").wait_for()
    row = page.get_by_role("row").filter(has_text="吴刚")
    await row.get_by_text("未收到").wait_for()
    with h.session() as s:
        callout = s.exec(select(Callout)).one()
        assert callout.issued_by == web.person_id("孙丽") and callout.attachment["kind"] == "photo"
        assert [t.person_id for t in s.exec(select(CalloutTarget))] == [web.person_id("吴刚")]
    await h.wait_for_message(office, contains="蓝色")  # the Telegram board in the issuer's chat
    await page.evaluate("window.__same_page = true")

    call = await h.wait_for_message(leader, contains="今晚有大暴雨")
    await h.users.press_button(leader, call["message_id"], ack_data(call))
    await row.get_by_text("✓").wait_for()
    assert await page.evaluate("window.__same_page === true")  # shown without a reload
    status = page.url + "/status"
    first = await (await page.request.get(status)).json()
    assert first["html"] and "✓" in first["html"] and not first["lifted"]
    again = await (await page.request.get(status + "?v=" + first["v"])).json()
    assert again == {"v": first["v"], "lifted": False}  # nothing moved: no board sent
    await page.get_by_text("1/1").first.wait_for()
    await page.screenshot(path=f"{SHOTS}/web-callout-board.png", full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=f"{SHOTS}/web-callout-board-phone.png", full_page=True)

    page.once("dialog", lambda d: d.accept())
    await page.get_by_role("button", name="解除预警").click()
    await page.get_by_role("heading", name="总结").wait_for()
    assert await page.get_by_role("button", name="解除预警").count() == 0
    await h.wait_for_message(leader, contains="解除")
    await page.goto(web.url + "/callouts")
    await page.get_by_role("cell", name="暴雨").wait_for()
    await page.get_by_text("已解除").wait_for()
    await page.screenshot(path=f"{SHOTS}/web-callouts-phone.png", full_page=True)


async def test_bad_warning_input_and_unknown_board(web, page):
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/callouts")
    await page.get_by_role("radio", name="红色").check()
    await page.get_by_label("预警内容").fill("测试")
    await page.get_by_label("附图").set_input_files({"name": "x.png", "mimeType": "image/png", "buffer": b"not an image"})
    await page.get_by_role("button", name="发布并叫应").click()
    await page.get_by_role("alert").filter(has_text="附图必须是").wait_for()
    assert await page.get_by_label("预警内容").input_value() == "测试"  # what was typed is kept
    with web.harness.session() as s:
        assert s.exec(select(Callout)).first() is None
    response = await page.goto(web.url + "/callouts/999")
    assert response.status == 404
    response = await page.goto(web.url + "/callouts/999/status")
    assert response.status == 404
