"""A Telegram Bot API sandbox: a real HTTP server that unmodified python-telegram-bot talks to.

Telegram is unreachable from tests, demos and benchmarks, so they point PTB here instead::

    from bot.sandbox.telegram import Sandbox, Limits, SandboxClient

    sb = Sandbox(limits=Limits(), bot_username="dutybot_sandbox_bot", token=None)  # None: any token
    await sb.start(host="127.0.0.1", port=0)                      # port 0: a free port
    bot = telegram.Bot(TOKEN, base_url=sb.base_url, base_file_url=sb.base_file_url)
    # or ApplicationBuilder().token(TOKEN).base_url(sb.base_url).base_file_url(sb.base_file_url)
    async with SandboxClient(sb.control_url) as users:
        await users.send_text(1001, "/start invite-token", first_name="张三")
        msg = await users.wait_for(chat_id=1001, contains="欢迎")
        await users.press_button(1001, msg["message_id"], "ack:42")
    await sb.stop()

From synchronous code: ``with Sandbox().run_in_thread() as sb:`` (own loop, daemon thread) and
``SyncSandboxClient(sb.control_url)``. As a process::

    python -m bot.sandbox.telegram --port 8081 [--no-limits] [--token T] [--allow-unknown-chats]

prints ``{"base_url": ..., "base_file_url": ..., "control_url": ..., "page_url": ...}`` on one line
and serves until SIGTERM/SIGINT.

People use it through the chat page at ``page_url`` (``/``): a Telegram-like web chat where one
plays a user per browser tab (page.py; ``dutybot run`` without a token gives it the people of
duties.yaml, bound through the bot's invite flow: bot/cli/sandbox_mode.py).

Bot API served (Telegram's JSON shapes and error texts): getMe, logOut, close, getUpdates (long
poll, offset, limit, allowed_updates; 409 while a webhook is set or when a newer poll starts),
setWebhook/deleteWebhook/getWebhookInfo (POSTs updates in order with
X-Telegram-Bot-Api-Secret-Token, retrying with backoff until 200), sendMessage, sendPhoto,
sendDocument/Audio/Video/Voice/Animation/Sticker/VideoNote, sendMediaGroup, forwardMessage,
copyMessage, editMessageText/Caption/ReplyMarkup, deleteMessage, answerCallbackQuery, getFile
(+ downloads under /file/bot<token>/<path>; over 20 MB: "file is too big"), set/get/deleteMyCommands,
sendChatAction, getChat. JSON, form-urlencoded and multipart bodies; files as uploads, ``attach://``,
file_id or URL (recorded, not fetched: there is no network). parse_mode HTML/MarkdownV2/Markdown is
applied (plain text + entities) and malformed markup is refused like Telegram does. Unknown methods:
404. Chats must be known (a user wrote to the bot, ``create_users``/``create_group``) unless
``allow_unknown_chats``; a user who blocked the bot gives 403.

Limits (``Limits``, replaceable at run time): sending methods (send*, edit*, forward, copy) count
against ~30 messages/s overall, 1/s per chat, 20/min per group (chat_id < 0), in sliding windows on
time.monotonic(). Over a limit: HTTP 429 "Too Many Requests: retry after N" with
``parameters.retry_after`` = whole seconds until a slot frees (PTB raises RetryAfter); a refused call
does not count. A media group counts as one message; sendChatAction is not counted.

Control API (``SandboxClient`` async, ``SyncSandboxClient`` blocking, same methods), under
``control_url``: create_users, create_group, allow_unknown_chats, block; send_text, send_photo,
send_album, send_document, send_update, redeliver, press_button (the button must be on that
message, unless forged=True); messages(chat_id, since) (current text/caption, raw_text, reply_markup, files, edits,
deleted), answered_callbacks, get_file_bytes; wait_for(predicate | chat_id+contains, timeout) and
wait_for_messages(count) block on the server's change notifications (no polling interval);
faults(method, status, count | hang, then | rate, seed), clear_faults; stats(); set_limits/get_limits;
reset().
"""

from .client import SandboxClient, SandboxError, SyncSandboxClient
from .limits import Limits
from .server import Sandbox

__all__ = ["Limits", "Sandbox", "SandboxClient", "SandboxError", "SyncSandboxClient"]
