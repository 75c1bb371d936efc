"""dutybot web: the web console alone (next to a bot process on the same store);
dutybot web-link NAME: a one-time sign-in link for a person."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot import clock
from bot.cli.context import CommandError
from bot.services import signin
from bot.store.models import Person
from bot.store.sync import sync_catalog

ORDER = 42


def register(sub) -> None:
    p = sub.add_parser("web", help="只运行网页工作台 / serve the web console alone (same store as the bot)")
    p.add_argument("--listen", metavar="HOST:PORT", help="监听地址 / where to listen (default: $WEB_LISTEN, 127.0.0.1:8080)")
    p.add_argument("-v", "--verbose", action="store_true", help="详细日志 / debug logging")
    p.set_defaults(func=serve)
    q = sub.add_parser("web-link", help="生成网页工作台一次性登录链接 / print a one-time sign-in link for the console")
    q.add_argument("name", help="人员姓名或编号 / the person's name or id in duties.yaml")
    q.set_defaults(func=link)


def link(args, ctx) -> int:
    person = ctx.catalog.find_person(args.name)
    if person is None:
        raise CommandError(f"目录中没有此人 / no such person in {ctx.duties_file}: {args.name}")
    now = clock.now()
    with ctx.store.session() as s:
        row = s.get(Person, person.id)
        if row is None or row.retired_at is not None:
            sync_catalog(s, ctx.catalog, now)  # in the file but not loaded yet
        token = signin.create_link(s, person.id, now, via="cli")
    print(signin.link_url(ctx.settings.web_url, token))
    minutes = int(signin.LINK_VALIDITY.total_seconds() // 60)
    print(f"{person.name}：{minutes} 分钟内有效，仅可使用一次 / valid for {minutes} minutes, single use.",
          file=sys.stderr)
    return 0


def serve(args, ctx) -> int:
    from dataclasses import replace

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = ctx.settings
    if args.listen:
        settings = replace(settings, web_listen=args.listen)
    if not settings.web_listen:
        raise CommandError("WEB_LISTEN 为空 / WEB_LISTEN is empty: give --listen HOST:PORT")
    catalog = ctx.catalog
    return asyncio.run(_main(ctx, settings, catalog))


async def _main(ctx, settings, catalog) -> int:
    from bot.process import Process, ProcessOptions, settled_heap
    from bot.telegram.context import BotContext
    from bot.texts import common as T
    from schedules import Schedule

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bot_ctx = BotContext(settings, ctx.store, catalog, Schedule(catalog))
    process = Process(bot_ctx, ProcessOptions(telegram=False, web_listen=settings.web_listen, web_required=True))
    try:
        await process.start()
    except OSError as err:
        raise CommandError(f"网页工作台无法监听 / the web console cannot listen on {settings.web_listen}: {err}") from None
    try:
        print(T.RUN_WEB.format(url=process.web.url, base=bot_ctx.settings.web_url), flush=True)
        print("ready: web", flush=True)
        with settled_heap():
            await process.wait(stop)
    finally:
        await process.stop()
    return 0
