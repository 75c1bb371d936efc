"""dutybot run: the bot (long polling, or --webhook URL), against Telegram or the local sandbox."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import clock
from bot.cli.context import CommandError
from bot.texts import cli as TC
from bot.texts import common as T

from .args import MAX_DATE, MIN_DATE, bounded_int

ORDER = 40
RING_SECONDS = 60.0  # a call nobody answers on the chat page ends unanswered (a real network: ~60 s)


def register(sub) -> None:
    p = sub.add_parser("run", help="运行机器人 / run the bot (no BOT_TOKEN: against the local sandbox)")
    p.add_argument("--webhook", metavar="URL",
                   help="用 webhook 接收更新 / receive updates by webhook at this public URL (default: long polling)")
    p.add_argument("--listen", default="0.0.0.0:8443", metavar="HOST:PORT",
                   help="webhook 监听地址 / where the webhook endpoint listens (default 0.0.0.0:8443)")
    p.add_argument("--clock-start", metavar="ISO8601",
                   help="演示/测试用：把进程时钟调到此刻 / shift the process clock (demos and tests only; "
                        "refused against the real Telegram API), e.g. 2026-11-30T08:59:50+08:00 or 2026-12-24T08:59 (local time)")
    p.add_argument("--sandbox-port", type=bounded_int(0, 65535), default=8081,
                   help="无 BOT_TOKEN 时本地沙盒端口 / local sandbox port when there is no token (0: any free port)")
    p.add_argument("--no-catch-up", action="store_true", help="启动时不补发 / skip the catch-up on start")
    p.add_argument("-v", "--verbose", action="store_true", help="详细日志 / debug logging")
    p.set_defaults(func=run)


def parse_clock(value: str, tz: str = "Asia/Shanghai") -> datetime:
    """ISO 8601; without an offset the time is local (`tz`, the TZ setting), as a demo means it."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--clock-start 时间格式错误 / bad time: {value!r} (例 e.g. 2026-12-24T08:59)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    if not MIN_DATE <= when.date() <= MAX_DATE:
        raise CommandError(TC.DATE_RANGE.format(low=MIN_DATE, high=MAX_DATE, value=value))
    return when


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not (port.isascii() and port.isdigit() and int(port) <= 65535):
        raise CommandError(f"--listen 应为 HOST:PORT / expected HOST:PORT, got {value!r}")
    return host or "0.0.0.0", int(port)


def run(args, ctx) -> int:
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "apscheduler.executors.default", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = ctx.settings
    if args.clock_start is not None:
        when = parse_clock(args.clock_start, settings.tz)
        if settings.bot_token and settings.uses_real_telegram:
            raise CommandError("--clock-start 不能用于真实的 Telegram / refused against the real Telegram API: "
                               "it is for the sandbox and tests only")
    listen = parse_listen(args.listen) if args.webhook else None
    catalog = ctx.catalog  # validates duties.yaml before anything starts
    if args.clock_start is not None:
        clock.shift_to(when)
    return asyncio.run(_main(args, ctx, settings, catalog, listen))


async def _main(args, ctx, settings, catalog, listen) -> int:
    from telegram.error import InvalidToken, NetworkError

    from bot.process import Process, ProcessOptions, settled_heap
    from bot.telegram.app import RuntimeOptions
    from bot.telegram.context import BotContext
    from schedules import Schedule

    sandbox = None
    if not settings.bot_token:
        from bot.cli.sandbox_mode import start_sandbox

        sandbox, settings = await start_sandbox(settings, ctx.store, catalog, args.sandbox_port,
                                                clock_shifted=bool(args.clock_start))
    voice = None
    if not settings.phone_enabled:
        voice, settings = await _voice_sandbox(settings, page=sandbox is not None)
        if sandbox is not None:  # the chat page's 电话/短信 panel shows and answers its calls
            sandbox.page.voice_url = voice.url
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    options = RuntimeOptions(reconcile_on_start=not args.no_catch_up)
    if os.environ.get("DUTYBOT_HOLD_INBOX") == "1":  # crash tests: store updates, process none
        options.process_inbox = False
    if args.webhook:
        options.webhook_url = args.webhook
        options.webhook_listen, options.webhook_port = listen
    bot_ctx = BotContext(settings, ctx.store, catalog, Schedule(catalog))
    process = Process(bot_ctx, ProcessOptions(runtime=options, web_listen=settings.web_listen or None))
    runtime = process.runtime
    try:
        try:
            await process.start()
        except InvalidToken:
            raise CommandError("Telegram 拒绝了 BOT_TOKEN / Telegram refused BOT_TOKEN: check the token") from None
        except NetworkError as err:
            raise CommandError(f"无法连接 Telegram Bot API / cannot reach the Bot API at "
                               f"{settings.api_base_url or 'api.telegram.org'}: {err}") from None
        if process.web is not None:
            print(T.RUN_WEB.format(url=process.web.url, base=bot_ctx.settings.web_url), flush=True)
        elif process.web_error is not None:
            print(T.RUN_WEB_FAILED.format(listen=settings.web_listen, error=process.web_error), flush=True)
        print(T.RUN_READY.format(mode=runtime.mode, jobs=runtime.jobs, db=_safe_url(settings.database_url)), flush=True)
        try:
            with settled_heap():
                await process.wait(stop)
        finally:
            print(T.RUN_STOPPING, flush=True)
    finally:
        await process.stop()
        if sandbox is not None:
            await sandbox.stop()
        if voice is not None:
            await voice.stop()
    return 0


async def _voice_sandbox(settings, *, page: bool):
    """No provider keys: 叫应's voice calls and SMS go to the local provider sandbox. With the chat
    page (no BOT_TOKEN either) a call rings until the person decides on the page's 电话/短信 panel,
    and ends unanswered after RING_SECONDS as on a real network; without it everyone answers and
    presses 1 unless told otherwise through its control API."""
    import secrets
    import socket
    from dataclasses import replace

    from bot.sandbox.voice import VoiceSandbox

    voice = VoiceSandbox(default="ring" if page else "ack", ring_seconds=RING_SECONDS)
    await voice.start("127.0.0.1", 0)
    host, _, port = settings.phone_listen.rpartition(":")
    if not settings.public_url:  # a free local port for the receipts and the SMS links
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = str(probe.getsockname()[1])
        host = "127.0.0.1"
    key, secret = voice.access_key
    phone_secret = settings.phone_secret or secrets.token_urlsafe(16)
    public = settings.public_url or f"http://{host}:{port}"
    settings = replace(settings, aliyun_access_key_id=key, aliyun_access_key_secret=secret,
                       aliyun_voice_endpoint=voice.voice_endpoint, aliyun_sms_endpoint=voice.sms_endpoint,
                       phone_listen=f"{host}:{port}", public_url=public, phone_secret=phone_secret,
                       phone_caller_number=settings.phone_caller_number or "01000000000")
    voice.receipt_url = f"http://127.0.0.1:{port}/phone/receipts/{phone_secret}"
    print((T.RUN_VOICE_SANDBOX_PAGE_BANNER if page else T.RUN_VOICE_SANDBOX_BANNER).format(url=voice.url), flush=True)
    return voice, settings


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "?"
