"""Statuses, completion rates and the quarterly ranking on a crafted quarter, numbers worked out by hand."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from conftest import BACKENDS, make_database_url
from support.assessment_world import add_duty, add_instance, add_person, add_units, at

from bot.cli import main as cli
from bot.services import assessment
from bot.services.assessment import RankingPolicy, Step, Tally, effective_status
from bot.store import Store
from bot.store.models import DutyInstance
from schedules.catalog import Scoring

NOW = at(2026, 7, 1, 12, 0)  # Q2 is over; its last instances (due 30 June) are still in their late window


def build(store) -> None:
    """Five units over three quarters. Outcomes per person (Q2 = 2026-04-01..06-30, local dates):

    a1 (甲): Q2 insp done ×2, meet done ×2                 | Q1 insp done        | 2025-Q4 insp done
    a2 (甲): Q2 insp done ×2, insp excused, meet late
    b1 (乙): Q2 insp done, insp late, meet done, meet late* | Q1 insp done        | 2025-Q4 insp done
    c1 (丙): Q2 insp done ×2, meet late, meet missed        | Q1 insp missed      | 2025-Q4 insp done
    d1 (丁): Q2 insp done, insp late, meet missed ×2*       | Q1 insp missed      | 2025-Q4 insp missed
    e1 (戊): Q2 insp done ×4 (one due 1 Apr 00:30), meet done, insp open (closes 3 Jul)
             | Q1 insp done, insp missed (due 31 Mar 23:30)    | 2025-Q4 insp late
    (* stored as "open": late = enough check-ins after due; missed = closed, not swept yet)
    """
    with store.session() as s:
        add_units(s, ("A", "甲单位"), ("B", "乙单位"), ("C", "丙单位"), ("D", "丁单位"), ("E", "戊单位"))
        for pid, unit in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("c1", "C"), ("d1", "D"), ("e1", "E")):
            add_person(s, pid, unit, name=f"{pid}名")
        add_person(s, "head", "A", name="张主任", roles=("主要负责人",))
        add_person(s, "deputy", "A", name="李副主任", roles=("分管负责人",))
        add_duty(s, "insp", "安全检查", "inspection")
        add_duty(s, "meet", "安全会议", "meeting")
        s.flush()
        apr, may, jun = at(2026, 4, 30), at(2026, 5, 29), at(2026, 6, 30)
        q2 = [
            ("a1", "insp", apr, "done"), ("a1", "insp", may, "done"), ("a1", "meet", jun, "done"),
            ("a1", "meet", at(2026, 4, 15), "done"),
            ("a2", "insp", apr, "done"), ("a2", "insp", may, "done"), ("a2", "insp", jun, "excused"),
            ("a2", "meet", may, "late"),
            ("b1", "insp", apr, "done"), ("b1", "insp", may, "late"), ("b1", "meet", apr, "done"),
            ("b1", "meet", may, "open-late"),
            ("c1", "insp", apr, "done"), ("c1", "insp", may, "done"), ("c1", "meet", apr, "late"),
            ("c1", "meet", may, "missed"),
            ("d1", "insp", apr, "done"), ("d1", "insp", may, "late"), ("d1", "meet", apr, "missed"),
            ("d1", "meet", at(2026, 6, 20), "open-missed"),
            ("e1", "insp", apr, "done"), ("e1", "insp", may, "done"), ("e1", "insp", at(2026, 6, 10), "done"),
            ("e1", "insp", at(2026, 4, 1, 0, 30), "done"), ("e1", "meet", may, "done"),
            ("e1", "insp", jun, "open"),
        ]
        q1 = [("a1", "insp", at(2026, 2, 27), "done"), ("b1", "insp", at(2026, 2, 27), "done"),
              ("c1", "insp", at(2026, 2, 27), "missed"), ("d1", "insp", at(2026, 2, 27), "missed"),
              ("e1", "insp", at(2026, 2, 27), "done"), ("e1", "insp", at(2026, 3, 31, 23, 30), "missed")]
        q4 = [("a1", "insp", at(2025, 11, 28), "done"), ("b1", "insp", at(2025, 11, 28), "done"),
              ("c1", "insp", at(2025, 11, 28), "done"), ("d1", "insp", at(2025, 11, 28), "missed"),
              ("e1", "insp", at(2025, 11, 28), "late")]
        for person, duty, due, outcome in q2 + q1 + q4:
            add_instance(s, person, duty, due, outcome)


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    """The crafted quarters, built once per backend (the tests only read)."""
    url, drop = make_database_url(request.param, tmp_path_factory.mktemp(f"assess-{request.param}"))
    store = Store(url)
    build(store)
    yield store
    store.dispose()
    drop()


def tally(t: Tally) -> tuple[int, int, int, int, int]:
    return t.done, t.late, t.missed, t.excused, t.open


# --- statuses ----------------------------------------------------------------------------------
def test_effective_status_trusts_final_and_judges_open():
    due = at(2026, 6, 30)
    closes = due + timedelta(days=3)

    def inst(**kw) -> DutyInstance:
        base = dict(duty_id="d", person_id="p", period_key="k", opens_at=due - timedelta(days=30), due_at=due,
                    closes_at=closes, required=2)
        return DutyInstance(**(base | kw))

    assert effective_status(inst(status="excused"), closes + timedelta(days=9)) == "excused"
    assert effective_status(inst(status="late", done_count=2), due) == "late"
    assert effective_status(inst(done_count=2, done_at=due), due) == "done"  # exactly at due is on time
    assert effective_status(inst(done_count=2, done_at=due + timedelta(seconds=1)), due) == "late"
    assert effective_status(inst(done_count=1), closes - timedelta(seconds=1)) == "open"
    assert effective_status(inst(done_count=1), closes) == "missed"


def test_quarter_bounds_and_parsing():
    assert assessment.quarter_bounds("2026-Q3") == (date(2026, 7, 1), date(2026, 9, 30))
    assert assessment.quarter_bounds("2026-q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert assessment.previous_quarter("2026-Q1") == "2025-Q4"
    assert assessment.quarters_between(date(2025, 12, 31), date(2026, 4, 1)) == ["2025-Q4", "2026-Q1", "2026-Q2"]
    assert assessment.last_closed_quarter(date(2026, 7, 1)) == "2026-Q2"
    for bad in ("2026Q3", "2026-Q5", "Q3", ""):
        with pytest.raises(ValueError, match="2026-Q3"):
            assessment.parse_quarter(bad)


# --- scores -------------------------------------------------------------------------------------
def test_scores_of_a_crafted_quarter(world):
    store = world
    with store.session() as s:
        q = assessment.summarize(s, date(2026, 4, 1), date(2026, 6, 30), NOW)
    # People (done, late, missed, excused, open):
    assert tally(q.by_person["a1"]) == (4, 0, 0, 0, 0)
    assert tally(q.by_person["a2"]) == (2, 1, 0, 1, 0)
    assert tally(q.by_person["b1"]) == (2, 2, 0, 0, 0)  # the stored-open one with late check-ins is late
    assert tally(q.by_person["d1"]) == (1, 1, 2, 0, 0)  # the closed, unswept one is missed
    # e1: 4 done in April-June (the one due 1 April 00:30 local is 31 March in UTC but belongs to Q2),
    # +1 meeting done; the one due 30 June is still in its late window: open, not counted.
    assert tally(q.by_person["e1"]) == (5, 0, 0, 0, 1)
    # Units. 甲 = a1 + a2: done 6, late 1, excused 1 → counted 7, score 6 + 0.5 = 6.5, rate 6.5/7.
    assert tally(q.by_unit["A"]) == (6, 1, 0, 1, 0)
    assert q.by_unit["A"].required == 7
    assert q.rate(q.by_unit["A"]) == pytest.approx(6.5 / 7)
    assert q.rate(q.by_unit["B"]) == pytest.approx((2 + 2 * 0.5) / 4)  # 0.75
    assert q.rate(q.by_unit["C"]) == pytest.approx((2 + 0.5 + 0) / 4)  # 0.625
    assert q.rate(q.by_unit["D"]) == pytest.approx((1 + 0.5 + 0) / 4)  # 0.375
    assert q.rate(q.by_unit["E"]) == pytest.approx(1.0)
    # Kinds. inspection: done a1 2 + a2 2 + b1 1 + c1 2 + d1 1 + e1 4 = 12, late b1 + d1 = 2,
    # excused a2 1, open e1 1 → score 12 + 1 = 13 of 14.
    assert tally(q.by_kind["inspection"]) == (12, 2, 0, 1, 1)
    assert q.rate(q.by_kind["inspection"]) == pytest.approx(13 / 14)
    # meeting: done a1 2 + b1 1 + e1 1 = 4, late a2 + b1 + c1 = 3, missed c1 1 + d1 2 = 3 → 5.5 / 10.
    assert tally(q.by_kind["meeting"]) == (4, 3, 3, 0, 0)
    assert q.rate(q.by_kind["meeting"]) == pytest.approx(0.55)
    # All: done 16, late 5, missed 3 → 18.5 / 24.
    assert tally(q.total) == (16, 5, 3, 1, 1)
    assert q.rate(q.total) == pytest.approx(18.5 / 24)
    # Weights from the catalogue: late worth 0.8 → 乙 (2 + 2·0.8) / 4 = 0.9.
    with store.session() as s:
        heavy = assessment.summarize(s, date(2026, 4, 1), date(2026, 6, 30), NOW,
                                     weights=Scoring(done=1, late=0.8, missed=0))
    assert heavy.rate(heavy.by_unit["B"]) == pytest.approx(0.9)
    # Later, when e1's late window has closed without a check-in, it counts as missed: 5 / 6.
    with store.session() as s:
        later = assessment.summarize(s, date(2026, 4, 1), date(2026, 6, 30), at(2026, 7, 4))
    assert tally(later.by_person["e1"]) == (5, 0, 1, 0, 0)


def test_nothing_counted_gives_no_rate(world):
    with world.session() as s:  # a2's June: excused only; e1's: done + open → e1 alone in 2026-06-25..30
        q = assessment.summarize(s, date(2026, 6, 25), date(2026, 6, 30), NOW, person_id="a2")
        e = assessment.summarize(s, date(2026, 6, 25), date(2026, 6, 30), NOW, person_id="e1")
    assert tally(q.by_person["a2"]) == (0, 0, 0, 1, 0)
    assert q.rate(q.by_person["a2"]) is None
    assert tally(e.by_person["e1"]) == (0, 0, 0, 0, 1) and e.rate(e.total) is None


# --- ranking -------------------------------------------------------------------------------------
def test_quarterly_ranking_flags_the_bottom_two_with_streaks(world):
    store = world
    with store.session() as s:
        r = assessment.rank_quarter(s, "2026-Q2", NOW)
    order = [(u.unit_id, u.rank, round(u.rate, 4)) for u in r.units]
    # 戊 1.0, 甲 6.5/7 = 0.9286, 乙 0.75, 丙 0.625, 丁 0.375 (see test_scores_of_a_crafted_quarter)
    assert order == [("E", 1, 1.0), ("A", 2, 0.9286), ("B", 3, 0.75), ("C", 4, 0.625), ("D", 5, 0.375)]
    assert [u.unit_id for u in r.units if u.top] == ["E", "A"]
    assert [u.unit_id for u in r.flagged] == ["C", "D"]
    assert r.open_count == 1  # e1's instance due 30 June
    by = {u.unit_id: u for u in r.units}
    # 丙: bottom in Q2 and Q1 (0 of 1), not in 2025-Q4 (done) → 2 → 约谈 by the deputy head.
    # Q1: 甲 1, 乙 1, 戊 (1 + 0)/2 = 0.5, 丙 0, 丁 0 → bottom 丙, 丁.
    assert (by["C"].streak, by["C"].step.describe(), by["C"].interviewers) == (2, "约谈（分管负责人）", ["李副主任"])
    # 丁: bottom in Q2, Q1 and 2025-Q4 (甲 乙 丙 1, 戊 0.5, 丁 0 → bottom 丁, 戊); 2025-Q3 has no data.
    assert (by["D"].streak, by["D"].step.describe(), by["D"].interviewers) == (3, "约谈（主要负责人）", ["张主任"])
    assert by["B"].streak == 0 and by["B"].step is None

    with store.session() as s:
        q1 = assessment.rank_quarter(s, "2026-Q1", NOW)
        q4 = assessment.rank_quarter(s, "2025-Q4", NOW)
    assert [(u.unit_id, u.streak, u.step.describe()) for u in q1.flagged] == [("C", 1, "通报批评"),
                                                                              ("D", 2, "约谈（分管负责人）")]
    assert [(u.unit_id, u.streak) for u in q4.flagged] == [("E", 1), ("D", 1)]


def test_ranking_thresholds_are_configurable(world):
    store = world
    policy = RankingPolicy(bottom=1, top=1, steps=(Step(1, "通报批评"), Step(3, "约谈", "主要负责人")),
                           units=("B", "C", "D"))
    with store.session() as s:
        r = assessment.rank_quarter(s, "2026-Q2", NOW, policy=policy)
    assert [u.unit_id for u in r.units] == ["B", "C", "D"]
    assert [u.unit_id for u in r.units if u.top] == ["B"]
    # 丁 alone at the bottom; among 乙 丙 丁 it was last in Q1 too (tied with 丙 at 0) and in 2025-Q4.
    assert [(u.unit_id, u.streak) for u in r.flagged] == [("D", 3)]
    assert r.flagged[0].step.describe() == "约谈（主要负责人）"
    with store.session() as s:
        q1 = assessment.rank_quarter(s, "2026-Q1", NOW, policy=policy)
    # Two units tied for the last place share it: both are named (and the streak step 2 falls back to 1).
    assert [(u.unit_id, u.streak, u.step.describe()) for u in q1.flagged] == [("C", 1, "通报批评"),
                                                                              ("D", 2, "通报批评")]


def test_nobody_is_last_when_everybody_is_equal(world):
    with world.session() as s:  # 2025-Q4 among 甲 乙 丙: all done
        r = assessment.rank_quarter(s, "2025-Q4", NOW, policy=RankingPolicy(units=("A", "B", "C")))
    assert [u.rank for u in r.units] == [1, 1, 1]
    assert not r.flagged and not any(u.top for u in r.units)


def test_rank_command(world, monkeypatch, capsys, tmp_path):
    store = world
    monkeypatch.setenv("DATABASE_URL", store.url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    duties = str(assessment_catalog(tmp_path))
    assert cli(["--duties", duties, "rank", "--quarter", "2026-Q2", "--format", "json", "--at", "2026-07-01T12:00"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(u["unit"], u["rank"], u["action"]) for u in data["units"]] == [
        ("E", 1, None), ("A", 2, None), ("B", 3, None), ("C", 4, "约谈（分管负责人）"), ("D", 5, "约谈（主要负责人）")]
    assert data["not_counted_open"] == 1
    assert cli(["--duties", duties, "rank", "--quarter", "2026-Q2", "--at", "2026-07-01T12:00"]) == 0
    table = capsys.readouterr().out
    assert "丁单位" in table and "约谈（主要负责人）" in table and "张主任" in table
    assert cli(["--duties", duties, "rank", "--quarter", "2026-Q7"]) == 1
    assert "2026-Q3" in capsys.readouterr().err


def assessment_catalog(tmp_path):
    """A minimal valid catalogue (the rank command reads weights and the timezone from it)."""
    path = tmp_path / "duties.yaml"
    path.write_text("timezone: Asia/Shanghai\nunits:\n  - id: A\npeople:\n  - name: 甲\n    unit: A\n"
                    "duties: []\nscoring: {done: 1, late: 0.5, missed: 0}\n", encoding="utf-8")
    return path
