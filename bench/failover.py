"""Fail-over of several bot processes on PostgreSQL (issue 13): takeover time, loss, duplicates,
and throughput with 1, 2 and 3 processes against the sandbox with Telegram's limits.

    .venv/bin/python bench/failover.py                     # 20 kills, lease 15 s (production)
    .venv/bin/python bench/failover.py --kills 5 --lease 3 --renew 1
    .venv/bin/python bench/failover.py --record            # also append the figures to bench/RESULTS.md

Takeover: three processes drain a backlog of messages (one per chat, so only the 30/s limit
applies); the leader is SIGKILLed; takeover time is from the kill to the first message Telegram
(the sandbox) receives afterwards — necessarily from the new leader, the old one is gone —, and to
the moment a follower's /healthz says it leads. The killed process is started again before the next
kill. At the end every queued message must have arrived: lost = queued − received, duplicated =
received twice or more, charged to the kill it was in flight at (at most one each).

Throughput: with 1, 2 and 3 processes running, a backlog of --burst messages is drained; the rate
is first to last send, and the sandbox's own peaks say whether any 1-second window went over 30.

PostgreSQL: --pg-url or $TEST_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
is used to create and drop a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from report import scratch_database  # noqa: E402
from support.cluster import Cluster, enqueue_texts  # noqa: E402
from support.harness import limited_sandbox  # noqa: E402

from bot.store import Store  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pct(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


async def wait_for(condition, timeout: float, what: str, interval: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(interval)


async def takeover(args, url: str, workdir: Path) -> dict:
    store = Store(url, run_migrations=False)
    async with limited_sandbox() as sandbox, \
            Cluster(sandbox, url, workdir / "takeover", size=3, lease=args.lease, renew=args.renew) as cluster:
        # enough backlog to keep sending through every kill (the lease plus a restart each)
        texts = enqueue_texts(store, int(args.kills * (args.lease + 8) * 30) + 600, "故障", 1_000_000)
        first_send, first_leader, marks = [], [], []
        for n in range(args.kills):
            leader = await cluster.wait_leader(timeout=60)
            seen = len(sandbox.world.bot_messages)
            await wait_for(lambda s=seen: len(sandbox.world.bot_messages) > s + 30, 60, "sending")
            killed = time.monotonic()
            leader.kill()
            # what reaches the sandbox in the next 0.1 s left the dead process before the kill
            # (no lease is that short): count from there
            await asyncio.sleep(0.1)
            after = len(sandbox.world.bot_messages)
            marks.append(after)

            async def sends(a=after, killed=killed) -> None:
                await wait_for(lambda: len(sandbox.world.bot_messages) > a, args.lease + 30, "a send after the kill")
                first_send.append(time.monotonic() - killed)

            async def leads(old=leader, killed=killed) -> None:
                await cluster.wait_leader(other_than=old, timeout=args.lease + 30)
                first_leader.append(time.monotonic() - killed)

            await asyncio.gather(sends(), leads())
            print(f"kill {n + 1}: first send after {first_send[-1]:.2f} s, /healthz leader after "
                  f"{first_leader[-1]:.2f} s", flush=True)
            await leader.start(timeout=60)
        left = set(texts)
        await wait_for(lambda: left <= {m.data.get("text") for m in sandbox.world.bot_messages}, 600,
                       "everything delivered", interval=0.2)
        counts = Counter(m.data.get("text") for m in sandbox.world.bot_messages)
        per_kill = repeats_per_kill([m.data.get("text") for m in sandbox.world.bot_messages], left, marks)
        stats = await sandbox.users.stats()
        max_leaders = cluster.max_leaders()
        samples = len(cluster.samples)
    store.dispose()
    return {"kills": args.kills, "queued": len(texts), "lost": len(set(texts) - set(counts)),
            "duplicated": sum(n - 1 for t, n in counts.items() if t in left and n > 1), "per_kill": per_kill,
            "send_p50": pct(first_send, 50), "send_p99": pct(first_send, 99), "send_max": max(first_send),
            "lead_p50": pct(first_leader, 50), "lead_p99": pct(first_leader, 99),
            "max_leaders": max_leaders, "samples": samples, "429": stats["rate_limited"],
            "max_global_per_sec": stats["max_global_per_sec"]}


def repeats_per_kill(sent: list[str], queued: set[str], marks: list[int]) -> list[int]:
    """Repeats charged to each kill: a repeated message belongs to the first kill after its first
    delivery (`marks`: messages Telegram had 0.1 s after each kill); the last entry counts repeats
    after the last kill (none expected)."""
    first: dict[str, int] = {}
    for n, body in enumerate(sent):
        first.setdefault(body, n)
    counts = Counter(sent)
    per_kill = [0] * (len(marks) + 1)
    for body, n in counts.items():
        if body in queued and n > 1:
            per_kill[next((k for k, mark in enumerate(marks) if first[body] < mark), len(marks))] += n - 1
    return per_kill


async def throughput(args, url: str, workdir: Path, size: int) -> dict:
    store = Store(url, run_migrations=False)
    async with limited_sandbox() as sandbox, \
            Cluster(sandbox, url, workdir / f"tp{size}", size=size, lease=args.lease, renew=args.renew) as cluster:
        await cluster.wait_leader()
        texts = enqueue_texts(store, args.burst, f"吞吐{size}-", 2_000_000 + size * 100_000)
        await wait_for(lambda: len(sandbox.world.bot_messages) >= 1, 60, "first send", 0.002)
        first = time.monotonic()
        await wait_for(lambda: len(sandbox.world.bot_messages) >= len(texts), 600, "burst delivered", 0.002)
        span = time.monotonic() - first
        stats = await sandbox.users.stats()
    store.dispose()
    return {"processes": size, "messages": len(texts), "rate": (len(texts) - 1) / span,
            "max_global_per_sec": stats["max_global_per_sec"], "429": stats["rate_limited"]}


def report(take: dict | None, rates: list[dict], command: str, args) -> str:
    lines = ["## Fail-over: several processes on PostgreSQL (`bench/failover.py`)", "",
             f"Command: `{command}`. Lease {args.lease:g} s, renewed every {args.renew:g} s; sandbox with "
             "Telegram's limits; 2 CPUs shared with other work while it ran.", ""]
    if take:
        lines += ["| takeover (SIGKILL of the leader while sending) | figure |", "|---|---|",
                  f"| kills | {take['kills']} |",
                  f"| kill → first send by the new leader: p50 / p99 / max | {take['send_p50']:.2f} / "
                  f"{take['send_p99']:.2f} / {take['send_max']:.2f} s |",
                  f"| kill → a follower's /healthz says leader: p50 / p99 | {take['lead_p50']:.2f} / {take['lead_p99']:.2f} s |",
                  f"| messages queued / lost / duplicated | {take['queued']:,} / **{take['lost']}** / **{take['duplicated']}** |",
                  f"| sent twice, per kill (then after the last) | {', '.join(map(str, take['per_kill']))} (most: "
                  f"**{max(take['per_kill'])}**) |",
                  f"| most leaders at once (/healthz of all three every 100 ms, {take['samples']:,} samples) | {take['max_leaders']} |",
                  f"| 429s served / peak messages in any second | {take['429']} / {take['max_global_per_sec']} |", ""]
    if rates:
        lines += ["| processes | messages | rate (first to last send) | peak in any second | 429s |", "|---|---|---|---|---|"]
        lines += [f"| {r['processes']} | {r['messages']:,} | {r['rate']:.1f} msg/s ({r['rate'] / 30:.3f} of 30/s) | "
                  f"{r['max_global_per_sec']} | {r['429']} |" for r in rates]
        lines.append("")
    return "\n".join(lines)


async def amain(args) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="dutybot-failover-"))
    url, drop = scratch_database("postgresql", workdir, args.pg_url)
    try:
        Store(url).dispose()  # migrated once
        take = None if args.kills == 0 else await takeover(args, url, workdir)
        rates = []
        for size in ([] if args.burst == 0 else (1, 2, 3)):
            rates.append(await throughput(args, url, workdir, size))
            print(f"{size} process(es): {rates[-1]['rate']:.1f} msg/s, peak {rates[-1]['max_global_per_sec']}/s, "
                  f"429s {rates[-1]['429']}", flush=True)
    finally:
        drop()
    command = "python bench/failover.py " + " ".join(sys.argv[1:])
    out = report(take, rates, command.strip(), args)
    print()
    print(out)
    if args.record:
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as f:
            f.write("\n" + out)
    return 0 if take is None or (take["lost"] == 0 and take["max_leaders"] <= 1 and max(take["per_kill"]) <= 1) else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--lease", type=float, default=15.0)
    p.add_argument("--renew", type=float, default=5.0)
    p.add_argument("--burst", type=int, default=1500, help="messages per throughput run (0: skip)")
    p.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG)
    p.add_argument("--record", action="store_true")
    return asyncio.run(amain(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
