"""叫应 services against the real store (SQLite and PostgreSQL), stepping `now` through a policy in
seconds: recipients, re-calls, escalation, acks, reports, the board, lifting, the records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select
from support.callout_fixtures import T0, callout_cat, callout_db, deliver, module_store, texts  # noqa: F401

from bot.services import callouts, ledger
from bot.services.callouts import reports
from bot.services.callouts.records import callout_records, callout_status
from bot.store.models import Callout, CalloutTarget, LedgerEntry, Outbox, Person


def s_(seconds: float):
    return T0 + timedelta(seconds=seconds)


def issue(db, cat, **kw):
    kw.setdefault("level", "red")
    kw.setdefault("text", "今晚有特大暴雨，请立即落实防范措施")
    kw.setdefault("hazard", "暴雨")
    with db.session() as s:
        c = callouts.issue(s, cat, now=kw.pop("now", T0), issued_by="孙安", board_chat_id=106, **kw)
        return c.id


def targets(db, cid):
    with db.session() as s:
        return {t.person_id: t for t in callouts.targets_of(s, cid)}


def tick(db, at):
    with db.session() as s:
        return callouts.tick(s, at)


def deliver_all(db, at):
    with db.session() as s:
        return deliver(s, at)


def ack(db, cid, person, at):
    """Press 收到, then the worker's round the press wakes (the 已收到 edits and the report form)."""
    with db.session() as s:
        t = s.exec(select(CalloutTarget).where(CalloutTarget.callout_id == cid,
                                               CalloutTarget.person_id == person)).one()
        status = callouts.ack(s, t.id, person, at).status
    tick(db, at)
    return status


# -- recipients ---------------------------------------------------------------------------------
def test_recipients_follow_the_policy_and_units(db, cat):
    with db.session() as s:
        park = [p.name for p in callouts.preview(s, cat, "red", [], T0)]
        one_unit = [p.name for p in callouts.preview(s, cat, "红", ["甲部"], T0)]
        top = [p.name for p in callouts.preview(s, cat, "red", ["园区管委会"], T0)]
        yellow = [p.name for p in callouts.preview(s, cat, "yellow", ["乙部"], T0)]
    assert park == ["张主任", "李分管", "甲部长", "乙部长", "丙部长"]
    # a department's warning still reaches the park leadership above it, not the sibling departments
    assert one_unit == ["张主任", "李分管", "甲部长"]
    assert top == park
    assert yellow == ["乙部长"]  # the yellow policy names 部门负责人 only


def test_issue_refuses_bad_input_and_changes_nothing(db, cat):
    with db.session() as s:
        with pytest.raises(callouts.CalloutError, match="未知预警级别"):
            callouts.issue(s, cat, level="purple", text="x", now=T0)
        with pytest.raises(callouts.CalloutError, match="未知单位"):
            callouts.issue(s, cat, level="red", text="x", units=["外星部"], now=T0)
        with pytest.raises(callouts.CalloutError, match="不能为空"):
            callouts.issue(s, cat, level="red", text="  ", now=T0)
        with pytest.raises(callouts.CalloutError, match="叫应策略"):
            callouts.issue(s, cat, level="blue", text="x", now=T0)
    with db.session() as s:
        assert s.exec(select(Callout)).all() == []
        assert s.exec(select(Outbox)).all() == []


def test_issue_snapshots_the_policy_in_seconds(db, cat):
    cid = issue(db, cat)
    with db.session() as s:
        c = s.get(Callout, cid)
    assert c.policy["ack_within"] == 3 and c.policy["recall_every"] == 2 and c.policy["recalls"] == 2
    assert c.policy["escalate"] == ["superior", "office"]
    assert c.policy["who"]["roles"] == ["主要负责人", "分管负责人", "部门负责人"]


# -- the timeline -------------------------------------------------------------------------------
def test_first_calls_go_out_at_once_with_callout_priority_and_a_board(db, cat):
    cid = issue(db, cat)
    with db.session() as s:
        rows = list(s.exec(select(Outbox).order_by(Outbox.id)))
    calls = [r for r in rows if r.dedupe_key.endswith(":call1")]
    # 丙部长 has no Telegram binding: escalated at once to the office (孙安, 106)
    assert {r.chat_id for r in calls} == {101, 102, 103, 105, 106}
    assert all(r.priority == 0 for r in calls)
    assert all(r.payload["buttons"][0][0]["data"].startswith("c:ack:") for r in calls)
    assert "今晚有特大暴雨" in calls[0].payload["text"] and "红色预警" in calls[0].payload["text"]
    board = [r for r in rows if r.dedupe_key == f"callout:{cid}:board:0"]
    assert board and board[0].chat_id == 106 and board[0].priority < 0
    ts = targets(db, cid)
    assert ts["甲部长"].calls_made == 1 and ts["甲部长"].first_sent_at == T0


def test_silent_recipient_is_recalled_then_escalated_to_the_superior_who_must_ack(db, cat):
    cid = issue(db, cat, units=["甲部"])  # 张主任, 李分管, 甲部长
    deliver_all(db, s_(0))
    for who in ("张主任", "李分管"):
        assert ack(db, cid, who, s_(1)) == "acked"
    deliver_all(db, s_(1))
    # not yet: 3 s to answer after delivery
    tick(db, s_(2.9))
    assert targets(db, cid)["甲部长"].calls_made == 1
    tick(db, s_(3))
    assert targets(db, cid)["甲部长"].calls_made == 2
    with db.session() as s:
        second = callouts.outbox_by_key(s, f"callout:{cid}:{targets(db, cid)['甲部长'].id}:call2")
        assert "第2次叫应" in second.payload["text"]
    deliver_all(db, s_(3))
    tick(db, s_(4.9))
    assert targets(db, cid)["甲部长"].calls_made == 2
    tick(db, s_(5))
    deliver_all(db, s_(5))
    assert targets(db, cid)["甲部长"].calls_made == 3  # 1 + recalls
    tick(db, s_(6.9))
    assert targets(db, cid)["甲部长"].escalated_at is None
    tick(db, s_(7))
    ts = targets(db, cid)
    silent = ts["甲部长"]
    assert silent.escalated_at == s_(7) and silent.escalated_to == ["李分管"]
    # 李分管 (the superior) already answered: a notice naming who is silent, no new target
    with db.session() as s:
        notice = callouts.outbox_by_key(s, f"callout:{cid}:{ts['李分管'].id}:escalate:{silent.id}")
    assert notice.chat_id == 102 and "甲部长" in notice.payload["text"] and "未应答" in notice.payload["text"]
    # no more calls to the silent one
    tick(db, s_(60))
    assert targets(db, cid)["甲部长"].calls_made == 3


def test_escalation_adds_a_target_when_the_step_is_not_a_recipient(db, cat):
    # yellow: 部门负责人 only; chain deputy → superior → office
    cid = issue(db, cat, level="yellow", units=["甲部"])
    assert set(targets(db, cid)) == {"甲部长"}
    t = 0.0
    for _ in range(20):
        deliver_all(db, s_(t))
        tick(db, s_(t))
        if targets(db, cid)["甲部长"].escalated_at:
            break
        t += 1
    ts = targets(db, cid)
    assert ts["甲部长"].calls_made == 2 and ts["甲部长"].escalated_to == ["甲副部长"]
    deputy = ts["甲副部长"]
    assert deputy.reason == "escalation" and deputy.escalated_from_id == ts["甲部长"].id
    with db.session() as s:
        call = callouts.outbox_by_key(s, f"callout:{cid}:{deputy.id}:call1")
    assert call.chat_id == 104 and "甲部长" in call.payload["text"] and "叫应升级" in call.payload["text"]
    assert call.payload["buttons"][0][0]["data"] == f"c:ack:{deputy.id}"
    # the deputy is silent too: the chain goes on to the superior of the silent recipient (李分管)
    for _ in range(20):
        t += 1
        deliver_all(db, s_(t))
        tick(db, s_(t))
        if targets(db, cid)["甲副部长"].escalated_at:
            break
    ts = targets(db, cid)
    assert ts["甲副部长"].escalated_to == ["李分管"]
    sup = ts["李分管"]
    assert sup.reason == "escalation" and sup.escalated_from_id == ts["甲副部长"].id
    with db.session() as s:
        call = callouts.outbox_by_key(s, f"callout:{cid}:{sup.id}:call1")
    assert "甲部长" in call.payload["text"] and "甲副部长" in call.payload["text"]
    assert ack(db, cid, "李分管", s_(t + 1)) == "acked"
    assert targets(db, cid)["李分管"].acked_at == s_(t + 1)


def test_unbound_recipient_escalates_at_once(db, cat):
    cid = issue(db, cat, units=["丙部"])
    ts = targets(db, cid)
    assert ts["丙部长"].calls_made == 0 and ts["丙部长"].escalated_at == T0
    # 张主任 (superior) is a recipient who has not answered: skipped; the office gets it
    assert ts["丙部长"].escalated_to == ["孙安"]
    assert ts["孙安"].reason == "escalation"


def test_recall_waits_for_delivery_not_for_queueing(db, cat):
    """After downtime nobody gets call 2 for a call 1 they could not have seen."""
    cid = issue(db, cat, units=["乙部"])
    tick(db, s_(30))  # nothing was delivered (the bot was down)
    assert targets(db, cid)["乙部长"].calls_made == 1
    deliver_all(db, s_(31))
    tick(db, s_(33.5))
    assert targets(db, cid)["乙部长"].calls_made == 1
    tick(db, s_(34))
    assert targets(db, cid)["乙部长"].calls_made == 2


def test_undeliverable_call_escalates(db, cat):
    cid = issue(db, cat, units=["乙部"])
    with db.session() as s:
        row = callouts.outbox_by_key(s, f"callout:{cid}:{targets(db, cid)['乙部长'].id}:call1")
        row.state, row.last_error = "failed", "Forbidden: bot was blocked by the user"
    tick(db, s_(1))
    assert targets(db, cid)["乙部长"].escalated_at == s_(1)


# -- acks ---------------------------------------------------------------------------------------
def test_double_ack_records_once_and_chains_once(db, cat):
    cid = issue(db, cat, units=["乙部"])
    deliver_all(db, s_(0))
    assert ack(db, cid, "乙部长", s_(1)) == "acked"
    assert ack(db, cid, "乙部长", s_(2)) == "again"
    with db.session() as s:
        t = targets(db, cid)["乙部长"]
        assert t.acked_at == s_(1)
        entries = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "ack")).all()
        assert [e.ref_id for e in entries].count(t.id) == 1
        assert entries[0].content_hash == ledger.content_hash(ledger.CONTENT["ack"](t))
        edit = callouts.outbox_by_key(s, f"callout:{cid}:{t.id}:ack1")
        assert edit.payload["method"] == "editMessageText" and "已收到 10:00" in edit.payload["text"]
        assert edit.payload["buttons"] == []
        form = callouts.outbox_by_key(s, f"callout:{cid}:{t.id}:form")
        assert "请报告落实情况" in form.payload["text"]


def test_follow_up_of_an_answer_is_the_workers_next_step(db, cat):
    cid = issue(db, cat, units=["乙部"])
    deliver_all(db, s_(0))
    tid = targets(db, cid)["乙部长"].id
    with db.session() as s:
        assert callouts.ack(s, tid, "乙部长", s_(1)).status == "acked"
    with db.session() as s:  # recorded, nothing else yet (as if the process died right here)
        assert callouts.outbox_by_key(s, f"callout:{cid}:{tid}:form") is None
        assert s.get(CalloutTarget, tid).next_call_at == s_(1)
    tick(db, s_(1.2))
    with db.session() as s:
        assert callouts.outbox_by_key(s, f"callout:{cid}:{tid}:form") is not None
        assert callouts.outbox_by_key(s, f"callout:{cid}:{tid}:ack1") is not None
        assert s.get(CalloutTarget, tid).next_call_at == s_(11)  # the report is due 10 s after the answer
    tick(db, s_(2))
    with db.session() as s:
        assert len(s.exec(select(Outbox).where(Outbox.dedupe_key.like(f"callout:{cid}:{tid}:form%"))).all()) == 1


def test_ack_by_someone_else_is_refused(db, cat):
    cid = issue(db, cat, units=["乙部"])
    assert ack_as(db, targets(db, cid)["乙部长"].id, "甲部长") == "not_yours"
    assert targets(db, cid)["乙部长"].acked_at is None


def ack_as(db, target_id, person, at=T0):
    with db.session() as s:
        return callouts.ack(s, target_id, person, at).status


def test_ack_cancels_queued_recalls(db, cat):
    cid = issue(db, cat, units=["乙部"])
    deliver_all(db, s_(0))
    tick(db, s_(3))  # call 2 queued, not yet sent
    tid = targets(db, cid)["乙部长"].id
    assert ack(db, cid, "乙部长", s_(3.5)) == "acked"
    with db.session() as s:
        assert callouts.outbox_by_key(s, f"callout:{cid}:{tid}:call2").state == "cancelled"
        assert callouts.outbox_by_key(s, f"callout:{cid}:{tid}:ack2") is None


# -- reports ------------------------------------------------------------------------------------
def test_report_with_measures_text_and_photo(db, cat):
    cid = issue(db, cat, units=["乙部"])
    deliver_all(db, s_(0))
    ack(db, cid, "乙部长", s_(1))
    tid = targets(db, cid)["乙部长"].id
    with db.session() as s:
        assert reports.toggle_measure(s, tid, "乙部长", "stop", s_(2)).status == "ok"
        asked = reports.toggle_measure(s, tid, "乙部长", "evac", s_(2))
        assert asked.status == "asked" and "多少人" in asked.reply
    with db.session() as s:
        again = reports.add_text(s, "乙部长", "很多人", s_(3))
        assert "数字" in again.reply
        reports.add_text(s, "乙部长", "35", s_(3))
        reports.add_text(s, "乙部长", "东区厂房已全部撤离", s_(4))
        reports.add_photo(s, "乙部长", {"file_id": "F1", "file_unique_id": "U1"}, s_(4))
        reports.add_photo(s, "乙部长", {"file_id": "F1", "file_unique_id": "U1"}, s_(4))  # redelivered
    with db.session() as s:
        result = reports.submit(s, tid, "乙部长", s_(5))
        assert result.status == "submitted"
    with db.session() as s:
        assert reports.submit(s, tid, "乙部长", s_(6)).status == "already"
        t = s.get(CalloutTarget, tid)
        assert t.report_at == s_(5)
        assert t.report_measures == ["已停工", "已转移 35 人"]
        assert t.report_text == "很多人\n东区厂房已全部撤离"
        assert reports.photo_count(s, tid) == 1
        rep = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "report")).one()
        assert rep.ref_id == tid
        # after submitting, texts are no longer taken by the report
        assert reports.add_text(s, "乙部长", "别的事", s_(7)) is None


def test_empty_report_is_refused(db, cat):
    cid = issue(db, cat, units=["乙部"])
    ack(db, cid, "乙部长", s_(1))
    tid = targets(db, cid)["乙部长"].id
    with db.session() as s:
        assert reports.submit(s, tid, "乙部长", s_(2)).status == "empty"
    assert targets(db, cid)["乙部长"].report_at is None


def test_late_report_is_nudged_once_and_flagged(db, cat):
    cid = issue(db, cat, units=["乙部"])
    deliver_all(db, s_(0))
    ack(db, cid, "乙部长", s_(1))
    tid = targets(db, cid)["乙部长"].id
    tick(db, s_(10.9))
    with db.session() as s:
        assert callouts.outbox_by_key(s, f"callout:{cid}:{tid}:nudge") is None
    tick(db, s_(11))
    tick(db, s_(30))
    with db.session() as s:
        nudges = s.exec(select(Outbox).where(Outbox.dedupe_key.like(f"callout:{cid}:{tid}:nudge%"))).all()
        assert len(nudges) == 1 and "报告" in nudges[0].payload["text"]
        reports.toggle_measure(s, tid, "乙部长", "patrol", s_(31))
        reports.submit(s, tid, "乙部长", s_(31))
    rows = [r for r in records(db) if r["person_id"] == "乙部长"]
    assert rows[0]["report_late"] is True and rows[0]["measures"] == ["已巡查"]


# -- board, lifting, records -------------------------------------------------------------------
def board_rows(db, cid):
    with db.session() as s:
        return s.exec(select(Outbox).where(Outbox.dedupe_key.like(f"callout:{cid}:board:%")).order_by(Outbox.id)).all()


def test_board_edits_are_coalesced(db, cat):
    cid = issue(db, cat)
    tick(db, s_(0))  # the board is not out yet: its first message is rewritten in place
    assert len(board_rows(db, cid)) == 1
    deliver_all(db, s_(0.5))
    for i, who in enumerate(("张主任", "李分管", "甲部长")):
        ack(db, cid, who, s_(1 + i * 0.1))
        tick(db, s_(1 + i * 0.1))  # rendered at 1.0; 1.1 and 1.2 fall within BOARD_EVERY
    tick(db, s_(1.6))  # past BOARD_EVERY
    rows = board_rows(db, cid)
    assert len(rows) == 2  # the board and one edit, rewritten while it waited for the sender
    edit = rows[-1]
    assert edit.payload["method"] == "editMessageText" and edit.payload["edit_of"] == s_board_id(db, cid)
    assert edit.priority < 0 and "已收到 3" in edit.payload["text"]
    assert "已发出 5（送达 5）" in edit.payload["text"]  # 4 recipients + the office for unbound 丙部长
    last = edit.payload["text"]
    assert "乙部长" in last and "丙部长" in last and "张主任" not in last.split("未应答")[1]
    # the sender claimed it: the next change gets a new edit, which then absorbs later ones
    with db.session() as s:
        s.get(Outbox, edit.id).state = "sending"
    ack(db, cid, "乙部长", s_(2.2))
    tick(db, s_(2.2))
    tick(db, s_(2.8))  # nothing changed: no new edit
    rows = board_rows(db, cid)
    assert len(rows) == 3 and "已收到 4" in rows[-1].payload["text"]


def s_board_id(db, cid):
    with db.session() as s:
        return s.get(Callout, cid).board_outbox_id


def test_lift_broadcasts_and_summarises(db, cat):
    cid = issue(db, cat, units=["甲部"])
    deliver_all(db, s_(0))
    ack(db, cid, "张主任", s_(2))
    ack(db, cid, "李分管", s_(4))
    tick(db, s_(3))  # 甲部长 call 2 queued, never sent
    with db.session() as s:
        callouts.lift(s, cid, now=s_(20), lifted_by="孙安")
    with db.session() as s:
        with pytest.raises(callouts.CalloutError, match="已于"):
            callouts.lift(s, cid, now=s_(21))
        rows = s.exec(select(Outbox).order_by(Outbox.id)).all()
        lifts = [r for r in rows if r.dedupe_key.endswith(":lift")]
        assert {r.chat_id for r in lifts} == {101, 102, 103}
        assert all("解除" in r.payload["text"] for r in lifts)
        tid = targets(db, cid)["甲部长"].id
        assert callouts.outbox_by_key(s, f"callout:{cid}:{tid}:call2").state == "cancelled"
        summary = "\n".join(texts([r for r in rows if ":summary:" in r.dedupe_key], 106))
    assert "叫应总结" in summary and "张主任 2秒" in summary and "李分管 4秒" in summary
    assert "始终未收到" in summary and "甲部长" in summary
    # nothing moves after the lift
    before = targets(db, cid)["甲部长"].calls_made
    tick(db, s_(100))
    assert targets(db, cid)["甲部长"].calls_made == before


def records(db):
    with db.session() as s:
        return callout_records(s, T0 - timedelta(days=1), T0 + timedelta(days=1))


def test_records_and_status_rows(db, cat):
    cid = issue(db, cat, units=["甲部"])
    deliver_all(db, s_(0))
    ack(db, cid, "张主任", s_(2))
    rows = records(db)
    by = {r["person_id"]: r for r in rows}
    assert set(by) == {"张主任", "李分管", "甲部长"}
    assert by["张主任"]["ack_seconds"] == 2 and by["张主任"]["calls_made"] == 1
    assert by["张主任"]["acked_at"] == s_(2) and by["李分管"]["acked_at"] is None
    assert by["张主任"]["level"] == "red" and by["张主任"]["callout_id"] == cid
    with db.session() as s:
        status = callout_status(s, cid)
    assert status["id"] == cid and len(status["targets"]) == 3
    first = status["targets"][0]
    assert first["person"] == "张主任" and first["first_sent_at"].endswith("+08:00")


def test_catalogue_edit_mid_warning_changes_nothing(db, cat):
    from dataclasses import replace

    cid = issue(db, cat, units=["乙部"])
    slower = replace(cat, callouts={k: replace(v, ack_within=timedelta(hours=1)) for k, v in cat.callouts.items()})
    deliver_all(db, s_(0))
    tick(db, s_(3))  # the snapshot (3 s) rules, not the edited catalogue
    assert slower.callouts  # the edit exists; the running callout never reads it
    assert targets(db, cid)["乙部长"].calls_made == 2


def test_people_without_telegram_are_listed_silent_on_the_board(db, cat):
    cid = issue(db, cat)
    with db.session() as s:
        board = s.get(Outbox, s.get(Callout, cid).board_outbox_id).payload["text"]
        assert s.get(Person, "丙部长").telegram_id is None
    assert "丙部长" in board


def test_board_figures_from_sql_match_the_targets(db, cat):
    """The board is rendered from aggregates; they must say what the rows say."""
    from bot.services.callouts import render

    cid = issue(db, cat)  # 丙部长 unbound → escalated to the office at once
    deliver_all(db, s_(0))
    ack(db, cid, "张主任", s_(1))
    for t in range(2, 12):
        deliver_all(db, s_(t))
        tick(db, s_(t))
    with db.session() as s:
        tid = callouts.targets_of(s, cid)[0].id
        reports.toggle_measure(s, tid, "张主任", "patrol", s_(12))
        reports.submit(s, tid, "张主任", s_(12))
    with db.session() as s:
        targets = callouts.targets_of(s, cid)
        fast, names = callouts.board_snapshot(s, cid, max_names=2)
        slow = render.board_data(targets, max_names=2)
    assert fast.counts == slow.counts and fast.counts["escalated"] >= 3 and fast.counts["reported"] == 1
    assert [t.id for t in fast.silent] == [t.id for t in slow.silent] and fast.silent_total == slow.silent_total
    assert fast.last_event == slow.last_event == s_(12)
    assert set(names) >= {t.person_id for t in fast.silent}
