"""Reminder fan-out through the sandbox with Telegram's limits, and the bot's memory and latency.

    .venv/bin/python bench/fanout.py                      # everything (about 6 minutes)
    .venv/bin/python bench/fanout.py --only fanout,ptb    # parts: fanout, ptb, rss, latency

1. fanout — N reminders (default 3,000) due in the same minute to N leaders: the catalogue's
   remind job runs once, the outbox sender drains through a sandbox (its own process) enforcing
   ~30 msg/s overall and 1/s per chat. Sustained rate = messages / (last send - first send), as a
   fraction of 30/s (goal >= 0.95); 429s served; lost = queued - delivered (goal 0).
2. ptb — the same N messages sent with PTB's AIORateLimiter (its defaults: 30/s overall, no
   per-chat limit for private chats, max_retries=0), all at once, and again with max_retries=3.
3. rss — peak RSS (VmHWM) of `dutybot run` as a process with a 10,000-person catalogue, from start
   through the 10,000-reminder job and 20 s of draining.
4. latency — a leader taps 报告完成, then sends a photo: time from the photo to the bot's
   confirmation (p50/p99), one leader at a time, then 50 at once.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sandbox_bench import TOKEN, SandboxProcess, percentile  # noqa: E402
from sqlmodel import func, select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.sandbox.telegram import Limits, SandboxClient  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.models import Outbox  # noqa: E402
from bot.telegram.app import Runtime, RuntimeOptions  # noqa: E402
from bot.telegram.context import BotContext  # noqa: E402
from schedules import Schedule, compile_jobs, load_catalog_text, next_fire_time  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
FIRST_TG = 10_000_000


def catalogue(people: int, units: int = 50) -> str:
    lines = [
        "timezone: Asia/Shanghai",
        "defaults:",
        '  remind_at: "09:00"',
        "  reminders: [open, -3d, 0d]",
        "units:",
        "  - id: 总部",
        "    children: [" + ", ".join(f"单位{u:02d}" for u in range(units)) + "]",
        "roles:",
        "  负责人: 各单位负责人",
        "  安委办: 安委办",
        "people:",
        f"  - {{name: 安委办甲, unit: 总部, roles: [安委办], office: true, telegram_id: {FIRST_TG - 1}}}",
    ]
    for i in range(people):
        lines.append(f"  - {{name: 领导{i:05d}, unit: 单位{i % units:02d}, roles: [负责人], telegram_id: {FIRST_TG + i}}}")
    lines += [
        "duties:",
        "  - id: insp",
        "    title: 带队开展安全生产检查",
        "    kind: inspection",
        "    who: [负责人]",
        "    frequency: 每月至少1次",
        '    source: {document: 压测职责清单, clause: "(一)每月至少带队开展1次安全生产检查。"}',
    ]
    return "\n".join(lines) + "\n"


def next_reminder(schedule: Schedule, after: datetime) -> tuple[str, datetime]:
    best = None
    for spec in compile_jobs(schedule.catalog):
        if spec.action == "remind":
            at = next_fire_time(schedule, spec, after)
            if at and (best is None or at < best[1]):
                best = (spec.id, at)
    return best


# ------------------------------------------------------------------------------------------------
async def bench_fanout(n: int, sb: SandboxProcess, workdir: Path, database_url: str | None) -> dict:
    text = catalogue(n)
    catalog = load_catalog_text(text)
    schedule = Schedule(catalog)
    url = database_url or f"sqlite:///{workdir / 'fanout.db'}"
    store = Store(url)
    settings = Settings(bot_token=TOKEN, api_base_url=sb.urls["base_url"], file_base_url=sb.urls["base_file_url"],
                        database_url=url, data_dir=workdir / "data")
    runtime = Runtime(BotContext(settings, store, catalog, schedule),
                      RuntimeOptions(scheduler=False, reconcile_on_start=False, workers=False))
    async with SandboxClient(sb.urls["control_url"]) as users:
        await users.reset()
        await users.allow_unknown_chats(True)
        await runtime.start()
        job_id, at = next_reminder(schedule, datetime.now(SH))
        t0 = time.monotonic()
        report = await runtime.reminders.run_job(job_id, at)
        queued_s = time.monotonic() - t0
        deadline = time.monotonic() + n / 20 + 60
        while True:
            stats = await users.stats()
            if stats["messages_accepted"] >= report.queued or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        elapsed = time.monotonic() - t0
        await runtime.stop()
        sender = runtime.sender.stats
        messages = await users.messages()
    with store.session() as s:
        sent = s.exec(select(func.count()).select_from(Outbox).where(Outbox.state == "sent")).one()
    store.dispose()
    delivered = {m["chat_id"] for m in messages}
    span = (sender.last_send - sender.first_send) if sender.first_send and sender.last_send else float("nan")
    rate = (sender.sent - 1) / span if span and span > 0 else float("nan")
    return {
        "queued": report.queued, "job_seconds": round(queued_s, 2), "delivered": len(delivered),
        "duplicates": len(messages) - len(delivered), "lost": report.queued - len(delivered), "rows_sent": sent,
        "seconds_total": round(elapsed, 1), "send_span_s": round(span, 1), "msgs_per_s": round(rate, 2),
        "fraction_of_30": round(rate / 30, 3), "429_served": stats["rate_limited"],
        "max_global_per_sec": stats["max_global_per_sec"], "max_per_chat_per_sec": stats["max_per_chat_per_sec"],
    }


async def bench_ptb(n: int, sb: SandboxProcess, max_retries: int) -> dict:
    import logging

    from telegram.ext import AIORateLimiter, ExtBot
    from telegram.request import HTTPXRequest

    logging.getLogger("telegram").setLevel(logging.CRITICAL)  # every lost message logs a traceback

    async with SandboxClient(sb.urls["control_url"]) as users:
        await users.reset()
        await users.allow_unknown_chats(True)
        bot = ExtBot(TOKEN, base_url=sb.urls["base_url"], rate_limiter=AIORateLimiter(max_retries=max_retries),
                     request=HTTPXRequest(connection_pool_size=256, pool_timeout=600, read_timeout=60))
        async with bot:
            done_at: list[float] = []

            async def send(i: int):
                await bot.send_message(FIRST_TG + i, f"提醒 {i}")
                done_at.append(time.monotonic())

            t0 = time.monotonic()
            results = await asyncio.gather(*(send(i) for i in range(n)), return_exceptions=True)
            elapsed = time.monotonic() - t0
        stats = await users.stats()
    lost = sum(1 for r in results if isinstance(r, BaseException))
    span = max(done_at) - min(done_at) if len(done_at) > 1 else float("nan")
    rate = (len(done_at) - 1) / span if span and span > 0 else float("nan")
    return {"max_retries": max_retries, "delivered": stats["messages_accepted"], "lost": lost,
            "seconds_total": round(elapsed, 1), "msgs_per_s": round(rate, 2), "fraction_of_30": round(rate / 30, 3),
            "429_served": stats["rate_limited"], "max_global_per_sec": stats["max_global_per_sec"]}


async def bench_rss(n: int, sb: SandboxProcess, workdir: Path, watch: float = 20.0) -> dict:
    duties = workdir / "rss.yaml"
    text = catalogue(n)
    duties.write_text(text, encoding="utf-8")
    schedule = Schedule(load_catalog_text(text))
    job_id, at = next_reminder(schedule, datetime.now(SH) + timedelta(minutes=1))
    env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": sb.urls["base_url"],
           "TELEGRAM_FILE_BASE_URL": sb.urls["base_file_url"], "DATABASE_URL": f"sqlite:///{workdir / 'rss.db'}",
           "DATA_DIR": str(workdir / "rss-data"), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "bot", "--duties", str(duties), "run"]
    async with SandboxClient(sb.urls["control_url"]) as users:
        await users.reset()
        await users.allow_unknown_chats(True)
        # A first run loads the catalogue and sets the catch-up watermark, as a deployment would;
        # the measured run starts just before the reminder (whatever fires while it is still
        # starting is caught up as soon as its scheduler runs).
        first_ready, _ = _start(command, env)
        second_ready, proc = _start(command + ["--clock-start", (at - timedelta(seconds=3)).isoformat()], env, keep=True)
        samples = []
        end = time.monotonic() + watch
        while time.monotonic() < end and proc.poll() is None:
            samples.append(_mem(proc.pid))
            await asyncio.sleep(0.25)
        hwm = _mem(proc.pid, "VmHWM")
        accepted = (await users.stats())["messages_accepted"]
        proc.terminate()
        proc.wait(30)
        ready = second_ready
    store = Store(f"sqlite:///{workdir / 'rss.db'}", run_migrations=False)
    with store.session() as s:
        queued = s.exec(select(func.count()).select_from(Outbox)).one()
    store.dispose()
    return {"people": n, "first_start_s": round(first_ready, 1), "ready_s": round(ready, 1),
            "peak_rss_mb": round(hwm / 1024, 1),
            "rss_end_mb": round((samples[-1] if samples else 0) / 1024, 1), "reminders_queued": queued,
            "sent_in_window": accepted, "watch_s": watch}


def _start(command: list[str], env: dict, keep: bool = False) -> tuple[float, subprocess.Popen]:
    """Start `dutybot run`; returns seconds to its ready line (and the process, stopped unless keep)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = float("nan")
    for line in proc.stdout:
        if "ready:" in line:
            ready = time.monotonic() - t0
            break
    if not keep:
        proc.terminate()
        proc.wait(30)
    return ready, proc


def _mem(pid: int, key: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


async def bench_latency(sb: SandboxProcess, workdir: Path, sequential: int, burst: int) -> dict:
    from bot.store.models import Person

    people = sequential + burst
    text = catalogue(people)
    catalog = load_catalog_text(text)
    schedule = Schedule(catalog)
    url = f"sqlite:///{workdir / 'latency.db'}"
    store = Store(url)
    settings = Settings(bot_token=TOKEN, api_base_url=sb.urls["base_url"], file_base_url=sb.urls["base_file_url"],
                        database_url=url, data_dir=workdir / "latency-data")
    runtime = Runtime(BotContext(settings, store, catalog, schedule),
                      RuntimeOptions(scheduler=False, reconcile_on_start=False))
    photo = _jpeg()
    async with SandboxClient(sb.urls["control_url"]) as users:
        await users.reset()
        await users.allow_unknown_chats(True)
        await users.create_users([FIRST_TG + i for i in range(people)])
        await runtime.start()
        with store.session() as s:
            assert s.get(Person, "领导00000").telegram_id == FIRST_TG
        job_id, at = next_reminder(schedule, datetime.now(SH))
        await runtime.reminders.run_job(job_id, at)  # everyone gets a reminder with its buttons
        reminders = await users.wait_for_messages(people, timeout=people / 20 + 60)
        by_chat = {m["chat_id"]: m for m in reminders}

        async def one(i: int) -> float:
            chat = FIRST_TG + i
            msg = by_chat[chat]
            data = next(b["callback_data"] for row in msg["reply_markup"]["inline_keyboard"] for b in row
                        if b["callback_data"].startswith("r:done:"))
            await users.press_button(chat, msg["message_id"], data)
            ask = await users.wait_for(chat_id=chat, since=msg["seq"], timeout=60)
            await asyncio.sleep(1.1)  # a person takes a photo after reading the question
            t0 = time.monotonic()
            await users.send_photo(chat, photo, caption="现场检查照片")
            await users.wait_for(chat_id=chat, contains="✅", since=ask["seq"], timeout=60)
            return time.monotonic() - t0

        seq = [await one(i) for i in range(sequential)]
        par = await asyncio.gather(*(one(i) for i in range(sequential, sequential + burst))) if burst else []
        await runtime.stop()
    store.dispose()
    ms = [x * 1000 for x in seq]
    pms = [x * 1000 for x in par]
    return {"sequential_n": len(ms), "p50_ms": round(statistics.median(ms), 0) if ms else None,
            "p99_ms": round(percentile(ms, 0.99), 0) if ms else None,
            "burst_n": len(pms), "burst_p50_ms": round(statistics.median(pms), 0) if pms else None,
            "burst_p99_ms": round(percentile(pms, 0.99), 0) if pms else None}


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (1280, 960), (60, 120, 180)).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


async def main(args: argparse.Namespace) -> None:
    parts = set(args.only.split(",")) if args.only else {"fanout", "ptb", "rss", "latency"}
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="dutybot-bench-") as tmp:
        workdir = Path(tmp)
        sb = SandboxProcess(limits=True)
        try:
            if "fanout" in parts:
                results["fanout"] = await bench_fanout(args.people, sb, workdir, args.database_url)
                print("fanout (outbox sender):", json.dumps(results["fanout"], ensure_ascii=False), flush=True)
            if "ptb" in parts:
                for retries in (0, 3):
                    key = f"ptb_aioratelimiter_retries{retries}"
                    results[key] = await bench_ptb(args.people, sb, retries)
                    print(f"PTB AIORateLimiter(max_retries={retries}):", json.dumps(results[key]), flush=True)
            if "rss" in parts:
                results["rss"] = await bench_rss(args.rss_people, sb, workdir)
                print("peak RSS:", json.dumps(results["rss"]), flush=True)
            if "latency" in parts:
                results["latency"] = await bench_latency(sb, workdir, args.sequential, args.burst)
                print("photo -> confirmation:", json.dumps(results["latency"]), flush=True)
        finally:
            sb.stop()
    assert Limits().global_per_sec == 30
    if args.json:
        print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--rss-people", type=int, default=10000)
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--only", help="comma-separated parts: fanout,ptb,rss,latency")
    parser.add_argument("--database-url", help="for the fanout part (default: a temporary SQLite file)")
    parser.add_argument("--json", action="store_true", help="also print all figures as one JSON line")
    asyncio.run(main(parser.parse_args()))
