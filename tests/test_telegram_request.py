"""The bot's PTB HTTP backend (bot/telegram/request.py) where it differs from PTB's own: transport
errors, proxies from the environment. The Bot API semantics (results, 4xx/429/5xx errors, uploads,
downloads, a hanging server) are the sandbox suite's, run through both backends (test_sandbox.py)."""

from __future__ import annotations

import asyncio
import base64
import socket

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError

from bot.telegram.request import AiohttpRequest

pytest_plugins = ["support.sandbox_fixtures"]
from support.sandbox_fixtures import TOKEN  # noqa: E402

PROXY_VARS = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
              "no_proxy"]


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch):
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_connection_refused_is_a_network_error_naming_the_cause():
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{free_port()}/bot", request=AiohttpRequest(),
              get_updates_request=AiohttpRequest())
    with pytest.raises(NetworkError, match=r"aiohttp\.ClientConnectorError"):
        await bot.initialize()  # getMe
    await bot.shutdown()


class ForwardProxy:
    """A plain-HTTP forward proxy that records what passed through it (and its Proxy-Authorization)."""

    def __init__(self):
        self.seen: list[tuple[str, str | None]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((str(request.url), request.headers.get("Proxy-Authorization")))
        async with aiohttp.ClientSession() as http, http.request(
                request.method, str(request.url), data=await request.read(),
                headers={"Content-Type": request.headers.get("Content-Type", "")}) as answer:
            return web.Response(status=answer.status, body=await answer.read(), content_type="application/json")

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc) -> None:
        await self.runner.cleanup()


async def test_http_proxy_from_the_environment_with_credentials_and_no_proxy(sandbox, sandbox_client, monkeypatch):
    await sandbox_client.create_users([7])
    proxy = ForwardProxy()
    async with proxy as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url.replace("http://", "http://duty:s3cret@"))
        async with Bot(TOKEN, base_url=sandbox.base_url, request=AiohttpRequest(),
                       get_updates_request=AiohttpRequest()) as bot:
            await bot.send_message(7, "经代理")
        assert [url for url, _ in proxy.seen] == [f"{sandbox.base_url}{TOKEN}/getMe",
                                                   f"{sandbox.base_url}{TOKEN}/sendMessage"]
        assert {auth for _, auth in proxy.seen} == {"Basic " + base64.b64encode(b"duty:s3cret").decode()}

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with Bot(TOKEN, base_url=sandbox.base_url, request=AiohttpRequest(),
                       get_updates_request=AiohttpRequest()) as bot:
            await bot.send_message(7, "直连")
        assert len(proxy.seen) == 2
    assert [m["text"] for m in await sandbox_client.messages(7)] == ["经代理", "直连"]


async def test_a_socks_proxy_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="only http"):
        await request.initialize()
    await request.shutdown()


async def test_https_through_a_proxy_sends_connect_with_the_credentials(monkeypatch):
    """Telegram is https: the proxy sees a CONNECT carrying Proxy-Authorization (here it refuses it:
    a 407 is a NetworkError like any transport failure)."""
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://duty:s3cret@127.0.0.1:{port}")
    bot = Bot(TOKEN, request=AiohttpRequest(), get_updates_request=AiohttpRequest())  # api.telegram.org
    try:
        with pytest.raises(NetworkError, match="aiohttp"):
            await bot.initialize()
    finally:
        await bot.shutdown()
        server.close()
    head = seen[0].decode()
    assert head.startswith("CONNECT api.telegram.org:443 ")
    assert "Proxy-Authorization: Basic " + base64.b64encode(b"duty:s3cret").decode() in head
