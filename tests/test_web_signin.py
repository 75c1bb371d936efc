"""The web console's skeleton and sign-in, in a real browser: one-time links, sessions, CSRF,
who sees what, error pages, /healthz."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from datetime import timedelta

import time_machine
from sqlmodel import select

from bot import clock
from bot.services import signin
from bot.store.models import AuditLog, WebLink
from bot.web.security import forwarded_client

pytest_plugins = ["support.harness", "support.browser", "support.web_fixtures"]


async def test_healthz_without_sign_in(web):
    async with web.http.get(web.url + "/healthz") as r:
        assert r.status == 200
        body = await r.json()
    assert body["ok"] is True and body["outbox_pending"] >= 0 and body["inbox_pending"] >= 0


async def test_sign_in_by_link_twice_second_refused(web, page, browser):
    link = web.link("孙丽")
    await page.goto(link)
    await page.get_by_role("heading", name="以「孙丽」身份登录").wait_for()
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(web.url + "/")
    await page.get_by_role("button", name="退出").wait_for()
    # the same link in another browser: used
    other = await browser.new_context()
    again = await other.new_page()
    response = await again.goto(link)
    assert response.status == 410
    await again.get_by_role("heading", name="登录链接无效").wait_for()
    assert "已经使用过" in await again.content() and "/web" in await again.content()
    await other.close()
    # cookie flags
    cookie = next(c for c in await page.context.cookies() if c["name"] == "dutybot_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    # the token is stored hashed
    token = link.rsplit("/", 1)[1]
    with web.harness.session() as s:
        hashes = [w.token_hash for w in s.exec(select(WebLink))]
    assert token not in hashes and signin.digest(token) in hashes
    # 退出 ends the session
    await page.get_by_role("button", name="退出").click()
    await page.wait_for_url("**/signin?out=1")
    await page.goto(web.url + "/")
    assert "/signin" in page.url


async def test_no_session_redirects_to_sign_in(web, page):
    await page.goto(web.url + "/overdue?unit=x")
    assert page.url == web.url + "/signin"
    await page.get_by_role("heading", name="登录").wait_for()
    assert "/web" in await page.content()


async def test_expired_link_refused(web, page):
    link = web.link("孙丽")
    with time_machine.travel(clock.now() + timedelta(minutes=11), tick=True):
        response = await page.goto(link)
        assert response.status == 410
        assert "已过期" in await page.content()
        async with web.http.post(link) as r:  # pressing 登录 on a page opened earlier
            assert r.status == 410
    with web.harness.session() as s:
        reasons = [a.detail.get("reason") for a in s.exec(select(AuditLog).where(AuditLog.action == "web.link_refused"))]
    assert "expired" in reasons


async def test_unknown_link_and_unknown_page(web, page):
    response = await page.goto(web.url + "/login/nonsense")
    assert response.status == 404
    await web.sign_in(page, "孙丽")
    response = await page.goto(web.url + "/no/such/page")
    assert response.status == 404
    await page.get_by_role("heading", name="未找到").wait_for()


async def test_post_without_csrf_refused(web, page):
    await web.sign_in(page, "孙丽")
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    import aiohttp

    async with aiohttp.ClientSession(cookies=cookies) as http:
        async with http.post(web.url + "/logout", data={}) as r:
            assert r.status == 400
            assert "安全校验码" in await r.text()
        async with http.post(web.url + "/logout", data={"csrf": "wrong"}) as r:
            assert r.status == 400
    await page.goto(web.url + "/")  # still signed in: the forged 退出 did nothing
    await page.get_by_role("button", name="退出").wait_for()
    with web.harness.session() as s:
        whys = [a.detail.get("why") for a in s.exec(select(AuditLog).where(AuditLog.action == "web.refused"))]
    assert whys.count("csrf") == 2


async def test_session_ends_after_12_hours_idle(web, page):
    await web.sign_in(page, "孙丽")
    with time_machine.travel(clock.now() + timedelta(hours=12, minutes=1), tick=True):
        await page.goto(web.url + "/")
        assert "/signin" in page.url


async def test_sign_in_rate_limited(web):
    for _ in range(20):
        async with web.http.get(web.url + "/login/guess") as r:
            assert r.status == 404
    async with web.http.get(web.url + "/login/guess") as r:
        assert r.status == 429
        assert "太频繁" in await r.text()


async def test_no_traceback_reaches_the_browser(web, page, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals: /srv/dutybot/data")

    monkeypatch.setattr("bot.services.dashboard.overview", broken)
    await web.sign_in(page, "孙丽")
    response = await page.goto(web.url + "/")
    assert response.status == 500
    body = await page.content()
    assert "编号" in body and "Traceback" not in body and "secret internals" not in body


async def test_behind_a_trusted_proxy_the_limit_counts_each_browser(web):
    """nginx (127.0.0.1 here) names the browser in X-Forwarded-For: one flooding client is limited, another
    still signs in, and the refusal is audited with the browser's address."""
    web.harness.ctx.settings = replace(web.harness.ctx.settings,
                                       web_trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),))
    flood = {"X-Forwarded-For": "203.0.113.7, 10.1.2.3"}  # the first hop is the client's own claim
    for _ in range(20):
        async with web.http.get(web.url + "/login/guess", headers=flood) as r:
            assert r.status == 404
    async with web.http.get(web.url + "/login/guess", headers=flood) as r:
        assert r.status == 429
    async with web.http.get(web.url + "/login/guess", headers={"X-Forwarded-For": "10.1.2.4"}) as r:
        assert r.status == 404  # another browser behind the same proxy
    with web.harness.session() as s:
        ips = {a.detail.get("ip") for a in s.exec(select(AuditLog)).all() if a.detail}
    assert "10.1.2.3" in ips and "203.0.113.7" not in ips


def test_only_trusted_hops_are_walked_back():
    trusted = (ipaddress.ip_network("172.28.0.2/32"),)
    assert forwarded_client("172.28.0.2", ["1.2.3.4, 10.0.0.9"], trusted) == "10.0.0.9"
    assert forwarded_client("10.0.0.9", ["1.2.3.4"], trusted) == "10.0.0.9"  # not from the proxy: not believed
    assert forwarded_client("172.28.0.2", [], trusted) == "172.28.0.2"
    assert forwarded_client("172.28.0.2", ["junk"], trusted) == "junk"  # nginx's own hop, as nginx wrote it
    assert forwarded_client("127.0.0.1", ["10.0.0.9"], ()) == "127.0.0.1"  # no proxies named: the peer
