"""The /warn guided flow as a store-backed state machine: every step, stale taps, cancelling."""

from __future__ import annotations

import pytest
from sqlmodel import select
from support.callout_fixtures import T0, callout_cat, callout_db, module_store  # noqa: F401

from bot.services.callouts import warn_flow as flow
from bot.store.models import Callout, Person


def tap(db, cat, data):
    with db.session() as s:
        return flow.on_callback(s, cat, s.get(Person, "孙安"), data, T0, board_chat_id=106)


def text(db, cat, body):
    with db.session() as s:
        return flow.on_text(s, cat, s.get(Person, "孙安"), body, T0)


def test_every_step_to_a_callout(db, cat):
    with db.session() as s:
        start = flow.start(s, cat, s.get(Person, "孙安"), T0)
    labels = [b["text"] for b in start.buttons[0]]
    assert labels == ["🔴 红色", "🟡 黄色"]  # only the levels duties.yaml has a policy for
    assert "灾害类型" in tap(db, cat, "c:w:l:red").text
    units = tap(db, cat, "c:w:h:1")  # 台风
    assert [b["text"] for row in units.buttons for b in row][:3] == ["甲部", "乙部", "丙部"]
    assert tap(db, cat, "c:w:u:next").toast == "请至少选择一个单位，或点「全部」。"
    picked = tap(db, cat, "c:w:u:1")
    assert picked.edit and "已选：乙部" in picked.text and picked.buttons[0][1]["text"] == "✓ 乙部"
    assert "请回复预警内容" in tap(db, cat, "c:w:u:next").text
    assert "不能为空" in text(db, cat, "   ").text
    assert "如需附图片" in text(db, cat, "台风登陆，请立即转移危险区域人员").text
    assert text(db, cat, "again") is None  # past the text step: not ours any more
    confirm = tap(db, cat, "c:w:f:skip")
    assert "叫应 3 人" in confirm.text and "乙部长" in confirm.text and "甲部长" not in confirm.text
    done = tap(db, cat, "c:w:ok")
    assert done.issued is not None and "已发布叫应第" in done.text
    with db.session() as s:
        c = s.exec(select(Callout)).one()
        assert (c.level, c.hazard, c.units, c.issued_by, c.board_chat_id) == ("red", "台风", ["乙部"], "孙安", 106)
        assert flow.active_state(s, "孙安") is None
    assert tap(db, cat, "c:w:ok").alert  # a second tap on 确认 issues nothing
    with db.session() as s:
        assert len(s.exec(select(Callout)).all()) == 1


def test_all_units_and_cancel(db, cat):
    with db.session() as s:
        flow.start(s, cat, s.get(Person, "孙安"), T0)
    tap(db, cat, "c:w:l:yellow")
    tap(db, cat, "c:w:h:6")
    assert "请回复预警内容" in tap(db, cat, "c:w:u:all").text
    cancelled = tap(db, cat, "c:w:x")
    assert cancelled.edit and "取消" in cancelled.text
    with db.session() as s:
        assert flow.active_state(s, "孙安") is None and s.exec(select(Callout)).all() == []


@pytest.mark.parametrize("data", ["c:w:h:1", "c:w:l:purple", "c:w:u:99", "c:w:ok", "c:w:"])
def test_out_of_step_taps_change_nothing(db, cat, data):
    with db.session() as s:
        flow.start(s, cat, s.get(Person, "孙安"), T0)
    reply = tap(db, cat, data)
    assert reply.alert and not reply.text
    with db.session() as s:
        assert flow.active_state(s, "孙安")["step"] == "level"
