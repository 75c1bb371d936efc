"""叫应 by phone and SMS, end to end: the bot (unmodified PTB, inbox, sender, callout and phone
workers) against the Telegram sandbox and the voice/SMS provider sandbox, with a policy in seconds
(tests/support/phone_fixtures.py). Waits are on conditions, never sleeps."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from bot import clock
from bot.phone import signing
from bot.phone.aliyun import AliyunClient, AliyunConfig, ProviderRefused
from bot.services import callouts
from bot.services.callouts.records import callout_status
from bot.services.verify import verify
from bot.store.models import CalloutContact, CalloutTarget, LedgerEntry, Outbox

pytest_plugins = ["support.harness", "support.sandbox_fixtures"]
from conftest import make_database_url  # noqa: E402
from support.callout_fixtures import ack_button  # noqa: E402
from support.phone_fixtures import KEY, PHONES, SECRET, close_world, phone_world  # noqa: E402
from support.sandbox_fixtures import eventually  # noqa: E402


@pytest.fixture
async def w(tmp_path):
    url, drop = make_database_url("sqlite", tmp_path)
    h = await phone_world(url, tmp_path)
    yield h
    await close_world(h)
    drop()


@pytest.fixture
async def w_any(database_url, tmp_path):
    h = await phone_world(database_url, tmp_path)
    yield h
    await close_world(h)


def issue(h, level: str = "red", units=("乙部",)) -> int:
    with h.session() as s:
        return callouts.issue(s, h.catalog, level=level, text="今晚有特大暴雨，请立即落实防范措施", units=list(units),
                              hazard="暴雨", issued_by="孙安", board_chat_id=h.tg["孙安"], now=clock.now()).id


def target(h, cid: int, person: str) -> CalloutTarget | None:
    with h.session() as s:
        return s.exec(select(CalloutTarget).where(CalloutTarget.callout_id == cid,
                                                  CalloutTarget.person_id == person)).first()


def contacts_of(h, cid: int, person: str) -> list[CalloutContact]:
    with h.session() as s:
        return list(s.exec(select(CalloutContact).where(CalloutContact.callout_id == cid,
                                                        CalloutContact.person_id == person).order_by(CalloutContact.id)))


def ledger_count(h) -> int:
    with h.session() as s:
        return len(s.exec(select(LedgerEntry)).all())


# -- the silent one is phoned ------------------------------------------------------------------------
async def test_silent_leader_is_phoned_after_the_telegram_recalls_and_confirms_with_1(w_any):
    h = w_any
    h.voice.set_number(PHONES["乙部长"], "ack")
    cid = issue(h)
    silent = h.tg["乙部长"]
    await h.wait_for_message(silent, contains="特大暴雨")
    await h.wait_for_message(silent, contains="第2次叫应", timeout=10)
    call = await h.voice.wait_for(lambda: h.voice.calls_to(PHONES["乙部长"]))
    assert call[0]["action"] == "IvrCall" and call[0]["caller"] == "057100000000"
    assert call[0]["params"]["level"] == "红色" and "特大暴雨" in call[0]["params"]["text"]
    t = await eventually(lambda: (x := target(h, cid, "乙部长")) and x.acked_at and x, what="acked by phone")
    assert t.acked_channel == "voice" and t.calls_made == 2
    assert [c.state for c in contacts_of(h, cid, "乙部长")] == ["acked"]
    await h.wait_for_message(silent, contains="✅ 已收到")  # the Telegram calls are edited as for a tap
    await h.wait_for_message(silent, contains="请报告落实情况")
    with h.session() as s:
        status = callout_status(s, cid)
        acks = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "ack", LedgerEntry.ref_id == t.id)).all()
    row = next(x for x in status["targets"] if x["person_id"] == "乙部长")
    assert row["channel_acked"] == "voice" and row["phone_calls"] == 1 and row["sms_sent"] == 0
    assert len(acks) == 1 and target(h, cid, "李分管") is None  # woken by the phone: nobody else was called
    assert len(h.voice.calls) == 1  # never redialled after the answer
    board = await h.wait_for_message(h.tg["孙安"], contains="电话/短信叫醒：乙部长（电话")
    assert "全部已收到" in board["text"]


async def test_a_phone_that_never_answers_is_redialled_then_the_superior_gets_sms_and_telegram(w):
    h = w
    cid = issue(h)
    boss = h.tg["李分管"]
    up = await h.wait_for_message(boss, contains="叫应升级", timeout=20)
    assert "乙部长" in up["text"]
    sms = await h.voice.wait_for(lambda: h.voice.sms_to(PHONES["李分管"]))
    assert sms[0]["template"] == "SMS_CALL" and "乙部长" in sms[0]["params"]["silent"]
    assert sms[0]["params"]["link"].startswith("http://phones.test/c/")
    calls = h.voice.calls_to(PHONES["乙部长"])
    assert len(calls) == 2 and all(c["behaviour"] == "no_answer" for c in calls)  # redialled once, per policy
    states = await eventually(lambda: (c := contacts_of(h, cid, "乙部长")) and all(x.state == "no_answer" for x in c)
                              and c, what=f"both calls settled by receipts: {[(x.state, x.status_code) for x in contacts_of(h, cid, '乙部长')]}")
    assert [c.channel for c in states] == ["voice", "voice"]
    t = target(h, cid, "乙部长")
    assert t.escalated_to == ["李分管"] and t.acked_at is None
    with h.session() as s:
        row = next(x for x in callout_status(s, cid)["targets"] if x["person_id"] == "李分管")
    assert row["reason"] == "escalation" and row["sms_sent"] == 1


async def test_the_superior_stops_being_called_the_moment_the_silent_one_answers(w):
    h = w
    cid = issue(h)
    silent, boss = h.tg["乙部长"], h.tg["李分管"]
    first = await h.wait_for_message(silent, contains="特大暴雨")
    await h.wait_for_message(boss, contains="叫应升级", timeout=20)
    await h.users.press_button(silent, first["message_id"], ack_button(first))  # late, by Telegram
    notice = await h.wait_for_message(boss, contains="应答（Telegram）")
    assert "乙部长 已于" in notice["text"]
    up = await eventually(lambda: (x := target(h, cid, "李分管")) and x.released_at and x, what="released")
    assert up.next_call_at is None and up.acked_at is None
    with h.session() as s:
        pending = s.exec(select(Outbox).where(Outbox.person_id == "李分管", Outbox.state == "pending",
                                              Outbox.dedupe_key.like(f"callout:{cid}:%:call%"))).all()
        queued = s.exec(select(CalloutContact).where(CalloutContact.person_id == "李分管",
                                                     CalloutContact.state == "queued")).all()
        status = callout_status(s, cid)
    assert pending == [] and queued == []
    row = next(x for x in status["targets"] if x["person_id"] == "李分管")
    assert row["released_at"] is not None
    assert next(x for x in status["targets"] if x["person_id"] == "乙部长")["channel_acked"] == "telegram"
    # the chain stopped with him: the office is never called about 乙部长
    await h.drain_outbox()
    assert target(h, cid, "孙安") is None or target(h, cid, "孙安").reason == "policy"
    notices = [m for m in await h.messages(boss) if "已于" in (m["text"] or "") and "应答" in (m["text"] or "")]
    assert len(notices) == 1
    with h.session() as s:
        lifted = callouts.lift(s, cid, now=clock.now(), lifted_by="孙安")
        assert lifted.lifted_at
    closing = await h.wait_for_message(h.tg["孙安"], contains="叫应总结")
    assert "已应答而停止升级叫应" in closing["text"] and "李分管" in closing["text"]


async def test_sms_link_acks_with_channel_sms(w):
    h = w
    cid = issue(h)
    sms = await h.voice.wait_for(lambda: h.voice.sms_to(PHONES["李分管"]))
    path = sms[0]["params"]["link"].removeprefix("http://phones.test")
    async with httpx.AsyncClient(base_url=h.phone.url) as web:
        page = await web.get(path)
        assert page.status_code == 200 and "收到" in page.text
        assert (await web.get(path + "0")).status_code == 404  # a guessed link
        done = await web.post(path)
        assert done.status_code == 200 and "已确认收到" in done.text
    t = target(h, cid, "李分管")
    assert t.acked_at is not None and t.acked_channel == "sms"


# -- the summary ---------------------------------------------------------------------------------------
async def test_summary_is_reminded_at_its_deadline_and_recorded(w):
    h = w
    cid = issue(h)
    with h.session() as s:
        callouts.lift(s, cid, now=clock.now(), lifted_by="孙安")
    with h.session() as s:
        assert callout_status(s, cid)["summary_state"] == "due"
    office = h.tg["孙安"]
    reminder = await h.wait_for_message(office, contains="叫应总结到期", timeout=15)
    assert f"/summary {cid}" in reminder["text"]
    await h.users.send_text(office, f"/summary {cid} 已全部落实，无人员伤亡")
    await h.wait_for_message(office, contains="总结已记录")
    with h.session() as s:
        status = callout_status(s, cid)
        entries = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "summary", LedgerEntry.ref_id == cid)).all()
    assert status["summary_state"] == "late" and status["summary_text"] == "已全部落实，无人员伤亡"
    assert status["summary_at"] and status["summary_due_at"] and status["summary_by"] == "孙安"
    assert len(entries) == 1
    assert verify(h.store.engine, h.settings.data_dir, files=False).ok
    reminders = [m for m in await h.messages(office) if "叫应总结到期" in (m["text"] or "")]
    assert len(reminders) == 1


# -- what the provider side must not be able to do ------------------------------------------------------
async def test_bad_signature_unknown_call_and_duplicate_receipt_change_nothing(w):
    h = w
    wrong = AliyunClient(AliyunConfig(KEY, SECRET + "x", voice_endpoint=h.voice.voice_endpoint))
    with pytest.raises(ProviderRefused, match="SignatureDoesNotMatch"):
        await wrong.ivr_call(PHONES["乙部长"], {"text": "x"}, "1")
    await wrong.aclose()
    assert h.voice.calls == [] and h.voice.refused[-1]["code"] == "SignatureDoesNotMatch"
    params = signing.signed_params("IvrCall", "2017-05-25", KEY, SECRET, {"CalledNumber": "1"})
    params["CalledNumber"] = "13900000000"  # altered after signing
    async with httpx.AsyncClient() as c:
        refused = await c.post(h.voice.voice_endpoint, data=params)
    assert refused.status_code == 400 and refused.json()["Code"] == "SignatureDoesNotMatch"

    h.voice.set_number(PHONES["乙部长"], "ack")
    cid = issue(h)
    t = await eventually(lambda: (x := target(h, cid, "乙部长")) and x.acked_at and x, timeout=15, what="acked")
    call_id = h.voice.calls_to(PHONES["乙部长"])[0]["call_id"]
    await h.voice.wait_for(lambda: len(h.voice.receipts_sent) >= 2)
    before = (ledger_count(h), t.acked_at, [(c.state, c.result_at) for c in contacts_of(h, cid, "乙部长")])
    async with httpx.AsyncClient() as c:
        unknown = await c.post(h.phone.receipt_url, json=[{"call_id": "000^404", "status_code": "300000", "dtmf": "1"}])
        again = await c.post(h.phone.receipt_url, json=[{"call_id": call_id, "status_code": "300000", "dtmf": "1"},
                                                        {"call_id": call_id, "status_code": "200003", "dtmf": ""}])
        forged = await c.post(h.phone.receipt_url.replace("receipt-secret", "guess"), json=[{"call_id": call_id}])
        garbage = await c.post(h.phone.receipt_url, content=b"not json")
    assert unknown.status_code == 200 and again.status_code == 200 and unknown.json()["code"] == 0
    assert forged.status_code == 403 and garbage.status_code == 400
    t2 = target(h, cid, "乙部长")
    after = (ledger_count(h), t2.acked_at, [(c.state, c.result_at) for c in contacts_of(h, cid, "乙部长")])
    assert after == before


@pytest.mark.parametrize("mode", ["5xx", "timeout"])
async def test_provider_outage_falls_back_to_the_next_step_and_keeps_the_attempts(tmp_path, mode):
    url, drop = make_database_url("sqlite", tmp_path)
    h = await phone_world(url, tmp_path, timeout=0.5)
    try:
        h.voice.hang_seconds = 2.0
        h.voice.outage = mode
        cid = issue(h)
        await h.wait_for_message(h.tg["李分管"], contains="叫应升级", timeout=20)  # Telegram still works
        attempts = await eventually(lambda: (c := contacts_of(h, cid, "乙部长")) and len(c) == 2
                                    and all(x.state == "error" for x in c) and c, what="failed attempts kept")
        assert all(x.error for x in attempts) and all(x.channel == "voice" for x in attempts)
        assert ("503" in attempts[0].error) if mode == "5xx" else ("Timeout" in attempts[0].error)
        sms = await eventually(lambda: (c := contacts_of(h, cid, "李分管")) and c[0].state == "error" and c,
                               what="the superior's SMS attempt kept")
        assert sms[0].channel == "sms" and h.voice.calls == []
        with h.session() as s:
            row = next(x for x in callout_status(s, cid)["targets"] if x["person_id"] == "乙部长")
        assert row["phone_calls"] == 2 and row["escalated_to"] == ["李分管"]
    finally:
        await close_world(h)
        drop()


# -- dutybot run without provider keys --------------------------------------------------------------------
async def test_dutybot_run_without_provider_keys_phones_through_the_provider_sandbox(sandbox, tmp_path, bot_processes):
    import subprocess
    import sys

    from support.phone_fixtures import CATALOG

    from bot.store import Store

    duties = tmp_path / "duties.yaml"
    duties.write_text(CATALOG, encoding="utf-8")
    url, drop = make_database_url("sqlite", tmp_path)
    bot = bot_processes(sandbox, url, tmp_path, duties_file=duties)
    try:
        await bot.start()
        assert "Provider:" in bot.output()
        # 乙部长 is bound to nobody on Telegram: the chain's first step phones him at once
        done = subprocess.run([sys.executable, "-m", "bot", "--duties", str(duties), "warn", "--level", "red",
                               "--units", "乙部", "--text", "山洪预警，请立即转移", "--hazard", "暴雨"],
                              env=bot.environment(), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        store = Store(url)
        try:
            def acked():
                with store.session() as s:
                    t = s.exec(select(CalloutTarget).where(CalloutTarget.person_id == "乙部长")).first()
                    return t is not None and t.acked_at is not None and t
            t = await eventually(acked, timeout=20, what=f"acked through the provider sandbox\n{bot.output()}")
            assert t.acked_channel == "voice"
        finally:
            store.dispose()
    finally:
        await bot.stop()
        drop()
