"""Exemptions (免考核): reading the request, filing it, one-tap decisions, excused instances."""

from __future__ import annotations

from datetime import date, timedelta

import openpyxl
import pytest
from sqlmodel import select
from support.assessment_world import add_duty, add_instance, add_person, add_units, at

from bot.services import exemptions, export, verify
from bot.services.exemptions import ExemptionError, parse_request
from bot.store.models import (
    AuditLog,
    CheckInDraft,
    DutyInstance,
    Exemption,
    ExemptionRevocation,
    LedgerEntry,
    Outbox,
    Person,
)

TODAY = date(2026, 6, 1)
NOW = at(2026, 6, 1, 10, 0)


# --- reading what the leader wrote ------------------------------------------------------------------
@pytest.mark.parametrize("text, reason, start, end", [
    ("参加市安委会会议 6月3日-6月5日", "参加市安委会会议", date(2026, 6, 3), date(2026, 6, 5)),
    ("6月3日至5日 赴省厅培训", "赴省厅培训", date(2026, 6, 3), date(2026, 6, 5)),
    ("2026-06-03 到 2026-06-05，出差", "出差", date(2026, 6, 3), date(2026, 6, 5)),
    ("6.3-6.5 学习", "学习", date(2026, 6, 3), date(2026, 6, 5)),
    ("病假 6月2日", "病假", date(2026, 6, 2), date(2026, 6, 2)),
    ("陪同检查", "陪同检查", None, None),
    ("5月30日 补请假", "补请假", date(2026, 5, 30), date(2026, 5, 30)),
])
def test_parse_request(text, reason, start, end):
    assert parse_request(text, TODAY) == exemptions.Request(reason, start, end)


def test_year_is_the_nearest():
    assert parse_request("x 1月3日", date(2026, 12, 28)).start == date(2027, 1, 3)
    assert parse_request("x 12月30日", date(2027, 1, 5)).start == date(2026, 12, 30)


@pytest.mark.parametrize("text", ["开会 13月40日", "开会 2月30日", "开会 5日"])
def test_unreadable_dates_are_refused(text):
    with pytest.raises(ExemptionError, match="日期"):
        parse_request(text, TODAY)


# --- the store ------------------------------------------------------------------------------------
def build(store) -> dict:
    with store.session() as s:
        add_units(s, ("A", "甲单位"), ("S", "安全生产部"))
        add_person(s, "p", "A", name="王五", telegram_id=2001)
        add_person(s, "q", "A", name="赵六", telegram_id=2002)
        add_person(s, "o1", "S", name="孙丽", office=True, telegram_id=3001)
        add_person(s, "o2", "S", name="周敏", office=True, telegram_id=3002)
        add_person(s, "o3", "S", name="未绑定", office=True)
        add_duty(s, "insp", "安全检查")
        add_duty(s, "meet", "安全会议", "meeting")
        s.flush()
        return {
            "asked": add_instance(s, "p", "insp", at(2026, 6, 20), "open").id,  # the reminder's instance
            "in_dates": add_instance(s, "p", "meet", at(2026, 6, 4), "open").id,
            "done_in_dates": add_instance(s, "p", "insp", at(2026, 6, 4, 12), "done").id,
            "after": add_instance(s, "p", "meet", at(2026, 6, 6), "open").id,
            "other_person": add_instance(s, "q", "meet", at(2026, 6, 4), "open").id,
        }


def statuses(store) -> dict[int, str]:
    with store.session() as s:
        return {i.id: i.status for i in s.exec(select(DutyInstance))}


def outbox(store, key_part: str) -> list[Outbox]:
    with store.session() as s:
        return list(s.exec(select(Outbox).where(Outbox.dedupe_key.contains(key_part)).order_by(Outbox.id)))


def test_request_approve_excuse(store, tmp_path):
    ids = build(store)
    with store.session() as s:
        draft = exemptions.start_draft(s, "p", "出差", NOW, instance_id=ids["asked"])
        assert exemptions.open_draft(s, "p", NOW + timedelta(minutes=5)).id == draft.id
        assert exemptions.open_draft(s, "p", NOW + exemptions.DRAFT_TTL) is None  # a stale draft is ignored
        # A 报告完成 tap after the draft: the next text is the check-in's, not the request's.
        tap = CheckInDraft(key="w:1", person_id="p", chat_id=2001, state="awaiting",
                           created_at=NOW + timedelta(minutes=1))
        s.add(tap)
        s.flush()
        assert exemptions.open_draft(s, "p", NOW + timedelta(minutes=2)) is None
        tap.state = "done"
        s.flush()
        ex = exemptions.submit(s, "p", draft.reason_kind, "赴省厅培训 6月3日-6月5日", NOW, instance_id=ids["asked"],
                               draft=draft)
        assert ex.id == draft.id and ex.state == "pending" and exemptions.dates_text(ex) == "6月3日—6月5日"
        asks = exemptions.ask_office(s, ex)
        assert sorted(a.chat_id for a in asks) == [3001, 3002]  # the unbound office member cannot be asked
        ex_id = ex.id
    ask = outbox(store, f"exempt:{ex_id}:ask:o1")[0]
    assert "王五（甲单位）" in ask.payload["text"] and "赴省厅培训" in ask.payload["text"]
    assert "安全检查（t" in ask.payload["text"]  # the instance it was asked from
    assert [[b["data"] for b in row] for row in ask.payload["buttons"]] == [[f"x:ok:{ex_id}", f"x:no:{ex_id}"]]
    assert "等待安委办审批" in outbox(store, f"exempt:{ex_id}:filed")[0].payload["text"]
    assert statuses(store)[ids["in_dates"]] == "open"  # nothing changes before a decision

    with store.session() as s:
        approver = s.get(Person, "o1")
        d = exemptions.decide(s, ex_id, approver, True, NOW + timedelta(minutes=3))
    assert d.decided_now and sorted(d.excused) == sorted([ids["in_dates"], ids["asked"]])
    st = statuses(store)
    # Due within 3-5 June, or the instance asked from: excused. Done work keeps its credit; the day
    # after and other people are untouched.
    assert (st[ids["asked"]], st[ids["in_dates"]], st[ids["done_in_dates"]], st[ids["after"]],
            st[ids["other_person"]]) == ("excused", "excused", "done", "open", "open")
    with store.session() as s:
        ex = s.get(Exemption, ex_id)
        assert (ex.state, ex.decided_by, ex.decided_at) == ("approved", "o1", NOW + timedelta(minutes=3))
        entry = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "exemption")).one()
        assert entry.ref_id == ex_id
        audit = s.exec(select(AuditLog).where(AuditLog.action == "exemption.approved")).one()
        assert sorted(audit.detail["excused"]) == sorted(d.excused)
    told = outbox(store, f"exempt:{ex_id}:result")[0]
    assert told.chat_id == 2001 and "已批准" in told.payload["text"] and "孙丽" in told.payload["text"]
    assert "免于考核 2 项" in told.payload["text"]
    closed = outbox(store, f"exempt:{ex_id}:closed:")
    assert sorted(c.chat_id for c in closed) == [3001, 3002]
    assert all(c.payload["method"] == "editMessageText" and "已批准：孙丽" in c.payload["text"]
               and c.payload["buttons"] == [] for c in closed)
    assert verify.verify(store.engine, tmp_path).ok

    # The second office member taps too: told who decided, nothing changes.
    with store.session() as s:
        again = exemptions.decide(s, ex_id, s.get(Person, "o2"), False, NOW + timedelta(minutes=4))
    assert not again.decided_now and again.exemption.state == "approved" and again.exemption.decided_by == "o1"
    with store.session() as s:
        assert len(s.exec(select(LedgerEntry).where(LedgerEntry.kind == "exemption")).all()) == 1

    # A period that opens later inside the leave is excused by the sweep (or when created).
    with store.session() as s:
        late = add_instance(s, "p", "insp", at(2026, 6, 5, 9), "open")
        assert exemptions.excuse_covered(s, NOW + timedelta(days=1)) == [late.id]
        assert exemptions.excuse_covered(s, NOW + timedelta(days=1)) == []
        newer = add_instance(s, "p", "insp", at(2026, 6, 3, 9), "open")
        assert exemptions.excuse_if_covered(s, newer, NOW) and newer.status == "excused"
        outside = add_instance(s, "p", "insp", at(2026, 6, 9, 9), "open")
        assert not exemptions.excuse_if_covered(s, outside, NOW) and outside.status == "open"


BAD = [
    ("请假", "6月3日-6月5日", None, "事由"),
    ("请假", "家中有事", None, "日期"),
    ("休假", "家中有事 6月3日", None, "类型"),
    ("请假", "家中有事 6月5日-6月3日", None, "早于"),
    ("请假", "家中有事 6月1日至9月30日", None, "最多"),
    ("请假", "补请 4月1日", None, "过早"),
    ("请假", "x" * 501 + " 6月3日", None, "太长"),
    ("请假", "家中有事", "other_person", "不是你的"),
]


def test_refusal_and_bad_requests_change_no_instance(store):
    ids = build(store)
    for kind, text, instance, message in BAD:
        with store.session() as s, pytest.raises(ExemptionError, match=message):
            exemptions.submit(s, "p", kind, text, NOW, instance_id=ids[instance] if instance else None)
    with store.session() as s:
        assert s.exec(select(Exemption)).all() == []
    with store.session() as s:
        ex = exemptions.submit(s, "p", "请假", "家中有事 6月4日", NOW)
        with pytest.raises(ExemptionError, match="安委办"):
            exemptions.decide(s, ex.id, s.get(Person, "q"), True, NOW)  # not office
        d = exemptions.decide(s, ex.id, s.get(Person, "o2"), False, NOW)
        assert d.decided_now and d.excused == [] and d.exemption.state == "refused"
    assert statuses(store)[ids["in_dates"]] == "open"
    assert "未获批准" in outbox(store, f"exempt:{d.exemption.id}:result")[0].payload["text"]


# --- revoking an approval (the web console's 撤销) -------------------------------------------------
def test_revoke_restores_statuses_and_is_chained(store, tmp_path):
    ids = build(store)
    with store.session() as s:
        missed_in_dates = add_instance(s, "p", "insp", at(2026, 6, 3), "open", late_days=0).id  # closes at due
        ex = exemptions.submit(s, "p", "出差", "赴省厅培训 6月3日-6月5日", NOW, instance_id=ids["asked"])
        ex_id = ex.id
        exemptions.decide(s, ex_id, s.get(Person, "o1"), True, NOW)
    st = statuses(store)
    assert st[ids["in_dates"]] == st[missed_in_dates] == st[ids["asked"]] == "excused"
    later = at(2026, 6, 4, 12)  # the 3 June one has closed, the 4 June one is still open
    with store.session() as s:
        for bad, message in (("", "撤销理由"), ("x" * 501, "太长")):
            with pytest.raises(ExemptionError, match=message):
                exemptions.revoke(s, ex_id, s.get(Person, "o1"), bad, later)
        with pytest.raises(ExemptionError, match="安委办"):
            exemptions.revoke(s, ex_id, s.get(Person, "p"), "并未出差", later)
    assert statuses(store)[ids["in_dates"]] == "excused"
    with store.session() as s:
        r = exemptions.revoke(s, ex_id, s.get(Person, "o2"), "并未出差", later)
    assert sorted(r.restored) == sorted([ids["in_dates"], missed_in_dates, ids["asked"]])
    st = statuses(store)
    assert (st[ids["in_dates"]], st[missed_in_dates], st[ids["asked"]], st[ids["done_in_dates"]]) == (
        "open", "missed", "open", "done")
    with store.session() as s:
        ex = s.get(Exemption, ex_id)
        rec = s.exec(select(ExemptionRevocation)).one()
        assert ex.state == "revoked" and (rec.exemption_id, rec.revoked_by, rec.reason) == (ex_id, "o2", "并未出差")
        assert sorted(rec.reinstated) == sorted(r.restored)
        kinds = [e.kind for e in s.exec(select(LedgerEntry).order_by(LedgerEntry.seq))]
        assert kinds == ["exemption", "revocation"]
        assert s.exec(select(AuditLog).where(AuditLog.action == "exemption.revoked")).one().detail["reason"] == "并未出差"
        with pytest.raises(ExemptionError, match="只能撤销已批准"):  # twice: refused, nothing changes
            exemptions.revoke(s, ex_id, s.get(Person, "o1"), "再撤一次", later)
        # a sweep does not excuse them again
        assert exemptions.excuse_covered(s, later) == []
    told = outbox(store, f"exempt:{ex_id}:revoked")[0]
    assert told.chat_id == 2001 and "已被安委办撤销" in told.payload["text"] and "并未出差" in told.payload["text"]
    assert verify.verify(store.engine, tmp_path).ok
    # the export's 明细 shows the revocation on the rows it no longer excuses
    export.write_xlsx(store, tmp_path / "x.xlsx", date(2026, 6, 1), date(2026, 6, 30), later, data_dir=tmp_path)
    sheet = openpyxl.load_workbook(tmp_path / "x.xlsx")["明细"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    row = next(r for r in rows if r["实例编号"] == ids["in_dates"])
    assert row["状态"] != "免考核"
    assert "已撤销免考核" in row["免考核说明"] and "周敏" in row["免考核说明"] and "并未出差" in row["免考核说明"]


def test_revocation_tampering_is_found(store, tmp_path):
    ids = build(store)
    with store.session() as s:
        ex = exemptions.submit(s, "p", "出差", "培训 6月3日-6月5日", NOW, instance_id=ids["asked"])
        exemptions.decide(s, ex.id, s.get(Person, "o1"), True, NOW)
        ex_id = ex.id
    with store.session() as s:  # revoked behind the bot's back: no revocation record
        s.get(Exemption, ex_id).state = "revoked"
    result = verify.verify(store.engine, tmp_path)
    assert not result.ok and (result.problem.kind, result.problem.what) == ("exemption", "altered")
    with store.session() as s:
        s.get(Exemption, ex_id).state = "approved"
        exemptions.revoke(s, ex_id, s.get(Person, "o1"), "并未出差", NOW)
    assert verify.verify(store.engine, tmp_path).ok
    with store.session() as s:  # the reason edited afterwards
        s.exec(select(ExemptionRevocation)).one().reason = "别的理由"
    result = verify.verify(store.engine, tmp_path)
    assert not result.ok and (result.problem.kind, result.problem.what) == ("revocation", "altered")
    with store.session() as s:  # reason put back, but the exemption made approved again
        s.exec(select(ExemptionRevocation)).one().reason = "并未出差"
        s.get(Exemption, ex_id).state = "approved"
    result = verify.verify(store.engine, tmp_path)
    assert not result.ok and (result.problem.kind, result.problem.what) == ("revocation", "altered")
    with store.session() as s:  # the revocation record deleted
        s.get(Exemption, ex_id).state = "revoked"
        s.delete(s.exec(select(ExemptionRevocation)).one())
    result = verify.verify(store.engine, tmp_path)
    assert not result.ok and (result.problem.kind, result.problem.what) == ("revocation", "missing")
