"""Who may open what, sessions and CSRF.

- Access is declared on the view: `@public` (no session: /healthz, the sign-in pages, static
  files), `@person` (any signed-in person; the view checks ownership with `owner_or_office`),
  anything else is office-only. A new page is therefore closed unless said otherwise.
- The session cookie (`dutybot_session`) is HttpOnly, SameSite=Lax, Secure when WEB_BASE_URL is
  https; its value is checked against the store on every request (bot/services/signin.py).
- Every POST of a signed-in page carries the session's CSRF token, as the form field `csrf` or the
  `X-CSRF-Token` header (htmx sends it from <body hx-headers>); without it the POST is refused.
- Sign-in attempts are rate limited per client IP (behind trusted proxies, the X-Forwarded-For client) **in memory** (per process: a process restart
  forgets them, several processes each count their own). Tokens are 256-bit, so the limit guards
  against floods, not guessing.

A request with no session is redirected to /signin (GET) or refused (POST); a leader on an office
page gets 403. Refusals are raised as `Refusal`, which errors.py renders and audits.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot import clock
from bot.services import signin
from bot.services.signin import Current
from bot.web.context import ctx, db

COOKIE = "dutybot_session"
USER = web.RequestKey("user", object)  # request[USER]: Current | None
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refusal(Exception):
    """A request refused: rendered as a plain page with `status` and audited with `why`."""

    def __init__(self, status: int, why: str, message: str = ""):
        super().__init__(why)
        self.status = status
        self.why = why
        self.message = message


def public(handler: Handler) -> Handler:
    handler.__access__ = "public"  # type: ignore[attr-defined]
    return handler


def person(handler: Handler) -> Handler:
    handler.__access__ = "person"  # type: ignore[attr-defined]
    return handler


def access_of(request: web.Request) -> str:
    info = request.match_info
    if info.http_exception is not None or isinstance(info.route.resource, web.StaticResource):
        return "public"
    return getattr(info.handler, "__access__", "office")


def user(request: web.Request) -> Current | None:
    return request.get(USER)


def current(request: web.Request) -> Current:
    found = user(request)
    if found is None:  # the middleware lets no such request through to a non-public view
        raise Refusal(403, "no_session")
    return found


def owner_or_office(request: web.Request, person_id: str) -> Current:
    me = current(request)
    if not me.is_office and me.person_id != person_id:
        raise Refusal(403, "not_owner")
    return me


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    access = access_of(request)
    found = None
    session_id = request.cookies.get(COOKIE)
    if session_id:
        found = await db(request, signin.lookup, session_id, clock.now())
    request[USER] = found
    if access == "public":
        return await handler(request)
    if found is None:
        if request.method in ("GET", "HEAD"):
            target = "/signin"
            if request.headers.get("HX-Request"):
                return web.Response(status=204, headers={"HX-Redirect": target})
            raise web.HTTPSeeOther(target)
        raise Refusal(403, "no_session")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await check_csrf(request, found)
    if access == "office" and not found.is_office:
        raise Refusal(403, "office_only")
    return await handler(request)


async def check_csrf(request: web.Request, me: Current) -> None:
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()  # aiohttp keeps it: the view reads the same form again
        sent = str(form.get("csrf", ""))
    if not sent or not hmac.compare_digest(sent, me.csrf_token):
        raise Refusal(400, "csrf")


def set_session_cookie(response: web.StreamResponse, request: web.Request, session_id: str) -> None:
    secure = ctx(request).settings.web_url.startswith("https://")
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="Lax", secure=secure, path="/")


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")


class RateLimit:
    """At most `limit` attempts per `window` seconds per key (the client IP)."""

    def __init__(self, limit: int = 20, window: float = 600.0):
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        if len(self._hits) > 10_000:  # forget idle clients rather than grow without bound
            for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                del self._hits[k]
        return True


SIGNIN_LIMIT = web.AppKey("signin_limit", RateLimit)


def client_ip(request: web.Request) -> str:
    """The client's address: the peer's, or behind trusted reverse proxies (WEB_TRUSTED_PROXIES) the
    nearest address in X-Forwarded-For that is not one of them. Without it every browser behind nginx
    would share nginx's address, and one flood would lock everyone out of sign-in."""
    return forwarded_client(request.remote or "", request.headers.getall("X-Forwarded-For", []),
                            ctx(request).settings.web_trusted_proxies)


def forwarded_client(peer: str, forwarded: list[str], trusted) -> str:
    """Walk from the peer back along X-Forwarded-For while the hop is a trusted proxy (stdlib
    `ipaddress`; aiohttp-remotes would be a dependency for these few lines, and its strict mode answers
    400 to a chain with an unknown hop instead of stopping at it)."""
    hops = [h.strip() for value in forwarded for h in value.split(",") if h.strip()]
    address = peer
    while hops and _is_trusted(address, trusted):
        address = hops.pop()
    return address


def _is_trusted(address: str, trusted) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def limit_signin(request: web.Request) -> None:
    if not request.app[SIGNIN_LIMIT].allow(client_ip(request)):
        raise Refusal(429, "signin_rate_limited")
