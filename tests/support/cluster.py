"""Several real bot processes on one PostgreSQL database (issue 13), for tests and bench/failover.py.

    async with Cluster(sandbox, database_url, tmp_path, size=3) as cluster:   # started, one leads
        leader = await cluster.wait_leader()          # the BotProcess whose /healthz says leader
        cluster.kill(leader)                          # SIGKILL
        new = await cluster.wait_leader(other_than=leader)
        cluster.samples                               # (monotonic time, [pid of each leader]) every 100 ms
        cluster.max_leaders()                         # never more than 1

Each process serves /healthz on its own port (WEB_LISTEN) and runs with a short lease
(`lease`/`renew` seconds) so fail-over happens in a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from support.harness import EXAMPLE, BotProcess
from support.sandbox_fixtures import eventually


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node(BotProcess):
    """A BotProcess with its own /healthz port."""

    def __init__(self, *args: Any, port: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.port = port
        self.stopped = False  # SIGSTOPped

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)
        self.stopped = True

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)
        self.stopped = False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def enqueue_texts(store, count: int, prefix: str, first_chat: int) -> list[str]:
    """Queue `count` messages "<prefix>0000"…, one per chat from `first_chat` (so only the 30/s
    limit applies); returns their texts."""
    from bot.services import outbox

    texts = [f"{prefix}{n:05d}" for n in range(count)]
    with store.session() as s:
        for n, body in enumerate(texts):
            outbox.enqueue(s, chat_id=first_chat + n, payload=outbox.text(body), dedupe_key=f"{prefix}:{n}")
    return texts


def in_flight(sandbox, store) -> Counter:
    """(chat, text) of what Telegram got but the store does not know as sent: right after a SIGKILL
    these are the sends that were in flight, the only messages a new leader may send again."""
    from sqlmodel import select

    from bot.store.models import Outbox

    got = Counter((m.chat_id, m.data.get("text")) for m in sandbox.world.bot_messages)
    with store.session() as s:
        known = Counter((r.chat_id, (r.payload or {}).get("text"))
                        for r in s.exec(select(Outbox).where(Outbox.state == "sent")))
    return got - known


def repeated(sandbox) -> Counter:
    """(chat, text) Telegram got more than once, with the number of repeats."""
    got = Counter((m.chat_id, m.data.get("text")) for m in sandbox.world.bot_messages)
    return Counter({k: n - 1 for k, n in got.items() if n > 1})


class Link:
    """A TCP proxy between one process and PostgreSQL: `cut()` drops its connections and refuses
    new ones (a network partition), `heal()` lets them through again."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = 0
        self.is_cut = False
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> Link:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    def cut(self) -> None:
        self.is_cut = True
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()

    def heal(self) -> None:
        self.is_cut = False

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()


class Cluster:
    def __init__(self, sandbox, database_url: str, tmp_path: Path, *, size: int = 3, lease: float = 3.0,
                 renew: float = 1.0, duties_file: Path | str = EXAMPLE, env: dict[str, str] | None = None,
                 args_for=None, links: bool = False):
        """`links`: each process reaches PostgreSQL through its own `Link` (`cluster.links[n]`)."""
        self.sandbox = sandbox
        self.database_url = database_url
        self.use_links = links
        self.links: list[Link] = []
        self.lease = lease
        self.nodes: list[Node] = []
        for n in range(size):
            port = free_port()
            extra = {"LEASE_SECONDS": str(lease), "LEASE_RENEW_SECONDS": str(renew),
                     "WEB_LISTEN": f"127.0.0.1:{port}", **(env or {})}
            self.nodes.append(Node(sandbox, database_url, Path(tmp_path) / f"node{n}", duties_file=duties_file,
                                   env=extra, port=port, args=args_for(n) if args_for else None))
        self.samples: list[tuple[float, list[int]]] = []
        self._client = httpx.AsyncClient(timeout=0.5)
        self._sampler: asyncio.Task | None = None

    async def __aenter__(self) -> Cluster:
        if self.use_links:
            from sqlalchemy.engine import make_url

            url = make_url(self.database_url)
            for node in self.nodes:
                link = await Link(url.host or "127.0.0.1", url.port or 5432).start()
                self.links.append(link)
                node.database_url = url.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
        await asyncio.gather(*(node.start(timeout=60) for node in self.nodes))
        self._sampler = asyncio.create_task(self._sample())
        await self.wait_leader()
        return self

    async def __aexit__(self, *exc) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
        for node in self.nodes:
            if node.stopped:
                node.resume()
            node.kill()
        for link in self.links:
            await link.close()
        await self._client.aclose()

    # --- looking --------------------------------------------------------------------------------
    async def health(self, node: Node) -> dict | None:
        if node.stopped or not node.alive():
            return None
        try:
            response = await self._client.get(node.health_url)
            return response.json()
        except (httpx.HTTPError, ValueError):
            return None

    async def leaders(self) -> list[Node]:
        reports = await asyncio.gather(*(self.health(node) for node in self.nodes))
        return [node for node, report in zip(self.nodes, reports, strict=True) if report and report.get("leader")]

    async def _sample(self) -> None:
        while True:
            found = await self.leaders()
            self.samples.append((time.monotonic(), [node.pid for node in found]))
            await asyncio.sleep(0.1)

    def max_leaders(self) -> int:
        return max((len(pids) for _, pids in self.samples), default=0)

    async def wait_leader(self, other_than: Node | None = None, timeout: float = 30.0) -> Node:
        async def one() -> Node | None:
            found = [n for n in await self.leaders() if n is not other_than]
            return found[0] if len(found) == 1 else None

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            node = await one()
            if node is not None:
                return node
            await asyncio.sleep(0.05)
        raise AssertionError(f"no single leader within {timeout}s:\n" + "\n".join(n.output()[-3000:] for n in self.nodes))

    async def wait_follows(self, node: Node, timeout: float = 15.0) -> dict:
        async def follows() -> dict | None:
            report = await self.health(node)
            return report if report is not None and report.get("leader") is False else None

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            report = await follows()
            if report is not None:
                return report
            await asyncio.sleep(0.05)
        raise AssertionError(f"{node.pid} still leads or does not answer:\n{node.output()[-3000:]}")

    def kill(self, node: Node) -> None:
        node.kill()


__all__ = ["Cluster", "Link", "Node", "enqueue_texts", "eventually", "free_port", "in_flight", "repeated"]
