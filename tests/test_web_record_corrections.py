"""The web 履职档案 shows what issue 10 adds: a withdrawn check-in marked, and the files the leader
sent that no check-in took (未归档佐证), visible to the office."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlmodel import select

from bot import clock
from bot.services import checkins, corrections, evidence
from bot.store.models import CheckInDraft, DutyInstance, Person

pytest_plugins = ["support.harness", "support.browser", "support.web_fixtures"]

SHOTS = "test-artifacts/screenshots"


def _photo(color) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(out, "JPEG")
    return out.getvalue()


async def test_office_sees_corrections_and_unfiled_evidence(web, page):
    h = web.harness
    await h.reconcile(clock.now())
    pid = web.person_id("赵明")
    now = clock.now()
    with h.session() as s:
        inst = s.exec(select(DutyInstance).where(DutyInstance.person_id == pid, DutyInstance.status == "open")
                      .order_by(DutyInstance.id)).first()
        done = checkins.record(s, instance=inst, person_id=pid, chat_id=1, text="误报的一次检查", attachments=[],
                               at=now, update_id=None)
    with h.session() as s:
        assert corrections.withdraw(s, s.get(Person, pid), done.checkin.id, now + timedelta(minutes=5)).ok
    attachment = {"kind": "photo", "file_id": "f-unfiled", "file_unique_id": "u-unfiled", "mime": "image/jpeg"}
    with h.session() as s:
        s.add(CheckInDraft(key="u:unfiled", person_id=pid, chat_id=1, text="仓库消防通道", state="unfiled",
                           attachments=[attachment], created_at=now, updated_at=now))
        sha, rel = evidence.store_bytes(h.settings.data_dir, _photo((30, 120, 200)))
        evidence.add_evidence(s, None, attachment, sha, rel, 100, evidence.ImageInfo(640, 480), now)
    await web.sign_in(page, "孙丽")
    await page.goto(web.url + f"/people/{pid}")
    await page.get_by_text("已撤回，不计入").wait_for()
    await page.get_by_role("heading", name="未归档佐证（1）").wait_for()
    await page.get_by_text("仓库消防通道").wait_for()
    thumb = page.get_by_role("img", name="附件 1").last
    await thumb.wait_for()
    assert await thumb.evaluate("img => img.naturalWidth") == 320
    await page.screenshot(path=f"{SHOTS}/web-person-unfiled.png", full_page=True)
