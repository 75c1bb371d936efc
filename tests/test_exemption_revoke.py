"""Revoking an approved exemption (the web console's 撤销): a reason is required, the excused
instances get their status back, the revocation is chained and verify stays green; revoked
exemptions excuse nothing new."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select
from support.assessment_world import add_duty, add_instance, add_person, add_units, at

from bot.services import exemptions, verify
from bot.services.exemptions import ExemptionError
from bot.store.models import DutyInstance, ExemptionRevocation, LedgerEntry, Outbox, Person

NOW = at(2026, 6, 1, 10, 0)


def build(store) -> dict:
    with store.session() as s:
        add_units(s, ("A", "甲单位"), ("S", "安全生产部"))
        add_person(s, "p", "A", name="王五", telegram_id=2001)
        add_person(s, "o", "S", name="孙丽", office=True, telegram_id=3001)
        add_person(s, "q", "A", name="赵六", telegram_id=2002)
        add_duty(s, "insp", "安全检查")
        s.flush()
        ids = {"open": add_instance(s, "p", "insp", at(2026, 6, 4), "open").id,
               "past": add_instance(s, "p", "insp", at(2026, 5, 31), "missed").id}
        ex = exemptions.submit(s, "p", "出差", "赴省厅培训 5月30日-6月5日", NOW)
        exemptions.decide(s, ex.id, s.get(Person, "o"), True, NOW)
        ids["ex"] = ex.id
        return ids


def statuses(store, ids) -> dict:
    with store.session() as s:
        return {k: s.get(DutyInstance, ids[k]).status for k in ("open", "past")}


def test_revoke_reinstates_chains_and_tells(store, tmp_path):
    ids = build(store)
    assert statuses(store, ids) == {"open": "excused", "past": "excused"}
    later = NOW + timedelta(days=2)
    with store.session() as s:
        row = exemptions.revoke(s, ids["ex"], s.get(Person, "o"), "培训取消", later)
        assert sorted(row.reinstated) == sorted([ids["open"], ids["past"]])
    # the one whose window closed is missed, the other open again
    with store.session() as s:
        past = s.get(DutyInstance, ids["past"])
        expected_past = "missed" if past.closes_at <= later else "open"
    assert statuses(store, ids) == {"open": "open", "past": expected_past}
    with store.session() as s:
        entry = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "revocation")).one()
        assert entry.ref_id == s.exec(select(ExemptionRevocation)).one().id
        told = s.exec(select(Outbox).where(Outbox.dedupe_key == f"exempt:{ids['ex']}:revoked")).one()
        assert told.chat_id == 2001 and "培训取消" in told.payload["text"]
        # a revoked exemption excuses nothing any more, now or for instances made later
        assert exemptions.excuse_covered(s, later) == []
        assert exemptions.covering(s, s.get(DutyInstance, ids["open"])) is None
    assert verify.verify(store.engine, tmp_path).ok
    # the chained revocation cannot be edited unseen
    with store.session() as s:
        s.exec(select(ExemptionRevocation)).one().reason = "改过的原因"
    result = verify.verify(store.engine, tmp_path)
    assert not result.ok and result.problem.kind == "revocation" and result.problem.what == "altered"


def test_revoke_refusals_change_nothing(store):
    ids = build(store)
    with store.session() as s:
        office, leader = s.get(Person, "o"), s.get(Person, "q")
        with pytest.raises(ExemptionError, match="原因"):
            exemptions.revoke(s, ids["ex"], office, "  ", NOW)
        with pytest.raises(ExemptionError, match="office"):
            exemptions.revoke(s, ids["ex"], leader, "x", NOW)
        with pytest.raises(ExemptionError, match="not found"):
            exemptions.revoke(s, 999, office, "x", NOW)
        pending = exemptions.submit(s, "q", "请假", "病假 6月2日", NOW)
        with pytest.raises(ExemptionError, match="approved"):
            exemptions.revoke(s, pending.id, office, "x", NOW)
    assert statuses(store, ids) == {"open": "excused", "past": "excused"}
    with store.session() as s:
        exemptions.revoke(s, ids["ex"], s.get(Person, "o"), "第一次", NOW)
    with store.session() as s, pytest.raises(ExemptionError, match="revoked already"):
        exemptions.revoke(s, ids["ex"], s.get(Person, "o"), "第二次", NOW)
    with store.session() as s:
        assert len(s.exec(select(ExemptionRevocation)).all()) == 1
