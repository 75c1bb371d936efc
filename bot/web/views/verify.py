"""/verify: the chain head, the last verify's result, and 重新校验 (runs in the background; the
page refreshes itself while it runs)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from aiohttp import web

from bot import clock
from bot.services import verify, verify_runs
from bot.texts import web as T
from bot.web import render
from bot.web.context import ctx, db, redirect
from bot.web.security import current

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
NAV = [(80, "/verify", T.NAV_VERIFY)]
TASKS = web.AppKey("verify_tasks", set)


def setup(app: web.Application) -> None:
    app[TASKS] = set()  # running verifies, held until done (a task nobody holds can vanish)


async def _state(request: web.Request) -> dict:
    def load(s):
        now = clock.now()
        last = verify_runs.last(s)
        finished = datetime.fromisoformat(last["finished_at"]) if last else None
        return {"head": verify_runs.head(s), "last": last, "finished": finished,
                "running": verify_runs.running(s, now)}

    return await db(request, load)


@routes.get("/verify")
async def verify_page(request: web.Request) -> web.Response:
    return render.page(request, "verify.html", title=T.VERIFY_TITLE, **await _state(request))


@routes.get("/verify/state")
async def verify_state(request: web.Request) -> web.Response:
    return render.page(request, "_verify_state.html", **await _state(request))


@routes.post("/verify")
async def verify_again(request: web.Request) -> web.Response:
    me = current(request)
    c = ctx(request)
    started = clock.now()
    if await db(request, verify_runs.mark_running, started, me.person_id):
        task = asyncio.create_task(_run(c, me.person_id, started))
        request.app[TASKS].add(task)
        task.add_done_callback(request.app[TASKS].discard)
    return redirect("/verify")


async def _run(c, by: str, started) -> None:
    def work() -> None:
        try:
            result = verify.verify(c.store.engine, c.settings.data_dir)
        except Exception:
            log.exception("verify from the web console failed")
            with c.store.session() as s:
                verify_runs.kv.put(s, verify_runs.RUNNING, None, clock.now())
            return
        with c.store.session() as s:
            verify_runs.save(s, result, started, clock.now(), by, "web")

    await asyncio.to_thread(work)
