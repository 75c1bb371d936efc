"""How fast the sandbox's chat page sees what the bot sends (bot/sandbox/telegram/page.py).

The page long-polls /_chat/feed on the sandbox's change counter instead of polling on a timer.
This measures, with N pages open (each waiting on its own person's chat), the time from the
bot's sendMessage answering to every page's feed answering, and the size of a feed answer for a
chat of M messages. The sandbox runs in its own process (bench/sandbox_bench.py), the pages are
httpx clients.

    .venv/bin/python bench/chat_page.py [--pages 20] [--rounds 50] [--messages 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from sandbox_bench import TOKEN, SandboxProcess, percentile  # noqa: E402

FIRST_USER = 1001


async def feed(http: httpx.AsyncClient, base: str, chat_id: int, after: int) -> tuple[float, dict]:
    r = await http.get(f"{base}/_chat/feed", params={"chat_id": chat_id, "user_id": chat_id, "after": after})
    return time.perf_counter(), r.json()["result"]


async def main(args) -> None:
    sandbox = SandboxProcess(limits=False)
    base = sandbox.urls["page_url"].rstrip("/")
    api = f"{sandbox.urls['base_url']}{TOKEN}"
    users = list(range(FIRST_USER, FIRST_USER + args.pages))
    limits = httpx.Limits(max_connections=args.pages + 10)
    try:
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            await http.post(f"{sandbox.urls['control_url']}/users", json={"users": users})
            for n in range(args.messages):  # a long chat for the first page
                await http.post(f"{api}/sendMessage", json={"chat_id": users[0], "text": f"第 {n} 条消息 " * 8})
            started = time.perf_counter()
            _, first = await feed(http, base, users[0], 0)
            full_ms = (time.perf_counter() - started) * 1000
            size = len(httpx.Response(200, json=first).content)

            delays: list[float] = []
            version = first["version"]
            for i in range(args.rounds):
                waiting = [asyncio.create_task(feed(http, base, u, version)) for u in users]
                await asyncio.sleep(0.05)  # let every page be waiting before the bot speaks
                target = users[i % len(users)]
                r = await http.post(f"{api}/sendMessage", json={"chat_id": target, "text": f"提醒 {i}"})
                sent = time.perf_counter()
                assert r.json()["ok"]
                answers = await asyncio.gather(*waiting)
                delays += [(at - sent) * 1000 for at, _ in answers]
                version = max(body["version"] for _, body in answers)
    finally:
        sandbox.stop()
    print(f"pages waiting: {args.pages}, rounds: {args.rounds}")
    print(f"sendMessage answered -> every page's feed answered: p50 {percentile(delays, 0.5):.1f} ms, "
          f"p95 {percentile(delays, 0.95):.1f} ms, max {max(delays):.1f} ms")
    print(f"first feed of a {args.messages}-message chat: {full_ms:.1f} ms, {size / 1024:.0f} KB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--messages", type=int, default=200)
    asyncio.run(main(parser.parse_args()))
