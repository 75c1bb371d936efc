"""/exemptions in a real browser: the office approves a request, revokes it with a reason (the
leader is told, the instance counts again, `verify` passes), refuses another."""

from __future__ import annotations

from sqlmodel import select

from bot import clock
from bot.services import exemptions, verify
from bot.store.models import DutyInstance, Exemption

pytest_plugins = ["support.harness", "support.browser", "support.web_fixtures"]

SHOTS = "test-artifacts/screenshots"


def request_exemption(web, name: str, text: str) -> tuple[int, int]:
    """`name` asks to be excused from their first open instance; returns (exemption id, instance id)."""
    pid = web.person_id(name)
    with web.harness.session() as s:
        inst = s.exec(select(DutyInstance).where(DutyInstance.person_id == pid, DutyInstance.status == "open")
                      .order_by(DutyInstance.due_at, DutyInstance.id)).first()
        ex = exemptions.submit(s, pid, "出差", text, clock.now(), instance_id=inst.id)
        exemptions.ask_office(s, ex)
        return ex.id, inst.id


def status_of(web, instance_id: int) -> str:
    with web.harness.session() as s:
        return s.get(DutyInstance, instance_id).status


async def test_approve_then_revoke_then_refuse(web, page):
    h = web.harness
    await h.reconcile(clock.now())
    leader = await h.bind("王海涛")
    ex_id, inst_id = request_exemption(web, "王海涛", "赴省厅参加培训")
    other_id, _ = request_exemption(web, "赵明", "参加市安委会会议")
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/exemptions")
    await page.get_by_role("heading", name="待审批的申请（2）").wait_for()
    await page.get_by_text("赴省厅参加培训").wait_for()
    await page.screenshot(path=f"{SHOTS}/web-exemptions.png", full_page=True)

    await page.get_by_role("button", name="批准 王海涛").click()
    await page.get_by_role("status").filter(has_text="已批准 王海涛 的申请").wait_for()
    assert status_of(web, inst_id) == "excused"
    with h.session() as s:
        excused = len(s.exec(select(DutyInstance).where(DutyInstance.status == "excused")).all())
    assert f"{excused} 项免于考核" in await page.get_by_role("status").inner_text()
    await h.wait_for_message(leader, contains="已批准")

    await page.get_by_role("textbox", name="撤销理由 王海涛").fill("实际未出差")
    await page.get_by_role("button", name="撤销 王海涛").click()
    await page.get_by_role("status").filter(has_text="已撤销 王海涛 的免考核").wait_for()
    row = page.get_by_role("row").filter(has_text="赴省厅参加培训")
    await row.get_by_text("已撤销", exact=True).wait_for()
    await row.get_by_text("实际未出差").wait_for()
    assert await row.get_by_role("button", name="撤销 王海涛").count() == 0
    assert status_of(web, inst_id) == "open"
    assert f"{excused} 项恢复考核" in await page.get_by_role("status").inner_text()
    with h.session() as s:
        assert not s.exec(select(DutyInstance).where(DutyInstance.status == "excused")).all()
    await h.wait_for_message(leader, contains="已被安委办撤销")
    assert verify.verify(h.store.engine, h.settings.data_dir).ok
    await page.screenshot(path=f"{SHOTS}/web-exemptions-revoked.png", full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=f"{SHOTS}/web-exemptions-phone.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})

    await page.get_by_role("button", name="驳回 赵明").click()
    await page.get_by_role("status").filter(has_text="已驳回 赵明 的申请").wait_for()
    await page.get_by_role("heading", name="待审批的申请（0）").wait_for()
    with h.session() as s:
        assert s.get(Exemption, other_id).state == "refused"


async def test_revoke_needs_a_reason_and_an_approval(web, page):
    h = web.harness
    await h.reconcile(clock.now())
    ex_id, _ = request_exemption(web, "王海涛", "赴省厅参加培训")
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + "/exemptions")
    csrf = await page.locator("input[name=csrf]").first.input_value()
    # not approved yet: refused with the reason, nothing changes
    response = await page.request.post(web.url + f"/exemptions/{ex_id}/revoke", form={"csrf": csrf, "reason": "x"})
    assert response.status == 400 and "只能撤销已批准的免考核" in await response.text()
    await page.get_by_role("button", name="批准 王海涛").click()
    await page.get_by_role("status").wait_for()
    response = await page.request.post(web.url + f"/exemptions/{ex_id}/revoke", form={"csrf": csrf, "reason": " "})
    assert response.status == 400 and "撤销理由" in await response.text()
    response = await page.request.post(web.url + f"/exemptions/{ex_id}/revoke", form={"reason": "无校验码"})
    assert response.status == 400
    response = await page.request.post(web.url + "/exemptions/99999/approve", form={"csrf": csrf})
    assert response.status == 404
    with h.session() as s:
        assert s.get(Exemption, ex_id).state == "approved"
