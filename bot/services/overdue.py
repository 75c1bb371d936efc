"""未报告: the office's filterable list of instances (the web console's /overdue and its downloads).

A `Filter` names a unit (its sub-units included), a period — the windows open now (default) or
the instances due in a month `2026-11`, quarter `2026-Q4`, half `2026-H2` or year `2026` (in the
display timezone) — a duty kind and a status (`unreported` = open or missed, `overdue` = open
and past due, one status, or `all`), plus a sort. `parse_filter` checks every value and says
which one is wrong (`FilterError`).

Speed at 1.5 M instances: the status and due-moment conditions go through ix_instance_status_due
(status, due_at) and ix_instance_due (due_at); "open now" through ix_instance_closes; a page is
read along the sort's index: the pager's links name the row a page follows (keyset: as fast deep
as at the top), a page asked for by number alone is counted from the nearer end over the instance
ids only, then its 50 rows are joined; dates sorted by period or status are read index range by
index range (`_ranged`); the total is one COUNT that joins people only when the filter needs them
(on PostgreSQL a sum of kept counts). bench/web.py times every filter, sort, direction and depth
(`--matrix`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, literal, text, tuple_, union_all
from sqlmodel import Session, select

from bot.services import status, xlsx
from bot.services.status import COLUMNS, Nudged, Row, to_row
from bot.store.models import (
    Duty,
    DutyInstance,
    InstanceCount,
    InstanceCountDelta,
    Outbox,
    Person,
    Unit,
    UTCDateTime,
)
from bot.texts import web as T
from schedules import Schedule

STATUS_FILTERS = ("unreported", "overdue", "open", "missed", "late", "done", "excused", "all")
SORTS = ("due", "person", "unit", "duty", "period", "status")
KINDS = ("inspection", "meeting", "report", "study", "drill", "training", "other")
PER_PAGE = 50
_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{1,2})|Q([1-4])|H([12])))?$")


class FilterError(ValueError):
    """A filter value that is not valid; the message (Chinese) names it."""


@dataclass(frozen=True)
class Filter:
    unit: str = ""  # unit id; "" = every unit
    period: str = ""  # "" = the windows open now
    kind: str = ""
    status: str = "unreported"
    sort: str = "due"
    desc: bool = False

    def query(self, **changes) -> dict[str, str]:
        """Query-string parameters of this filter (defaults left out), with changes."""
        values = {**asdict(self), **changes}
        out = {k: str(v) for k, v in values.items() if k != "desc" and v not in ("", None)}
        if out.get("status") == "unreported":
            del out["status"]
        if out.get("sort") == "due":
            del out["sort"]
        if values["desc"]:
            out["desc"] = "1"
        return out


@dataclass
class Page:
    rows: list[Row]
    total: int
    page: int
    pages: int
    per_page: int


def parse_filter(session: Session, params: dict[str, str]) -> Filter:
    unit = params.get("unit", "").strip()
    if unit and session.get(Unit, unit) is None:
        raise FilterError(T.BAD_UNIT.format(value=unit))
    period = params.get("period", "").strip()
    if period in ("now", "current"):
        period = ""
    if period:
        period_range(period, ZoneInfo("UTC"))  # validates
    kind = params.get("kind", "").strip()
    if kind and kind not in KINDS:
        raise FilterError(T.BAD_KIND.format(value=kind))
    st = params.get("status", "").strip() or "unreported"
    if st not in STATUS_FILTERS:
        raise FilterError(T.BAD_STATUS.format(value=st))
    sort = params.get("sort", "").strip() or "due"
    if sort not in SORTS:
        raise FilterError(T.BAD_SORT.format(value=sort))
    return Filter(unit=unit, period=period, kind=kind, status=st, sort=sort,
                  desc=params.get("desc", "") in ("1", "true"))


def period_range(key: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of 2026, 2026-11, 2026-Q4 or 2026-H2 in `tz`."""
    m = _PERIOD.match(key)
    if not m or (m[2] and not 1 <= int(m[2]) <= 12):
        raise FilterError(T.BAD_PERIOD.format(value=key))
    year = int(m[1])
    if m[2]:
        first, months = int(m[2]), 1
    elif m[3]:
        first, months = 3 * int(m[3]) - 2, 3
    elif m[4]:
        first, months = 6 * int(m[4]) - 5, 6
    else:
        first, months = 1, 12
    last = first + months  # the month after, possibly 13
    start = datetime(year, first, 1, tzinfo=tz)
    end = datetime(year + (last > 12), (last - 1) % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def unit_and_below(session: Session, unit_id: str) -> list[str]:
    units = list(session.exec(select(Unit.id, Unit.parent_id)))
    children: dict[str | None, list[str]] = {}
    for uid, parent in units:
        children.setdefault(parent, []).append(uid)
    out, todo = [], [unit_id]
    while todo:
        uid = todo.pop()
        out.append(uid)
        todo.extend(children.get(uid, []))
    return out


def _people_in(session: Session, units: list[str] | None) -> int:
    query = select(func.count()).select_from(Person)
    if units is not None:
        query = query.where(Person.unit_id.in_(units))  # type: ignore[attr-defined]
    return int(session.exec(query).one())


def _conditions(session: Session, f: Filter, now: datetime, tz: ZoneInfo, *, ordered: bool = False) -> list:
    """The filter as SQL conditions. `ordered` (a page walked along the sort's index, not the
    count): on SQLite, when the sort follows an index of its own (by duty, person or period), the
    time conditions are written so no index serves them (`coalesce(x, x)`), or SQLite reads a
    whole year through the due-time index and sorts it instead of walking the sort's index and
    stopping after the page (PostgreSQL's planner weighs both ways itself, and does worse with
    the hint)."""
    conditions: list = []
    sqlite = session.get_bind().dialect.name == "sqlite"
    units = unit_and_below(session, f.unit) if f.unit else []
    # A unit's people are a small share of everyone (one unit of 100: 1 %): the rows start from
    # them, not from a year's rows of one status checked against their unit (SQLite, 0.2-1 s).
    by_people = sqlite and bool(units) and 10 * _people_in(session, units) < _people_in(session, None)
    walk = (ordered and sqlite and f.sort in ("duty", "person", "period", "unit")) or by_people
    # By unit the walk starts from people: the instance's status may not serve either (with its
    # statistics SQLite reads a half-year's done rows by status and sorts them, 0.4 s, instead).
    # By period likewise (SQLite read a year's 1.2 M done rows through ix_instance_status_closes and
    # sorted them, 0.35-0.6 s, instead of walking ix_instance_period, whose status it checks).
    status_column = func.coalesce(DutyInstance.status, DutyInstance.status) \
        if walk and (f.sort in ("unit", "period") or by_people) else DutyInstance.status

    def t(column):
        return func.coalesce(column, column) if walk else column

    if f.period:
        start, end = period_range(f.period, tz)
        conditions += [t(DutyInstance.due_at) >= start, t(DutyInstance.due_at) < end]
    else:
        conditions += [t(DutyInstance.opens_at) <= now, t(DutyInstance.closes_at) > now]
    if f.status == "unreported" and not f.period:
        # A window that contains now cannot be missed yet: open alone lets ix_instance_status_due
        # serve both the count and the order by due.
        conditions.append(status_column == "open")
    elif f.status == "unreported":
        conditions.append(status_column.in_(_statuses(f)))  # type: ignore[attr-defined]
    elif f.status == "overdue":
        conditions += [status_column == "open", DutyInstance.due_at < now]
    elif f.status != "all":
        conditions.append(status_column == f.status)
    elif f.kind and f.period and sqlite:
        # Every status spelled out: the kind's rows of the period are then one range per (status,
        # duty) of ix_instance_status_duty_due, counted from it alone (a year of one kind: 6 ms),
        # instead of the period's every row read through ix_instance_due and looked up (≈ 250 ms).
        conditions.append(status_column.in_(status.STATUSES))  # type: ignore[attr-defined]
    if f.unit:
        conditions.append(Person.unit_id.in_(units))  # type: ignore[attr-defined]
    if f.kind:  # by duty id, so counting needs no join (the catalogue has a few hundred duties)
        conditions.append(DutyInstance.duty_id.in_(select(Duty.id).where(Duty.kind == f.kind)))  # type: ignore[attr-defined]
    return conditions


# Sorts, each a unique key (a page boundary is exact, and a keyset page can start after a row),
# in the order of an index that has them (ix_instance_due, ix_instance_status_due,
# ix_instance_person, ix_instance_period, the duty-person-period unique key; SQLite's indexes end
# with the rowid, the id), so a page is read in order and stops at LIMIT instead of sorting every
# row. By person: the catalogue id, which is the name unless the catalogue gives one; by duty: the
# catalogue id. By unit: the person's unit, so the walk is person by person along
# ix_person_unit_person (unit_id, id), each person's instances along ix_instance_person_due.
ORDERS = {
    "due": (DutyInstance.due_at, DutyInstance.id),
    "person": (DutyInstance.person_id, DutyInstance.status, DutyInstance.id),
    "unit": (Person.unit_id, Person.id, DutyInstance.due_at, DutyInstance.id),
    "duty": (DutyInstance.duty_id, DutyInstance.person_id, DutyInstance.period_key),
    "period": (DutyInstance.period_key, DutyInstance.status, DutyInstance.due_at, DutyInstance.id),
    "status": (DutyInstance.status, DutyInstance.due_at, DutyInstance.id),
}


def _order(f: Filter, backwards: bool = False, *, sorted_here: bool = False) -> list:
    """ORDER BY of the sort; `sorted_here`: as expressions no index gives, so SQLite reads the
    filter's rows through the filter's own indexes and sorts them."""
    desc = f.desc != backwards
    columns = [func.coalesce(c, c) if sorted_here else c for c in ORDERS[f.sort]]
    return [c.desc() if desc else c.asc() for c in columns]


# Walk the sort's index (stopping after the page) or read the filter's rows and sort them? Both
# planners walk an index that gives the ORDER BY whatever the filter leaves (a year's 30 excused
# rows sorted by unit: every person's instances, seconds; the windows open now sorted by due: the
# whole year's due index before the first of them), so the query says which (_order's
# sorted_here). By due or status over the windows open now: never, except over open rows (the open
# ones are the current and future windows; done ones are mostly past). Otherwise a walk reads about
# (rows skipped + a page) × (all instances / the filter's rows) entries, a sort the filter's rows
# once (within a period by due the walk is the period's index range, and the filter's rows are
# most of it unless a unit or kind thins them). By duty with a kind, or by period with less than
# half (SQLite) or a fifth (PostgreSQL) of all instances: the filter's rows are a few stretches of
# that index, not spread over it: sorted.
SORT_BELOW = 1.0  # walk when skipped-and-shown × instances ≤ SORT_BELOW × filter rows²


def _walks(session: Session, f: Filter, skip: int, per_page: int, total: int) -> bool:
    if f.sort in ("due", "status") and not (f.period or f.status in ("open", "unreported", "overdue")):
        return False
    if f.sort == "duty" and f.kind:  # the kind's duties are a few stretches of the duty index, not spread
        return False
    instances = session.exec(select(func.max(DutyInstance.id))).one() or 0  # the table's size, from the key
    # A time filter keeps a few period keys, not spread: sorted below a share of all instances that
    # was measured per backend (PostgreSQL sorts a quarter's 360,000 rows slowly, walks them fast).
    if f.sort == "period" and total * (2 if session.get_bind().dialect.name == "sqlite" else 5) < instances:
        return False
    return (skip + per_page) * instances <= SORT_BELOW * total * total


def _select(session: Session, f: Filter, now: datetime, tz: ZoneInfo):
    return (select(*COLUMNS)
            .join(Person, Person.id == DutyInstance.person_id)
            .join(Duty, Duty.id == DutyInstance.duty_id, isouter=True)
            .join(Unit, Unit.id == Person.unit_id, isouter=True)
            .where(*_conditions(session, f, now, tz, ordered=True))
            .order_by(*_order(f)))


def count(session: Session, f: Filter, now: datetime, tz: ZoneInfo) -> int:
    counted = _from_counts(session, f, tz)
    if counted is not None:
        return counted
    query = select(func.count()).select_from(DutyInstance)
    if f.unit:
        query = query.join(Person, Person.id == DutyInstance.person_id)
    return int(session.exec(query.where(*_conditions(session, f, now, tz))).one())


def _from_counts(session: Session, f: Filter, tz: ZoneInfo) -> int | None:
    """The total of a period's filter from InstanceCount plus the deltas not folded in yet (exact:
    both are written in the transactions that change instances), on PostgreSQL, where counting
    a year's 1.52 M index entries took ≈ 110 ms. None when the filter is not one it can answer:
    a unit (people move; a unit's rows are few) or the windows open now / overdue (moments)."""
    if session.get_bind().dialect.name != "postgresql" or not f.period or f.unit or f.status == "overdue":
        return None
    start, end = period_range(f.period, tz)
    parts = []
    for table in (InstanceCount, InstanceCountDelta):
        conditions = [table.due_at >= start, table.due_at < end]
        if f.status != "all":
            conditions.append(table.status.in_(_statuses(f)))  # type: ignore[attr-defined]
        if f.kind:
            conditions.append(table.duty_id.in_(select(Duty.id).where(Duty.kind == f.kind)))  # type: ignore[attr-defined]
        parts.append(select(table.n.label("n")).where(*conditions))
    both = union_all(*parts).subquery()
    return int(session.exec(select(func.coalesce(func.sum(both.c.n), 0))).one())


def fold_counts(session: Session) -> int:
    """Fold InstanceCountDelta into InstanceCount (PostgreSQL; one statement, so a reader sees the
    rows either as deltas or as counts, never both or neither); the number of deltas folded. The
    console runs it every FOLD_EVERY seconds."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    from bot.store.db import serialize

    serialize(session.connection(), "fold_counts")
    moved = session.connection().exec_driver_sql("""
        WITH moved AS (DELETE FROM instancecountdelta RETURNING due_at, duty_id, status, n),
             folded AS (
                 INSERT INTO instancecount (due_at, duty_id, status, n)
                 SELECT due_at, duty_id, status, sum(n) FROM moved GROUP BY 1, 2, 3
                 ON CONFLICT (due_at, duty_id, status) DO UPDATE SET n = instancecount.n + excluded.n)
        SELECT count(*) FROM moved""").scalar_one()
    session.connection().exec_driver_sql("DELETE FROM instancecount WHERE n = 0")
    return int(moved)


def _ids(session: Session, f: Filter, now: datetime, tz: ZoneInfo, *, backwards: bool = False, walk: bool = True):
    """The ids of the filter's instances in the sort's order (reversed when `backwards`): only the
    instance table, and people when the filter or the sort needs them, so the rows a page skips
    are read from indexes without the joins a page shows. `walk`: along the sort's index (see
    _walks), or the filter's rows sorted."""
    query = select(DutyInstance.id)
    if f.unit or f.sort == "unit":
        query = query.join(Person, Person.id == DutyInstance.person_id)
    return (query.where(*_conditions(session, f, now, tz, ordered=walk))
            .order_by(*_order(f, backwards, sorted_here=not walk)))


def _beyond(columns, values, forward: bool, walk: bool = True):
    """(columns) > (values) as one row-value comparison (< going the other way): an index range,
    or (not `walk`) a plain filter on the rows the filter's own indexes give, to be sorted."""
    bound = tuple_(*[literal(v, c.type) for c, v in zip(columns, values, strict=True)])
    row = tuple_(*columns) if walk else tuple_(*[func.coalesce(c, c) for c in columns])
    return row > bound if forward else row < bound


def _after(session: Session, f: Filter, now: datetime, tz: ZoneInfo, anchor: int, limit: int,
           backwards: bool, total: int) -> list[int] | None:
    """Keyset page: the ids of up to `limit` instances that follow instance `anchor` in the sort's
    order (precede it when `backwards`), found through the sort's index from the anchor's key on,
    however deep; None when there is no such instance."""
    key = session.exec(select(*ORDERS[f.sort]).join(Person, Person.id == DutyInstance.person_id)
                       .where(DutyInstance.id == anchor)).first()
    if key is None:
        return None
    if _by_ranges(f):
        found = _ranged(session, f, now, tz, limit=limit, backwards=backwards, anchor=key)
        if found is not None:
            return found
    forward = f.desc == backwards  # ascending order read forwards, or descending read backwards
    walk = _walks(session, f, 0, limit, total)
    base = _ids(session, f, now, tz, backwards=backwards, walk=walk)
    if f.sort != "unit":
        return list(session.exec(base.where(_beyond(ORDERS[f.sort], key, forward, walk)).limit(limit)))
    # By unit, two index ranges (a row value spanning two tables is no index range): the rest of the
    # anchor's person, then the people after them.
    unit_id, person_id, due_at, iid = key
    out = list(session.exec(base.where(Person.id == person_id,
                                       _beyond((DutyInstance.due_at, DutyInstance.id), (due_at, iid), forward, walk))
                            .limit(limit)))
    if len(out) < limit:
        rest = base.where(_beyond((Person.unit_id, Person.id), (unit_id, person_id), forward, walk))
        out += session.exec(rest.limit(limit - len(out)))
    return out


def _at(session: Session, f: Filter, now: datetime, tz: ZoneInfo, offset: int, limit: int, total: int) -> list[int]:
    """The ids of rows [offset, offset + limit): a page in the back half is read from the end."""
    if total == 0:
        return []
    ranged = _by_ranges(f)
    if offset > total // 2:
        start = max(total - offset - limit, 0)
        if ranged:
            return _ranged(session, f, now, tz, skip=start, limit=total - offset - start, backwards=True) or []
        query = _ids(session, f, now, tz, backwards=True, walk=_walks(session, f, start, limit, total))
        return list(session.exec(query.limit(total - offset - start).offset(start)))
    if ranged:
        return _ranged(session, f, now, tz, skip=offset, limit=limit) or []
    query = _ids(session, f, now, tz, walk=_walks(session, f, offset, limit, total))
    return list(session.exec(query.limit(limit).offset(offset)))


# -- sorted by period or status over dates: the filter's index ranges, one after the other ---------
# A view over dates (a month ... a year) sorted by status is one range of ix_instance_status_due
# (status, due_at, id) per status it keeps; sorted by period, one range of ix_instance_period
# (period_key, status, due_at, id) per (period key, status), and it holds a few period keys (a
# year of the example catalogue: 19). So a page is read range after range from the index alone,
# in order, instead of sorting the filter's rows (PostgreSQL, a quarter's 295,000 done rows by
# period: 260 ms to sort, 5 ms this way; a page deep inside skips whole ranges by counting them).
# The period keys come from the same index: one probe per distinct key (a skip scan, written as a
# recursive query) and one to see whether the dates hold any of it. Not with a unit or a kind,
# whose conditions are not in these indexes (a range could be read through for a few rows), nor
# over the windows open now (no bound on due_at): _walks decides those.
COUNT_TO_SKIP = 1000  # a range is counted (from the index) to skip it whole when more rows are skipped

_KEYS = text("""
    WITH RECURSIVE k(key) AS (
        SELECT min(period_key) FROM dutyinstance
        UNION ALL
        SELECT (SELECT min(period_key) FROM dutyinstance WHERE period_key > k.key) FROM k WHERE k.key IS NOT NULL)
    SELECT key FROM k WHERE key IS NOT NULL AND EXISTS (
        SELECT 1 FROM dutyinstance d WHERE d.period_key = k.key AND d.status IN :statuses
        AND d.due_at >= :start AND d.due_at < :end)
    ORDER BY key""").bindparams(bindparam("statuses", expanding=True), bindparam("start", type_=UTCDateTime()),
                                bindparam("end", type_=UTCDateTime()))


def _by_ranges(f: Filter) -> bool:
    return f.sort in ("period", "status") and bool(f.period) and not f.unit and not f.kind


def _statuses(f: Filter) -> list[str]:
    """The statuses a dated filter keeps, in the indexes' order (plain ASCII words: every collation
    agrees). Over the windows open now "unreported" is open alone (_conditions)."""
    if f.status == "unreported":
        return ["missed", "open"]
    if f.status == "overdue":
        return ["open"]
    return sorted(status.STATUSES) if f.status == "all" else [f.status]


def _ranged(session: Session, f: Filter, now: datetime, tz: ZoneInfo, *, limit: int, skip: int = 0,
            backwards: bool = False, anchor: tuple | None = None) -> list[int] | None:
    """The ids of up to `limit` rows of a dated filter sorted by period or status, after `skip`
    rows (or after the row whose sort key is `anchor`), read range by range; None when the anchor's
    range is not one of the filter's (its row changed status: the caller compares keys instead)."""
    start, end = period_range(f.period, tz)
    if f.status == "overdue":
        end = min(end, now)
    statuses = _statuses(f)
    if f.sort == "period":
        params = {"statuses": statuses, "start": start, "end": end}
        ranges = [(k, st) for (k,) in session.connection().execute(_KEYS, params) for st in statuses]
    else:
        ranges = [(None, st) for st in statuses]
    descending = f.desc != backwards
    if descending:
        ranges.reverse()
    bound = None
    if anchor is not None:  # (period_key, status, due_at, id) by period; (status, due_at, id) by status
        first = tuple(anchor[:2]) if f.sort == "period" else (None, anchor[0])
        if first not in ranges:
            return None
        ranges = ranges[ranges.index(first):]
        bound = _beyond((DutyInstance.due_at, DutyInstance.id), anchor[-2:], forward=not descending)
    order = [c.desc() if descending else c.asc() for c in (DutyInstance.due_at, DutyInstance.id)]
    out: list[int] = []
    for key, st in ranges:
        query = select(DutyInstance.id).where(DutyInstance.status == st, DutyInstance.due_at >= start,
                                              DutyInstance.due_at < end)
        if key is not None:
            query = query.where(DutyInstance.period_key == key)
        if bound is not None:
            query, bound = query.where(bound), None
        offset = 0
        if skip > COUNT_TO_SKIP:
            inside = session.exec(select(func.count()).select_from(query.subquery())).one()
            if inside <= skip:
                skip -= inside
                continue
            offset, skip = skip, 0
        got = list(session.exec(query.order_by(*order).offset(offset).limit(skip + limit - len(out))))
        out += got[skip:]
        skip = max(skip - len(got), 0)
        if len(out) >= limit:
            break
    return out


def _rows_of(session: Session, f: Filter, ids: list[int]) -> list[Row]:
    if not ids:
        return []
    query = (select(*COLUMNS)
             .join(Person, Person.id == DutyInstance.person_id)
             .join(Duty, Duty.id == DutyInstance.duty_id, isouter=True)
             .join(Unit, Unit.id == Person.unit_id, isouter=True)
             .where(DutyInstance.id.in_(ids))  # type: ignore[union-attr]
             .order_by(*_order(f)))
    return [to_row(v) for v in session.exec(query)]


def page(session: Session, f: Filter, now: datetime, tz: ZoneInfo, number: int = 1,
         per_page: int = PER_PAGE, *, after: int | None = None, before: int | None = None) -> Page:
    """Page `number` of the filter. With `after` (the last row of the page before) or `before` (the
    first row of the page after), the page is read from that row on along the sort's index (the
    pager's links: as fast at page 20,000 as at page 2); without, by position, from whichever end
    is nearer. `number` is then only shown."""
    total = count(session, f, now, tz)
    pages = max((total + per_page - 1) // per_page, 1)
    number = min(max(number, 1), pages)
    ids = None
    if after is not None or before is not None:
        ids = _after(session, f, now, tz, after if after is not None else before, per_page,  # type: ignore[arg-type]
                     backwards=after is None, total=total)
        if not ids:
            ids = None  # the anchor is gone or nothing follows it any more: by position
        elif after is None:
            ids.reverse()
    if ids is None:
        ids = _at(session, f, now, tz, (number - 1) * per_page, per_page, total)
    return Page(_rows_of(session, f, ids), total, number, pages, per_page)


def rows(session: Session, f: Filter, now: datetime, tz: ZoneInfo, chunk: int = 5000) -> Iterator[Row]:
    """Every row of the filter, in order, streamed (downloads of any size)."""
    result = session.exec(_select(session, f, now, tz).execution_options(yield_per=chunk))
    for values in result:
        yield to_row(values)


def nudge(session: Session, f: Filter, now: datetime, schedule: Schedule, *, by: str | None,
          instance_ids: list[int] | None = None) -> Nudged:
    """催报: the given instances of the filter, or all of it; open ones only, once a day each."""
    if instance_ids is not None:
        query = _select(session, f, now, schedule.tz).where(DutyInstance.id.in_(instance_ids))  # type: ignore[union-attr]
        chosen: Iterator[Row] | list[Row] = [to_row(v) for v in session.exec(query)]
    else:
        chosen = list(rows(session, f, now, schedule.tz))
    scope = {"via": "web", "filter": f.query(), "instances": instance_ids if instance_ids is not None else "all"}
    return status.nudge_rows(session, chosen, now, schedule, by=by, scope=scope)


def nudged_today(session: Session, instance_ids: list[int], now: datetime, tz: ZoneInfo) -> dict[int, str]:
    """Instance id → the state of today's nudge in the outbox (pending, sent, failed…)."""
    keys = {status.nudge_key(i, now, tz): i for i in instance_ids}
    if not keys:
        return {}
    found = session.exec(select(Outbox.dedupe_key, Outbox.state).where(Outbox.dedupe_key.in_(list(keys))))  # type: ignore[attr-defined]
    return {keys[k]: st for k, st in found}


# -- downloads -------------------------------------------------------------------------------------
HEADERS = ("单位", "姓名", "职责", "类别", "期间", "开始", "截止", "进度", "状态", "逾期天数")


def table_row(r: Row, now: datetime, tz: ZoneInfo) -> list:
    """One row of the download, in HEADERS order (times as local naive datetimes)."""
    return [r.unit, r.person, r.title, T.KINDS.get(r.kind, r.kind), r.period,
            r.opens_at.astimezone(tz).replace(tzinfo=None), r.due_at.astimezone(tz).replace(tzinfo=None),
            f"{r.done}/{r.required}", T.STATUSES.get(r.status, r.status),
            r.days_overdue(now, tz) if r.status == "open" else 0]


def write_xlsx(session: Session, f: Filter, now: datetime, tz: ZoneInfo, path: str) -> int:
    """The filtered view as a workbook, streamed by bot/services/xlsx.py (rows go to disk as written;
    XlsxWriter was measured 4.6x slower on the same rows: bench/xlsx_writers.py)."""
    widths = [16, 10, 36, 8, 12, 17, 17, 8, 10, 9]
    styles = [xlsx.PLAIN] * 5 + [xlsx.DATE, xlsx.DATE] + [xlsx.PLAIN, xlsx.PLAIN, xlsx.NUM]
    n = 0
    with xlsx.Workbook(path) as wb:
        sheet = wb.sheet(T.EXPORT_SHEET, widths, styles, header=list(HEADERS))
        for r in rows(session, f, now, tz):
            sheet.append(table_row(r, now, tz))
            n += 1
    return n


def write_csv(session: Session, f: Filter, now: datetime, tz: ZoneInfo, path: str) -> int:
    """The filtered view as CSV (UTF-8 with BOM, so Excel and WPS read the Chinese correctly)."""
    import csv

    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for r in rows(session, f, now, tz):
            writer.writerow([v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v
                             for v in table_row(r, now, tz)])
            n += 1
    return n
