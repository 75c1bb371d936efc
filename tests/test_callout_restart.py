"""A real bot process SIGKILLed in the middle of a 叫应 broadcast, then restarted: the same callout
resumes from the store — nobody skipped, nobody called twice for a step but the one call in flight."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import select

from bot import clock
from bot.services import callouts
from bot.store import Store
from bot.store.models import CalloutTarget, Outbox
from bot.store.sync import sync_catalog
from schedules import load_catalog_text

pytest_plugins = ["support.harness"]
from conftest import make_database_url  # noqa: E402
from support import callout_broadcast as broadcast  # noqa: E402
from support.harness import BotProcess, eventually, limited_sandbox  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")]
LEADERS = 40
FIRST_TG = 7_000_001


def catalog_yaml() -> str:
    return broadcast.catalog_yaml(LEADERS, FIRST_TG, ack_within="2s")


@pytest.fixture
async def sandbox():
    async with limited_sandbox() as sb:
        yield sb


def _calls(sandbox) -> Counter:
    return broadcast.calls(sandbox, FIRST_TG)


async def test_sigkill_mid_broadcast_then_restart_completes_the_same_callout(sandbox, tmp_path):
    url, drop = make_database_url("sqlite", tmp_path)
    duties = tmp_path / "duties.yaml"
    duties.write_text(catalog_yaml(), encoding="utf-8")
    catalog = load_catalog_text(duties.read_text(encoding="utf-8"), str(duties))
    store = Store(url)
    try:
        with store.session() as s:
            sync_catalog(s, catalog, clock.now())
        bot = BotProcess(sandbox, url, tmp_path, duties_file=duties)
        await bot.start()
        with store.session() as s:  # as `dutybot warn` does: the running bot delivers
            cid = callouts.issue(s, catalog, level="orange", text=broadcast.TEXT, now=clock.now(), issued_by="孙安",
                                 board_chat_id=FIRST_TG + 999).id
        await eventually(lambda: len(_calls(sandbox)) >= 20, 20, "part of the broadcast delivered", interval=0.005)
        bot.kill()
        with store.session() as s:
            in_flight = len(s.exec(select(Outbox.id).where(Outbox.state == "sending")).all())
        delivered_before = len(_calls(sandbox))
        assert delivered_before < LEADERS, "the broadcast finished before the kill: nothing was tested"

        await bot.start()
        everyone = {FIRST_TG + n for n in range(LEADERS)}
        await eventually(lambda: {c for c, n in _calls(sandbox) if n == 1} >= everyone, 30, "every first call")
        # the same callout goes on: unanswered after 2 s → the 2nd call, once each
        await eventually(lambda: {c for c, n in _calls(sandbox) if n == 2} >= everyone, 30, "every second call")
        calls = _calls(sandbox)
        assert max(calls.values()) <= 2, calls.most_common(3)
        # only the call in flight at the kill (one ordinary request open at a time)
        assert sum(n - 1 for n in calls.values()) <= min(1, in_flight), (calls.most_common(3), in_flight)
        with store.session() as s:
            targets = s.exec(select(CalloutTarget).where(CalloutTarget.callout_id == cid)).all()
            assert len(targets) == LEADERS and {t.calls_made for t in targets} == {2}
            assert len(s.exec(select(CalloutTarget)).all()) == LEADERS  # no second callout, no extra targets
        # a press after the restart is recorded by the new process
        record = next(m for m in sandbox.world.bot_messages if m.chat_id == FIRST_TG and "第2次叫应" in (m.data.get("text") or ""))
        data = record.data["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await sandbox.users.press_button(FIRST_TG, record.message_id, data)

        def acked() -> bool:
            with store.session() as s:
                return s.exec(select(CalloutTarget).where(CalloutTarget.person_id == "部长00")).one().acked_at is not None

        await eventually(acked, 15, "the ack recorded")
        assert await bot.stop() == 0
    finally:
        store.dispose()
        drop()
