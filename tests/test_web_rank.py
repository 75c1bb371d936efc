"""/rank in a real browser: the quarter's ranking, the bottom two with their streak, step and who
holds the 约谈, the bottom-two history; a bad quarter is named."""

from __future__ import annotations

from support.assessment_world import add_instance, at

pytest_plugins = ["support.harness", "support.browser", "support.web_fixtures"]

SHOTS = "test-artifacts/screenshots"
OUTCOMES = {"林芳": "done", "冯涛": "done", "何静": "done", "马超": "late", "吴刚": "missed", "郑洁": "missed"}


def two_quarters(web) -> None:
    """2026-Q2 and 2026-Q3 with the same outcomes: 规划建设部 and 经济运行部 last twice in a row."""
    h = web.harness
    duty = h.catalog.duties[0].id
    with h.session() as s:
        for day in (at(2026, 5, 15), at(2026, 8, 14)):
            for name, outcome in OUTCOMES.items():
                add_instance(s, web.person_id(name), duty, day, outcome)


async def test_ranking_with_steps_and_history(web, page):
    two_quarters(web)
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/rank?quarter=2026-Q3")
    await page.get_by_role("heading", name="2026年第三季度").wait_for()
    last = page.get_by_role("row").filter(has_text="规划建设部").first
    for text in ("后2位", "2 个季度", "约谈（分管负责人）", "李卫东"):
        await last.get_by_text(text).wait_for()
    first = page.get_by_role("row").filter(has_text="党政办公室").first
    await first.get_by_text("通报表扬").wait_for()
    history = page.get_by_role("row").filter(has_text="2026年第二季度")
    await history.get_by_text("通报批评").first.wait_for()
    await page.screenshot(path=f"{SHOTS}/web-rank.png", full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=f"{SHOTS}/web-rank-phone.png", full_page=True)
    # another quarter from the menu
    await page.get_by_label("季度").select_option("2026-Q2")
    await page.get_by_role("heading", name="2026年第二季度").wait_for()
    await page.get_by_role("row").filter(has_text="规划建设部").first.get_by_text("通报批评").wait_for()
    response = await page.goto(web.url + "/rank?quarter=2026-Q5")
    assert response.status == 400 and "季度“2026-Q5”无效" in await page.content()
