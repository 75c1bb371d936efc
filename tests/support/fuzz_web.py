"""The web fuzz sweep's world, strategies and oracle (tests/test_fuzz_web.py, bench/fuzz.py).

`WebWorld.start(loop, tmp)` runs the bot and the web console (tests/support/web_fixtures.py) in a
`LoopThread`, with three clients: nobody signed in, a leader (王海涛) and the office (孙丽). Every
route of the console's router is swept: placeholders filled with other people's ids, ids that
never existed, numbers past BIGINT, paths with dots, NULs and unicode; query strings of the
parameters the pages read with junk values; POSTs without a CSRF token, with a wrong one, and
with the right one and junk fields.

`world.problem(req, response, before, after)` names what is wrong: a 5xx or a logged error, a
4xx page without a message, a traceback in a body; a refused request (no session, no or a wrong
CSRF token, a leader on an office page) that is not 4xx/redirect, not audited as `web.refused`,
or that changed anything but the audit log and the web sessions' last-seen time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import aiohttp
from hypothesis import strategies as st
from sqlmodel import func, select

from bot import clock
from bot.services import signin
from bot.store.models import AuditLog
from support.fuzz_cli import CONTROL, store_checksum
from support.fuzz_updates import ErrorLog, LoopThread

LEADER, OTHER_LEADER, OFFICE = "王海涛", "赵明", "孙丽"
MAY_CHANGE = {"auditlog", "websession", "leaderlease"}  # a refusal is audited; a session's last_seen is touched
_PLACEHOLDER = re.compile(r"\{[^}]+\}")
QUERY_KEYS = ["period", "unit", "page", "q", "from", "to", "status", "kind", "quarter", "year", "format", "sort",
              "person", "level", "all", "after", "before", "id", "month", "duty"]


@dataclass
class Request:
    client: str  # anon | leader | office
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    csrf: str = "none"  # none | wrong | right (POST only)
    form: dict[str, str] = field(default_factory=dict)
    route: str = ""


@dataclass
class Response:
    status: int
    body: str
    location: str = ""


class WebWorld:
    def __init__(self, loop: LoopThread, harness, console):
        self.loop = loop
        self.harness = harness
        self.console = console
        self.clients: dict[str, aiohttp.ClientSession] = {}
        self.csrf: dict[str, str] = {}
        self.errors = ErrorLog()
        self.routes: list[tuple[str, str]] = []

    @classmethod
    def start(cls, loop: LoopThread, tmp_path: Path, database_url: str | None = None) -> WebWorld:
        """The console (example catalogue, SQLite unless `database_url`) and its three clients."""
        from support.harness import Harness
        from support.web_fixtures import start_console

        harness = Harness(database_url or f"sqlite:///{tmp_path}/dutybot.db", tmp_path)
        loop.call(harness.__aenter__())
        console = loop.call(start_console(harness))
        world = cls(loop, harness, console)
        loop.call(world._setup())
        return world

    async def _setup(self) -> None:
        import logging

        h = self.harness
        await h.reconcile(clock.now())
        self.clients["anon"] = aiohttp.ClientSession()
        for key, name in (("leader", LEADER), ("office", OFFICE)):
            with h.session() as s:
                person_id = h.catalog.find_person(name).id
                token = signin.create_link(s, person_id, clock.now(), via="fuzz")
                signed = signin.redeem(s, token, clock.now(), ip="127.0.0.1")
            self.clients[key] = aiohttp.ClientSession(cookies={"dutybot_session": signed.session_id})
            self.csrf[key] = signed.csrf_token
        for route in self.console.server.app.router.routes():
            info = route.resource.get_info() if route.resource else {}
            path = info.get("path") or info.get("formatter") or info.get("prefix")
            if path and route.method in ("GET", "POST"):
                self.routes.append((route.method, path))
        self.routes = sorted(set(self.routes))
        logging.getLogger().addHandler(self.errors)

    def stop(self) -> None:
        import logging

        logging.getLogger().removeHandler(self.errors)

        async def close() -> None:
            for c in self.clients.values():
                await c.close()
            await self.console.close()
            await self.harness.__aexit__(None, None, None)

        self.loop.call(close())

    def call(self, coro, timeout: float = 120.0):
        return self.loop.call(coro, timeout)

    # --- requests ---------------------------------------------------------------------------------------
    async def send(self, req: Request) -> Response:
        client = self.clients[req.client]
        data = dict(req.form)
        if req.method == "POST" and req.csrf != "none":
            data["csrf"] = self.csrf.get(req.client, "x") if req.csrf == "right" else "wrong-token"
        url = self.console.url + req.path
        async with client.request(req.method, url, params=req.query or None, data=data or None,
                                  allow_redirects=False) as r:
            body = await r.read()
            text = body.decode("utf-8", "replace") if "text" in r.content_type or "json" in r.content_type else ""
            return Response(r.status, text, r.headers.get("Location", ""))

    def snapshot(self) -> dict:
        sums = store_checksum(self.harness.database_url)
        with self.harness.session() as s:
            sums["_refusals"] = s.exec(select(func.count()).select_from(AuditLog)
                                       .where(AuditLog.action == "web.refused")).one()
        return sums

    def refused_by_design(self, req: Request) -> bool:
        """Requests the console must refuse whatever the route does."""
        if req.route in ("/healthz", "/signin") or req.route.startswith(("/static", "/login/", "/ics/")):
            return False
        if req.client == "anon":
            return req.method == "POST"
        return req.method == "POST" and req.csrf != "right"

    def problem(self, req: Request, res: Response, before: dict, after: dict) -> str | None:
        if self.errors.records:
            text = self.errors.text()
            self.errors.records.clear()
            return f"logged an error:\n{text[-3000:]}"
        if res.status >= 500:
            return f"HTTP {res.status}: {res.body[:500]}"
        if "Traceback (most recent call last)" in res.body:
            return "a traceback in the page"
        if res.status >= 400 and res.body is not None and not res.body.strip():
            return f"HTTP {res.status} without a message"
        if self.refused_by_design(req) and res.status != 404:  # 404: the path (a "..") matched no route
            if res.status < 400 and not (res.status in (302, 303) and req.method == "GET"):
                return f"not refused: HTTP {res.status}"
            if after["_refusals"] <= before["_refusals"]:
                return "refused but not in the audit log"
        if res.status >= 400 or self.refused_by_design(req):
            changed = sorted(k for k in before if k not in MAY_CHANGE and k != "_refusals"
                             and before[k] != after.get(k))
            if changed:
                return f"HTTP {res.status} but changed {changed}"
        return None


# --- strategies -------------------------------------------------------------------------------------------
junk = st.one_of(
    st.sampled_from(["", " ", "0", "-1", "1", "2", "99999", str(2**63), str(10**30), "1e3", "NaN", "..", "%2e%2e",
                     "../../etc/passwd", "%00", "null", "2026-13", "2026-Q5", "2026-02-30", "9999-12-31",
                     "<script>alert(1)</script>", "' OR 1=1 --", "张建国", "a" * 3000, "🙂"]),
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(CONTROL[:-1]), max_size=30))


def requests(world: WebWorld) -> st.SearchStrategy[Request]:
    with world.harness.session() as s:
        from bot.store.models import CalloutTarget, DutyInstance, Evidence, Exemption

        ids = [str(x) for m in (DutyInstance, Evidence, Exemption, CalloutTarget)
               for x in s.exec(select(m.id).limit(3))]
    people = [world.harness.catalog.find_person(n).id for n in (LEADER, OTHER_LEADER, OFFICE)]
    values = st.one_of(st.sampled_from(ids + people + ["1"]), junk)

    @st.composite
    def build(draw) -> Request:
        method, route = draw(st.sampled_from(world.routes))
        path = _PLACEHOLDER.sub(lambda m: quote(draw(values), safe="") or "x", route)
        if route.startswith("/static"):
            path = "/static/" + quote(draw(st.sampled_from(["app.css", "../app.py", "%2e%2e/x", "x" * 300])), safe="%")
        query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), junk, max_size=3))
        client = draw(st.sampled_from(["anon", "leader", "office", "office"]))
        csrf = draw(st.sampled_from(["none", "wrong", "right", "right"])) if method == "POST" else "none"
        form = draw(st.dictionaries(st.sampled_from(QUERY_KEYS + ["text", "level", "units", "reason", "hazard"]),
                                    junk, max_size=4)) if method == "POST" else {}
        return Request(client, method, path, query, csrf, form, route)

    return build()

