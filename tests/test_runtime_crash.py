"""The bot as a real process: SIGKILL mid-drain and right after an update is fetched; a reminder
delivered at its time with the process clock shifted (`dutybot run --clock-start`)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.services import outbox
from bot.services.reminders import set_watermark
from bot.store import Store
from bot.store.models import CheckIn, InboxUpdate, Outbox, Person
from bot.store.sync import sync_catalog
from schedules import load_catalog

pytest_plugins = ["support.harness"]
from support.checkin_world import jpeg  # noqa: E402
from support.harness import EXAMPLE, eventually, limited_sandbox  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")]
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def sandbox():
    async with limited_sandbox() as sb:
        yield sb


@pytest.fixture
def store(database_url):
    s = Store(database_url)
    yield s
    s.dispose()


async def test_sigkill_mid_drain_then_restart_delivers_everything(sandbox, store, database_url, tmp_path, bot_processes):
    texts = [f"消息{n:03d}" for n in range(45)]
    with store.session() as s:
        for n, body in enumerate(texts):
            outbox.enqueue(s, chat_id=30000 + n, payload=outbox.text(body), dedupe_key=f"k:{n}")
    bot = bot_processes(sandbox, database_url, tmp_path)
    await bot.start()
    await sandbox.users.wait_for_messages(12, timeout=20)
    bot.kill()
    with store.session() as s:
        in_flight = len(s.exec(select(Outbox.id).where(Outbox.state == "sending")).all())
    before = len(await sandbox.users.messages())
    assert before < len(texts), "the drain finished before the kill; nothing was tested"

    await bot.start()
    await eventually(lambda: _delivered(sandbox) >= set(texts), 30, "every queued message delivered")
    counts = Counter(m["text"] for m in await sandbox.users.messages())
    assert max(counts.values()) <= 2, counts.most_common(3)
    assert sum(n - 1 for n in counts.values()) <= min(1, in_flight)  # only the one send in flight at the kill
    assert await bot.stop() == 0
    with store.session() as s:
        assert {r.state for r in s.exec(select(Outbox))} == {"sent"}


def _delivered(sandbox) -> set[str]:
    return {m.data.get("text") for m in sandbox.world.bot_messages}


async def test_sigkill_after_a_photo_is_fetched_loses_nothing(sandbox, sqlite_url, tmp_path, bot_processes):
    database_url = sqlite_url
    store = Store(database_url)
    leader = 7770001
    with store.session() as s:
        sync_catalog(s, load_catalog(EXAMPLE), datetime.now(SH))
        s.get(Person, "王海涛").telegram_id = leader
    await sandbox.users.create_users([{"id": leader, "first_name": "王海涛"}])
    # First run: updates are fetched and committed, never processed (as if killed right then).
    bot = bot_processes(sandbox, database_url, tmp_path, env={"DUTYBOT_HOLD_INBOX": "1"})
    await bot.start()
    update_id = await sandbox.users.send_photo(leader, jpeg((30, 120, 60), (640, 480)), caption="今日带队检查园区危化企业")

    def stored_and_confirmed() -> bool:
        with store.session() as s:
            row = s.exec(select(InboxUpdate).where(InboxUpdate.update_id == update_id)).first()
        return row is not None and not sandbox.world.updates.pending  # Telegram has forgotten it

    await eventually(stored_and_confirmed, 15, "photo update stored and confirmed to Telegram")
    bot.kill()
    with store.session() as s:
        assert s.exec(select(InboxUpdate).where(InboxUpdate.update_id == update_id)).one().state == "new"

    bot.extra_env = {}
    await bot.start()

    def processed() -> InboxUpdate | None:
        with store.session() as s:
            row = s.exec(select(InboxUpdate).where(InboxUpdate.update_id == update_id)).one()
        return row if row.state != "new" else None

    row = await eventually(processed, 20, "the stored update processed after the restart")
    assert row.state == "done", row.error
    assert row.payload  # a bound leader's update is kept
    if _has_checkin_handler():  # the check-in area keeps what the photo was: a check-in or its draft
        await eventually(lambda: _kept_by_checkins(store, update_id), 10, "the photo kept as a check-in (draft)")
    assert await bot.stop() == 0
    store.dispose()


async def test_reminder_delivered_at_its_time(sandbox, sqlite_url, tmp_path, bot_processes):
    database_url = sqlite_url
    leader = 7770002
    duties = tmp_path / "duties.yaml"
    duties.write_text(CATALOG.format(leader=leader), encoding="utf-8")
    await sandbox.users.create_users([{"id": leader, "first_name": "甲"}])
    due = datetime(2026, 12, 28, 9, 0, tzinfo=SH)  # the "-3d" reminder of December
    seeded = Store(database_url)  # as if it ran before: a reminder due while it starts is caught up
    with seeded.session() as s:
        set_watermark(s, due - timedelta(seconds=10))
    seeded.dispose()
    bot = bot_processes(sandbox, database_url, tmp_path, duties_file=duties, clock_start=due - timedelta(seconds=5))
    await bot.start()
    msg = await sandbox.users.wait_for(chat_id=leader, contains="距截止还有 3 天", timeout=20)
    assert "带队开展安全生产检查" in msg["text"]
    store = Store(database_url, run_migrations=False)

    def sent_row() -> Outbox | None:
        with store.session() as s:
            row = s.exec(select(Outbox).where(Outbox.chat_id == leader)).one()
        return row if row.state == "sent" else None

    try:
        row = await eventually(sent_row, 10, "the reminder marked sent")
        assert row.created_at >= due and row.sent_at - due < timedelta(seconds=10), (row.created_at, row.sent_at)
    finally:
        store.dispose()
    assert await bot.stop() == 0
    assert len(await sandbox.users.messages(leader)) == 1  # nothing before its time


CATALOG = """\
timezone: Asia/Shanghai
defaults:
  remind_at: "09:00"
  reminders: [open, -3d, 0d]
units:
  - id: 安全生产部
roles:
  负责人: 部门负责人
people:
  - {{name: 甲, unit: 安全生产部, roles: [负责人], telegram_id: {leader}}}
duties:
  - id: insp
    title: 带队开展安全生产检查
    kind: inspection
    who: [负责人]
    frequency: 每月至少1次
    source: {{document: 测试职责清单, clause: "每月至少带队开展1次安全生产检查。"}}
"""


def _kept_by_checkins(store, update_id: int) -> bool:
    from bot.store.models import CheckInDraft

    with store.session() as s:
        if s.exec(select(CheckIn).where(CheckIn.update_id == update_id)).first() is not None:
            return True
        return any(update_id in (d.update_ids or []) for d in s.exec(select(CheckInDraft)))


def _has_checkin_handler() -> bool:
    import importlib.util

    return importlib.util.find_spec("bot.telegram.handlers.checkin") is not None


