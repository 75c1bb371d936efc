"""Binding with invites and the access gate, end to end through the sandbox."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot import clock
from bot.services import invites
from bot.store.models import AuditLog, InboxUpdate, Invite, Outbox, Person

pytest_plugins = ["support.harness"]  # the `harness` fixture
from support.harness import eventually  # noqa: E402


def _invite(h, name: str, now=None) -> str:
    person = h.catalog.find_person(name)
    with h.session() as s:
        return invites.create(s, person.id, now or clock.now())


async def test_bind_with_invite(harness):
    h = harness
    token = _invite(h, "王海涛")
    tg = await h.stranger("王")
    update_id = await h.users.send_text(tg, f"/start {token}")
    msg = await h.wait_for_message(tg, contains="账号已绑定")
    assert "王海涛" in msg["text"]
    await h.wait_update_processed(update_id)
    with h.session() as s:
        assert s.get(Person, "王海涛").telegram_id == tg
        invite = s.exec(select(Invite)).one()
        assert invite.used_by == tg and invite.used_at is not None
        assert invite.token_hash == invites.token_hash(token) and token not in invite.token_hash
    # Now bound: /help is answered, not refused.
    await h.users.send_text(tg, "/help")
    await h.wait_for_message(tg, contains="/start")


async def test_invite_is_single_use(sqlite_harness):
    h = sqlite_harness
    token = _invite(h, "赵明")
    first, second = await h.stranger(), await h.stranger()
    await h.users.send_text(first, f"/start {token}")
    await h.wait_for_message(first, contains="账号已绑定")
    await h.users.send_text(second, f"/start {token}")
    await h.wait_for_message(second, contains="已被使用")
    with h.session() as s:
        assert s.get(Person, "赵明").telegram_id == first


async def test_expired_and_unknown_invites(sqlite_harness):
    h = sqlite_harness
    token = _invite(h, "刘强", now=clock.now() - timedelta(days=7, seconds=1))
    tg = await h.stranger()
    await h.users.send_text(tg, f"/start {token}")
    await h.wait_for_message(tg, contains="已过期")
    await h.users.send_text(tg, "/start not-a-real-token")
    await h.wait_for_message(tg, contains="邀请链接无效")
    with h.session() as s:
        assert s.get(Person, "刘强").telegram_id is None
        assert s.exec(select(Person).where(Person.telegram_id == tg)).first() is None


async def test_unknown_user_refused_and_nothing_kept(harness):
    h = harness
    tg = await h.stranger("路人")
    update_id = await h.users.send_photo(tg, b"\xff\xd8 not really a jpeg", caption="我的身份证号 110101…")
    await h.wait_for_message(tg, contains="尚未绑定")
    row = await h.wait_update_processed(update_id)
    assert row.state == "done" and row.payload == {}
    text_update = await h.users.send_text(tg, "/mine")
    await h.wait_update_processed(text_update)
    with h.session() as s:
        audit = s.exec(select(AuditLog).where(AuditLog.actor_telegram_id == tg)).all()
        assert [a.action for a in audit] == ["refused_unbound", "refused_unbound"]
        assert "身份证" not in repr([a.detail for a in audit])
        assert all(r.payload == {} for r in s.exec(select(InboxUpdate)).all())
        # One refusal per hour, however much they send.
        assert len(s.exec(select(Outbox).where(Outbox.chat_id == tg)).all()) == 1


async def test_office_members_get_the_office_menu(sqlite_harness):
    from telegram import BotCommandScopeChat

    h = sqlite_harness
    office, leader = await h.bind("孙丽"), await h.bind("张建国")
    await h.stop_bot()
    await h.start_bot()  # menus are set at start-up, for the office members bound by then
    bot = h.runtime.app.bot

    async def menu(chat_id: int | None = None) -> list[str]:
        scope = BotCommandScopeChat(chat_id) if chat_id else None
        return [c.command for c in await bot.get_my_commands(scope=scope)]

    default = await menu()
    assert {"mine", "history", "help"} <= set(default) and "overdue" not in default
    assert set(default) | {"overdue", "nudge", "stats", "warn", "lift", "rank", "export"} <= set(await menu(office))
    assert await menu(leader) == []  # no menu of their own: Telegram shows them the default one

    # Bound by an invite while the bot runs: the office menu comes with the binding.
    newcomer = await h.stranger("周敏")
    await h.users.send_text(newcomer, f"/start {_invite(h, '周敏')}")
    await h.wait_for_message(newcomer, contains="周敏")

    async def has_office_menu() -> bool:
        return "overdue" in await menu(newcomer)

    await eventually(has_office_menu, what="the office menu in the newcomer's chat")
