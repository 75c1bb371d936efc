"""The catalogue and month views of the web console (bot/services/duty_calendar.py) and the
secret calendar feeds (bot/services/calendar_feeds.py), on the example catalogue and both stores."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from support.harness import EXAMPLE

from bot import clock
from bot.services import calendar_feeds, duty_calendar, signin
from bot.services.duty_calendar import reminder_text
from bot.store.models import CalendarFeed, Person
from schedules import Schedule, load_catalog
from schedules.catalog import Reminder

CATALOG = load_catalog(EXAMPLE)


def test_catalogue_has_every_item_and_narrows_to_a_person():
    items = duty_calendar.catalogue(CATALOG)
    assert len(items) == len(CATALOG.duties) + len(CATALOG.tasks) + len(CATALOG.holiday_checks)
    first = next(i for i in items if i.section == "duties" and i.clause)
    assert first.who and first.reminders.endswith("发送）")
    wu = CATALOG.find_person("吴刚").id
    mine = duty_calendar.catalogue(CATALOG, wu)
    assert mine and all("吴刚" in i.people for i in mine) and len(mine) < len(items)


@pytest.mark.parametrize("rule, text", [
    (Reminder("open", anchor="open"), "开始当天"), (Reminder("-7d", days=-7), "截止前 7 天"),
    (Reminder("0d"), "截止当天"), (Reminder("+1d", days=1), "截止后 1 天"), (Reminder("-2h", hours=-2), "截止前 2 小时"),
])
def test_reminders_in_words(rule, text):
    assert reminder_text(rule) == text


def test_month_grid():
    schedule = Schedule(CATALOG)
    m = duty_calendar.month(schedule, 2026, 12, date(2026, 12, 5))
    assert all(len(w) == 7 for w in m.weeks) and m.weeks[0][0].day == date(2026, 11, 30)
    assert m.weeks[-1][-1].day == date(2027, 1, 3) and (m.prev, m.next) == ("2026-11", "2027-01")
    days = {d.day: d for w in m.weeks for d in w}
    assert days[date(2026, 12, 5)].today and not days[date(2026, 12, 5)].workday
    expected = [s for s in schedule.expand(date(2026, 12, 1), date(2027, 1, 1))
                if s.window.due_at.astimezone(schedule.tz).month == 12]
    assert m.count == len(expected) == sum(len(e.people) for d in days.values() if d.in_month for e in d.entries)
    one = duty_calendar.month(schedule, 2026, 12, date(2026, 12, 5), CATALOG.find_person("吴刚").id)
    assert all(e.people == ["吴刚"] for w in one.weeks for d in w for e in d.entries)
    for bad in ("2026-13", "2026", "abc", "1999-01"):
        with pytest.raises(ValueError):
            duty_calendar.parse_month(bad)


def test_feeds_hashed_single_and_revocable(store):
    now = clock.now()
    today = date(2026, 12, 5)
    with store.session() as s:
        s.add(Person(id="p", name="王五", unit_id="u"))
        s.flush()
        old = calendar_feeds.create(s, "p", now)
        new = calendar_feeds.create(s, "p", now)  # making a new one revokes the old
        assert calendar_feeds.lookup(s, old, now, today) is None
        feed = calendar_feeds.lookup(s, new, now, today)
        assert feed.person_id == "p" and feed.start == today - timedelta(days=31)
        rows = s.exec(CalendarFeed.__table__.select()).all()
        assert {r.token_hash for r in rows} == {signin.digest(old), signin.digest(new)}
        assert calendar_feeds.active(s, "p").last_fetched_at == now
        assert calendar_feeds.revoke(s, "p", now) == 1
        assert calendar_feeds.lookup(s, new, now, today) is None and calendar_feeds.active(s, "p") is None
        token = calendar_feeds.create(s, "p", now)
        s.get(Person, "p").retired_at = now  # a retired person's feed stops
        assert calendar_feeds.lookup(s, token, now, today) is None
        assert calendar_feeds.lookup(s, "", now, today) is None and calendar_feeds.lookup(s, "x" * 200, now, today) is None
