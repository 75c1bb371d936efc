"""撤回 and 改为其他职责 as services against the real store: counts and statuses follow, the rules
(own check-ins, 24 hours, once), and `verify` sees a correction altered behind the bot's back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from support.checkin_world import LEADER, LEADER_TG, NOW, OTHER, make_instance, person

from bot.services import checkins, corrections
from bot.services.verify import verify
from bot.store.models import CheckInCorrection, DutyInstance

pytest_plugins = ["support.checkin_fixtures"]

DUE = NOW + timedelta(days=10)


def report(store, iid: int, at=NOW, attachments=()) -> int:
    with store.session() as s:
        done = checkins.record(s, instance=s.get(DutyInstance, iid), person_id=LEADER, chat_id=LEADER_TG,
                               text="东区检查", attachments=list(attachments), at=at, update_id=None)
        return done.checkin.id


def state(store, iid: int) -> tuple[str, int]:
    with store.session() as s:
        inst = s.get(DutyInstance, iid)
        return inst.status, inst.done_count


def test_withdraw_reopens_and_a_closed_window_becomes_missed(world, tmp_path):
    open_one = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE, required=2, done=1)
    first = report(world, open_one)
    assert state(world, open_one) == ("done", 2)
    with world.session() as s:
        result = corrections.withdraw(s, person(s, LEADER), first, NOW + timedelta(hours=1))
    assert result.ok and state(world, open_one) == ("open", 1)

    closing = make_instance(world, LEADER, "charge-02", "2026-10", due=NOW - timedelta(days=1),
                            closes=NOW + timedelta(hours=2))
    late = report(world, closing)
    assert state(world, closing) == ("late", 1)
    with world.session() as s:  # withdrawn after its window closed: missed, not open
        assert corrections.withdraw(s, person(s, LEADER), late, NOW + timedelta(hours=3)).ok
    assert state(world, closing) == ("missed", 0)
    assert verify(world.engine, tmp_path).ok


def test_the_rules_own_within_24_hours_once(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    other = make_instance(world, LEADER, "charge-02", "2026-11", due=DUE)
    checkin = report(world, iid)
    with world.session() as s:
        assert corrections.withdraw(s, person(s, OTHER), checkin, NOW).toast == checkins.T.NOT_YOURS_TOAST
        late = corrections.withdraw(s, person(s, LEADER), checkin, NOW + timedelta(hours=25))
        assert not late.ok and late.toast == checkins.T.CORRECT_TOO_LATE
        assert corrections.move(s, person(s, LEADER), checkin, iid, NOW).toast == checkins.T.MOVE_SAME
    with world.session() as s:
        assert corrections.move(s, person(s, LEADER), checkin, other, NOW).ok
    with world.session() as s:
        again = corrections.withdraw(s, person(s, LEADER), checkin, NOW)
        assert not again.ok and again.toast == checkins.T.CORRECTED_ALREADY
    assert state(world, iid) == ("open", 0) and state(world, other) == ("done", 1)


def test_verify_sees_an_altered_correction(world, tmp_path):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    checkin = report(world, iid)
    with world.session() as s:
        row = corrections.withdraw(s, person(s, LEADER), checkin, NOW).correction
    assert verify(world.engine, tmp_path).ok
    with world.engine.begin() as conn:  # someone turns the withdrawal into a move behind the bot's back
        conn.execute(text(f"UPDATE {CheckInCorrection.__tablename__} SET action = 'move' WHERE id = :id"),
                     {"id": row.id})
    result = verify(world.engine, tmp_path)
    assert not result.ok and result.problem.kind == "correction" and result.problem.what == "altered"
