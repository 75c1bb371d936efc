"""Signing in by one-time link, and 退出 (see bot/services/signin.py for the design)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from bot import clock
from bot.services import signin
from bot.services.signin import LinkState, SignedIn
from bot.web import render
from bot.web.context import db, redirect
from bot.web.security import (
    COOKIE,
    clear_session_cookie,
    client_ip,
    limit_signin,
    person,
    public,
    set_session_cookie,
)

routes = web.RouteTableDef()


@routes.get("/signin")
@public
async def signin_page(request: web.Request) -> web.Response:
    return render.page(request, "signin.html", signed_out="out" in request.query)


@routes.get("/login/{token}")
@public
async def login_page(request: web.Request) -> web.Response:
    limit_signin(request)
    token = request.match_info["token"]

    def check(s):
        found, _ = signin.check_link(s, token, clock.now())
        if found.state is not LinkState.VALID:
            signin.refused(s, clock.now(), "web.link_refused", found.person.id if found.person else None,
                           {"reason": found.state.value, "ip": client_ip(request), "step": "open"})
        return found.state, (found.person.name if found.person else "")

    state, name = await db(request, check)
    status = 200 if state is LinkState.VALID else 410 if state in (LinkState.USED, LinkState.EXPIRED) else 404
    return render.page(request, "login.html", status=status, state=state.value, name=name, token=quote(token))


@routes.post("/login/{token}")
@public
async def login(request: web.Request) -> web.Response:
    limit_signin(request)
    token = request.match_info["token"]
    result = await db(request, signin.redeem, token, clock.now(), ip=client_ip(request))
    if not isinstance(result, SignedIn):
        status = 410 if result.state in (LinkState.USED, LinkState.EXPIRED) else 404
        return render.page(request, "login.html", status=status, state=result.state.value, name="", token="")
    target = "/" if result.person.is_office else f"/people/{quote(result.person.id, safe='')}"
    response = redirect(target)
    set_session_cookie(response, request, result.session_id)
    return response


@routes.post("/logout")
@person
async def logout(request: web.Request) -> web.Response:
    await db(request, signin.end, request.cookies.get(COOKIE, ""), clock.now())
    response = redirect("/signin?out=1")
    clear_session_cookie(response)
    return response
