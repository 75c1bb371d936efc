"""dutybot invite NAME: a single-use deep link that binds a Telegram account to a person."""

from __future__ import annotations

import asyncio
import os

from bot import clock
from bot.cli.context import CommandError
from bot.services import invites
from bot.store.models import Person
from bot.store.sync import sync_catalog

ORDER = 45


def register(sub) -> None:
    p = sub.add_parser("invite", help="生成绑定邀请链接 / print a single-use invite link for a person")
    p.add_argument("name", help="人员姓名或编号 / the person's name or id in duties.yaml")
    p.add_argument("--bot-username", help="机器人用户名 / the bot's @username (default: getMe, else $BOT_USERNAME)")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    person = ctx.catalog.find_person(args.name)
    if person is None:
        raise CommandError(f"目录中没有此人 / no such person in {ctx.duties_file}: {args.name}")
    username = args.bot_username or _username(ctx.settings)
    now = clock.now()
    with ctx.store.session() as s:
        row = s.get(Person, person.id)
        if row is None or row.retired_at is not None:
            sync_catalog(s, ctx.catalog, now)  # the person is in the file but not loaded yet
            row = s.get(Person, person.id)
        token = invites.create(s, person.id, now)
        bound = row.telegram_id
    print(invites.deep_link(username, token))
    print(f"{person.name}：链接 {invites.VALIDITY.days} 天内有效，仅可使用一次 / valid for "
          f"{invites.VALIDITY.days} days, single use." + (f" 当前已绑定 currently bound to {bound}；使用后将改绑 "
                                                          "/ using it rebinds." if bound else ""))
    return 0


def _username(settings) -> str:
    if settings.bot_token:
        try:
            return asyncio.run(_get_me(settings))
        except Exception as err:
            if env := os.environ.get("BOT_USERNAME"):
                return env.lstrip("@")
            raise CommandError(f"无法获取机器人用户名 / cannot reach Telegram for the bot's username ({err}); "
                               "use --bot-username or set BOT_USERNAME") from None
    if env := os.environ.get("BOT_USERNAME"):
        return env.lstrip("@")
    raise CommandError("未设置 BOT_TOKEN，无法获取机器人用户名 / no BOT_TOKEN to ask Telegram for the bot's username: "
                       "use --bot-username or set BOT_USERNAME")


async def _get_me(settings) -> str:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    kwargs = {}
    if settings.api_base_url:
        kwargs["base_url"] = settings.api_base_url
    request = HTTPXRequest(connect_timeout=5, read_timeout=5)
    async with Bot(settings.bot_token, request=request, **kwargs) as bot:
        return bot.username
