"""docker-compose.yml's topology run for real without Docker (there is no Docker engine here): a real
nginx running deploy/nginx.conf (the same file; only the replicas' host names and ports, its
listen port and its pid/log/temp paths are changed, tests/support/deploy.py) in front of two
`dutybot run --webhook` replicas started with the compose file's command and environment on one
fresh PostgreSQL database, Telegram being the sandbox. Not covered: the images themselves
(Dockerfile, the nginx image) are not built here.

Through the proxy: webhook deliveries (the test's own POSTs and the sandbox's) are handled once by
whichever replica gets them, a wrong secret is refused, the web console signs in by link and
serves pages with one session on both replicas. Then the leader is frozen with a webhook POST and
a console request in flight to it and SIGKILLed: nginx passes both to the other replica, further
requests all succeed, the other replica leads, and every update is handled exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest
from sqlmodel import select

from bot import clock
from bot.services import signin
from bot.store.models import AuditLog, InboxUpdate, Person

pytest_plugins = ["support.harness"]
from conftest import PG_URL, make_database_url  # noqa: E402
from support import deploy  # noqa: E402
from support.cluster import Cluster, free_port  # noqa: E402
from support.harness import eventually, limited_sandbox  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")]
SECRET = "deploy-proxy-secret"
FIRST_USER = 9_300_001  # strangers: each message gets one "not bound" answer (once per user and hour)
OFFICE = "孙丽"  # office staff in duties.yaml


@pytest.fixture
async def sandbox():
    async with limited_sandbox() as sb:
        yield sb


@pytest.fixture
def pg_url(tmp_path):
    if PG_URL is None:
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): the replicas share one database")
    if deploy.nginx_binary() is None:
        pytest.skip("needs nginx (apt-get install nginx; .ci/run installs it)")
    from bot.store import Store

    url, drop = make_database_url("postgresql", tmp_path)
    Store(url).dispose()  # migrated once, before both replicas start
    yield url
    drop()


def _update(n: int) -> dict:
    user = FIRST_USER + n
    return {"update_id": 930_000 + n, "message": {
        "message_id": 1, "date": int(time.time()), "text": f"你好 {n}",
        "chat": {"id": user, "type": "private", "first_name": "访客"},
        "from": {"id": user, "is_bot": False, "first_name": "访客"}}}


class Through:
    """Requests through the proxy, as Telegram and a browser (keeping its cookie) make them."""

    def __init__(self, nginx: deploy.Nginx, telegram: httpx.AsyncClient, browser: httpx.AsyncClient):
        self.nginx = nginx
        self.telegram = telegram
        self.browser = browser
        self.posted: list[int] = []  # updates the proxy answered 200 for

    async def deliver(self, n: int, secret: str = SECRET) -> int:
        response = await self.telegram.post(f"{self.nginx.url}/telegram", json=_update(n),
                                          headers={"X-Telegram-Bot-Api-Secret-Token": secret})
        if response.status_code == 200:
            self.posted.append(n)
        return response.status_code

    async def page(self, path: str) -> httpx.Response:
        return await self.browser.get(f"{self.nginx.url}{path}")


def _served_by(nginx: deploy.Nginx, uri_prefix: str) -> set[str]:
    return {r.upstreams[-1] for r in nginx.requests() if r.uri.startswith(uri_prefix) and r.upstreams}


def _handled(store, update_ids: set[int]) -> list[InboxUpdate] | None:
    with store.session() as s:
        rows = s.exec(select(InboxUpdate).where(InboxUpdate.update_id.in_(update_ids))).all()
    return rows if len(rows) == len(update_ids) and all(r.state == "done" for r in rows) else None


async def _in_flight_to(nginx: deploy.Nginx, port: int, start, what: str) -> asyncio.Task:
    """Start requests until one is waiting unread at `port` (a frozen replica); the round robin may
    send the first to the other replica, which answers it."""
    for _ in range(4):
        task = asyncio.create_task(start())
        state = await eventually(lambda t=task: "done" if t.done() else "waiting" if nginx.request_waiting(port) else None,
                                 15, f"{what} answered or waiting at the frozen replica", interval=0.01)
        if state == "waiting":
            return task
        assert (await task) == 200
    pytest.fail(f"nginx never sent {what} to the frozen replica: {nginx.requests()[-8:]}")


@pytest.mark.slow
async def test_nginx_in_front_of_two_replicas_on_postgresql(sandbox, pg_url, tmp_path):
    from bot.store import Store

    compose = deploy.load_compose()
    hooks = [free_port() for _ in deploy.REPLICAS]
    nginx = deploy.Nginx(tmp_path, compose, {})
    webhook_url = f"{nginx.url}/telegram"  # the public URL Telegram posts to: nginx's
    env = {**deploy.replica_env(compose, data_dir=tmp_path / "data"), "WEBHOOK_SECRET": SECRET,
           "WEB_BASE_URL": nginx.url}
    cluster = Cluster(sandbox, pg_url, tmp_path, size=len(deploy.REPLICAS), lease=3.0, renew=1.0, env=env,
                      args_for=lambda n: deploy.replica_args(compose, webhook_url=webhook_url,
                                                             listen=f"127.0.0.1:{hooks[n]}"))
    nginx.upstreams = {name: (hooks[n], node.port) for n, (name, node) in enumerate(zip(deploy.REPLICAS, cluster.nodes,
                                                                                        strict=True))}
    hook_of = {node: f"127.0.0.1:{hooks[n]}" for n, node in enumerate(cluster.nodes)}
    web_of = {node: f"127.0.0.1:{node.port}" for node in cluster.nodes}
    store = Store(pg_url, run_migrations=False)
    users = [FIRST_USER + n for n in range(40)]
    async with nginx, cluster, httpx.AsyncClient(timeout=30) as telegram, httpx.AsyncClient(timeout=30) as browser:
        through = Through(nginx, telegram, browser)
        await sandbox.users.create_users([{"id": u, "first_name": f"访客{u}"} for u in users])

        # (1) the webhook: any replica takes a delivery; a wrong or missing secret is refused
        assert [await through.deliver(n) for n in range(4)] == [200] * 4
        assert await through.deliver(20, secret="wrong") == 403
        assert await through.deliver(21, secret="") == 403
        assert _served_by(nginx, "/telegram") == set(hook_of.values())  # both replicas took some
        # Telegram's own delivery (the sandbox posts to the webhook URL both replicas registered)
        from_telegram = await sandbox.users.send_text(users[30], "你好")
        await sandbox.users.wait_for(chat_id=users[30], timeout=20)

        # (2) the web console: /healthz, the redirect to sign-in, a sign-in link, one session on both
        health = await through.page("/healthz")
        assert health.status_code == 200 and health.json()["ok"]
        bare = await through.page("/overdue")
        assert bare.status_code == 303 and bare.headers["location"] == "/signin"
        assert (await through.page("/signin")).status_code == 200
        with store.session() as s:
            office = s.exec(select(Person).where(Person.name == OFFICE)).one()
            token = signin.create_link(s, office.id, clock.now(), via="test")
        link = await through.page(f"/login/{token}")
        assert link.status_code == 200 and "登录" in link.text
        signed = await browser.post(f"{nginx.url}/login/{token}")
        assert signed.status_code == 303 and signed.headers["location"] == "/" and browser.cookies
        assert [(await through.page("/")).status_code for _ in range(2)] == [200, 200]
        overview = [r for r in nginx.requests() if (r.method, r.uri) == ("GET", "/")]
        # one after the other on the two replicas: the session is in the store, both know it
        assert {r.upstreams[-1] for r in overview[-2:]} == set(web_of.values()), overview

        # (3) the leader freezes with a delivery and a page request in flight to it, then dies
        await eventually(lambda: _handled(store, {930_000 + n for n in range(4)}), 20, "the first deliveries handled")
        victim = await cluster.wait_leader()
        survivor = next(node for node in cluster.nodes if node is not victim)
        victim.pause()
        hook_port = int(hook_of[victim].rpartition(":")[2])
        post = await _in_flight_to(nginx, hook_port, lambda: through.deliver(len(through.posted) + 4),
                                   "a webhook POST")
        page = await _in_flight_to(nginx, victim.port, lambda: _status(through.page("/")), "a console page")
        victim.kill()
        victim.stopped = False
        # nginx passes the request that reached the dead replica to the other one: the POST too
        # (deploy/nginx.conf: proxy_next_upstream ... non_idempotent, safe as the inbox drops repeats)
        assert (await post) == 200 and (await page) == 200, nginx.errors()[-2000:]
        # nginx writes a request's log line after the client has its answer: wait for both lines
        passed_on = {("POST", (hook_of[victim], hook_of[survivor]), 200), ("GET", (web_of[victim], web_of[survivor]), 200)}
        await eventually(lambda: passed_on <= {(r.method, tuple(r.upstreams), r.status) for r in nginx.requests()},
                         10, "both requests passed on, in nginx's access log")
        # later requests: the dead replica is tried again only after fail_timeout; all succeed
        codes = [await through.deliver(n) for n in range(10, 16)]
        pages = [(await through.page(path)).status_code for path in ("/", "/overdue", "/healthz", "/")]
        assert codes == [200] * 6 and pages == [200] * 4
        after_kill = await sandbox.users.send_text(users[31], "你好")

        # the survivor leads (the victim's lease ran out) and answers everyone, each update once
        await cluster.wait_leader(other_than=victim, timeout=10)
        expected = {930_000 + n for n in through.posted}
        rows = await eventually(lambda: _handled(store, expected | {from_telegram, after_kill}), 30,
                                "every accepted update handled")
        assert {r.attempts for r in rows} == {1}, [(r.update_id, r.attempts) for r in rows]
        answered = [FIRST_USER + n for n in through.posted] + [users[30], users[31]]
        await eventually(lambda: set(answered) <= {m.chat_id for m in sandbox.world.bot_messages}, 30, "every answer")
        per_chat = Counter(m.chat_id for m in sandbox.world.bot_messages)
        assert {per_chat[u] for u in answered} == {1}, per_chat  # each answered once
        with store.session() as s:
            refusals = s.exec(select(AuditLog).where(AuditLog.action == "refused_unbound")).all()
        assert len(refusals) == len(answered)  # each update handled once (one audit per handling)
        assert not {r.update_id for r in rows} & {930_020, 930_021}  # the refused deliveries were not taken
        assert sandbox.webhook.failures == 0  # Telegram's deliveries all succeeded on the first try
        assert cluster.max_leaders() == 1
    store.dispose()


async def _status(request) -> int:
    return (await request).status_code
