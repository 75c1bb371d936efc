"""dutybot status: who has reported and who has not, for the current periods or one period."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot import clock
from bot.services import checkins, health, status
from bot.store.models import Person, Unit
from bot.texts import cli as TC
from bot.texts import fmt
from bot.texts import office as T
from schedules.periods import MalformedPeriod, check_key, looks_like_period

from .context import CommandError
from .output import print_json, print_table

ORDER = 40


def register(sub) -> None:
    p = sub.add_parser("status", help="履职情况 / who has reported and who has not")
    p.add_argument("--period", metavar="KEY",
                   help="周期，如 2026-11、2026-Q4、2026 / a period key (default: the windows containing now)")
    p.add_argument("--unit", metavar="UNIT", help="只看某单位 / one unit (id or name)")
    p.add_argument("--system", action="store_true",
                   help="集群状态 / the cluster: who leads (epoch, lease), outbox and inbox backlog, claims per process")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=run)


def _zone(ctx) -> ZoneInfo:
    # The catalogue's timezone (what its windows are computed in), whatever TZ the host has.
    if Path(ctx.duties_file).is_file():
        return ZoneInfo(ctx.catalog.timezone)
    return fmt.SHANGHAI


def _check_period(ctx, key: str) -> None:
    """No instance has this key: say so when it cannot be a period (2026-13) or names nothing."""
    if looks_like_period(key):
        try:
            check_key(key)
        except MalformedPeriod as e:
            raise CommandError(TC.PERIOD_MALFORMED.format(value=key, why=e.why, why_en=e.why_en)) from None
        return
    catalog = ctx.catalog if Path(ctx.duties_file).is_file() else None
    known = {t.id for t in catalog.tasks} if catalog else set()
    if key not in known:
        raise CommandError(TC.PERIOD_UNKNOWN.format(value=key))


def _unfiled(session, unit_id: str | None, tz: ZoneInfo) -> list[tuple]:
    """未归档佐证: files leaders sent that no check-in took, one row per file."""
    people = {p.id: p for p in session.exec(select(Person))}
    units = {u.id: u.name for u in session.exec(select(Unit))}
    out = []
    for f in checkins.unfiled_files(session, clock.now()):
        person = people.get(f.person_id)
        if unit_id is not None and (person is None or person.unit_id != unit_id):
            continue
        unit = units.get(person.unit_id, person.unit_id) if person else ""
        out.append((unit, person.name if person else f.person_id, fmt.full(f.at, tz), f.text or "—", f.path,
                    f.sha256[:16]))
    return out


def run(args, ctx) -> int:
    if args.system:
        return run_system(args, ctx)
    tz = _zone(ctx)
    with ctx.store.session() as session:
        unit_id = None
        if args.unit:
            unit = status.find_unit(session, args.unit)
            if unit is None or isinstance(unit, list):
                raise CommandError(f"未知单位 “{args.unit}” / unknown or ambiguous unit")
            unit_id = unit.id
        if args.period is not None:
            key = args.period.strip()
            rows = status.for_period(session, key, unit_id=unit_id)
            if not rows:
                _check_period(ctx, key)
        else:
            rows = status.current(session, clock.now(), unit_id=unit_id)
        unfiled = _unfiled(session, unit_id, tz) if args.format == "table" else []
    if args.format == "json":
        print_json([r.as_json(tz) for r in rows], out=sys.stdout)
        return 0
    if unfiled:
        print(T.UNFILED_HEAD.format(count=len(unfiled)))
        print_table(T.UNFILED_HEADERS, unfiled, out=sys.stdout)
        print()
    if not rows:
        print(T.STATUS_EMPTY)
        return 0
    print_table(
        T.STATUS_HEADERS,
        [(r.unit, r.person, r.duty_id, r.title, r.period, r.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
          f"{r.done}/{r.required}", T.STATUS_NAMES.get(r.status, r.status)) for r in rows],
        out=sys.stdout,  # output.py binds its default stream at import time; pass the current one
    )
    counts = Counter(r.status for r in rows)
    print()
    print(T.STATUS_TOTAL.format(count=len(rows), **{s: counts.get(s, 0) for s in status.STATUSES}))
    return 0


def run_system(args, ctx) -> int:
    """The same fields as each process's /healthz, for the cluster (bot/services/health.py)."""
    with ctx.store.session() as session:
        report = health.cluster(session)
    if args.format == "json":
        print_json(report, out=sys.stdout)
        return 0
    tz = _zone(ctx)
    expires = report["lease_expires_at"]
    if expires:
        from datetime import datetime

        expires = datetime.fromisoformat(expires).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    rows = [(T.SYSTEM_FIELDS["leader"], report["leader"] or T.SYSTEM_NO_LEADER),
            (T.SYSTEM_FIELDS["epoch"], "-" if report["epoch"] is None else report["epoch"]),
            (T.SYSTEM_FIELDS["lease_expires_at"], expires or "-"),
            (T.SYSTEM_FIELDS["outbox_pending"], report["outbox_pending"]),
            (T.SYSTEM_FIELDS["inbox_pending"], report["inbox_pending"])]
    rows += [(T.SYSTEM_FIELDS["outbox_claims"].format(holder=h), n) for h, n in report["outbox_claims"].items()]
    rows += [(T.SYSTEM_FIELDS["inbox_claims"].format(holder=h), n) for h, n in report["inbox_claims"].items()]
    print_table(T.SYSTEM_HEADERS, rows, out=sys.stdout)
    return 0
