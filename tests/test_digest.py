"""The reminder digest's pure parts: rendering within Telegram's limits, release times (daily
digest, as they come, quiet hours), the `digest` key of duties.yaml and /settings precedence."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services import digest, reminders, settings
from bot.services.digest import Line
from bot.store import Store
from bot.store.models import DutyInstance
from schedules import Schedule, load_catalog_text
from schedules.loader import CatalogError

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 24, 9, 0, tzinfo=SH)


def line(n: int, due: timedelta, title: str = "带队检查安全生产工作", period: str = "2026年12月") -> Line:
    return Line(instance_id=100 + n, title=title, period=period, due_at=NOW + due, done=0, required=1)


def test_one_line_per_duty_overdue_first_then_by_due():
    lines = [line(1, timedelta(days=7)), line(2, timedelta(days=-2), "组织研究分析安全形势"),
             line(3, timedelta(hours=9), "听取专题汇报"), line(4, timedelta(days=1, hours=9)),
             line(5, timedelta(days=-9), "年度指标任务", period="")]
    [page] = digest.render(lines, NOW)
    print("\n" + page.text)
    assert page.text.split("\n") == [
        "📋 今日待办 5 项（已逾期 2 项，即将到期 2 项）",
        "",
        "⚠️ 已逾期",
        "1. 年度指标任务 · 已逾期 9 天 · 已报 0/1",
        "2. 组织研究分析安全形势（2026年12月） · 已逾期 2 天 · 已报 0/1",
        "",
        "⏰ 即将到期",
        "3. 听取专题汇报（2026年12月） · 今天 18:00 截止 · 已报 0/1",
        "4. 带队检查安全生产工作（2026年12月） · 明天 18:00 截止 · 已报 0/1",
        "",
        "🗓 稍后到期",
        "5. 带队检查安全生产工作（2026年12月） · 12月31日截止 · 已报 0/1",
        "",
        "点下方编号报告对应职责；也可以直接回复本消息发送照片或说明。",
    ]
    assert page.instance_ids == [105, 102, 103, 104, 101]
    assert page.buttons == [[{"text": f"报告 {n}", "data": f"r:done:{i}"} for n, i in
                             enumerate([105, 102, 103, 104, 101], 1)], [{"text": "📋 全部待办", "data": "d:mine"}]]


@pytest.mark.parametrize("count,title_size,text_limit,pages", [
    (80, 4, digest.TEXT_LIMIT, 1), (250, 4, digest.TEXT_LIMIT, 3), (60, 120, digest.TEXT_LIMIT, 3),
    (99, 4, 10**6, 1), (100, 4, 10**6, 2), (199, 4, 10**6, 3)])  # the last three: only the 100 buttons count
def test_pages_stay_within_telegrams_limits(count, title_size, text_limit, pages):
    lines = [line(n, timedelta(days=n % 5 - 1), "安" * title_size) for n in range(count)]
    out = digest.render(lines, NOW, text_limit=text_limit)
    assert len(out) == pages
    assert sorted(i for p in out for i in p.instance_ids) == sorted(ln.instance_id for ln in lines)
    for p in out:
        assert len(p.text) <= text_limit
        assert sum(len(r) for r in p.buttons) <= digest.BUTTON_LIMIT
        assert all(len(r) <= digest.BUTTONS_PER_ROW for r in p.buttons)
    numbers = [b["text"] for p in out for r in p.buttons for b in r if b["data"] != "d:mine"]
    assert numbers == [f"报告 {n}" for n in range(1, count + 1)]  # numbering goes on across pages
    assert all(f"（续 {n}/{pages}）" in p.text.split("\n")[0] for n, p in enumerate(out[1:], 2))


CATALOG = """\
defaults: {remind_at: "09:00", quiet_hours: "22:00-07:30"}
units: [{id: u}]
roles: [r]
people:
  - {name: 甲, unit: u, roles: [r]}
  - {name: 乙, unit: u, roles: [r], digest: each}
  - {name: 丙, unit: u, roles: [r], digest: 随到随发}
duties:
  - {id: d, title: 检查, who: [r], frequency: 每月1次}
"""


def test_release_daily_each_and_quiet_hours():
    schedule = Schedule(load_catalog_text(CATALOG))
    due = datetime(2026, 12, 31, 18, 0, tzinfo=SH)
    inst = DutyInstance(duty_id="d", person_id="甲", period_key="2026-12", opens_at=NOW, due_at=due, closes_at=due)

    def release(mode: str, when: datetime) -> datetime:
        return reminders.release_at(schedule, mode, inst, when, when)

    nine = datetime(2026, 12, 24, 9, 0, tzinfo=SH)
    assert release("daily", nine) == nine == release("each", nine)  # at the digest time: at once
    afternoon = datetime(2026, 12, 24, 15, 0, tzinfo=SH)
    assert release("each", afternoon) == afternoon
    assert release("daily", afternoon) == datetime(2026, 12, 25, 9, 0, tzinfo=SH)  # the next digest
    late = datetime(2026, 12, 31, 15, 0, tzinfo=SH)  # due at 18:00: tomorrow's digest is too late
    assert release("daily", late) == late
    night = datetime(2026, 12, 24, 23, 30, tzinfo=SH)
    assert release("each", night) == datetime(2026, 12, 25, 7, 30, tzinfo=SH)  # quiet hours hold
    # A job that fires late (a busy machine) still releases at once, not a day later.
    assert reminders.release_at(schedule, "daily", inst, nine, nine + timedelta(minutes=3)) == nine + timedelta(minutes=3)


def test_digest_key_in_duties_yaml(tmp_path):
    catalog = load_catalog_text(CATALOG)
    assert [p.digest for p in catalog.people] == ["daily", "each", "each"]
    bad = CATALOG.replace("digest: each}", "digest: weekly}")
    with pytest.raises(CatalogError) as err:
        load_catalog_text(bad, "duties.yaml")
    assert "duties.yaml:6:" in str(err.value) and "daily" in str(err.value) and "each" in str(err.value)


def test_a_choice_made_in_telegram_wins_over_the_file(tmp_path):
    catalog = load_catalog_text(CATALOG)
    store = Store(f"sqlite:///{tmp_path}/s.db")
    with store.session() as s:
        assert settings.digest_modes(s, catalog, {"甲", "乙"}) == {"甲": "daily", "乙": "each"}
        assert settings.set_digest_mode(s, "乙", "daily", NOW) is True
        assert settings.set_digest_mode(s, "乙", "daily", NOW) is False
    with store.session() as s:
        assert settings.digest_mode(s, catalog, "乙") == "daily"
        assert settings.digest_modes(s, catalog, {"甲", "乙", "丙"}) == {"甲": "daily", "乙": "daily", "丙": "each"}
    store.dispose()
