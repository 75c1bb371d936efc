"""Which duty a caption is about: the pure ranking in bot/services/routing.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services import routing
from bot.services.routing import Candidate

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 20)
DUE = datetime(2026, 11, 30, 18, 0, tzinfo=SH)

INSPECT = Candidate(1, "带队检查安全生产工作", "inspection", "2026-11", DUE)
MEETING = Candidate(2, "研究分析安全生产工作形势", "meeting", "2026-Q4", DUE + timedelta(days=31))
REPORT = Candidate(3, "向主要负责人专题汇报分管范围安全生产履职情况", "report", "2026-Q4", DUE + timedelta(days=31))
DRILL = Candidate(4, "组织开展应急演练", "drill", "2026", DUE + timedelta(days=31))
TRAIN = Candidate(5, "组织安全生产培训", "training", "2026-H2", DUE + timedelta(days=31))
STUDY = Candidate(6, "学习安全生产法律法规", "study", "2026-Q4", DUE + timedelta(days=31))
INSPECT_OCT = Candidate(7, "带队检查安全生产工作", "inspection", "2026-10", DUE - timedelta(days=30))
ALL = [INSPECT, MEETING, REPORT, DRILL, TRAIN, STUDY]


def winner(text: str, candidates=ALL) -> int | None:
    found = routing.clear_winner(routing.rank(text, candidates, TODAY))
    return found.instance_id if found else None


@pytest.mark.parametrize("caption,expected", [
    ("东区三家企业安全检查完毕", 1),
    ("今天带队巡查了化工园区", 1),
    ("召开安委会会议，研究部署冬季安全工作", 2),
    ("已向主要负责人汇报", 3),
    ("组织消防应急演练", 4),
    ("全体职工安全培训", 5),
    ("集中学习新安法", 6),
])
def test_the_kind_of_duty_named_in_the_caption_wins(caption, expected):
    assert winner(caption) == expected


@pytest.mark.parametrize("caption", ["", "现场照片", "已完成", "见附件"])
def test_a_caption_that_names_nothing_has_no_winner(caption):
    assert winner(caption) is None
    ranked = routing.rank(caption, ALL, TODAY)
    assert [r.candidate.instance_id for r in ranked][:1] == [1]  # ties: the nearest due first


def test_periods_tell_two_inspections_apart():
    both = [INSPECT, INSPECT_OCT]
    assert winner("安全检查", both) is None  # a tie: ask
    assert winner("本月安全检查", both) == 1
    assert winner("上月的检查补报", both) == 7
    assert winner("10月检查", both) == 7
    assert winner("十一月检查", both) == 1


def test_period_words():
    assert routing.periods_in("本季度汇报", TODAY) == {"2026-Q4"}
    assert routing.periods_in("上季度", TODAY) == {"2026-Q3"}
    assert routing.periods_in("上月", date(2026, 1, 5)) == {"2025-12"}
    assert routing.periods_in("本周", TODAY) == {"2026-W47"}
    assert routing.periods_in("第三季度的会议", TODAY) == {"2026-Q3"}
    assert routing.periods_in("12月", TODAY) == {"2025-12"}  # a month not reached yet: last year's


def test_title_words_break_a_tie_of_kinds():
    a = Candidate(10, "检查危险化学品企业", "inspection", "2026-11", DUE)
    b = Candidate(11, "检查建筑工地", "inspection", "2026-11", DUE + timedelta(days=1))
    assert winner("检查", [a, b]) is None
    assert winner("危险化学品企业检查完成", [a, b]) == 10
    assert winner("建筑工地检查", [a, b]) == 11
    ranked = routing.rank("建筑工地检查", [a, b], TODAY)
    assert ranked[0].why == ("kind:inspection", "title:工地,建筑,检查,筑工")


def test_title_words_skip_particles():
    assert "的安" not in routing.title_words("企业的安全")
    assert routing.title_words("检查 A3 工地") == {"检查", "工地"}
