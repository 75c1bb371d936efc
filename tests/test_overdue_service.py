"""The 未报告 query behind /overdue, on SQLite and PostgreSQL: filters, sub-units, periods,
sort, pages, counts, nudges and refusals of bad values."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.services import dashboard, overdue
from bot.services.overdue import Filter, FilterError
from bot.store.models import DutyInstance, Person, Unit

pytest_plugins = ["support.harness"]

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=8)))


async def test_filters_sort_pages_and_counts(harness):
    await harness.reconcile(NOW)
    with harness.session() as s:
        everything = overdue.page(s, Filter(status="all"), NOW, TZ, per_page=1000)
        assert everything.total == len(everything.rows) > 20
        assert all(r.opens_at <= NOW < r.closes_at for r in everything.rows)
        dues = [r.due_at for r in everything.rows]
        assert dues == sorted(dues)
        # pages cover the same rows in the same order
        first = overdue.page(s, Filter(status="all"), NOW, TZ, 1, per_page=7)
        second = overdue.page(s, Filter(status="all"), NOW, TZ, 2, per_page=7)
        assert [r.instance_id for r in first.rows + second.rows] == [r.instance_id for r in everything.rows[:14]]
        assert first.pages == -(-everything.total // 7)
        # a unit includes its sub-units
        units = {u.id: u.parent_id for u in s.exec(select(Unit))}
        parent = next(p for p in units.values() if p)
        below = set(overdue.unit_and_below(s, parent))
        unit_rows = overdue.page(s, Filter(unit=parent, status="all"), NOW, TZ, per_page=1000).rows
        people_units = {p.id: p.unit_id for p in s.exec(select(Person))}
        assert unit_rows and all(people_units[r.person_id] in below for r in unit_rows)
        # kind and sort by person, descending
        meetings = overdue.page(s, Filter(kind="meeting", status="all", sort="person", desc=True), NOW, TZ, per_page=1000)
        assert meetings.rows and all(r.kind == "meeting" for r in meetings.rows)
        assert [r.person for r in meetings.rows] == sorted((r.person for r in meetings.rows), reverse=True)
        # a period is a range of due moments
        november = overdue.page(s, Filter(period="2026-11", status="all"), NOW, TZ, per_page=1000).rows
        assert november and all(r.due_at.astimezone(TZ).month == 11 for r in november)
        q4 = overdue.count(s, Filter(period="2026-Q4", status="all"), NOW, TZ)
        assert q4 >= len(november)
        # statuses: one done instance leaves the unreported list
        inst = s.get(DutyInstance, november[0].instance_id)
        inst.status, inst.done_count = "done", inst.required
    with harness.session() as s:
        unreported = {r.instance_id for r in overdue.rows(s, Filter(period="2026-11"), NOW, TZ)}
        done = {r.instance_id for r in overdue.rows(s, Filter(period="2026-11", status="done"), NOW, TZ)}
        assert inst.id in done and inst.id not in unreported
        late = overdue.count(s, Filter(status="overdue"), NOW + timedelta(days=11), TZ)
        assert late == dashboard.overdue_count(s, NOW + timedelta(days=11))


async def test_bad_values_are_named(harness):
    with harness.session() as s:
        for params, word in [({"unit": "x"}, "x"), ({"period": "2026-13"}, "2026-13"), ({"period": "soon"}, "soon"),
                             ({"kind": "party"}, "party"), ({"status": "gone"}, "gone"), ({"sort": "age"}, "age")]:
            with pytest.raises(FilterError, match=word):
                overdue.parse_filter(s, params)
        assert overdue.parse_filter(s, {"period": "now"}) == Filter()
    assert overdue.period_range("2026-H2", TZ) == (datetime(2026, 6, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC))
    assert overdue.period_range("2026-12", TZ)[1] == datetime(2026, 12, 31, 16, tzinfo=UTC)


async def test_nudge_one_row_and_the_filter(harness):
    tg = await harness.bind("王海涛")
    await harness.reconcile(NOW)
    with harness.session() as s:
        rows = overdue.page(s, Filter(), NOW, TZ, per_page=1000).rows
        mine = [r for r in rows if r.telegram_id == tg]
        one = overdue.nudge(s, Filter(), NOW, harness.ctx.schedule, by="孙丽", instance_ids=[mine[0].instance_id])
        assert one.queued == 1
        everyone = overdue.nudge(s, Filter(), NOW, harness.ctx.schedule, by="孙丽")
        assert everyone.queued == len(mine) - 1 and everyone.already == 1
        assert everyone.unbound == sum(1 for r in rows if r.telegram_id is None)
        states = overdue.nudged_today(s, [r.instance_id for r in mine], NOW, TZ)
        assert set(states) == {r.instance_id for r in mine}


def _key(r, sort: str):
    return {"due": (r.due_at, r.instance_id), "person": (r.person_id, r.status, r.instance_id),
            "unit": (r.unit_id, r.person_id, r.due_at, r.instance_id), "duty": (r.duty_id, r.person_id, r.period),
            "period": (r.period, r.status, r.due_at, r.instance_id), "status": (r.status, r.due_at, r.instance_id)}[sort]


@pytest.mark.parametrize("count_to_skip", [None, 3])
async def test_keyset_and_numbered_pages_match_the_whole_list(harness, monkeypatch, count_to_skip):
    """Every sort and direction: the pager's keyset pages (after= the last row, before= the first)
    and pages asked for by number (the back half read from the end) give the whole list's rows.
    The whole list is the filter's rows (as the download streams them). Dated views sorted by
    period or status are read range by range ((period key,) status); with a low COUNT_TO_SKIP the
    ranges a numbered page skips are counted and skipped whole."""
    if count_to_skip is not None:
        monkeypatch.setattr(overdue, "COUNT_TO_SKIP", count_to_skip)
    await harness.reconcile(NOW)
    views = (("2026", "all"), ("", "all"), ("", "unreported"), ("2026-Q4", "unreported"), ("2026-11", "overdue"),
             ("2026-H2", "done"))
    with harness.session() as s:
        for (period, st), sort, desc in itertools.product(views, overdue.SORTS, (False, True)):
            if count_to_skip is not None and sort not in ("period", "status"):
                continue
            f = Filter(period=period, status=st, sort=sort, desc=desc)
            listed = overdue.page(s, f, NOW, TZ, per_page=100_000).rows
            whole = [r.instance_id for r in listed]
            assert sorted(whole) == sorted(r.instance_id for r in overdue.rows(s, f, NOW, TZ)), (f, len(whole))
            assert len(whole) == overdue.count(s, f, NOW, TZ)
            keys = [_key(r, sort) for r in listed]
            assert keys == sorted(keys, reverse=desc), (sort, desc)
            per = 7
            pages = -(-len(whole) // per)
            assert pages >= 4 or period in ("", "2026-11", "2026-H2"), (f, pages)
            by_number = [overdue.page(s, f, NOW, TZ, n, per_page=per) for n in range(1, pages + 1)]
            assert [r.instance_id for p in by_number for r in p.rows] == whole, (sort, desc)
            forward, at = [], overdue.page(s, f, NOW, TZ, 1, per_page=per)
            forward += at.rows
            for n in range(2, pages + 1):
                at = overdue.page(s, f, NOW, TZ, n, per_page=per, after=at.rows[-1].instance_id)
                forward += at.rows
            assert [r.instance_id for r in forward] == whole, (sort, desc)
            backward, at = [], overdue.page(s, f, NOW, TZ, pages, per_page=per)
            backward = at.rows + backward
            for n in range(pages - 1, 0, -1):
                at = overdue.page(s, f, NOW, TZ, n, per_page=per, before=at.rows[0].instance_id)
                backward = at.rows + backward
            assert [r.instance_id for r in backward] == whole, (sort, desc)
        # an anchor that does not exist: the page by its number
        f = Filter(period="2026", status="all")
        assert overdue.page(s, f, NOW, TZ, 2, per_page=7, after=10**9).rows == overdue.page(s, f, NOW, TZ, 2, per_page=7).rows


async def test_the_next_page_follows_a_row_that_changed_status_meanwhile(harness):
    """By period or status over dates, a page is read range by range ((period key,) status); when
    the row the pager's link names has since left the filter's statuses (reported between two
    clicks), the next page still starts right after where that row now sorts."""
    await harness.reconcile(NOW)
    with harness.session() as s:
        for sort, desc in itertools.product(("period", "status"), (False, True)):
            f = Filter(period="2026-Q4", status="unreported", sort=sort, desc=desc)
            first = overdue.page(s, f, NOW, TZ, 1, per_page=5)
            anchor = s.get(DutyInstance, first.rows[-1].instance_id)
            anchor.status = "done"
            s.add(anchor)
            s.commit()
            moved = {"period": (anchor.period_key, anchor.status, anchor.due_at, anchor.id),
                     "status": (anchor.status, anchor.due_at, anchor.id)}[sort]
            whole = overdue.page(s, f, NOW, TZ, per_page=100_000).rows
            after = [r for r in whole if (_key(r, sort) > moved) != desc][:5]
            if (sort, desc) == ("status", True):  # 已完成 sorts after every row left: page 2 by its number
                assert after == [] and len(whole) > 10
                after = whole[5:10]
            second = overdue.page(s, f, NOW, TZ, 2, per_page=5, after=anchor.id)
            assert [r.instance_id for r in second.rows] == [r.instance_id for r in after], (sort, desc)


async def test_a_kind_in_every_status_is_the_period_list_of_that_kind(harness):
    """A kind over a period in every status (read on SQLite from the every-status spelling,
    ix_instance_status_duty_due) gives exactly the period's rows of that kind, in every sort and
    direction, counted, by number and by keyset, as the plain list filtered here."""
    await harness.reconcile(NOW)
    with harness.session() as s:
        for kind, period in (("inspection", "2026"), ("meeting", "2026-Q4")):
            plain = overdue.page(s, Filter(period=period, status="all"), NOW, TZ, per_page=100_000).rows
            for sort, desc in itertools.product(overdue.SORTS, (False, True)):
                f = Filter(period=period, status="all", kind=kind, sort=sort, desc=desc)
                whole = overdue.page(s, f, NOW, TZ, per_page=100_000)
                expected = {r.instance_id for r in plain if r.kind == kind}
                assert expected and whole.total == len(expected) == overdue.count(s, f, NOW, TZ)
                assert {r.instance_id for r in whole.rows} == expected
                keys = [_key(r, sort) for r in whole.rows]
                assert keys == sorted(keys, reverse=desc), (kind, sort, desc)
                ids = [r.instance_id for r in whole.rows]
                per = 7
                pages = -(-len(ids) // per)
                by_number = [r.instance_id for n in range(1, pages + 1)
                             for r in overdue.page(s, f, NOW, TZ, n, per_page=per).rows]
                assert by_number == ids, (kind, sort, desc)
                at = overdue.page(s, f, NOW, TZ, 1, per_page=per)
                forward = [r.instance_id for r in at.rows]
                for n in range(2, pages + 1):
                    at = overdue.page(s, f, NOW, TZ, n, per_page=per, after=at.rows[-1].instance_id)
                    forward += [r.instance_id for r in at.rows]
                assert forward == ids, (kind, sort, desc)


async def test_unit_sort_follows_a_person_who_moves(harness):
    """The unit sort is the person's unit now: after a move (as a catalogue sync writes it), the
    person's rows sort, and page by keyset, under the new unit."""
    await harness.reconcile(NOW)
    f = Filter(period="2026", status="all", sort="unit")
    with harness.session() as s:
        rows = overdue.page(s, f, NOW, TZ, per_page=100_000).rows
        units = sorted({r.unit_id for r in rows})
        assert len({r.person_id for r in rows}) >= 2
        mover = rows[0].person_id
        s.get(Person, mover).unit_id = units[-1] + "~"  # a unit sorting after every other
        s.commit()
        moved = overdue.page(s, f, NOW, TZ, per_page=100_000).rows
        assert moved[-1].person_id == mover and moved[0].person_id != mover
        assert [_key(r, "unit") for r in moved] == sorted(_key(r, "unit") for r in moved)
        per, walked, at = 5, [], overdue.page(s, f, NOW, TZ, 1, per_page=5)
        walked += at.rows
        while len(walked) < len(moved):
            at = overdue.page(s, f, NOW, TZ, at.page + 1, per_page=per, after=at.rows[-1].instance_id)
            walked += at.rows
        assert [r.instance_id for r in walked] == [r.instance_id for r in moved]


async def test_period_totals_stay_exact_through_every_kind_of_change(harness):
    """On PostgreSQL a period's total is summed from the counts the triggers keep (InstanceCount
    and its deltas): after inserts, status changes (one row and many in one statement), a moved
    due moment, deletes, and foldings, every period × status × kind total equals a COUNT."""
    from sqlalchemy import delete, update

    from bot.store.models import InstanceCountDelta

    await harness.reconcile(NOW)

    def check(s):
        for period in ("2026", "2026-11", "2026-Q4", "2026-H2", "2025"):
            for st in ("all", "unreported", "open", "missed", "done", "late", "excused"):
                for kind in ("", "meeting", "inspection"):
                    f = Filter(period=period, status=st, kind=kind)
                    q = select(func.count()).select_from(DutyInstance).where(
                        *overdue._conditions(s, f, NOW, TZ))
                    assert overdue.count(s, f, NOW, TZ) == s.exec(q).one(), (period, st, kind)

    with harness.session() as s:
        check(s)
        some = s.exec(select(DutyInstance.id).order_by(DutyInstance.id)).all()
        assert len(some) > 10
        s.exec(update(DutyInstance).where(DutyInstance.id == some[0]).values(status="done"))
        s.exec(update(DutyInstance).where(DutyInstance.id.in_(some[1:6])).values(status="missed"))
        s.exec(update(DutyInstance).where(DutyInstance.id == some[6]).values(due_at=NOW - timedelta(days=400)))
        s.exec(update(DutyInstance).where(DutyInstance.id == some[7]).values(done_count=1))  # no count changes
        s.exec(delete(DutyInstance).where(DutyInstance.id == some[8]))
    with harness.session() as s:
        check(s)
        if harness.store.is_postgres:
            assert s.exec(select(func.count()).select_from(InstanceCountDelta)).one() > 0
            assert overdue.fold_counts(s) > 0
    with harness.session() as s:
        check(s)
        if harness.store.is_postgres:
            assert s.exec(select(func.count()).select_from(InstanceCountDelta)).one() == 0
        s.exec(update(DutyInstance).where(DutyInstance.id == some[9]).values(status="excused"))
        s.rollback()  # a change rolled back leaves its delta out too
        check(s)
