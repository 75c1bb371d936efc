"""The browser fixture itself: Chromium starts, renders Chinese text, and Playwright finds by role."""

from aiohttp import web

pytest_plugins = ["support.browser"]


async def _page(request: web.Request) -> web.Response:
    return web.Response(text='<html><body><h1>安委办</h1><button onclick="this.textContent=\'已发送\'">发送</button>'
                             "</body></html>", content_type="text/html")


async def test_chromium_renders_and_clicks(page):
    app = web.Application()
    app.router.add_get("/", _page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        await page.goto(f"http://127.0.0.1:{port}/")
        assert await page.get_by_role("heading").inner_text() == "安委办"
        await page.get_by_role("button", name="发送").click()
        await page.get_by_role("button", name="已发送").wait_for()
    finally:
        await runner.cleanup()
