"""Duty instances as an iCalendar file (RFC 5545, via the icalendar library): one VEVENT per
instance ending at its due moment, with its reminders as alarms. Used by `dutybot schedule --format
ics` and by the web's secret calendar feeds (/ics/{token}.ics)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from schedules import InstanceSpec

CALNAME = "安全生产履职提醒"


def to_ics(instances: Iterable[InstanceSpec], catalog, name: str = CALNAME) -> bytes:
    from icalendar import Alarm, Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//dutybot//duties//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", catalog.timezone)
    sources = {d.id: d.source for d in [*catalog.duties, *catalog.tasks, *catalog.holiday_checks]}
    for i in instances:
        w = i.window
        ev = Event()
        ev.add("uid", f"{w.duty_id}.{w.period_key}.{i.person.id}@dutybot")
        ev.add("summary", f"{w.title}（{w.period_key}）")
        ev.add("dtstart", w.due_at - timedelta(minutes=30))
        ev.add("dtend", w.due_at)
        ev.add("description", f"{sources[w.duty_id].document}\n{sources[w.duty_id].clause}".strip())
        for _, when in w.reminders:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", w.title)
            alarm.add("trigger", when)
            ev.add_component(alarm)
        cal.add_component(ev)
    return cal.to_ical()
