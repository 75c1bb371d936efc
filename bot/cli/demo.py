"""dutybot demo: the sandbox, the bot and a scripted scenario, the conversation printed live.

The process clock is moved to a few seconds before the next reminder of a duty shared by several
leaders (example catalogue: 其他负责人), so the scheduler sends it for real: with the other duties
due that morning, as one digest per leader (24 December: eight duties for 王海涛, one message). Then
one leader taps that duty's number and sends an album of three photos, another ignores the reminder, and the safety office
asks /overdue. Everything goes through the same code as production: PTB over HTTP to the sandbox,
the inbox, the outbox sender within Telegram's limits, the scheduler. The store is a temporary
SQLite database (kept with --keep DIR).
"""

from __future__ import annotations

import asyncio
import io
import logging
import shutil
import sys
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from bot import clock
from bot.cli.context import CommandError
from bot.texts import fmt

from .args import bounded_float

ORDER = 42
LEAD = 3.0  # seconds between the demo's start and the reminder
STEP_TIMEOUT = 30.0
MAX_LINES = 14
PHOTOS = 3


def register(sub) -> None:
    p = sub.add_parser("demo", help="沙盒演示 / scripted demo against the local sandbox (no token needed)")
    p.add_argument("--keep", metavar="DIR", help="保留数据库和文件 / keep the database and files in DIR")
    p.add_argument("--lead", type=bounded_float(0, 600), default=LEAD, help="提醒前的秒数 / seconds before the reminder (default 3)")
    p.add_argument("-v", "--verbose", action="store_true", help="显示日志 / show the bot's log")
    p.set_defaults(func=run)


@dataclass
class Plan:
    at: datetime  # when the reminder fires
    duty_id: str
    title: str
    label: str
    leaders: list  # catalogue people: [the one who reports, the one who ignores]
    office: object


def plan(catalog, now: datetime) -> Plan:
    """The next reminder (after now + a minute) of a duty shared by at least two leaders."""
    from bot.services.reminders import live_windows
    from schedules import Schedule, compile_jobs, next_fire_time

    schedule = Schedule(catalog)
    office = next((p for p in catalog.people if p.office), None)
    if office is None:
        raise CommandError("目录中没有安委办人员 / the catalogue has no office person (office: true)")
    who = {item.id: item.who for item in schedule.items()}
    best: Plan | None = None
    after = now + timedelta(minutes=1)
    for spec in compile_jobs(catalog):
        if spec.action != "remind":
            continue
        at = next_fire_time(schedule, spec, after)
        if at is None or (best is not None and at >= best.at):
            continue
        window = next((w for w in live_windows(schedule, spec.duty_id, at)
                       if any(label == spec.label and when == at for label, when in w.reminders)), None)
        if window is None:
            continue
        leaders = [p for p in schedule.members(who[spec.duty_id]) if not p.office
                   and p.serves_on(window.opens_at.date(), window.due_at.date() + timedelta(days=1))]
        if len(leaders) >= 2:
            best = Plan(at, spec.duty_id, window.title, spec.label, leaders[:2], office)
    if best is None:
        raise CommandError("目录中找不到两位领导共同承担的定期职责 / no scheduled duty shared by two leaders")
    return best


def run(args, ctx) -> int:
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    catalog = ctx.catalog
    the_plan = plan(catalog, clock.now())
    clock.shift_to(the_plan.at - timedelta(seconds=args.lead))
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dutybot-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(_demo(args, ctx, catalog, the_plan, workdir))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


class Printer:
    """Prints what the bot sends, as it arrives in the sandbox."""

    def __init__(self, users, names: dict[int, str], tz):
        self.users = users
        self.names = names
        self.tz = tz
        self.seen = 0

    def say(self, who: str, what: str) -> None:
        print(f"[{fmt.clock(clock.now(), self.tz)}:{clock.now().astimezone(self.tz):%S}] 👤 {who}: {what}", flush=True)

    def show(self, message: dict) -> None:
        name = self.names.get(message["chat_id"], str(message["chat_id"]))
        text = message.get("text") or message.get("caption") or f"[{message.get('method')}]"
        stamp = f"{fmt.clock(clock.now(), self.tz)}:{clock.now().astimezone(self.tz):%S}"
        lines = text.split("\n")
        if len(lines) > MAX_LINES:  # an office list can be long; the demo shows its head
            lines = lines[:MAX_LINES] + [f"……（另有 {len(lines) - MAX_LINES} 行 more lines）"]
        body = ("\n" + " " * 14).join(lines)
        print(f"[{stamp}] 🤖 → {name}: {body}", flush=True)
        markup = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        buttons = [b.get("text") for row in markup for b in row]
        if buttons:
            print(" " * 14 + "按钮 buttons: " + " | ".join(f"[{b}]" for b in buttons), flush=True)

    async def follow(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                message = await self.users.wait_for(lambda m: m["seq"] > self.seen, since=self.seen, timeout=1.0)
            except TimeoutError:
                continue
            self.seen = max(self.seen, message["seq"])
            self.show(message)

    async def wait(self, chat_id: int, predicate, what: str, since: int = 0) -> dict:
        """The bot's message matching `predicate`, once the printer has shown it (keeps the order)."""
        try:
            message = await self.users.wait_for(predicate, chat_id=chat_id, since=since, timeout=STEP_TIMEOUT)
        except TimeoutError:
            raise CommandError(f"演示未能继续：等待「{what}」超时 / demo stuck waiting for: {what}") from None
        await self.caught_up(message["seq"])
        return message

    async def caught_up(self, seq: int) -> None:
        while self.seen < seq:
            await asyncio.sleep(0.02)


def _photos(n: int) -> list[bytes]:
    from PIL import Image, ImageDraw

    out = []
    for i in range(n):
        img = Image.new("RGB", (1280, 960), (40 + 60 * i, 120, 200 - 50 * i))
        ImageDraw.Draw(img).rectangle((100, 100, 600 + 100 * i, 500), outline=(255, 255, 255), width=8)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=85)
        out.append(buf.getvalue())
    return out


async def _demo(args, ctx, catalog, p: Plan, workdir: Path) -> int:
    from sqlmodel import select

    from bot.sandbox.telegram import Limits, Sandbox, SandboxClient
    from bot.services.reminders import set_watermark
    from bot.store import Store
    from bot.store.models import CheckIn, DutyInstance, Evidence, Outbox, Person
    from bot.store.sync import sync_catalog
    from bot.telegram.app import Runtime, RuntimeOptions
    from bot.telegram.context import BotContext
    from schedules import Schedule

    schedule = Schedule(catalog)
    tz = schedule.tz
    reporter, ignorer = p.leaders
    ids = {reporter.id: 1001, ignorer.id: 1002, p.office.id: 1003}
    names = {ids[reporter.id]: reporter.name, ids[ignorer.id]: ignorer.name, ids[p.office.id]: p.office.name}

    sandbox = Sandbox(limits=Limits(), token=None, allow_unknown_chats=True)
    await sandbox.start("127.0.0.1", 0)
    settings = replace(ctx.settings, bot_token="1000000001:SANDBOX-demo", api_base_url=sandbox.base_url,
                       file_base_url=sandbox.base_file_url, database_url=f"sqlite:///{workdir / 'dutybot.db'}",
                       data_dir=workdir / "data")
    store = await asyncio.to_thread(Store, settings.database_url)
    with store.session() as s:
        sync_catalog(s, catalog, clock.now())
        for person_id, tg in ids.items():
            s.get(Person, person_id).telegram_id = tg
        # As if the bot had been running: should the reminder fall due while we are still
        # starting (a slow machine), the catch-up on start sends it.
        set_watermark(s, clock.now())
    users = SandboxClient(sandbox.control_url)
    await users.create_users([{"id": tg, "first_name": names[tg]} for tg in names])

    print("dutybot 演示 / demo — 本地 Telegram 沙盒 local sandbox " + sandbox.url)
    print(f"时钟已调至 clock set to {fmt.full(clock.now(), tz)}；{fmt.moment(p.at, tz)} 发出「{p.title}」的提醒"
          f"（{p.label}）。")
    print(f"角色 cast: {reporter.name}（将报告 reports）、{ignorer.name}（不回应 ignores）、{p.office.name}（安委办 office）\n",
          flush=True)

    runtime = Runtime(BotContext(settings, store, catalog, schedule), RuntimeOptions())
    printer = Printer(users, names, tz)
    stop = asyncio.Event()
    follower: asyncio.Task | None = None
    try:
        await runtime.start()
        follower = asyncio.create_task(printer.follow(stop))

        def is_reminder(m: dict) -> bool:
            return p.title in (m.get("text") or "") and any(
                b.get("callback_data", "").startswith("r:done:")
                for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row)

        reminder = await printer.wait(ids[reporter.id], is_reminder, f"{reporter.name} 的提醒 reminder")
        await printer.wait(ids[ignorer.id], is_reminder, f"{ignorer.name} 的提醒 reminder")
        # Several duties fall due that morning: one digest, a numbered button per duty.
        with store.session() as s:
            instance_id = s.exec(select(DutyInstance.id).where(
                DutyInstance.duty_id == p.duty_id, DutyInstance.person_id == reporter.id,
                DutyInstance.opens_at <= clock.now(), DutyInstance.closes_at > clock.now())).first()
        button = next(b for row in reminder["reply_markup"]["inline_keyboard"] for b in row
                      if b.get("callback_data") == f"r:done:{instance_id}")
        done_data = button["callback_data"]

        printer.say(reporter.name, f"点击「{button['text']}」（{p.title}） taps {button['text']}")
        await users.press_button(ids[reporter.id], reminder["message_id"], done_data)
        ask = await printer.wait(ids[reporter.id], lambda m: m["seq"] > reminder["seq"], "请发送照片 the bot's question",
                                 since=reminder["seq"])

        caption = f"「{p.title}」已完成，现场照片{PHOTOS}张。"
        printer.say(reporter.name, f"[相册 album: {PHOTOS} 张照片 photos] {caption}")
        await users.send_album(ids[reporter.id], _photos(PHOTOS), caption=caption)

        def reported() -> bool:
            with store.session() as s:
                inst = s.get(DutyInstance, instance_id)
                return inst is not None and inst.done_count > 0

        await _until(reported, f"{reporter.name} 的报告入库 check-in stored")
        await printer.wait(ids[reporter.id], lambda m: m["seq"] > ask["seq"] and p.title in (m.get("text") or ""),
                           "确认 confirmation", since=ask["seq"])
        printer.say(ignorer.name, "（没有回应 does not answer）")

        mark = printer.seen
        printer.say(p.office.name, "/overdue")
        await users.send_text(ids[p.office.id], "/overdue")
        await printer.wait(ids[p.office.id], lambda m: m["seq"] > mark, "/overdue 的回复 answer", since=mark)

        def settled() -> bool:  # photos stored, every answer (a long list comes in parts) sent
            with store.session() as s:
                files = len(s.exec(select(Evidence.id)).all())
                queued = s.exec(select(Outbox.id).where(Outbox.state.in_(["pending", "sending"]))).first()
            return files >= PHOTOS and queued is None

        await _until(settled, "照片存证、消息发完 photos stored and messages sent")
        await printer.caught_up(max((m["seq"] for m in await users.messages()), default=0))

        with store.session() as s:
            checkins = s.exec(select(CheckIn).where(CheckIn.person_id == reporter.id)).all()
            files = s.exec(select(Evidence)).all()
            status = s.get(DutyInstance, instance_id).status
        print(f"\n演示完成 / demo complete: {len(checkins)} 条履职记录 check-in(s), {len(files)} 份存证文件 evidence "
              f"file(s), {reporter.name} 本期状态 status: {status}; "
              f"{ignorer.name} 未报告 has not reported.", flush=True)
        if args.keep:
            print(f"数据保留在 kept in {workdir}", flush=True)
        return 0
    finally:
        stop.set()
        if follower is not None:
            await asyncio.gather(follower, return_exceptions=True)
        await runtime.stop()
        await users.aclose()
        await sandbox.stop()
        store.dispose()


async def _until(condition, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STEP_TIMEOUT
    while not await asyncio.to_thread(condition):
        if loop.time() > deadline:
            raise CommandError(f"演示未能继续：等待「{what}」超时 / demo stuck waiting for: {what}")
        await asyncio.sleep(0.1)
