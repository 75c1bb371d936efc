"""A real browser for the web pages: Debian's Chromium driven by Playwright (`pytest_plugins =
["support.browser"]`).

    async def test_page(page):                    # a fresh page in a fresh context per test
        await page.goto(url)
        await page.get_by_role("button", name="发送").click()

`playwright install` cannot download browsers here, so Playwright drives the system's `chromium`
(`executable_path`); without it the tests that ask for a browser are skipped with the reason, and
CI installs it (.ci/run). When a test fails, every page it opened is saved as a screenshot under
`test-artifacts/screenshots/` (CI keeps that folder) so a failing page can be looked at.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import pytest
import pytest_asyncio

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# The machine's network is closed: without these Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


_REPORTS = pytest.StashKey[dict]()


def _failed(request) -> bool:
    reports = request.node.stash.get(_REPORTS, {})
    return any(r.failed for r in reports.values())


@pytest_asyncio.fixture
async def browser():
    """One Chromium per test: it starts in well under a second, and sharing it across tests would
    tie every browser test to one event loop (the bot and sandbox run in the test's own loop)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.skip("chromium is not installed (apt-get install -y chromium fonts-wqy-microhei)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest_asyncio.fixture
async def browser_context(browser, request):
    """A fresh context (cookies, storage) per test; screenshots of its pages when the test fails."""
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                        viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    if _failed(request):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-120:]
        for i, p in enumerate(context.pages):
            # A crashed page leaves no picture; the test's own error says why.
            with contextlib.suppress(Exception):
                await p.screenshot(path=str(ARTIFACTS / f"{stem}-{i}.png"), full_page=True)
    await context.close()


@pytest_asyncio.fixture
async def page(browser_context):
    return await browser_context.new_page()
