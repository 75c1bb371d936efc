"""叫应 broadcast through the sandbox with Telegram's limits, idle and behind a routine backlog, and
the latency from a 收到 press to the office's board.

    .venv/bin/python bench/callout.py                       # everything (about 3 minutes)
    .venv/bin/python bench/callout.py --only idle,presses   # parts: idle, backlog, presses, phoned, paid
    .venv/bin/python bench/callout.py --only phoned,paid    # the phone escalation and paid broadcast
    .venv/bin/python bench/callout.py --recipients 1000 --backlog 10000 --presses 300 --database-url URL

The sandbox runs in its own process with Telegram's limits (30 msg/s overall, 1/s per chat); the
bot (PTB, inbox, outbox sender, callout worker) runs in this process, as `dutybot run` would.
1. idle — a red warning to N recipients (default 1,000, all bound): time from `issue` until the
   last first call is accepted by the sandbox, as a ratio of the physical limit N/30 s (goal ≤ 1.10).
2. backlog — the same with B routine reminders (default 10,000, to other chats) queued and draining
   when the warning is issued (goal: within 10% of idle).
3. presses — after the idle broadcast, P recipients (default 300) press 收到 at 10 per second; for
   each press, the time until the office's board message shows at least that many answers
   (p50/p90/p99, max). The board chat gets at most one message per second (Telegram's per-chat
   limit), so each edit carries every answer since the previous one.
4. phoned — a red warning to N recipients (default 1,000) of whom 10% stay silent; the others answer
   收到 as soon as their first call is delivered. The policy phones the silent ones 10 s after their
   call was delivered (ack_within 10s, no re-call, escalate [voice, superior+office+sms]) through the
   provider sandbox (in this process, signatures checked, receipts pushed back): the time from issue
   until every silent one has been phoned, beside its floor (the last silent call's delivery + 10 s).
5. paid — TELEGRAM_PAID_BROADCAST=1: a red warning to P recipients (default 10,000); the time until
   the last first call is accepted by the sandbox, which counts paid-broadcast messages against
   Telegram's 1,000/s limit instead of 30/s (goal ≤ 15 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sandbox_bench import TOKEN, SandboxProcess, percentile  # noqa: E402
from sqlmodel import col, func, select  # noqa: E402

from bot import clock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.sandbox.telegram import SandboxClient  # noqa: E402
from bot.sandbox.voice import VoiceSandbox  # noqa: E402
from bot.services import callouts, outbox  # noqa: E402
from bot.services.reminders import enqueue_many  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.models import CalloutTarget, Outbox, Person  # noqa: E402
from bot.telegram.app import Runtime, RuntimeOptions  # noqa: E402
from bot.telegram.context import BotContext  # noqa: E402
from schedules import Schedule, load_catalog_text  # noqa: E402

FIRST_TG = 30_000_000
OFFICE_TG = FIRST_TG - 1
ROUTINE_TG = 40_000_000
TELEGRAM_RATE = 30.0


RED_DEFAULT = ["    ack_within: 10m", "    recall_every: 5m", "    recalls: 2", "    escalate: [office]",
               "    report_within: 30m"]
RED_PHONED = ["    ack_within: 10s", "    recall_every: 5m", "    recalls: 0", "    escalate: [voice, superior+office+sms]",
              "    redial_every: 10m", "    report_within: 30m"]


def phone_of(i: int) -> str:
    return f"139{i:08d}"


def catalogue(people: int, units: int = 40, red: list[str] | None = None) -> str:
    lines = ["timezone: Asia/Shanghai", "units:", "  - id: 园区管委会",
             "    children: [" + ", ".join(f"部门{u:02d}" for u in range(units)) + "]",
             "roles:", "  部门负责人: 各部门负责人", "  安委办: 安委办", "people:",
             f"  - {{name: 安委办甲, unit: 园区管委会, roles: [安委办], office: true, telegram_id: {OFFICE_TG}}}"]
    for i in range(people):
        lines.append(f"  - {{name: 负责人{i:05d}, unit: 部门{i % units:02d}, roles: [部门负责人], "
                     f"telegram_id: {FIRST_TG + i}, phone: \"{phone_of(i)}\"}}")
    lines += ["duties: []", "callouts:", "  red:", "    who: [部门负责人]", *(red or RED_DEFAULT)]
    return "\n".join(lines) + "\n"


class Bot:
    """A fresh store and the whole bot runtime against the sandbox process."""

    def __init__(self, n: int, sb: SandboxProcess, workdir: Path, name: str, database_url: str | None,
                 paid: bool = False, voice: VoiceSandbox | None = None, red: list[str] | None = None):
        text = catalogue(n, red=red)
        self.catalog = load_catalog_text(text)
        self.url = database_url or f"sqlite:///{workdir / f'{name}.db'}"
        self.store = Store(self.url)
        if database_url:  # a shared database: start from empty tables
            from sqlmodel import SQLModel

            with self.store.session() as s:
                for table in reversed(SQLModel.metadata.sorted_tables):
                    s.exec(table.delete())
        settings = Settings(bot_token=TOKEN, api_base_url=sb.urls["base_url"],
                            file_base_url=sb.urls["base_file_url"], database_url=self.url,
                            data_dir=workdir / f"{name}-data", paid_broadcast=paid)
        if voice is not None:
            key, secret = voice.access_key
            settings = replace(settings, aliyun_access_key_id=key, aliyun_access_key_secret=secret,
                               aliyun_voice_endpoint=voice.voice_endpoint, aliyun_sms_endpoint=voice.sms_endpoint,
                               phone_listen="127.0.0.1:0", phone_secret="bench", public_url="http://bench")
        self.runtime = Runtime(BotContext(settings, self.store, self.catalog, Schedule(self.catalog)),
                               RuntimeOptions(scheduler=False, reconcile_on_start=False, set_commands=False))

    def issue(self) -> int:
        with self.store.session() as s:
            return callouts.issue(s, self.catalog, level="red", text="【红色暴雨预警】今夜有特大暴雨，请立即落实防范措施",
                                  hazard="暴雨", issued_by="安委办甲", board_chat_id=OFFICE_TG, now=clock.now()).id

    def first_calls_sent(self, cid: int):
        with self.store.session() as s:
            return s.exec(select(func.count(), func.max(Outbox.sent_at)).where(
                col(Outbox.dedupe_key).like(f"callout:{cid}:%:call1"), Outbox.state == "sent")).one()

    def queue_backlog(self, b: int) -> int:
        rows = [Outbox(chat_id=ROUTINE_TG + i, priority=outbox.ROUTINE, dedupe_key=f"remind:bench:{i}",
                       payload=outbox.text(f"【职责提醒】例行提醒 {i}")) for i in range(b)]
        with self.store.session() as s:
            return enqueue_many(s, rows)

    def routine_sent(self) -> int:
        with self.store.session() as s:
            return s.exec(select(func.count()).select_from(Outbox).where(
                Outbox.priority == outbox.ROUTINE, Outbox.state == "sent")).one()

    async def close(self) -> None:
        await self.runtime.stop()
        self.store.dispose()


async def broadcast(n: int, sb: SandboxProcess, workdir: Path, name: str, database_url: str | None,
                    backlog: int = 0, keep: bool = False, paid: bool = False) -> tuple[dict, Bot | None, int]:
    bot = Bot(n, sb, workdir, name, database_url, paid=paid)
    async with SandboxClient(sb.urls["control_url"]) as users:
        await users.reset()
        await users.allow_unknown_chats(True)
        queued = bot.queue_backlog(backlog) if backlog else 0
        await bot.runtime.start()
        if backlog:  # let the backlog drain at full speed first, as it would be when the warning comes
            while bot.routine_sent() < 100:
                await asyncio.sleep(0.05)
        routine_before = bot.routine_sent()
        wall0, t0, cpu0, sb_cpu0 = clock.now(), time.monotonic(), time.process_time(), sb.cpu_seconds()
        cid = await asyncio.to_thread(bot.issue)
        issue_s = time.monotonic() - t0
        deadline = time.monotonic() + n / 10 + 60
        while True:
            sent, last = await asyncio.to_thread(bot.first_calls_sent, cid)
            if sent >= n or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        elapsed = (last - wall0).total_seconds() if last else float("nan")
        cpu = time.process_time() - cpu0  # the bot's CPU (the sandbox runs in its own process)
        sb_cpu = sb.cpu_seconds() - sb_cpu0
        load = Path("/proc/loadavg").read_text().split()[0]
        stats = await users.stats()
        routine_during = bot.routine_sent() - routine_before
    result = {"recipients": n, "paid_broadcast": paid, "backlog_queued": queued, "issue_s": round(issue_s, 2), "first_calls_sent": sent,
              "all_first_calls_s": round(elapsed, 2), "physical_limit_s": round(n / TELEGRAM_RATE, 2),
              "ratio": round(elapsed / (n / TELEGRAM_RATE), 3), "routine_sent_meanwhile": routine_during,
              "429_served": stats["rate_limited"], "max_global_per_sec": stats["max_global_per_sec"],
              "max_per_chat_per_sec": stats["max_per_chat_per_sec"], "paid_accepted": stats.get("paid_broadcast", 0),
              "bot_cpu_s": round(cpu, 2), "bot_cpu_ms_per_call": round(1000 * cpu / max(sent, 1), 2),
              "sandbox_cpu_ms_per_call": round(1000 * sb_cpu / max(sent, 1), 2), "loadavg_1min_after": load}
    if keep:
        return result, bot, cid
    await bot.close()
    return result, None, cid


async def presses(bot: Bot, sb: SandboxProcess, cid: int, count: int, rate: float) -> dict:
    async with SandboxClient(sb.urls["control_url"]) as users, SandboxClient(sb.urls["control_url"]) as watcher:
        calls = {m["chat_id"]: m for m in await users.messages()
                 if m["chat_id"] != OFFICE_TG and "c:ack:" in json.dumps(m.get("reply_markup") or {})}
        chats = sorted(calls)[:count]
        pressed_at: list[float] = []
        pressed_wall: list = []
        seen_at: dict[int, float] = {}  # answers shown on the board -> when first seen
        done = asyncio.Event()

        async def watch() -> None:
            version = 0
            while not done.is_set():
                snap = await watcher._call("GET", "/messages", params={"chat_id": OFFICE_TG, "changed_after": version})
                version = snap["version"]
                for m in snap["messages"]:
                    found = re.search(r"已收到 (\d+)", m.get("text") or "")
                    if found and "叫应看板" in (m.get("text") or ""):
                        k = int(found.group(1))
                        now = time.monotonic()
                        for j in range(1, k + 1):
                            seen_at.setdefault(j, now)
                if len(seen_at) >= len(chats):
                    return
                await watcher._call("GET", "/wait", params={"after_version": version, "timeout": 2}, timeout=5)

        watcher_task = asyncio.create_task(watch())
        gap = 1.0 / rate
        t_start = time.monotonic()
        for i, chat in enumerate(chats):
            at = t_start + i * gap
            if at > time.monotonic():
                await asyncio.sleep(at - time.monotonic())
            m = calls[chat]
            data = next(b["callback_data"] for row in m["reply_markup"]["inline_keyboard"] for b in row
                        if b.get("callback_data", "").startswith("c:ack:"))
            pressed_at.append(time.monotonic())
            pressed_wall.append((chat, clock.now()))
            await users.press_button(chat, m["message_id"], data)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watcher_task, timeout=60)
        done.set()
    latencies = [seen_at[i + 1] - pressed_at[i] for i in range(len(pressed_at)) if (i + 1) in seen_at]
    with bot.store.session() as s:
        board_edits = s.exec(select(func.count()).select_from(Outbox).where(
            col(Outbox.dedupe_key).like(f"callout:{cid}:board:%"))).one() - 1
        acked = dict(s.exec(select(Person.telegram_id, CalloutTarget.acked_at)
                            .join(CalloutTarget, CalloutTarget.person_id == Person.id)
                            .where(CalloutTarget.callout_id == cid, CalloutTarget.acked_at.is_not(None))).all())
    # press → 收到 recorded in the store (the inbox and the handler), the rest is board and sender
    ack_lag = [(acked[chat] - at).total_seconds() for chat, at in pressed_wall if chat in acked]
    return {"presses": len(pressed_at), "press_rate_per_s": rate, "board_updates_seen": len(latencies),
            "board_edits": board_edits, "p50_s": round(percentile(latencies, 0.5), 3),
            "p90_s": round(percentile(latencies, 0.9), 3), "p99_s": round(percentile(latencies, 0.99), 3),
            "max_s": round(max(latencies, default=float("nan")), 3),
            "press_to_ack_recorded_p50_s": round(percentile(ack_lag, 0.5), 3),
            "press_to_ack_recorded_p99_s": round(percentile(ack_lag, 0.99), 3)}


async def phoned(n: int, sb: SandboxProcess, workdir: Path, database_url: str | None, silent_every: int = 10) -> dict:
    """Part 4 (see the module docstring)."""
    from bot.telegram.handlers.callout import PHONE_KEY

    voice = VoiceSandbox(default="no_answer")
    await voice.start()
    bot = Bot(n, sb, workdir, "phoned", database_url, voice=voice, red=RED_PHONED)
    silent = {f"负责人{i:05d}" for i in range(0, n, silent_every)}
    silent_phones = {phone_of(i) for i in range(0, n, silent_every)}
    try:
        async with SandboxClient(sb.urls["control_url"]) as users:
            await users.reset()
            await users.allow_unknown_chats(True)
            await bot.runtime.start()
            while bot.runtime.app.bot_data.get(PHONE_KEY) is None:
                await asyncio.sleep(0.05)
            voice.receipt_url = bot.runtime.app.bot_data[PHONE_KEY].receipt_url
            wall0, t0 = clock.now(), time.monotonic()
            cid = await asyncio.to_thread(bot.issue)
            acked: set[int] = set()
            deadline = time.monotonic() + n / 10 + 120
            while time.monotonic() < deadline:
                acked |= await asyncio.to_thread(_ack_delivered, bot, cid, silent, acked)
                if {c["number"] for c in voice.calls} >= silent_phones:
                    break
                await asyncio.sleep(0.2)
            elapsed = time.monotonic() - t0
            with bot.store.session() as s:
                delivered = [r for r in s.exec(select(Outbox.sent_at).where(
                    col(Outbox.dedupe_key).like(f"callout:{cid}:%:call1"), Outbox.person_id.in_(silent)))]  # type: ignore[union-attr]
        phoned_at = {}
        for c in voice.calls:
            phoned_at.setdefault(c["number"], datetime.fromisoformat(c["at"]))
        last_phoned = max((phoned_at[p] - wall0).total_seconds() for p in silent_phones if p in phoned_at)
        floor = max((d - wall0).total_seconds() for d in delivered if d) + 10.0
        return {"recipients": n, "silent": len(silent), "acked_by_telegram": len(acked),
                "silent_phoned": len(silent_phones & set(phoned_at)), "all_silent_phoned_s": round(last_phoned, 2),
                "floor_s": round(floor, 2), "over_floor_s": round(last_phoned - floor, 2),
                "loop_s": round(elapsed, 2), "provider_refused": len(voice.refused)}
    finally:
        await bot.close()
        await voice.stop()


def _ack_delivered(bot: Bot, cid: int, silent: set[str], done: set[int]) -> set[int]:
    """Everyone but the silent answers 收到 as soon as their first call was delivered."""
    with bot.store.session() as s:
        sent = {int(k.split(":")[2]) for k in s.exec(select(Outbox.dedupe_key).where(
            col(Outbox.dedupe_key).like(f"callout:{cid}:%:call1"), Outbox.state == "sent"))}
        rows = [(t.id, t.person_id) for t in s.exec(select(CalloutTarget).where(
            CalloutTarget.callout_id == cid, CalloutTarget.acked_at.is_(None))) if t.id in sent]  # type: ignore[union-attr]
        new = set()
        for tid, pid in rows:
            if pid in silent or tid in done:
                continue
            callouts.ack(s, tid, pid, clock.now())
            new.add(tid)
    if new:
        bot.runtime.app.bot_data["callout_wake"].set()
    return new


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--backlog", type=int, default=10000)
    parser.add_argument("--presses", type=int, default=300)
    parser.add_argument("--press-rate", type=float, default=10.0)
    parser.add_argument("--only", default="idle,backlog,presses,phoned,paid")
    parser.add_argument("--paid-recipients", type=int, default=10000)
    parser.add_argument("--database-url", help="PostgreSQL URL (tables are emptied); default: SQLite in a temp dir")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="bench-callout-"))
    sb = SandboxProcess()
    results: dict = {}
    try:
        if "idle" in parts or "presses" in parts:
            idle, bot, cid = await broadcast(args.recipients, sb, workdir, "idle", args.database_url,
                                             keep="presses" in parts)
            results["idle"] = idle
            print("idle:", json.dumps(idle, ensure_ascii=False), flush=True)
            if bot is not None:
                results["presses"] = await presses(bot, sb, cid, args.presses, args.press_rate)
                print("presses:", json.dumps(results["presses"], ensure_ascii=False), flush=True)
                await bot.close()
        if "backlog" in parts:
            backlog, _, _ = await broadcast(args.recipients, sb, workdir, "backlog", args.database_url,
                                            backlog=args.backlog)
            results["backlog"] = backlog
            print("backlog:", json.dumps(backlog, ensure_ascii=False), flush=True)
        if "phoned" in parts:
            results["phoned"] = await phoned(args.recipients, sb, workdir, args.database_url)
            print("phoned:", json.dumps(results["phoned"], ensure_ascii=False), flush=True)
        if "paid" in parts:
            paid, _, _ = await broadcast(args.paid_recipients, sb, workdir, "paid", args.database_url, paid=True)
            results["paid"] = paid
            print("paid:", json.dumps(paid, ensure_ascii=False), flush=True)
            print(f"paid broadcast: first calls to {paid['recipients']} in {paid['all_first_calls_s']} s (goal ≤ 15 s)")
    finally:
        sb.stop()
    if "idle" in results and "backlog" in results:
        slower = results["backlog"]["all_first_calls_s"] / results["idle"]["all_first_calls_s"] - 1
        print(f"backlog vs idle: {slower:+.1%} (goal within 10%)")
    if "idle" in results:
        print(f"idle ratio to the physical limit: {results['idle']['ratio']:.3f} (goal ≤ 1.10)")


if __name__ == "__main__":
    asyncio.run(main())
