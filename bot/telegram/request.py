"""PTB's HTTP backend on aiohttp: every Bot API call of the bot goes through `AiohttpRequest`.

Why not PTB's default (HTTPXRequest): a paid-broadcast 叫应 sends up to 1,000 messages a second,
64 at once. httpcore's connection pool checks every pooled connection (`has_expired`, a
getpeername per connection) on every request, so with 64 connections a request cost ~1.6 ms of
CPU; through aiohttp's connector the same sendMessage costs ~0.3 ms (bench/RESULTS.md, "Phone
escalation and paid broadcast": measured with bench/paid_request.py). aiohttp is already a
dependency (the web console, the webhook endpoint, the sandboxes), so this is one HTTP stack less
to reason about, not one more. It is used for all calls, not only the bulk lane: the per-request
saving is the same for every call, and one backend means one set of semantics to test.

What stays PTB's: `BaseRequest.post`/`retrieve` build nothing here; they turn the status code and
body we return into the usual results and errors (RetryAfter with its retry_after, BadRequest,
Forbidden, ChatMigrated, InvalidToken, Conflict, NetworkError for 5xx). Ours, as HTTPXRequest does
it: a timeout of any phase raises `telegram.error.TimedOut`; any other transport failure
(connection refused, reset, a malformed response) raises `telegram.error.NetworkError` naming the
aiohttp error; the same timeout defaults (5 s read/write/connect, 1 s pool, 20 s for uploads).

Timeouts on aiohttp: `connect` covers waiting for a pooled connection plus connecting (aiohttp's
meaning), `sock_connect` the TCP connect, `sock_read` each read (as httpx's read timeout), and,
because aiohttp has no write timeout, the whole request is bounded by the sum of its phases'
timeouts (pool + connect + write + read) when all are finite: a peer that stops reading an upload
cannot hold a request forever. Bodies: without files a JSON object (`application/json`, one of
the Bot API's documented encodings; HTTPXRequest form-encodes, but percent-encoding a Chinese
text in Python cost more than the rest of the request: ~0.03-0.06 ms a call); with files multipart
as HTTPXRequest sends it, file names raw UTF-8 with HTML5 escaping (what httpx writes), so
Telegram shows `履职档案.xlsx`, not its percent-encoding. HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY are
honoured as httpx honours them (http(s) proxies; a socks proxy is refused at start, as PTB without
its socks extra refuses it).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.request
from urllib.parse import urlsplit

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

# httpx's escaping of multipart parameter values (HTML5 form encoding): '"' and control characters.
_HTML5_ESCAPES = {'"': "%22", **{chr(c): f"%{c:02X}" for c in range(0x20) if c != 0x1B}}
_HTML5_RE = re.compile("|".join(re.escape(c) for c in _HTML5_ESCAPES))


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` on one aiohttp ClientSession (created in `initialize`)."""

    def __init__(self, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0):
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str] = {}
        self._proxy_of: dict[tuple[str, str], tuple[URL | None, dict[str, str] | None]] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})
            self._proxies = urllib.request.getproxies_environment()
            self._proxy_of.clear()
            for scheme in ("https", "http", "all"):
                if (proxy := self._proxies.get(scheme)) and urlsplit(proxy).scheme not in ("http", "https"):
                    raise RuntimeError(f"{scheme.upper()}_PROXY={proxy}: only http(s) proxies are supported")

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.contains_files if request_data is not None else False
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = ((self._media_write_timeout if files else self._write_timeout)
                 if isinstance(write_timeout, DefaultValue) else write_timeout)
        phases = (pool, connect, write, read)
        total = None if any(t is None for t in phases) else sum(phases)  # type: ignore[arg-type]
        acquire = None if pool is None or connect is None else pool + connect
        timeout = aiohttp.ClientTimeout(total=total, connect=acquire, sock_connect=connect, sock_read=read)
        try:
            body, headers = _body(request_data)
            proxy, proxy_auth = self._proxy(url)
            proxy_headers = None
            if proxy_auth is not None:  # https: on the CONNECT; plain http: on the request the proxy forwards
                if url.startswith("https:"):
                    proxy_headers = proxy_auth
                else:
                    headers = {**(headers or {}), **proxy_auth}
            async with session.request(method, url, data=body, headers=headers, timeout=timeout,
                                       proxy=proxy, proxy_headers=proxy_headers) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's ServerTimeoutError and ConnectionTimeoutError are TimeoutErrors
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


    def _proxy(self, url: str) -> tuple[URL | None, dict[str, str] | None]:
        """HTTPS_PROXY / HTTP_PROXY / ALL_PROXY unless NO_PROXY names the host (read at initialize;
        per request, aiohttp's trust_env would re-read the environment and ~/.netrc: +0.2 ms)."""
        if not self._proxies:
            return None, None
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key not in self._proxy_of:
            found = self._proxies.get(parts.scheme) or self._proxies.get("all")
            if not found or urllib.request.proxy_bypass_environment(parts.hostname or "", self._proxies):
                self._proxy_of[key] = (None, None)
            else:
                proxy = URL(found)
                auth = None
                if proxy.user is not None:  # user:password in the proxy's URL: Basic auth, as httpx sends it
                    token = base64.b64encode(f"{proxy.user}:{proxy.password or ''}".encode()).decode()
                    auth = {"Proxy-Authorization": f"Basic {token}"}
                self._proxy_of[key] = (proxy.with_user(None), auth)
        return self._proxy_of[key]


_JSON = {"Content-Type": "application/json"}


def _body(request_data: RequestData | None) -> tuple[bytes | aiohttp.FormData | None, dict | None]:
    if request_data is None:
        return None, None
    if not request_data.contains_files:
        return json.dumps(request_data.parameters, ensure_ascii=False).encode(), _JSON
    form = aiohttp.FormData(quote_fields=False, charset="utf-8")
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=_escape(filename), content_type=mimetype)
    return form, None


def _escape(value: str) -> str:
    return _HTML5_RE.sub(lambda m: _HTML5_ESCAPES[m.group(0)], value)

