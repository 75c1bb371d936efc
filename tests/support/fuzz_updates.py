"""The update fuzz sweep's world, strategies and oracle (tests/test_fuzz_updates.py, bench/fuzz.py).

`UpdateWorld(harness)` binds two leaders and an office member, opens the current duty instances,
gives leader A a check-in draft (a photo waiting for "which duty?") and a 叫应 target, so forged
data has real ids of other people to point at. `updates(world)` generates what Telegram could
deliver: every message kind from a bound leader, a stranger, a group or a channel; edited
messages, forwards, captions and texts at and over Telegram's limits; callback queries with data
no button carries (B pressing A's instance, draft and 叫应 ids, ids that never existed, ids past
BIGINT, 64 bytes of garbage); and updates of kinds the bot does not handle.

`await world.deliver(update)` sends it through the sandbox (raw update, or a forged button press
on a real bot message) and waits until the inbox has processed it. `world.problem(before, after,
case)` then names what is wrong: a failed inbox row, an ERROR log record (a traceback), or, for a
stranger, a group, a channel or a forged callback, a change to any table but the inbox, the
audit log and the outbox (refusals are audited and answered; nothing else is recorded). The 叫应
targets are compared by their answers only: the callout worker re-calls and escalates on its own
clock while the sweep runs (`answers_checksum`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st
from sqlmodel import select

from bot import clock
from bot.services import callouts
from bot.store.models import CalloutTarget, CheckInDraft, DutyInstance, Person
from support.checkin_world import jpeg
from support.fuzz_cli import CONTROL, store_checksum

LEADER_A, LEADER_B, OFFICE = "王海涛", "赵明", "孙丽"
STRANGER = 6_000_001
GROUP = -100_000_777
CHANNEL = -100_000_888
BOT_TABLES = {"inboxupdate", "auditlog", "outbox", "keyvalue", "leaderlease"}  # a refusal; the lease heartbeat
CAPTION_LIMIT, TEXT_LIMIT = 1024, 4096


@dataclass
class Case:
    """One generated update and who it comes from (decides what it may change)."""

    sender: str  # a | office | stranger | group | channel
    kind: str
    update: dict | None = None  # a raw update, or
    press: tuple[int, str] | None = None  # (user id, callback data): a forged press on a bot message
    forged: bool = False

    @property
    def may_record(self) -> bool:
        return self.sender in ("a", "office") and not self.forged


class ErrorLog(logging.Handler):
    """Every ERROR record (a handler's traceback is logged at ERROR with exc_info)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(self.format(r) for r in self.records)


class LoopThread:
    """An event loop in a thread: hypothesis drives a sync test, the bot and sandbox run here."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-loop", daemon=True)

    def __enter__(self) -> LoopThread:
        self.thread.start()
        return self

    def call(self, coro, timeout: float = 120.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class UpdateWorld:
    harness: object
    loop: LoopThread | None = None
    tg: dict[str, int] = field(default_factory=dict)
    ids: dict[str, list[int]] = field(default_factory=dict)
    bot_message: dict[int, int] = field(default_factory=dict)  # chat -> a bot message id in it
    errors: ErrorLog = field(default_factory=ErrorLog)
    next_message_id: int = 900_000
    backend: str = "sqlite"

    @classmethod
    def start(cls, loop: LoopThread, tmp_path: Path, database_url: str | None = None) -> UpdateWorld:
        """The bot (example catalogue, SQLite unless `database_url`) and the world around it."""
        from support.harness import Harness

        url = database_url or f"sqlite:///{tmp_path}/dutybot.db"
        harness = Harness(url, tmp_path)
        loop.call(harness.__aenter__())
        world = cls(harness, loop, backend="postgresql" if url.startswith("postgresql") else "sqlite")
        loop.call(world.setup())
        return world

    def stop(self) -> None:
        self.close()
        self.loop.call(self.harness.__aexit__(None, None, None))

    def call(self, coro, timeout: float = 120.0):
        return self.loop.call(coro, timeout)

    async def setup(self) -> None:
        h = self.harness
        for key, name in (("a", LEADER_A), ("b", LEADER_B), ("office", OFFICE)):
            self.tg[key] = await h.bind(name)
        await h.reconcile(clock.now())  # opens the current instances
        await h.users.create_users([{"id": STRANGER, "first_name": "陌生人"}])
        await h.users.create_group(GROUP, "安全群", [self.tg["a"], STRANGER])
        since = await h.cursor()
        await h.users.send_photo(self.tg["a"], jpeg((200, 40, 40)), caption="现场照片")
        await h.wait_inbox_idle()
        await h.drain_outbox()
        await h.users.send_text(STRANGER, "你好")  # the refusal is a bot message a stranger can press on
        for who in ("a", "b", "office"):
            await h.users.send_text(self.tg[who], "/help")
        await h.wait_inbox_idle()
        await h.drain_outbox()
        for m in await h.messages(since=since):
            self.bot_message.setdefault(m["chat_id"], m["message_id"])
        with h.session() as s:
            a = s.get(Person, h.catalog.find_person(LEADER_A).id)
            callout = callouts.issue(s, h.catalog, level="red", text="暴雨红色预警", now=clock.now())
            targets = s.exec(select(CalloutTarget).where(CalloutTarget.callout_id == callout.id)).all()
            self.ids = {
                "instance": [i.id for i in s.exec(select(DutyInstance).where(DutyInstance.person_id == a.id,
                                                                             DutyInstance.status == "open"))][:5],
                "draft": [d.id for d in s.exec(select(CheckInDraft).where(CheckInDraft.person_id == a.id))],
                "target": [t.id for t in targets if t.person_id == a.id] or [t.id for t in targets][:1],
                "callout": [callout.id],
            }
        await h.drain_outbox()
        logging.getLogger().addHandler(self.errors)

    def close(self) -> None:
        logging.getLogger().removeHandler(self.errors)

    # --- delivering ---------------------------------------------------------------------------------------
    async def deliver(self, case: Case) -> None:
        h = self.harness
        if case.press is not None:
            user, data = case.press
            await h.users.press_button(user, self.bot_message[user], data, forged=True)
        else:
            await h.users.send_update(case.update)
        await h.wait_inbox_idle(timeout=20)

    def snapshot(self) -> dict[str, str]:
        sums = store_checksum(self.harness.database_url)
        sums["callouttarget"] = self.answers_checksum()
        return sums

    def answers_checksum(self) -> str:
        """The 叫应 targets as people answered them. The callout worker re-calls and escalates by the
        clock (red: a re-call 3 minutes in, then every minute, then the chain), changing calls_made,
        next_call_at, chain_step and adding escalation rows whatever update is being delivered, so
        those are not compared; an answer (收到, a report, a release) only comes from an update."""
        with self.harness.session() as s:
            rows = [(t.id, t.acked_at, t.acked_channel, t.report_at, t.report_measures, t.report_text, t.released_at)
                    for t in s.exec(select(CalloutTarget).order_by(CalloutTarget.id))
                    if t.acked_at or t.report_at or t.released_at]
        return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]

    def problem(self, case: Case, before: dict[str, str], after: dict[str, str]) -> str | None:
        from bot.store.models import InboxUpdate

        if self.errors.records:
            text = self.errors.text()
            self.errors.records.clear()
            return f"logged an error:\n{text}"
        with self.harness.session() as s:
            failed = s.exec(select(InboxUpdate).where(InboxUpdate.state == "failed")).all()
            if failed:
                rows = "\n".join(f"{r.update_id}: {r.error}" for r in failed)
                for r in failed:  # report once
                    r.state = "done"
                return f"failed inbox rows:\n{rows}"
        if not case.may_record:
            return self.problem_for_sender(f"{case.sender}/{case.kind}", before, after)
        return None

    @staticmethod
    def problem_for_sender(who: str, before: dict[str, str], after: dict[str, str]) -> str | None:
        """What changed outside the inbox, the audit log and the outbox."""
        changed = sorted(t for t in before if t not in BOT_TABLES and before.get(t) != after.get(t))
        return f"{who} changed {changed}" if changed else None

    async def still_answers(self) -> None:
        h = self.harness
        since = await h.cursor()
        await h.users.send_text(self.tg["a"], "/mine")
        await h.wait_for_message(self.tg["a"], since=since, timeout=20)

    def new_message_id(self) -> int:
        self.next_message_id += 1
        return self.next_message_id



# --- strategies -------------------------------------------------------------------------------------------
texts = st.one_of(
    st.sampled_from(["", " ", "/start", "/start x", "/start " + "a" * 300, "/mine", "/help", "/overdue", "/warn",
                     "/export", "/leave", "/nudge", "/rank 2026-Q9", "/export 2026-13", "/callout", "/lift 99999999999",
                     "/unknown", "/mine@other_bot", "收到", "1", "是", "/" + "x" * 64, "x" * TEXT_LIMIT]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\udcff") | st.sampled_from(CONTROL[:-1]),
            max_size=60))
captions = st.one_of(st.sampled_from(["", "x" * CAPTION_LIMIT, "报" * (CAPTION_LIMIT + 1), "已完成"]), texts)


def _file(prefix: str, n: int, **extra) -> dict:
    return {"file_id": f"{prefix}-{n}", "file_unique_id": f"u{prefix}{n}", **extra}


def _bodies() -> st.SearchStrategy[tuple[str, dict]]:
    n = st.integers(0, 10**6)
    return st.one_of(
        texts.map(lambda t: ("text", {"text": t})),
        n.map(lambda i: ("sticker", {"sticker": _file("stk", i, width=512, height=512, is_animated=False,
                                                      is_video=False, type="regular", emoji="👍")})),
        n.map(lambda i: ("voice", {"voice": _file("voice", i, duration=3, mime_type="audio/ogg", file_size=4096)})),
        n.map(lambda i: ("video_note", {"video_note": _file("vn", i, length=240, duration=5)})),
        st.tuples(st.floats(-90, 90), st.floats(-180, 180)).map(
            lambda ll: ("location", {"location": {"latitude": ll[0], "longitude": ll[1]}})),
        texts.map(lambda t: ("contact", {"contact": {"phone_number": "+8613800000000", "first_name": t or "某"}})),
        texts.map(lambda t: ("poll", {"poll": {"id": "5001", "question": t or "?", "options": [
            {"text": "是", "voter_count": 0, "persistent_id": "0"},
            {"text": "否", "voter_count": 0, "persistent_id": "1"}], "total_voter_count": 0,
            "is_closed": False, "is_anonymous": True, "type": "regular", "allows_multiple_answers": False,
            "allows_revoting": True, "members_only": False}})),
        st.integers(1, 6).map(lambda v: ("dice", {"dice": {"emoji": "🎲", "value": v}})),
        st.tuples(n, captions).map(lambda t: ("photo-unknown-file", {"photo": [_file("ph", t[0], width=90, height=90)],
                                                                     "caption": t[1] or None})),
        st.tuples(n, captions).map(lambda t: ("document-unknown-file", {
            "document": _file("doc", t[0], file_name="报告.pdf", mime_type="application/pdf", file_size=30_000_000),
            "caption": t[1] or None})),
        n.map(lambda i: ("animation", {"animation": _file("gif", i, width=1, height=1, duration=1)})),
        n.map(lambda i: ("audio", {"audio": _file("aud", i, duration=1)})),
        n.map(lambda i: ("video", {"video": _file("vid", i, width=1, height=1, duration=1)})),
        st.just(("venue", {"venue": {"location": {"latitude": 29.5, "longitude": 106.5}, "title": "园区",
                                     "address": "某路1号"}})),
        st.just(("new_chat_members", {"new_chat_members": [{"id": STRANGER, "is_bot": False, "first_name": "x"}]})),
        st.just(("left_chat_member", {"left_chat_member": {"id": STRANGER, "is_bot": False, "first_name": "x"}})),
    )


def _strip_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def cases(world: UpdateWorld) -> st.SearchStrategy[Case]:
    tg = world.tg
    ids = world.ids
    senders = st.sampled_from(["a", "office", "stranger", "group", "channel"])

    def user(sender: str) -> dict:
        uid = {"a": tg["a"], "office": tg["office"], "stranger": STRANGER, "group": tg["a"]}.get(sender, STRANGER)
        return {"id": uid, "is_bot": False, "first_name": "用户"}

    def chat(sender: str) -> dict:
        if sender == "group":
            return {"id": GROUP, "type": "supergroup", "title": "安全群"}
        if sender == "channel":
            return {"id": CHANNEL, "type": "channel", "title": "通知频道"}
        u = user(sender)
        return {"id": u["id"], "type": "private", "first_name": "用户"}

    def message(sender: str, body: dict, extra: dict) -> dict:
        m = {"chat": chat(sender), **_strip_none(body), **extra}
        if sender != "channel":
            m["from"] = user(sender)
        return m

    forward = st.one_of(st.just({}), st.just({"forward_origin": {"type": "hidden_user", "sender_user_name": "某人",
                                                                 "date": 1700000000},
                                              "forward_date": 1700000000, "forward_sender_name": "某人"}),
                        st.just({"forward_origin": {"type": "user", "date": 1700000000, "sender_user": {
                            "id": STRANGER, "is_bot": False, "first_name": "x"}}, "forward_date": 1700000000,
                                 "forward_from": {"id": STRANGER, "is_bot": False, "first_name": "x"}}))

    @st.composite
    def raw_message(draw) -> Case:
        sender = draw(senders)
        kind, body = draw(_bodies())
        extra = draw(forward)
        how = draw(st.sampled_from(["message", "message", "edited_message"]))
        if sender == "channel":
            how = "channel_post" if how == "message" else "edited_channel_post"
        m = message(sender, body, extra)
        if how.startswith("edited"):
            m["message_id"] = world.bot_message.get(m["chat"]["id"], 1)
            m["edit_date"] = 1800000000
            m["date"] = 1700000000
        return Case(sender, f"{how}/{kind}{'/forwarded' if extra else ''}", update={how: m})

    garbage = st.binary(min_size=1, max_size=64).map(lambda b: b.decode("latin-1")[:64])
    # Not 0: x:k:0 is a leader's own /leave. 2**31: past PostgreSQL's INTEGER row ids. "²": isdigit()
    # but not int(); "３": int() but not ASCII.
    big = st.sampled_from([-1, 2**31, 10**12, 2**63, 10**30, "²", "３０００００００００"])

    @st.composite
    def forged_press(draw) -> Case:
        """Leader B (or the office, or a stranger) presses data that was never theirs."""
        who = draw(st.sampled_from(["b", "b", "office", "stranger"]))
        uid = STRANGER if who == "stranger" else tg[who]
        inst = draw(st.one_of(st.sampled_from(ids["instance"] or [1]), big))
        draft = draw(st.one_of(st.sampled_from(ids["draft"] or [1]), big))
        target = draw(st.one_of(st.sampled_from(ids["target"] or [1]), big))
        cid = draw(st.one_of(st.sampled_from(ids["callout"]), big))
        data = draw(st.one_of(
            st.sampled_from([f"r:done:{inst}", f"r:upload:{inst}", f"r:snooze:{inst}", f"r:clause:{inst}",
                             f"r:ok:{draft}", f"r:drop:{draft}", f"r:pick:{draft}:{inst}", f"x:ask:{inst}",
                             f"x:k:{inst}:1", f"x:ok:{draft}", f"x:no:{draft}", f"c:ack:{target}",
                             f"c:m:{target}:stop", f"c:rs:{target}", f"c:lift:y:{cid}", f"c:lift:{cid}",
                             "c:w:ok", "c:w:l:purple", "c:w:u:99", "c:cp:ok", "c:cp:d:-1", "o:nudge:zz", "a:x",
                             "r:", "x:", "c:", "o:", "a:", ":", "r:done:", "r:done:abc", "c:ack:-1"]),
            garbage))
        kind = "garbage" if not any(data.startswith(p) for p in ("r:", "x:", "c:", "o:", "a:")) else data.split(":")[1]
        if who != "stranger":
            return Case(who if who == "office" else "b", f"callback/{kind}", press=(uid, data), forged=True)
        return Case("stranger", f"callback/{kind}", press=(STRANGER, data), forged=True)

    other = st.sampled_from([
        Case("stranger", "inline_query", update={"inline_query": {"id": "77", "from": {
            "id": STRANGER, "is_bot": False, "first_name": "x"}, "query": "职责", "offset": ""}}),
        Case("stranger", "poll_answer", update={"poll_answer": {"poll_id": "5001", "user": {
            "id": STRANGER, "is_bot": False, "first_name": "x"}, "option_ids": [0],
            "option_persistent_ids": ["0"]}}),
        Case("stranger", "my_chat_member", update={"my_chat_member": {
            "chat": {"id": GROUP, "type": "supergroup", "title": "安全群"},
            "from": {"id": STRANGER, "is_bot": False, "first_name": "x"}, "date": 1700000000,
            "old_chat_member": {"status": "left", "user": {"id": 1, "is_bot": True, "first_name": "bot"}},
            "new_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "bot"}}}}),
        Case("stranger", "chat_join_request", update={"chat_join_request": {
            "chat": {"id": GROUP, "type": "supergroup", "title": "安全群"},
            "from": {"id": STRANGER, "is_bot": False, "first_name": "x"}, "user_chat_id": STRANGER,
            "date": 1700000000}}),
        Case("stranger", "future_kind", update={"business_message_from_the_future": {"x": 1}}),
    ])
    return st.one_of(raw_message(), raw_message(), forged_press(), other)

