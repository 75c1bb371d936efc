"""Error pages. Nothing but a plain page (or JSON for /healthz) ever reaches a browser: unknown
paths and ids get 404, bad input 400 naming the wrong value, refusals 403/429, and anything
unexpected is logged with an incident number and shown as 500 with that number only.
Every refusal (`Refusal`) is written to the audit log with the path, person and client IP."""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot import clock
from bot.services import signin
from bot.store.models import row_id_of
from bot.texts import web as T
from bot.web import render
from bot.web.context import db
from bot.web.security import Refusal, client_ip, user

log = logging.getLogger(__name__)


class ClientMistakes(logging.Filter):
    """aiohttp logs a malformed request (a request line over 8 KB, a broken header) with a traceback
    at ERROR before answering 400 itself. It is the client's mistake, sent by any scanner: one INFO
    line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = "web: malformed request refused (%s): %s", (error.code, error.message[:200])
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("aiohttp.server").addFilter(ClientMistakes())


class BadInput(Exception):
    """A wrong value in the request: 400 with a message saying which."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(Exception):
    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


def row_id(request: web.Request, not_found: str = "") -> int:
    """The `{id}` of the path as a row id; NotFound when it cannot be one."""
    value = row_id_of(request.match_info["id"])
    if value is None:
        raise NotFound(not_found)
    return value


@web.middleware
async def middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refusal as r:
        await _audit(request, r)
        return page(request, r.status, r.message or T.REFUSALS.get(r.why, T.FORBIDDEN))
    except BadInput as e:
        return page(request, 400, e.message)
    except NotFound as e:
        return page(request, 404, e.message or T.NOT_FOUND)
    except web.HTTPException as e:
        if e.status >= 400:
            return page(request, e.status, T.STATUS_MESSAGES.get(e.status, T.ERROR))
        raise  # redirects
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except OSError as e:
        if _static(request):  # aiohttp stats the file: a name too long (ENAMETOOLONG) is just not there
            return page(request, 404, T.NOT_FOUND)
        return _incident(request, e)
    except Exception as e:
        return _incident(request, e)


def _static(request: web.Request) -> bool:
    route = request.match_info.route
    return route is not None and isinstance(route.resource, web.StaticResource)


def _incident(request: web.Request, error: BaseException) -> web.Response:
    """Anything unexpected: logged with an incident number, shown as 500 with that number only."""
    incident = secrets.token_hex(4)
    log.error("web: %s %s failed (incident %s)", request.method, request.path, incident,
              exc_info=(type(error), error, error.__traceback__))
    return page(request, 500, T.SERVER_ERROR.format(incident=incident))


def page(request: web.Request, status: int, message: str) -> web.Response:
    if request.path.startswith("/healthz") or request.headers.get("Accept", "") == "application/json":
        return web.json_response({"ok": False, "status": status, "error": message}, status=status)
    try:
        return render.page(request, "error.html", status=status, code=status, message=message,
                           title=T.STATUS_TITLES.get(status, T.ERROR))
    except Exception:  # the error page itself must not fail
        log.exception("web: error page failed")
        return web.Response(status=status, text=message, content_type="text/plain")


async def _audit(request: web.Request, r: Refusal) -> None:
    me = user(request)
    detail = {"path": request.path, "method": request.method, "why": r.why, "ip": client_ip(request),
              "status": r.status}
    try:
        await db(request, signin.refused, clock.now(), "web.refused", me.person_id if me else None, detail)
    except Exception:  # the refusal stands even if the store is down
        log.exception("web: could not audit a refusal")
