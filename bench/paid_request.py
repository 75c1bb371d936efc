"""CPU per sendMessage through python-telegram-bot, per HTTP backend and call style, against the
sandbox in its own process (no limits): what bot/telegram/request.py and the sender's paid lane
were chosen on (bench/RESULTS.md, "Phone escalation and paid broadcast").

    .venv/bin/python bench/paid_request.py                 # 3,000 calls per variant, 64 at once
    .venv/bin/python bench/paid_request.py --calls 10000 --variants httpx+send,aiohttp+raw

Variants: `httpx` (PTB's HTTPXRequest, pool 256) or `aiohttp` (bot.telegram.request.AiohttpRequest),
`send` (Bot.send_message: a Message parsed from the reply, markup objects built) or `raw`
(Bot.do_api_request(..., return_type=None): the sender's paid lane). A red-warning call's text and
its two buttons, allow_paid_broadcast. Process CPU time per call, so a loaded machine changes the
wall time more than the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sandbox_bench import TOKEN, SandboxProcess  # noqa: E402
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402
from telegram.warnings import PTBUserWarning  # noqa: E402

from bot.telegram.request import AiohttpRequest  # noqa: E402

warnings.filterwarnings("ignore", category=PTBUserWarning)
TEXT = ("🔴【红色预警·叫应】暴雨\n\n今夜有特大暴雨，请立即落实防范措施，转移危险区域人员，停止户外作业。\n\n"
        "范围：全部单位\n发布：安委办 12月24日 21:00\n\n请立即点击下方「收到」确认。")
BUTTONS = [[("✅ 收到", "c:ack:1:123")], [("📝 报告落实情况", "c:rep:1:123")]]
FIRST_CHAT = 50_000_000


def backend(name: str):
    return {"httpx": lambda: HTTPXRequest(connection_pool_size=256), "aiohttp": AiohttpRequest}[name]()


async def run(variant: str, sb: SandboxProcess, calls: int, at_once: int) -> dict:
    kind, style = variant.split("+")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in BUTTONS])
    markup_json = markup.to_dict()
    bot = Bot(TOKEN, base_url=sb.urls["base_url"], request=backend(kind), get_updates_request=backend(kind))
    await bot.initialize()

    async def one(i: int) -> int:
        chat = FIRST_CHAT + i
        if style == "send":
            return (await bot.send_message(chat, TEXT, reply_markup=markup, allow_paid_broadcast=True)).message_id
        reply = await bot.do_api_request("sendMessage", api_kwargs={"chat_id": chat, "text": TEXT, "reply_markup": markup_json,
                                                                    "allow_paid_broadcast": True}, return_type=None)
        return reply["message_id"]

    slots = asyncio.Semaphore(at_once)

    async def limited(i: int) -> int:
        async with slots:
            return await one(i)

    await asyncio.gather(*(limited(i) for i in range(min(200, calls))))  # warm the connection pool
    cpu0, t0 = time.process_time(), time.monotonic()
    await asyncio.gather(*(limited(i) for i in range(calls)))
    cpu, wall = time.process_time() - cpu0, time.monotonic() - t0
    await bot.shutdown()
    return {"variant": variant, "calls": calls, "at_once": at_once, "cpu_ms_per_call": round(1000 * cpu / calls, 3),
            "wall_s": round(wall, 2)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--at-once", type=int, default=64)
    parser.add_argument("--variants", default="httpx+send,httpx+raw,aiohttp+send,aiohttp+raw")
    args = parser.parse_args()
    sb = SandboxProcess(limits=False)
    try:
        for variant in args.variants.split(","):
            print(json.dumps(await run(variant, sb, args.calls, args.at_once)), flush=True)
    finally:
        sb.stop()
    print("load average:", Path("/proc/loadavg").read_text().strip())


if __name__ == "__main__":
    asyncio.run(main())
