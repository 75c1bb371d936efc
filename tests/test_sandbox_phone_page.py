"""The chat page's 电话/短信 panel: the provider sandbox's calls and SMS to the person the page plays,
and what they do with a ringing call. In a real browser through both sandboxes and the whole bot
(a silent leader's phone rings on the page; 接听并按1 is 收到 by voice), then the provider sandbox's
ringing calls and the page's phone endpoints on their own."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import expect
from sqlmodel import select

from bot import clock
from bot.cli.sandbox_mode import CataloguePeople
from bot.sandbox.voice import VoiceSandbox
from bot.services import callouts
from bot.store.models import CalloutContact, CalloutTarget

pytest_plugins = ["support.harness", "support.sandbox_fixtures", "support.browser"]
from conftest import make_database_url  # noqa: E402
from support.phone_fixtures import CATALOG, KEY, PHONES, SECRET, close_world, phone_world  # noqa: E402
from support.sandbox_fixtures import eventually  # noqa: E402

# One voice step at a time: no redial while the page's call is still ringing.
SHOTS = "test-artifacts/screenshots"
SLOW_REDIAL = CATALOG.replace("redial_every: 2s", "redial_every: 60s")


@pytest.fixture
async def world(tmp_path):
    url, drop = make_database_url("sqlite", tmp_path)
    h = await phone_world(url, tmp_path, catalog_yaml=SLOW_REDIAL, voice_default="ring")
    h.sandbox.page.people = CataloguePeople(h.store, h.catalog)  # as `dutybot run` wires them
    h.sandbox.page.voice_url = h.voice.url
    yield h
    await close_world(h)
    drop()


def issue(h) -> int:
    with h.session() as s:
        return callouts.issue(s, h.catalog, level="red", text="今晚有特大暴雨，请立即落实防范措施", units=["乙部"],
                              hazard="暴雨", issued_by="孙安", board_chat_id=h.tg["孙安"], now=clock.now()).id


def target(h, cid: int, person: str) -> CalloutTarget | None:
    with h.session() as s:
        return s.exec(select(CalloutTarget).where(CalloutTarget.callout_id == cid,
                                                  CalloutTarget.person_id == person)).first()


async def test_a_silent_leaders_phone_rings_on_the_page_and_pressing_1_is_收到_by_voice(world, browser_context):
    h = world
    page = await browser_context.new_page()
    await page.goto(h.sandbox.page_url)
    await page.get_by_role("button", name=re.compile("^乙部长")).click()
    panel = page.get_by_role("complementary", name="电话/短信")
    await expect(panel).to_contain_text(PHONES["乙部长"])
    await expect(panel).to_contain_text("还没有来电或短信")

    cid = issue(h)  # 乙部长 stays silent on Telegram: after the re-call, the policy phones him
    log = page.get_by_role("log", name="聊天记录")
    await expect(log.get_by_role("article").filter(has_text="特大暴雨").first).to_be_visible()
    ringing = panel.get_by_role("group", name=re.compile("来电"))
    await expect(ringing).to_be_visible(timeout=20_000)
    await expect(ringing).to_contain_text("057100000000")
    await expect(page.get_by_role("alert")).to_contain_text("来电")
    assert h.voice.ringing(PHONES["乙部长"]) and target(h, cid, "乙部长").acked_at is None
    await page.screenshot(path=f"{SHOTS}/sandbox-phone-ringing.png", full_page=True)

    await ringing.get_by_role("button", name="接听并按1").click()
    t = await eventually(lambda: (x := target(h, cid, "乙部长")) and x.acked_at and x, what="收到 by phone")
    assert t.acked_channel == "voice"
    with h.session() as s:
        contact = s.exec(select(CalloutContact).where(CalloutContact.target_id == t.id)).one()
    assert contact.channel == "voice" and contact.state == "acked"
    await expect(ringing).to_have_count(0)
    await expect(page.get_by_role("alert")).to_be_hidden()  # the call's toast goes with the call
    history = panel.get_by_role("list", name="来电和短信记录")
    await expect(history).to_contain_text("已接听并按 1")
    await expect(history).to_contain_text("听到：【红色预警 · 暴雨】今晚有特大暴雨")
    # The Telegram call is edited as for a tap, and the report form follows.
    await expect(log.get_by_role("article").filter(has_text="已收到").first).to_be_visible()
    assert [c["behaviour"] for c in h.voice.calls_to(PHONES["乙部长"])] == ["ack"]
    await page.screenshot(path=f"{SHOTS}/sandbox-phone-answered.png", full_page=True)


async def test_the_page_decides_only_its_own_ringing_calls_and_says_when_nothing_can_ring(world):
    h = world
    cid = issue(h)
    call = await h.voice.wait_for(lambda: h.voice.ringing(PHONES["乙部长"]), timeout=20)
    decide = {"person_id": "乙部长", "call_id": call[0]["call_id"]}
    async with httpx.AsyncClient(base_url=h.sandbox.url) as http:
        wrong = await http.post("/_chat/phone/decide", json={**decide, "person_id": "甲部长", "behaviour": "ack"})
        assert wrong.status_code == 404 and h.voice.ringing(PHONES["乙部长"])
        bad = await http.post("/_chat/phone/decide", json={**decide, "behaviour": "hang_up"})
        assert bad.status_code == 400 and h.voice.ringing(PHONES["乙部长"])
        done = await http.post("/_chat/phone/decide", json={**decide, "behaviour": "busy"})
        assert done.status_code == 200 and done.json()["result"]["call"]["behaviour"] == "busy"
        again = await http.post("/_chat/phone/decide", json={**decide, "behaviour": "ack"})
        assert again.status_code == 409 and "已经结束" in again.json()["description"]
        contact = await eventually(lambda: (c := _contacts(h, cid, "乙部长")) and c[0].state == "busy" and c[0],
                                   what="the busy receipt applied")
        assert contact.channel == "voice" and target(h, cid, "乙部长").acked_at is None

        none = (await http.get("/_chat/phone", params={"person_id": "nobody"})).json()["result"]
        assert none == {"available": False, "reason": "no_phone"}
        h.sandbox.page.voice_url = None  # real provider keys: no provider sandbox to show
        off = (await http.get("/_chat/phone", params={"person_id": "乙部长"})).json()["result"]
        assert off == {"available": False, "reason": "no_voice"}


def _contacts(h, cid: int, person: str) -> list[CalloutContact]:
    with h.session() as s:
        return list(s.exec(select(CalloutContact).where(CalloutContact.callout_id == cid,
                                                        CalloutContact.person_id == person)))


async def test_the_superiors_page_shows_the_sms_naming_the_silent_one_with_its_收到_link(tmp_path, browser_context):
    url, drop = make_database_url("sqlite", tmp_path)
    h = await phone_world(url, tmp_path, voice_default="ring")  # redial 2 s: voice, voice, then sms+superior
    try:
        h.sandbox.page.people = CataloguePeople(h.store, h.catalog)
        h.sandbox.page.voice_url = h.voice.url
        h.voice.set_number(PHONES["乙部长"], "no_answer")  # his phone: nobody picks up
        page = await browser_context.new_page()
        await page.goto(h.sandbox.page_url)
        await page.get_by_role("button", name=re.compile("^李分管")).click()
        panel = page.get_by_role("complementary", name="电话/短信")
        await expect(panel).to_contain_text(PHONES["李分管"])
        issue(h)
        sms = panel.get_by_role("list", name="来电和短信记录").get_by_role("listitem").filter(has_text="短信")
        await expect(sms).to_contain_text("未应答：乙部长", timeout=30_000)
        await expect(sms.get_by_role("link", name=re.compile("收到"))).to_have_attribute(
            "href", re.compile(r"^http://phones\.test/c/"))
        await expect(panel.get_by_role("group", name=re.compile("来电"))).to_have_count(0)
        await page.screenshot(path=f"{SHOTS}/sandbox-phone-sms.png", full_page=True)
    finally:
        await close_world(h)
        drop()


async def test_a_ringing_call_nobody_decides_ends_unanswered_with_its_receipt():
    got: list[list[dict]] = []
    from aiohttp import web

    async def receipts(request):
        got.append(await request.json())
        return web.json_response({"code": 0})

    app = web.Application()
    app.router.add_post("/r", receipts)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    voice = VoiceSandbox(keys={KEY: SECRET}, default="ring", ring_seconds=0.3)
    await voice.start()
    voice.receipt_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/r"
    try:
        from bot.phone.aliyun import AliyunClient, AliyunConfig

        client = AliyunClient(AliyunConfig(access_key_id=KEY, access_key_secret=SECRET,
                                           voice_endpoint=voice.voice_endpoint, sms_endpoint=voice.sms_endpoint,
                                           caller_number="01000000000", call_template="TTS_CALL"))
        call_id = await client.ivr_call("13900000001", {"text": "测试"}, "7")
        async with httpx.AsyncClient(base_url=voice.url) as http:
            first = (await http.get("/_sandbox/phone", params={"number": "13900000001"})).json()
            assert [c["state"] for c in first["calls"]] == ["ringing"] and got == []
            # a long poll answers when the call ends by itself
            later = (await http.get("/_sandbox/phone", params={"number": "13900000001", "after": first["version"],
                                                               "wait": 10})).json()
        assert later["calls"][0]["call_id"] == call_id
        assert (later["calls"][0]["behaviour"], later["calls"][0]["decided_by"]) == ("no_answer", "timeout")
        await voice.wait_for(lambda: got)
        assert got[0][0]["call_id"] == call_id and got[0][0]["status_code"] == "200003"
        with pytest.raises(ValueError, match="no longer ringing"):
            voice.decide(call_id, "ack")
        with pytest.raises(KeyError):
            voice.decide("nope", "ack")
    finally:
        await voice.stop()
        await runner.cleanup()
        await asyncio.sleep(0)
