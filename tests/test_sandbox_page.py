"""The sandbox's chat page in a real browser (Debian's Chromium through Playwright).

First against a bare sandbox and an unmodified PTB Bot (what the page draws from what a bot does:
formatting, keyboards, edits, deletions, files, the command menu; what it sends for a user), then
against the whole bot: a leader bound through the invite flow answers a reminder with a photo,
and an office member in a second page sees who has not reported."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from PIL import Image
from playwright.async_api import expect
from sqlmodel import select
from support.harness import Harness
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup
from telegram.constants import ParseMode

from bot.cli.sandbox_mode import OFFICE_GROUP_ID, CataloguePeople
from bot.sandbox.telegram.formatting import entities_to_html, parse_text
from bot.services import checkins
from bot.store.models import DutyInstance, Invite, Person
from bot.texts import checkins as CT
from bot.texts import common as T
from bot.texts import office as OT

pytest_plugins = ["support.sandbox_fixtures", "support.browser"]

USER = 4242


def jpeg(color=(40, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(buf, "JPEG")
    return buf.getvalue()


# --- the bot's formatting, made safe ---------------------------------------------------------------

def html(markup: str) -> str:
    return entities_to_html(*parse_text(markup, "HTML"))


def test_html_keeps_telegrams_tags_and_escapes_the_rest():
    assert html("<b>粗 <i>斜</i></b> &lt;script&gt;") == "<b>粗 <i>斜</i></b> &lt;script&gt;"
    assert html('<a href="https://a.cn/?q=1&amp;r=2">链接</a>') == (
        '<a href="https://a.cn/?q=1&amp;r=2" target="_blank" rel="noopener noreferrer">链接</a>')
    assert html('<pre><code class="language-py">x = "&lt;1&gt;"</code></pre>') == (
        '<pre><code class="language-py">x = "&lt;1&gt;"</code></pre>')


def test_html_drops_unsafe_links_and_survives_odd_entities():
    assert html('<a href="javascript:alert(1)">点我</a>') == "点我"
    # Overlapping entities (possible with explicit `entities`) are closed and reopened, not mis-nested.
    assert entities_to_html("abcdef", [{"type": "bold", "offset": 0, "length": 4},
                                       {"type": "italic", "offset": 2, "length": 4}]) == "<b>ab<i>cd</i></b><i>ef</i>"
    # Offsets count UTF-16 units: an emoji is two.
    assert entities_to_html("😀粗", [{"type": "bold", "offset": 2, "length": 1}]) == "😀<b>粗</b>"
    assert entities_to_html("x<y", [{"type": "bold", "offset": 5, "length": 9}, {"offset": "?"}]) == "x&lt;y"
    assert entities_to_html("/help 看看", [{"type": "bot_command", "offset": 0, "length": 5}]) == (
        '<a href="#" class="tg-command" data-command="/help">/help</a> 看看')


# --- the page against a bare sandbox and PTB ------------------------------------------------------

class Updates:
    """What the page sent, read the way the bot reads it: getUpdates long polls."""

    def __init__(self, bot) -> None:
        self.bot = bot
        self.offset = 0

    async def next(self, kind: str, timeout: float = 10.0):
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                pytest.fail(f"no {kind} update within {timeout}s")
            for update in await self.bot.get_updates(offset=self.offset, timeout=min(left, 5)):
                self.offset = update.update_id + 1
                if getattr(update, kind) is not None:
                    return update


async def test_page_draws_what_a_bot_does_and_sends_what_a_user_does(sandbox, sandbox_client, sandbox_bot, page):
    bot = sandbox_bot
    updates = Updates(bot)
    await sandbox_client.create_users([{"id": USER, "first_name": "测试员"}])
    await bot.set_my_commands([("help", "使用说明"), ("mine", "我的待办")])
    await bot.send_message(USER, '<b>粗体</b> <i>斜体</i> &lt;script&gt;alert(1)&lt;/script&gt; '
                                 '<a href="https://example.com/x">链接</a>', parse_mode=ParseMode.HTML,
                           reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="ok:1")]]))
    doomed = await bot.send_message(USER, "这条消息会被删除")
    edited = await bot.send_message(USER, "这条消息会被修改")
    await bot.send_document(USER, b"hello", filename="报告.txt")
    await bot.send_photo(USER, jpeg(), caption="现场照片")

    await page.goto(sandbox.page_url)
    await page.get_by_role("button", name=re.compile("^测试员")).click()
    log = page.get_by_role("log", name="聊天记录")
    await expect(log.get_by_text("粗体", exact=True)).to_have_js_property("tagName", "B")
    await expect(log.get_by_text("斜体", exact=True)).to_have_js_property("tagName", "I")
    await expect(log.get_by_text("<script>alert(1)</script>", exact=False)).to_be_visible()
    await expect(log.get_by_role("link", name="链接")).to_have_attribute("href", "https://example.com/x")
    await expect(log.get_by_role("img", name="图片")).to_be_visible()
    download = log.get_by_role("link", name=re.compile("报告.txt"))
    response = await page.request.get(sandbox.url + await download.get_attribute("href"))
    assert await response.body() == b"hello"

    # An inline button sends a callback query; the bot's answer shows as a toast.
    await log.get_by_role("button", name="确认").click()
    query = (await updates.next("callback_query")).callback_query
    assert query.data == "ok:1" and query.from_user.id == USER
    await query.answer("已确认")
    await expect(page.get_by_role("alert")).to_have_text("已确认")

    # New messages, edits and deletions appear by themselves.
    await bot.edit_message_text("修改后的内容", chat_id=USER, message_id=edited.message_id)
    changed = page.get_by_role("article").filter(has_text="修改后的内容")
    await expect(changed).to_contain_text("已编辑")
    await expect(page.get_by_role("article").filter(has_text="这条消息会被修改")).to_have_count(0)
    await bot.delete_message(USER, doomed.message_id)
    await expect(log.get_by_text("这条消息会被删除")).to_have_count(0)

    # Typing: the textbox and 发送, then Enter; a reply quotes the message.
    box = page.get_by_role("textbox", name="输入消息")
    await box.fill("你好")
    await page.get_by_role("button", name="发送").click()
    assert (await updates.next("message")).message.text == "你好"
    await changed.hover()
    await changed.get_by_role("button", name="回复").click()
    await box.fill("收到")
    await box.press("Enter")
    message = (await updates.next("message")).message
    assert (message.text, message.reply_to_message.message_id) == ("收到", edited.message_id)
    await expect(log.get_by_role("article").filter(has_text="收到")).to_contain_text("修改后的内容")

    # The command menu is the bot's setMyCommands; a command is sent when chosen.
    await page.get_by_role("button", name="命令菜单").click()
    await page.get_by_role("menuitem", name=re.compile("mine")).click()
    assert (await updates.next("message")).message.text == "/mine"

    # A reply keyboard stays under the input until used (one-time) and sends its button's text.
    await bot.send_message(USER, "请选择", reply_markup=ReplyKeyboardMarkup([["是", "否"]], one_time_keyboard=True))
    keyboard = page.get_by_role("group", name="机器人键盘")
    await keyboard.get_by_role("button", name="是").click()
    assert (await updates.next("message")).message.text == "是"
    await expect(keyboard).to_be_hidden()

    # Files from the computer: several photos are one album, a document is a document.
    await page.get_by_label("选择图片").set_input_files([
        {"name": "a.jpg", "mimeType": "image/jpeg", "buffer": jpeg((200, 0, 0))},
        {"name": "b.jpg", "mimeType": "image/jpeg", "buffer": jpeg((0, 200, 0))},
    ])
    first, second = (await updates.next("message")).message, (await updates.next("message")).message
    assert first.photo and second.photo and first.media_group_id == second.media_group_id is not None
    await page.get_by_label("选择文件").set_input_files(
        {"name": "整改通知.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 test"})
    document = (await updates.next("message")).message.document
    assert document.file_name == "整改通知.pdf"
    await expect(log.get_by_role("link", name=re.compile("整改通知.pdf"))).to_be_visible()


async def test_page_lists_known_chats_without_people_and_refuses_strangers(sandbox, sandbox_client, page):
    await sandbox_client.create_users([{"id": 77, "first_name": "甲"}])
    await page.goto(sandbox.page_url)
    await expect(page.get_by_role("button", name=re.compile("^甲"))).to_be_visible()
    await expect(page.get_by_role("timer", name="机器人时钟")).to_be_hidden()
    response = await page.request.post(f"{sandbox.url}/_chat/open", data={"person_id": 78})
    assert response.status == 404


# --- the whole bot ---------------------------------------------------------------------------------

MORNING = datetime(2026, 12, 24, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # eight duties of 王海涛 fall due


async def morning(h) -> None:
    """The catalogue's 24 December 09:00 jobs, as the scheduler runs them: one digest per person."""
    await h.reconcile(MORNING - timedelta(minutes=1))  # first start: opens the windows, sends nothing
    for job in h.job_ids("remind"):
        await h.runtime.reminders.run_job(job, MORNING, compose=False)
    await h.runtime.reminders.compose(MORNING + timedelta(minutes=1))


def done_count(h, name: str) -> int:
    with h.session() as s:
        rows = s.exec(select(DutyInstance).where(DutyInstance.person_id == name)).all()
        return sum(1 for r in rows if r.status in ("done", "late"))


@pytest.fixture
async def whole_bot(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setattr(checkins, "ALBUM_QUIET", timedelta(milliseconds=300))
    async with Harness(sqlite_url, tmp_path) as h:
        h.sandbox.page.people = CataloguePeople(h.store, h.catalog)
        h.sandbox.world.add_group(OFFICE_GROUP_ID, T.SANDBOX_OFFICE_GROUP)
        yield h


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/dutybot.db"


async def test_a_leader_answers_a_reminder_with_a_photo_and_the_office_sees_who_has_not_reported(
        whole_bot, browser_context):
    h = whole_bot
    page = await browser_context.new_page()
    await page.goto(h.sandbox.page_url)
    await page.get_by_role("button", name=re.compile("^王海涛")).click()
    log = page.get_by_role("log", name="聊天记录")
    await expect(log.get_by_role("article").filter(has_text="账号已绑定")).to_be_visible()
    with h.session() as s:  # bound by the bot's own invite flow
        person = s.get(Person, "王海涛")
        invite = s.exec(select(Invite).where(Invite.person_id == "王海涛")).one()
        assert person.telegram_id is not None and invite.used_by == person.telegram_id

    box = page.get_by_role("textbox", name="输入消息")
    await box.fill("/help")
    await box.press("Enter")
    await expect(log.get_by_role("article").filter(has_text=T.COMMAND_HELP).last).to_contain_text("/history")

    # The morning's reminders arrive by themselves; a button asks for the report.
    await morning(h)
    reminder = page.locator(".row").filter(has=page.get_by_role("article").filter(has_text="今日待办"))
    await reminder.get_by_role("button", name="报告 1", exact=True).click()
    await expect(page.get_by_role("alert")).to_have_text(CT.ASKED_TOAST)
    await expect(log.get_by_role("article").filter(has_text="的履职情况")).to_be_visible()
    await page.get_by_role("button", name="附件").click()
    await page.get_by_role("menuitem", name=re.compile("测试照片")).click()
    confirmed = log.get_by_role("article").filter(has_text="已完成")
    await expect(confirmed).to_contain_text("照片/文件 1 份")
    assert done_count(h, "王海涛") == 1

    # Photos without a reminder: the bot asks which duty; the answer edits its question in place.
    await page.get_by_label("选择图片").set_input_files([
        {"name": "a.jpg", "mimeType": "image/jpeg", "buffer": jpeg((200, 0, 0))},
        {"name": "b.jpg", "mimeType": "image/jpeg", "buffer": jpeg((0, 200, 0))},
    ])
    question = page.get_by_role("article").filter(has_text="收到您发送的照片")
    await expect(question).to_be_visible()
    question_id = await question.get_attribute("data-message-id")
    await page.locator(".row").filter(has=question).get_by_role("group", name="消息按钮").get_by_role("button").first.click()
    answered = log.locator(f'[data-message-id="{question_id}"]')
    await expect(answered).to_contain_text("已提交到")
    await expect(answered).to_contain_text("已编辑")
    assert done_count(h, "王海涛") == 2

    # The office, in a second page: who has not reported.
    office = await browser_context.new_page()
    await office.goto(h.sandbox.page_url)
    await office.get_by_role("button", name=re.compile("^孙丽")).click()
    office_log = office.get_by_role("log", name="聊天记录")
    await expect(office_log.get_by_role("article").filter(has_text="账号已绑定")).to_be_visible()
    await office.get_by_role("textbox", name="输入消息").fill("/overdue")
    await office.get_by_role("button", name="发送").click()
    overdue = office_log.get_by_role("article").filter(has_text=OT.OVERDUE_HEAD.split("】")[0] + "】")
    await expect(overdue).to_contain_text("赵明")
    # A chat with messages this page has not shown gets a badge in the list.
    await page.get_by_role("textbox", name="输入消息").fill("/mine")
    await page.get_by_role("textbox", name="输入消息").press("Enter")
    await expect(office.get_by_role("button", name=re.compile("^王海涛"))).to_contain_text(re.compile(r"\d+"))
    # The office member's menu has the office commands.
    await office.get_by_role("button", name="命令菜单").click()
    await expect(office.get_by_role("menuitem", name=re.compile("overdue"))).to_be_visible()
    # The leader's page is still the leader's.
    await expect(page.get_by_role("textbox", name="输入消息")).to_be_visible()
    assert "王海涛" in await page.title() and "孙丽" in await office.title()

    # The group chat is there too, with the same person speaking.
    await office.get_by_role("button", name=re.compile("^" + T.SANDBOX_OFFICE_GROUP)).click()
    await office.get_by_role("textbox", name="输入消息").fill("/overdue")
    await office.get_by_role("textbox", name="输入消息").press("Enter")
    await expect(office_log.get_by_role("article").filter(has_text="赵明")).to_be_visible()
    group = h.sandbox.world.chats[OFFICE_GROUP_ID]
    assert any(r.from_bot for r in group.messages.values())


async def test_the_clock_panel_shows_the_shifted_process_clock(sandbox, page):
    sandbox.page.show_clock = True  # `dutybot run --clock-start`: the sandbox shares the bot's clock
    with time_machine.travel(datetime(2026, 12, 24, 8, 59, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        await page.goto(sandbox.page_url)
        panel = page.get_by_role("timer", name="机器人时钟")
        await expect(panel).to_contain_text("12月24日")
        await expect(panel).to_contain_text(re.compile(r"0?8:59:|09:00:"))


async def test_opening_a_person_twice_binds_them_once(whole_bot, browser_context):
    h = whole_bot
    first, second = await browser_context.new_page(), await browser_context.new_page()
    for p in (first, second):
        await p.goto(h.sandbox.page_url)
    await asyncio.gather(*(p.get_by_role("button", name=re.compile("^李卫东")).click() for p in (first, second)))
    for p in (first, second):
        await expect(p.get_by_role("log").get_by_role("article").filter(has_text="账号已绑定")).to_have_count(1)
    with h.session() as s:
        assert len(s.exec(select(Invite).where(Invite.person_id == "李卫东")).all()) == 1
