"""The Telegram Bot API sandbox, driven through unmodified python-telegram-bot over real HTTP."""

from __future__ import annotations

import asyncio
import io
import json
import math
import subprocess
import sys
import time

import httpx
import pytest
from aiohttp import web
from PIL import Image
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    MessageEntity,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from bot.sandbox.telegram import Limits, Sandbox, SandboxClient, SandboxError, SyncSandboxClient
from bot.sandbox.telegram.formatting import detect_entities, parse_text
from bot.sandbox.telegram.limits import RateLimiter

pytest_plugins = ["support.sandbox_fixtures"]  # the sandbox, sandbox_client and sandbox_bot fixtures
from support.sandbox_fixtures import TOKEN, eventually, make_bot  # noqa: E402

USER = 1001
# PTB 22 warns about RetryAfter.retry_after becoming a timedelta whenever a 429 is formatted.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def jpeg(width: int = 1000, height: int = 700, color: tuple = (200, 40, 40)) -> bytes:
    img = Image.new("RGB", (width, height), color)
    for x in range(0, width, 50):  # some detail so sizes differ
        img.putpixel((x, x % height), (0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, format="JPEG")
    return buf.getvalue()


async def one_update(bot, **kwargs) -> Update:
    updates = await bot.get_updates(timeout=5, **kwargs)
    assert len(updates) == 1, updates
    return updates[0]


# --- basics -----------------------------------------------------------------------------------

async def test_get_me(sandbox_bot):
    me = await sandbox_bot.get_me()
    assert me.is_bot and me.username == "dutybot_sandbox_bot"
    assert sandbox_bot.username == "dutybot_sandbox_bot"


async def test_send_message_is_seen_by_client(sandbox_bot, sandbox_client):
    await sandbox_client.send_text(USER, "hello", first_name="张三")
    sent = await sandbox_bot.send_message(USER, "<b>欢迎</b> & co 😀", parse_mode="HTML")
    assert sent.text == "欢迎 & co 😀"
    assert sent.entities == (MessageEntity("bold", 0, 2),)
    msg = await sandbox_client.wait_for(chat_id=USER, contains="欢迎")
    assert msg["message_id"] == sent.message_id == 2  # ids grow per chat: the user's message was 1
    assert msg["raw_text"] == "<b>欢迎</b> & co 😀" and msg["parse_mode"] == "HTML"
    assert (await sandbox_client.stats())["requests"]["sendMessage"] == 1


async def test_unknown_chat_blocked_user_and_bad_markup_are_refused(sandbox_bot, sandbox_client):
    with pytest.raises(BadRequest, match="[Cc]hat not found"):
        await sandbox_bot.send_message(4242, "hi")
    await sandbox_client.allow_unknown_chats(True)
    await sandbox_bot.send_message(4242, "hi")
    await sandbox_client.create_users([5001, 5002])
    await sandbox_client.block(5001)
    with pytest.raises(Forbidden, match="blocked"):
        await sandbox_bot.send_message(5001, "hi")
    with pytest.raises(BadRequest, match="parse entities"):
        await sandbox_bot.send_message(5002, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(BadRequest, match="reserved"):
        await sandbox_bot.send_message(5002, "1.5", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match="too long"):
        await sandbox_bot.send_message(5002, "字" * 4097)
    assert [m["chat_id"] for m in await sandbox_client.messages()] == [4242]


async def test_unknown_method_token_check_and_body_encodings(sandbox, request_backend):
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{sandbox.base_url}{TOKEN}/fooBar")
        assert r.status_code == 404
        assert r.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        await SandboxClient(sandbox.control_url).create_users([7])
        r = await http.post(f"{sandbox.base_url}{TOKEN}/sendMessage", json={"chat_id": 7, "text": "json"})
        assert r.json()["result"]["text"] == "json"
        r = await http.get(f"{sandbox.base_url}{TOKEN}/getChat", params={"chat_id": 7})
        assert r.json()["result"]["type"] == "private"
    strict = Sandbox(token=TOKEN)
    await strict.start()
    try:
        async with make_bot(strict, token="999:wrong", backend=request_backend) as _:
            pytest.fail("a wrong token must be refused")
    except InvalidToken:
        pass
    finally:
        await strict.stop()


# --- updates ----------------------------------------------------------------------------------

async def test_command_reaches_get_updates_and_offset_confirms(sandbox_bot, sandbox_client):
    uid = await sandbox_client.send_text(USER, "/start tok", first_name="李四", username="lisi")
    update = await one_update(sandbox_bot)
    assert update.update_id == uid
    assert update.message.text == "/start tok"
    assert update.message.entities == (MessageEntity("bot_command", 0, 6),)
    assert update.effective_user.first_name == "李四" and update.effective_chat.id == USER
    again = await sandbox_bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [uid]  # not confirmed yet
    assert await sandbox_bot.get_updates(offset=uid + 1, timeout=0) == ()
    await sandbox_client.send_text(USER, "/status@dutybot_sandbox_bot now")
    update = await one_update(sandbox_bot, offset=uid + 1)
    assert update.message.entities[0].type == "bot_command" and update.message.entities[0].length == 27


async def test_long_poll_returns_when_an_update_arrives(sandbox, sandbox_bot, sandbox_client):
    started = time.monotonic()
    poll = asyncio.create_task(sandbox_bot.get_updates(timeout=20))
    await eventually(lambda: sandbox.requests["getUpdates"] == 1, what="long poll open")
    await sandbox_client.send_text(USER, "ping")
    updates = await asyncio.wait_for(poll, 5)
    assert [u.message.text for u in updates] == ["ping"]
    assert time.monotonic() - started < 10  # answered by the update, not by the 20 s timeout


async def test_newer_poll_terminates_older_one(sandbox, sandbox_bot, request_backend):
    first = asyncio.create_task(sandbox_bot.get_updates(timeout=10))
    await eventually(lambda: sandbox.requests["getUpdates"] == 1, what="first poll open")
    other = make_bot(sandbox, backend=request_backend)
    async with other:
        second = asyncio.create_task(other.get_updates(timeout=0))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, 5)
        assert await second == ()


async def test_redeliver_gives_the_same_update_again(sandbox_bot, sandbox_client):
    uid = await sandbox_client.send_text(USER, "once")
    assert (await one_update(sandbox_bot)).update_id == uid
    assert await sandbox_bot.get_updates(offset=uid + 1, timeout=0) == ()
    await sandbox_client.redeliver(uid)
    again = await one_update(sandbox_bot, offset=uid + 1)
    assert again.update_id == uid and again.message.text == "once"
    assert await sandbox_bot.get_updates(offset=uid + 1, timeout=0) == ()


async def test_application_command_handler_matches(sandbox, sandbox_client):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"args={' '.join(context.args)}", do_quote=True)

    app = ApplicationBuilder().token(TOKEN).base_url(sandbox.base_url).base_file_url(sandbox.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=5)
        try:
            await sandbox_client.send_text(USER, "/start abc")
            await sandbox_client.send_text(USER + 1, "/start@dutybot_sandbox_bot xyz")
            first = await sandbox_client.wait_for(chat_id=USER, contains="args=abc")
            second = await sandbox_client.wait_for(chat_id=USER + 1, contains="args=xyz")
            assert first["reply_to_message_id"] == 1 and second["reply_to_message_id"] == 1
        finally:
            await app.updater.stop()
            await app.stop()


# --- files ------------------------------------------------------------------------------------

async def test_photo_roundtrip(sandbox_bot, sandbox_client):
    data = jpeg(1000, 700)
    await sandbox_client.send_photo(USER, data, caption="检查 #安全")
    message = (await one_update(sandbox_bot)).message
    assert message.caption == "检查 #安全" and message.caption_entities[0].type == "hashtag"
    assert len(message.photo) >= 3
    largest = message.photo[-1]
    assert (largest.width, largest.height) == (1000, 700)
    assert message.photo[0].width < largest.width
    file = await sandbox_bot.get_file(largest.file_id)
    assert bytes(await file.download_as_bytearray()) == data
    thumb = await (await sandbox_bot.get_file(message.photo[0].file_id)).download_as_bytearray()
    assert Image.open(io.BytesIO(bytes(thumb))).size == (message.photo[0].width, message.photo[0].height)


async def test_album_shares_media_group_id(sandbox_bot, sandbox_client):
    ids = await sandbox_client.send_album(USER, [jpeg(color=(i * 60, 0, 0)) for i in range(3)], caption="三张")
    updates = await sandbox_bot.get_updates(timeout=5)
    assert [u.update_id for u in updates] == ids
    groups = {u.message.media_group_id for u in updates}
    assert len(groups) == 1 and None not in groups
    assert [u.message.caption for u in updates] == ["三张", None, None]


async def test_bot_uploads_land_with_their_bytes(sandbox_bot, sandbox_client):
    await sandbox_client.create_users([USER])
    photo = jpeg(640, 480)
    sent = await sandbox_bot.send_photo(USER, photo=photo, caption="现场")
    xlsx = b"PK\x03\x04 fake workbook bytes"
    doc = await sandbox_bot.send_document(USER, document=xlsx, filename="考核.xlsx")
    album = await sandbox_bot.send_media_group(
        USER, [InputMediaPhoto(jpeg(color=(0, 90, 0)), caption="a"), InputMediaPhoto(jpeg(color=(0, 0, 90)))]
    )
    again = await sandbox_bot.send_photo(USER, photo=sent.photo[-1].file_id)  # by file_id
    msgs = await sandbox_client.messages(chat_id=USER)
    assert [m["method"] for m in msgs] == ["sendPhoto", "sendDocument", "sendMediaGroup", "sendMediaGroup",
                                           "sendPhoto"]
    assert await sandbox_client.get_file_bytes(msgs[0]["files"][0]["file_id"]) == photo
    assert msgs[0]["caption"] == "现场" and sent.photo[-1].width == 640
    assert doc.document.file_name == "考核.xlsx"
    assert doc.document.mime_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert await sandbox_client.get_file_bytes(msgs[1]["files"][0]["file_id"]) == xlsx
    assert len({m.media_group_id for m in album}) == 1 and album[0].caption == "a"
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    with pytest.raises(BadRequest, match="(?i)image_process_failed"):
        await sandbox_bot.send_photo(USER, photo=b"not an image")


async def test_get_file_refuses_files_over_20_mb(sandbox_bot, sandbox_client):
    await sandbox_client.send_document(USER, b"\0" * (20 * 1024 * 1024 + 1), "big.bin")
    message = (await one_update(sandbox_bot)).message
    assert message.document.file_size == 20 * 1024 * 1024 + 1
    with pytest.raises(BadRequest, match="(?i)file is too big"):
        await sandbox_bot.get_file(message.document.file_id)


# --- keyboards and edits ----------------------------------------------------------------------

async def test_inline_keyboard_press_and_answer(sandbox_bot, sandbox_client):
    await sandbox_client.create_users([USER])
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("收到", callback_data="ack:42")]])
    sent = await sandbox_bot.send_message(USER, "叫应：请确认", reply_markup=markup)
    with pytest.raises(SandboxError, match="no button"):
        await sandbox_client.press_button(USER, sent.message_id, "ack:43")
    qid = await sandbox_client.press_button(USER, sent.message_id, "ack:42")
    query = (await one_update(sandbox_bot)).callback_query
    assert query.id == qid and query.data == "ack:42"
    assert query.message.message_id == sent.message_id and query.from_user.id == USER
    assert await query.answer("已确认")
    assert (await sandbox_client.answered_callbacks())[0]["text"] == "已确认"
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await query.answer("twice")


async def test_edit_message_text_updates_state(sandbox_bot, sandbox_client):
    await sandbox_client.create_users([USER])
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    sent = await sandbox_bot.send_message(USER, "待确认", reply_markup=markup)
    edited = await sandbox_bot.edit_message_text("已确认 ✅", chat_id=USER, message_id=sent.message_id)
    assert edited.text == "已确认 ✅" and edited.reply_markup is None
    [msg] = await sandbox_client.messages(chat_id=USER)
    assert msg["text"] == "已确认 ✅" and msg["reply_markup"] is None
    assert msg["edits"][0]["old"]["text"] == "待确认" and msg["edits"][0]["method"] == "editMessageText"
    with pytest.raises(BadRequest, match="not modified"):
        await sandbox_bot.edit_message_text("已确认 ✅", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="not found"):
        await sandbox_bot.edit_message_text("x", chat_id=USER, message_id=999)
    assert await sandbox_bot.delete_message(USER, sent.message_id)
    assert (await sandbox_client.messages(chat_id=USER))[0]["deleted"]


async def test_waits_follow_new_and_edited_messages(sandbox, sandbox_bot, sandbox_client):
    await sandbox_client.create_users([USER, USER + 1, USER + 2])
    waiting = asyncio.create_task(sandbox_client.wait_for_messages(3, timeout=5))
    sent = [await sandbox_bot.send_message(u, f"第{i}条") for i, u in enumerate([USER, USER + 1, USER + 2])]
    assert [m["text"] for m in await waiting] == ["第0条", "第1条", "第2条"]
    edited = asyncio.create_task(sandbox_client.wait_for(lambda m: m["edits"], chat_id=USER + 1, timeout=5))
    await sandbox_bot.edit_message_text("改过", chat_id=USER + 1, message_id=sent[1].message_id)
    assert (await edited)["text"] == "改过"
    version = sandbox.world.version
    await sandbox_bot.edit_message_text("再改", chat_id=USER, message_id=sent[0].message_id)
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{sandbox.control_url}/messages", params={"changed_after": version})
    assert [m["text"] for m in r.json()["result"]["messages"]] == ["再改"]
    with pytest.raises(TimeoutError, match="再改"):
        await sandbox_client.wait_for(chat_id=USER, contains="never", timeout=0.2)


async def test_group_chat_messages(sandbox_bot, sandbox_client):
    await sandbox_client.create_group(-100500, "安全生产领导小组", members=[USER])
    await sandbox_client.send_text(USER, "/overdue@dutybot_sandbox_bot", chat_id=-100500)
    message = (await one_update(sandbox_bot)).message
    assert message.chat.type == "group" and message.chat.title == "安全生产领导小组"
    assert message.from_user.id == USER and message.entities[0].type == "bot_command"
    await sandbox_bot.send_message(-100500, "逾期：0")
    assert (await sandbox_client.wait_for(chat_id=-100500))["text"] == "逾期：0"


async def test_other_methods_answer_like_telegram(sandbox_bot, sandbox_client):
    await sandbox_client.send_photo(USER, jpeg(200, 100))
    user_photo = (await one_update(sandbox_bot)).message
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    photo = await sandbox_bot.send_photo(USER, user_photo.photo[-1].file_id, caption="旧", reply_markup=markup,
                                         reply_to_message_id=user_photo.message_id)
    assert photo.reply_to_message.message_id == user_photo.message_id
    edited = await sandbox_bot.edit_message_caption(chat_id=USER, message_id=photo.message_id, caption="新",
                                                    reply_markup=markup)
    assert edited.caption == "新" and edited.reply_markup == markup
    cleared = await sandbox_bot.edit_message_reply_markup(chat_id=USER, message_id=photo.message_id)
    assert cleared.reply_markup is None
    with pytest.raises(BadRequest, match="no text"):
        await sandbox_bot.edit_message_text("x", chat_id=USER, message_id=photo.message_id)
    voice = await sandbox_bot.send_voice(USER, voice=b"OggS voice", reply_markup=ReplyKeyboardMarkup([["确认"]]))
    assert voice.voice.file_size == 10 and voice.reply_markup is None  # reply keyboards are not echoed
    docs = await sandbox_bot.send_media_group(USER, [InputMediaDocument(b"a", filename="a.txt"),
                                                     InputMediaDocument(b"b", filename="b.txt")])
    assert [d.document.file_name for d in docs] == ["a.txt", "b.txt"]
    copied = await sandbox_bot.copy_message(USER, USER, photo.message_id)
    forwarded = await sandbox_bot.forward_message(USER, USER, user_photo.message_id)
    assert copied.message_id + 1 == forwarded.message_id and forwarded.forward_origin.sender_user.id == USER
    commands = [BotCommand("start", "开始"), BotCommand("status", "我的职责")]
    assert await sandbox_bot.set_my_commands(commands)
    assert await sandbox_bot.get_my_commands() == tuple(commands)
    assert await sandbox_bot.delete_my_commands() and await sandbox_bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await sandbox_bot.set_my_commands([BotCommand("Bad-Name", "x")])
    assert await sandbox_bot.send_chat_action(USER, "typing")
    chat = await sandbox_bot.get_chat(USER)
    assert chat.type == "private" and chat.id == USER
    assert (await sandbox_bot.get_webhook_info()).url == ""
    assert await sandbox_bot.log_out() and await sandbox_bot.close()
    methods = [m["method"] for m in await sandbox_client.messages()]
    assert methods == ["sendPhoto", "sendVoice", "sendMediaGroup", "sendMediaGroup", "copyMessage",
                       "forwardMessage"]
    assert (await sandbox_client.stats())["requests"]["sendChatAction"] == 1


# --- limits -----------------------------------------------------------------------------------

async def test_per_chat_limit_raises_retry_after(request_backend):
    now = [500.0]  # a frozen clock: both sends fall in the same second however slow the machine
    async with Sandbox(limits=Limits(), clock=lambda: now[0]) as sb, SandboxClient(sb.control_url) as client:
        await client.create_users([USER])
        async with make_bot(sb, backend=request_backend) as bot:
            await bot.send_message(USER, "one")
            now[0] += 0.4
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(USER, "two")
            assert "Retry in 1 second" in str(caught.value)
            now[0] += 0.6
            await bot.send_message(USER, "three")
        stats = await client.stats()
        assert stats["rate_limited"] == 1 and stats["rate_limited_by_chat"] == {USER: 1}
        assert stats["messages_accepted"] == 2 and stats["max_per_chat_per_sec"] == 1
        assert [m["text"] for m in await client.messages()] == ["one", "three"]


async def test_global_limit_of_30_per_second(sandbox, sandbox_client, request_backend):
    await sandbox_client.set_limits(Limits())
    users = list(range(2000, 2060))
    await sandbox_client.create_users(users)
    async with make_bot(sandbox, backend=request_backend) as bot:
        started = time.monotonic()
        results = await asyncio.gather(*(bot.send_message(u, "通知") for u in users), return_exceptions=True)
        elapsed = time.monotonic() - started
    refused = [r for r in results if isinstance(r, RetryAfter)]
    accepted = [r for r in results if not isinstance(r, Exception)]
    assert len(accepted) + len(refused) == len(users)
    assert len(accepted) <= 30 * (math.floor(elapsed) + 1) and refused
    stats = await sandbox_client.stats()
    assert stats["max_global_per_sec"] <= 30
    assert stats["rate_limited"] == len(refused) and stats["messages_accepted"] == len(accepted)
    times = sorted(m["sent_at"] for m in await sandbox_client.messages())
    assert all(sum(1 for t in times if s <= t < s + 1.0) <= 30 for s in times)


def test_rate_limiter_windows_with_a_fake_clock():
    now = [100.0]
    limiter = RateLimiter(Limits(), clock=lambda: now[0])
    assert all(limiter.try_acquire(-1 if i == 0 else i) is None for i in range(30))
    assert limiter.try_acquire(999) == 1  # 31st within the second
    now[0] += 0.999
    assert limiter.try_acquire(999) == 1  # a refusal counts nothing and still says at least 1
    now[0] += 0.002
    assert limiter.try_acquire(999) is None
    for _ in range(19):
        now[0] += 1.01
        assert limiter.try_acquire(-1) is None
    now[0] += 1.01
    # 20/min per group: the group's first message (at 100.0) frees its slot at 160.0
    assert limiter.try_acquire(-1) == math.ceil(160.0 - now[0]) == 39
    assert limiter.stats.rate_limited == 3 and limiter.stats.rate_limited_by_chat == {999: 2, -1: 1}
    assert limiter.stats.global_peak.peak == 30
    limiter.set_limits(Limits(global_per_sec=None, per_chat_per_sec=0.5, per_group_per_min=None))
    assert limiter.try_acquire(5) is None and limiter.try_acquire(5) == 2


# --- faults -----------------------------------------------------------------------------------

async def test_injected_500_raises_network_error_once(sandbox_bot, sandbox_client):
    await sandbox_client.create_users([USER])
    await sandbox_client.faults("sendMessage", status=500, count=1)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await sandbox_bot.send_message(USER, "x")
    await sandbox_bot.send_message(USER, "y")
    stats = await sandbox_client.stats()
    assert stats["faults_served"] == 1 and stats["messages_accepted"] == 1
    assert [m["text"] for m in await sandbox_client.messages()] == ["y"]


async def test_hang_makes_ptb_time_out(sandbox_bot, sandbox_client):
    await sandbox_client.create_users([USER])
    await sandbox_client.faults("sendMessage", hang=5, count=1)
    with pytest.raises(TimedOut):
        await sandbox_bot.send_message(USER, "slow", read_timeout=0.3)
    assert await sandbox_client.messages() == []


async def test_random_faults_are_reproducible(sandbox, sandbox_bot, sandbox_client):
    async def pattern() -> list[bool]:
        await sandbox_client.faults("getMe", rate=0.5, seed=7)
        outcome = []
        for _ in range(12):
            try:
                await sandbox_bot.get_me()
                outcome.append(True)
            except NetworkError:
                outcome.append(False)
        await sandbox_client.clear_faults()
        return outcome

    first, second = await pattern(), await pattern()
    assert first == second and True in first and False in first


# --- webhook ----------------------------------------------------------------------------------

async def test_webhook_delivery_with_secret_and_retry(sandbox, sandbox_bot, sandbox_client):
    received: list[tuple[int, str | None, int]] = []

    async def receive(request: web.Request) -> web.Response:
        body = await request.json()
        status = 500 if not received else 200
        received.append((body["update_id"], request.headers.get("X-Telegram-Bot-Api-Secret-Token"), status))
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        assert await sandbox_bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t_Token")
        with pytest.raises(Conflict, match="webhook is active"):
            await sandbox_bot.get_updates()
        first = await sandbox_client.send_text(USER, "hook 1")
        second = await sandbox_client.send_text(USER, "hook 2")
        await eventually(lambda: len(received) == 3, what="three webhook posts")
        assert received == [(first, "s3cr3t_Token", 500), (first, "s3cr3t_Token", 200),
                            (second, "s3cr3t_Token", 200)]
        info = await sandbox_bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        assert "500" in info.last_error_message
        assert await sandbox_bot.delete_webhook()
        await sandbox_client.send_text(USER, "polled")
        assert (await one_update(sandbox_bot)).message.text == "polled"
    finally:
        await runner.cleanup()


# --- ways to run it ---------------------------------------------------------------------------

def test_run_in_thread_with_sync_client():
    with Sandbox(limits=Limits.unlimited()).run_in_thread() as sb, SyncSandboxClient(sb.control_url) as client:
        client.send_text(USER, "/help")
        r = httpx.get(f"{sb.base_url}{TOKEN}/getUpdates")
        [update] = r.json()["result"]
        assert update["message"]["entities"][0]["type"] == "bot_command"
        httpx.post(f"{sb.base_url}{TOKEN}/sendMessage", data={"chat_id": USER, "text": "帮助"})
        assert client.wait_for(chat_id=USER, contains="帮助", timeout=5)["message_id"] == 2
        client.set_limits(Limits(global_per_sec=5))
        assert client.get_limits().global_per_sec == 5
        client.reset()
        assert client.messages() == [] and client.get_limits() == Limits.unlimited()


@pytest.mark.slow
def test_runs_as_a_process():
    proc = subprocess.Popen([sys.executable, "-m", "bot.sandbox.telegram", "--port", "0", "--no-limits"],
                            stdout=subprocess.PIPE, text=True)
    try:
        urls = json.loads(proc.stdout.readline())
        me = httpx.get(f"{urls['base_url']}{TOKEN}/getMe").json()
        assert me["ok"] and me["result"]["is_bot"]
        assert httpx.get(f"{urls['control_url']}/stats").json()["result"]["requests"] == {"getMe": 1}
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


# --- text handling ----------------------------------------------------------------------------

def test_parse_modes_and_detected_entities():
    assert parse_text('<a href="https://x.cn">链接</a> <code>a&lt;b</code>', "HTML") == (
        "链接 a<b", [{"type": "text_link", "offset": 0, "length": 2, "url": "https://x.cn"},
                    {"type": "code", "offset": 3, "length": 3}])
    assert parse_text(r"*粗* _斜_ 1\.5", "MarkdownV2") == (
        "粗 斜 1.5", [{"type": "bold", "offset": 0, "length": 1}, {"type": "italic", "offset": 2, "length": 1}])
    # offsets count UTF-16 units: the emoji takes two
    assert detect_entities("😀 /start") == [{"type": "bot_command", "offset": 3, "length": 6}]
