"""Ad-hoc campaigns (专项检查) against the real store: launch, reminders, quiet hours, closing,
check-ins on campaign instances, and the /campaign flow's steps."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from support.callout_fixtures import module_store, seed, small_catalog, wipe  # noqa: F401

from bot.services import campaigns, checkins
from bot.store.models import Duty, DutyInstance, Outbox, Person
from bot.store.sync import sync_catalog
from schedules import Schedule

SH = ZoneInfo("Asia/Shanghai")


def local(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def schedule():
    return Schedule(small_catalog())


@pytest.fixture
def db(module_store, schedule):  # noqa: F811
    wipe(module_store)
    seed(module_store, schedule.catalog)
    return module_store


def launch(db, schedule, now=None, **kw):
    now = now or local(7, 1)
    kw.setdefault("title", "举一反三隐患排查")
    kw.setdefault("due", now + timedelta(days=7))
    kw.setdefault("roles", ["部门负责人"])
    with db.session() as s:
        launched = campaigns.launch(s, schedule, now=now, issued_by="孙安", **kw)
        return launched.duty.id, [i.id for i in launched.instances], launched.queued


def rows(db, prefix="remind:"):
    with db.session() as s:
        return list(s.exec(select(Outbox).where(Outbox.dedupe_key.startswith(prefix)).order_by(Outbox.id)))


def test_launch_makes_a_campaign_duty_and_instances(db, schedule):
    duty_id, ids, queued = launch(db, schedule, note="对照某地有限空间事故通报排查")
    with db.session() as s:
        duty = s.get(Duty, duty_id)
        insts = [s.get(DutyInstance, i) for i in ids]
    assert duty.item == "campaign" and duty.title == "举一反三隐患排查" and "有限空间" in duty.source_clause
    assert sorted(i.person_id for i in insts) == ["丙部长", "乙部长", "甲部长"]
    assert all(i.status == "open" and i.required == 1 and i.due_at == local(7, 8) for i in insts)
    assert all(i.closes_at == local(7, 11) for i in insts)  # late_days 3
    sent = rows(db)
    assert queued == 2 == len(sent)  # 丙部长 is not bound to Telegram
    assert all(r.priority == 50 and r.payload["if_open"] in ids for r in sent)
    assert all(r.dedupe_key.endswith(":open") for r in sent)
    assert "举一反三隐患排查" in sent[0].payload["text"] and "专项检查" in sent[0].payload["text"]
    assert sent[0].payload["buttons"][0][0]["data"].startswith("r:done:")  # the check-in flow's buttons


def test_units_narrow_the_people(db, schedule):
    _, ids, _ = launch(db, schedule, units=["乙部"], roles=[])
    with db.session() as s:
        assert [s.get(DutyInstance, i).person_id for i in ids] == ["乙部长"]


def test_bad_input_is_refused_and_changes_nothing(db, schedule):
    now = local(7, 1)
    with db.session() as s:
        for kw, msg in (({"title": " "}, "名称"), ({"due": now - timedelta(hours=1)}, "期限"),
                        ({"roles": ["宇航员"]}, "未知角色"), ({"units": ["外星部"]}, "未知单位"),
                        ({"roles": ["安委办"], "units": ["乙部"]}, "没有人员")):
            args = {"title": "检查", "due": now + timedelta(days=1), "roles": ["部门负责人"], **kw}
            with pytest.raises(campaigns.CampaignError, match=msg):
                campaigns.launch(s, schedule, now=now, **args)
    with db.session() as s:
        assert s.exec(select(Duty).where(Duty.item == "campaign")).all() == []
        assert s.exec(select(Outbox)).all() == []


def test_launch_in_quiet_hours_waits_for_the_morning(db, schedule):
    launch(db, schedule, now=local(7, 1, 23, 10))
    assert {r.not_before for r in rows(db)} == {local(7, 2, 7, 30)}


def test_sync_leaves_campaigns_alone(db, schedule):
    duty_id, _, _ = launch(db, schedule)
    with db.session() as s:
        sync_catalog(s, schedule.catalog, local(7, 2))
        assert s.get(Duty, duty_id).retired_at is None


def test_reminder_before_the_deadline_once_and_not_for_the_done(db, schedule):
    duty_id, ids, _ = launch(db, schedule)  # due 7-8 10:00, a week: reminded a day before
    with db.session() as s:
        done = next(s.get(DutyInstance, i) for i in ids if s.get(DutyInstance, i).person_id == "甲部长")
        checkins.record(s, instance=done, person_id="甲部长", chat_id=103, text="已排查三处有限空间", attachments=[],
                        at=local(7, 3), update_id=1)
    with db.session() as s:
        assert campaigns.tick(s, schedule, local(7, 7, 9, 59)) == 0
    with db.session() as s:
        assert campaigns.tick(s, schedule, local(7, 7, 10, 0)) == 1
    with db.session() as s:
        assert campaigns.tick(s, schedule, local(7, 7, 12, 0)) == 0
    before = rows(db, "remind:")
    reminded = [r for r in before if r.dedupe_key.endswith(":before")]
    assert len(reminded) == 1 and reminded[0].chat_id == 105  # 乙部长; 甲部长 is done
    assert "临近截止" in reminded[0].payload["text"]


def test_missed_campaign_instances_close(db, schedule):
    _, ids, _ = launch(db, schedule)
    with db.session() as s:
        campaigns.tick(s, schedule, local(7, 11, 10, 0))
        assert {s.get(DutyInstance, i).status for i in ids} == {"missed"}


@pytest.mark.parametrize(("opens", "due", "expected"), [
    (local(7, 1, 10), local(7, 8, 10), local(7, 7, 10)),          # a week: the day before
    (local(7, 1, 10), local(7, 1, 18), local(7, 1, 14)),          # a day: halfway
    (local(7, 1, 20), local(7, 2, 8), local(7, 2, 7, 30)),        # halfway is 02:00: after the quiet hours
    (local(7, 1, 20), local(7, 2, 7), local(7, 1, 21, 30)),       # quiet hours run past the deadline: the evening before
])
def test_reminder_moment(schedule, opens, due, expected):
    inst = DutyInstance(duty_id="c", person_id="p", period_key="x", opens_at=opens, due_at=due, closes_at=due)
    assert campaigns.reminder_moment(inst, schedule) == expected


def test_parse_deadline(schedule):
    now = local(7, 1)
    assert campaigns.parse_deadline(schedule, "2026-07-10", now) == local(7, 10, 18)
    assert campaigns.parse_deadline(schedule, "7月10日", now) == local(7, 10, 18)
    assert campaigns.parse_deadline(schedule, "2/3", now) == datetime(2027, 2, 3, 18, tzinfo=SH)  # next year
    assert campaigns.parse_deadline(schedule, "2026-06-10", now) is None  # past
    assert campaigns.parse_deadline(schedule, "下周五", now) is None
    assert campaigns.parse_deadline(schedule, "2026-02-30", now) is None


def test_flow_from_title_to_launch(db, schedule):
    now = local(7, 1)
    with db.session() as s:
        office = s.get(Person, "孙安")
        campaigns.start_flow(s, office, now)
        assert campaigns.on_text(s, schedule, office, "汛前隐患排查", now).text.startswith("第2步")
        roles = campaigns.on_callback(s, schedule, office, "c:cp:r:2", now)  # 部门负责人
        assert "已选：部门负责人" in roles.text and roles.edit
        campaigns.on_callback(s, schedule, office, "c:cp:r:next", now)
        campaigns.on_callback(s, schedule, office, "c:cp:u:all", now)
        bad = campaigns.on_text(s, schedule, office, "明天吧", now)
        assert "看不懂" in bad.text
        campaigns.on_text(s, schedule, office, "7月5日", now)
        confirm = campaigns.on_callback(s, schedule, office, "c:cp:n:skip", now)
        assert "共 3 人" in confirm.text and "7月5日 18:00" in confirm.text
        stale = campaigns.on_callback(s, schedule, office, "c:cp:r:next", now)
        assert stale.alert and not stale.text
        done = campaigns.on_callback(s, schedule, office, "c:cp:ok", now)
        assert done.launched is not None and done.launched.duty.title == "汛前隐患排查"
        assert campaigns.flow_state(s, "孙安") is None
        assert campaigns.on_text(s, schedule, office, "随便说点什么", now) is None  # no flow: not ours
