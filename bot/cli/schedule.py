"""dutybot schedule: the compiled calendar, one entry per duty instance."""

from __future__ import annotations

import sys
from datetime import timedelta

from bot.services.ics import to_ics
from bot.texts import cli as T
from schedules import InstanceSpec, Schedule

from .args import day
from .context import CommandError
from .output import print_json, print_table

ORDER = 20
MAX_YEARS = 10


def register(sub) -> None:
    p = sub.add_parser("schedule", help="显示排期 / the compiled calendar of duty instances")
    p.add_argument("--from", dest="start", type=day, required=True, metavar="DATE")
    p.add_argument("--to", dest="end", type=day, required=True, metavar="DATE", help="含当日 / inclusive")
    p.add_argument("--person", metavar="NAME", help="只看某人 / one person (name or id)")
    p.add_argument("--format", choices=["table", "json", "ics"], default="table")
    p.set_defaults(func=run)


def instance_json(i: InstanceSpec) -> dict:
    w = i.window
    return {
        "person": i.person.name, "duty": w.duty_id, "title": w.title, "period": w.period_key,
        "opens_at": w.opens_at.isoformat(), "due_at": w.due_at.isoformat(), "required": w.required,
        "reminders": [when.isoformat() for _, when in w.reminders],
    }


def run(args, ctx) -> int:
    if args.end < args.start:
        print("--to 早于 --from / --to is before --from", file=sys.stderr)
        return 1
    if (args.end - args.start).days > MAX_YEARS * 366:  # a typo in a year would compute for minutes
        raise CommandError(T.SPAN_TOO_LONG.format(years=MAX_YEARS))
    catalog = ctx.catalog
    if args.person and not catalog.find_person(args.person):
        print(f"未知人员 “{args.person}” / unknown person", file=sys.stderr)
        return 1
    schedule = Schedule(catalog)
    instances = list(schedule.expand(args.start, args.end + timedelta(days=1), person=args.person))
    if args.format == "json":
        print_json([instance_json(i) for i in instances], out=sys.stdout)  # sys.stdout as it is now
    elif args.format == "ics":
        sys.stdout.buffer.write(to_ics(instances, catalog))
    else:
        tz = schedule.tz
        print_table(
            ["人员", "职责", "标题", "周期", "开始", "截止", "次数"],
            [(i.person.name, i.window.duty_id, i.window.title, i.window.period_key,
              i.window.opens_at.astimezone(tz).strftime("%Y-%m-%d"),
              i.window.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), i.window.required) for i in instances],
            out=sys.stdout,
        )
        print(f"\n共 {len(instances)} 项 / {len(instances)} instances")
    return 0
