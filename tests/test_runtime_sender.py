"""The outbox sender against the sandbox with Telegram's limits: 429s, 5xx, priorities, edits."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from bot.sandbox.telegram import Limits
from bot.services import outbox
from bot.services.reminders import enqueue_many
from bot.store.models import Outbox

pytest_plugins = ["support.harness"]
from support.harness import Harness  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def queue(h, rows: list[tuple[int, str, int]]) -> None:
    """(chat id, text, priority) rows, in one transaction."""
    with h.session() as s:
        enqueue_many(s, [Outbox(chat_id=chat, payload=outbox.text(body), dedupe_key=f"t:{body}", priority=priority)
                         for chat, body, priority in rows])


def states(h) -> dict[str, int]:
    with h.session() as s:
        out: dict[str, int] = {}
        for state in s.exec(select(Outbox.state)):
            out[state] = out.get(state, 0) + 1
        return out


async def test_nothing_lost_under_429_and_5xx(database_url, tmp_path):
    # The sandbox allows 15 messages/s, half of what the sender aims for: 429s are certain.
    async with Harness(database_url, tmp_path, limits=Limits(global_per_sec=15), allow_unknown_chats=True) as h:
        await h.users.faults("sendMessage", status=502, rate=0.15, seed=7)
        await h.users.faults("sendMessage", status=500, count=3)
        texts = [f"m{n:03d}" for n in range(30)]
        queue(h, [(9000 + n % 25, body, outbox.ROUTINE) for n, body in enumerate(texts)])
        await h.drain_outbox(timeout=40)
        stats = await h.users.stats()
        assert stats["rate_limited"] > 0 and stats["faults_served"] > 0, stats
        got = [m["text"] for m in await h.messages()]
        assert sorted(got) == texts  # every message once: refused requests are never delivered
        assert states(h) == {"sent": 30}
        assert stats["max_per_chat_per_sec"] <= 1
        with h.session() as s:
            assert all(r.tg_message_id for r in s.exec(select(Outbox)))


async def test_a_429_for_one_chat_does_not_hold_back_the_others(sqlite_url, tmp_path):
    async with Harness(sqlite_url, tmp_path, limits=Limits(), allow_unknown_chats=True) as h:
        # The very first send (chat 1's first message) is told to wait 30 s.
        await h.users.faults("sendMessage", status=429, count=1, retry_after=30)
        queue(h, [(1, "a1", 50), (1, "a2", 50)] + [(100 + n, f"b{n}", 50) for n in range(20)])
        started = time.monotonic()
        await h.wait_for_messages(20, timeout=10, predicate=lambda m: m["chat_id"] >= 100)
        assert time.monotonic() - started < 5
        assert await h.messages(1) == []  # chat 1 waits, in order, for its retry_after
        with h.session() as s:
            a1 = s.exec(select(Outbox).where(Outbox.dedupe_key == "t:a1")).one()
            assert a1.state == "pending" and "429" in a1.last_error
            assert (a1.not_before - a1.created_at).total_seconds() >= 29


async def test_callout_behind_a_thousand_routine_messages_goes_first(database_url, tmp_path):
    async with Harness(database_url, tmp_path, start_bot=False, allow_unknown_chats=True) as h:
        queue(h, [(20000 + n, f"routine{n}", outbox.ROUTINE) for n in range(1000)])
        queue(h, [(1, "叫应", outbox.CALLOUT)])
        await h.start_bot()
        first = await h.wait_for_message()
        assert first["text"] == "叫应" and first["chat_id"] == 1
        assert min(m["seq"] for m in await h.messages()) == first["seq"]


@pytest.mark.parametrize("open_requests", [1, 3])
async def test_ordinary_sends_keep_at_most_outbox_in_flight_requests_open(database_url, tmp_path, open_requests):
    # A slow Telegram (each message accepted 0.15 s after it arrives): requests the sandbox holds
    # are messages a crash right now could have sent without the store knowing, i.e. the repeats
    # after a restart. The sender opens the next ordinary request only once the previous one's
    # answer is committed, so there are never more than OUTBOX_IN_FLIGHT of them.
    import asyncio

    from bot.telegram.app import RuntimeOptions

    options = RuntimeOptions(scheduler=False, reconcile_on_start=False,
                             sender={"chat_interval": 0.0, "group_interval": 0.0, "global_rate": 1000.0,
                                     "ordinary_in_flight": open_requests})
    async with Harness(database_url, tmp_path, allow_unknown_chats=True, runtime_options=options) as h:
        await h.users.faults("sendMessage", hang=0.15, then="process", rate=1.0)
        queue(h, [(40_000 + n, f"slow{n}", outbox.ROUTINE) for n in range(12)])
        most = 0
        while len(h.sandbox.world.bot_messages) < 12:  # sampled on the sandbox's own loop
            most = max(most, h.sandbox.faults.served - len(h.sandbox.world.bot_messages))
            await asyncio.sleep(0.005)
        await h.drain_outbox()
        assert states(h) == {"sent": 12}
        assert most <= open_requests, most
        if open_requests > 1:
            assert most > 1, most  # the setting is what limits it


async def test_an_edit_waits_for_its_message(sqlite_harness):
    h = sqlite_harness
    tg = await h.bind("孙丽")
    with h.session() as s:
        original = outbox.enqueue(s, chat_id=tg, payload=outbox.text("第一版", [[outbox.button("按钮", "x:1")]]),
                                  dedupe_key="t:orig", priority=outbox.ROUTINE)
        outbox.enqueue(s, chat_id=tg, payload=outbox.edit(original.id, "第二版", []), dedupe_key="t:edit",
                       priority=outbox.CALLOUT)  # would go first if it did not wait
    await h.drain_outbox()
    msgs = await h.messages(tg)
    assert len(msgs) == 1 and msgs[0]["text"] == "第二版" and msgs[0]["edits"]
    assert states(h) == {"sent": 2}


async def test_blocked_user_fails_the_row_and_keeps_the_error(sqlite_harness):
    h = sqlite_harness
    tg = await h.bind("周敏")
    await h.users.block(tg)
    queue(h, [(tg, "你好", outbox.ROUTINE)])
    await h.drain_outbox()
    with h.session() as s:
        row = s.exec(select(Outbox).where(Outbox.dedupe_key == "t:你好")).one()
    assert row.state == "failed" and "Forbidden" in row.last_error


def test_wake_up_comes_after_the_outermost_commit(store):
    """The sender is woken when a row is visible to it: not when outbox.enqueue's SAVEPOINT is
    released (SQLAlchemy fires after_commit for that too), but when the transaction commits."""
    from bot.telegram.sender import add_enqueue_listener

    seen: list[bool] = []

    def check() -> None:
        with store.session() as other:
            seen.append(other.exec(select(Outbox).where(Outbox.dedupe_key == "t:wake")).first() is not None)

    remove = add_enqueue_listener(check)
    try:
        with store.session() as s:
            outbox.enqueue(s, chat_id=1, payload=outbox.text("wake"), dedupe_key="t:wake")
            assert seen == []  # savepoint released, transaction still open
        assert seen == [True]
        with store.session() as s:  # a duplicate adds nothing and wakes nobody
            assert outbox.enqueue(s, chat_id=1, payload=outbox.text("wake"), dedupe_key="t:wake") is None
        assert seen == [True]
    finally:
        remove()


async def test_a_text_over_telegrams_limit_goes_out_in_parts(sqlite_harness):
    h = sqlite_harness
    tg = await h.bind("孙丽")
    lines = [f"第{n:04d}行 " + "安全生产" * 20 for n in range(120)]  # about 10,000 characters
    with h.session() as s:
        outbox.enqueue(s, chat_id=tg, payload=outbox.text("\n".join(lines), [[outbox.button("下一页", "o:p:2")]]),
                       dedupe_key="t:long")
    await h.drain_outbox()
    msgs = await h.messages(tg)
    assert len(msgs) == 3 and all(len(m["text"]) <= 4096 for m in msgs)
    assert "\n".join(m["text"] for m in msgs) == "\n".join(lines)
    assert msgs[-1]["reply_markup"] and not msgs[0]["reply_markup"]


async def test_paid_broadcast_rows_pass_the_30_per_second_limit_others_keep_it(sqlite_url, tmp_path):
    # Telegram's limits (30/s overall); the sender paces ordinary rows at ~30/s but red-warning
    # calls marked "broadcast" go with allow_paid_broadcast at up to 1,000/s: the sandbox counts
    # those against its own 1,000/s window, so they are never refused.
    from bot.telegram.app import RuntimeOptions

    options = RuntimeOptions(scheduler=False, reconcile_on_start=False,
                             sender={"paid_broadcast": True, "max_in_flight": 128, "claim_batch": 64,
                                     "chat_interval": 1.05})
    async with Harness(sqlite_url, tmp_path, limits=Limits(), allow_unknown_chats=True, runtime_options=options) as h:
        with h.session() as s:
            rows = []
            for n in range(120):
                payload = outbox.text(f"red {n:03d}")
                payload["broadcast"] = True
                rows.append(Outbox(chat_id=20_000 + n, payload=payload, dedupe_key=f"paid:{n}", priority=outbox.CALLOUT))
            rows += [Outbox(chat_id=30_000 + n, payload=outbox.text(f"plain {n}"), dedupe_key=f"plain:{n}",
                            priority=outbox.ROUTINE) for n in range(10)]
            enqueue_many(s, rows)
        await h.drain_outbox(timeout=60)
        stats = await h.users.stats()
        assert states(h) == {"sent": 130}
        assert stats["rate_limited"] == 0 and stats["paid_broadcast"] == 120  # the plain ones were not paid
        assert stats["max_per_chat_per_sec"] <= 1


def test_a_claim_takes_many_paid_rows_but_few_others(store):
    # Paid-broadcast rows are claimed 128 at a time (they go out at ~1,000/s); other rows stay at
    # 16 a claim even then, since at 30/s a 叫应 queued behind them would wait for them all.
    from bot.telegram.sender import Sender

    with store.session() as s:
        rows = []
        for n in range(100):
            payload = outbox.text(f"red {n}")
            payload["broadcast"] = True
            rows.append(Outbox(chat_id=20_000 + n, payload=payload, dedupe_key=f"paid:{n}", priority=outbox.CALLOUT))
        rows += [Outbox(chat_id=30_000 + n, payload=outbox.text(f"plain {n}"), dedupe_key=f"plain:{n}",
                        priority=outbox.ROUTINE) for n in range(40)]
        enqueue_many(s, rows)
    sender = Sender(store, None, paid_broadcast=True, claim_batch=128, max_in_flight=256)
    claimed = sender._claim(128, [])
    assert [r.payload["text"] for r in claimed] == [f"red {n}" for n in range(100)] + [f"plain {n}" for n in range(16)]
    with store.session() as s:
        back = s.exec(select(Outbox).where(Outbox.dedupe_key.like("plain:%"), Outbox.state == "pending")).all()
    assert len(back) == 24 and {(r.attempts, r.claimed_until) for r in back} == {(0, None)}  # as never claimed
    # Without paid broadcast nothing is paid: 16 rows, the oldest of the most urgent first.
    plain = Sender(store, None, claim_batch=128)
    plain.holder = "other"
    assert len(plain._claim(128, [])) == 16


async def test_the_paid_pacer_makes_up_for_a_late_loop_within_its_burst(monkeypatch):
    # A fake clock: sleeping advances it; "the loop was busy" is a jump of the clock.
    from bot.telegram import sender as S

    now = [1000.0]

    async def sleep(seconds):
        now[0] += seconds

    monkeypatch.setattr(S.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(S.asyncio, "sleep", sleep)
    pacer = S._Pacer(100.0, burst=5)  # 10 ms apart
    starts = []
    for n in range(400):
        if n in (50, 200):
            now[0] += 0.2  # the loop came back 200 ms late
        await pacer.acquire()
        starts.append(now[0])
    gaps = [round(b - a, 6) for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps[:5] == [0.0] * 5  # the first burst at once
    assert gaps[5:49] == [0.01] * 44  # then evenly spaced
    assert gaps[50:55] == [0.0] * 5 and gaps[55] == 0.01  # late: 5 made up at once, then the pace again
    assert gaps[200:205] == [0.0] * 5 and gaps[205] == 0.01
    assert max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts) <= 100 + 5 + 1
    # Without a burst (the ordinary lane) lateness is lost, never made up.
    now[0] += 5
    plain = S._Pacer(100.0)
    first = [now[0]]
    for _ in range(3):
        await plain.acquire()
        first.append(now[0])
    assert [round(b - a, 6) for a, b in zip(first[1:], first[2:], strict=False)] == [0.01, 0.01]
