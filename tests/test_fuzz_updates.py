"""Fuzz sweep over Telegram updates at the running bot (tests/support/fuzz_updates.py).

Generated updates go through the Bot API sandbox to the whole bot (tests/support/harness.py):
every message kind, edits, channel posts, forwards, captions over the limit, forged callback
data, strangers and groups. Each must be answered or ignored without a logged error or a failed
inbox row; nothing from a stranger or forged data may be recorded; the bot keeps answering.
FUZZ_UPDATES (default 40) is the number of generated updates; bench/fuzz.py runs longer.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from sqlmodel import select
from support.fuzz_updates import STRANGER, Case, LoopThread, UpdateWorld, cases

from bot.store.models import Evidence, InboxUpdate

EXAMPLES = int(os.environ.get("FUZZ_UPDATES", "40"))
SWEEP = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not os.environ.get("FUZZ_SEED"),
                 phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with LoopThread() as loop:
        w = UpdateWorld.start(loop, tmp_path_factory.mktemp("fuzz-updates"))
        try:
            yield w
        finally:
            w.stop()


def test_generated_updates(world):
    seen = {"n": 0}

    @SWEEP
    @given(cases(world))
    def sweep(case):
        before = world.snapshot()
        world.call(world.deliver(case))
        problem = world.problem(case, before, world.snapshot())
        assert problem is None, f"{case.kind} from {case.sender}: {case.update or case.press}\n{problem}"
        seen["n"] += 1
        if seen["n"] % 10 == 0:
            world.call(world.still_answers())

    sweep()
    world.call(world.still_answers())


def test_a_document_over_20_mb_gets_a_clear_answer(world):
    h = world.harness
    a = world.tg["a"]
    since = world.call(h.cursor())
    before = world.snapshot()
    world.call(h.users.send_document(a, b"\0" * (20 * 1024 * 1024 + 1), "现场录像.pdf", "application/pdf",
                                     caption="检查记录"))
    world.call(h.wait_inbox_idle(timeout=30))
    world.call(h.drain_outbox())
    messages = world.call(h.messages(a, since=since))
    assert messages, "no answer to a 20 MB+ document"
    assert world.problem(Case("a", "document-20MB+"), before, world.snapshot()) is None
    with h.session() as s:
        assert not s.exec(select(Evidence).where(Evidence.size > 20 * 1024 * 1024)).first()
    world.call(world.still_answers())


def test_a_stranger_gets_one_refusal_and_nothing_is_kept(world):
    h = world.harness
    before = world.snapshot()
    since = world.call(h.cursor())
    for text in ["/start", "你好", "/mine", "/export"]:
        world.call(h.users.send_text(STRANGER, text))
    world.call(h.wait_inbox_idle())
    world.call(h.drain_outbox())
    answers = world.call(h.messages(STRANGER, since=since))
    assert len(answers) <= 1 and all("邀请" in m["text"] for m in answers)
    after = world.snapshot()
    assert world.problem_for_sender("stranger", before, after) is None


def test_an_update_ptb_cannot_read_is_kept_as_failed_and_the_bot_goes_on(world):
    """A newer Bot API shape (here a poll answer without option_persistent_ids) used to fail every
    getUpdates of its batch, which stopped the poller: no message was answered after it."""
    h = world.harness
    update_id = world.call(h.users.send_update({"poll_answer": {
        "poll_id": "1", "user": {"id": STRANGER, "is_bot": False, "first_name": "x"}, "option_ids": [0]}}))
    row = world.call(h.wait_update_processed(update_id))
    assert row.state == "failed" and row.attempts == 1 and row.error.startswith("unreadable"), row
    with h.session() as s:
        s.get(InboxUpdate, row.id).state = "done"  # seen: the sweep's oracle counts failed rows
    world.call(world.still_answers())
