"""Assessment: how each duty instance ended, completion rates over any range, quarterly rankings.

An instance ends as done (on time), late (done after its due moment, before it closed), missed
(closed without enough check-ins) or excused (an approved exemption). The stored status is trusted
once it is final; an instance still marked open is judged from its counts and times, so a close
job that has not run yet does not change a score. Instances still open whose window has not
closed are not counted at all: they are reported separately as `open`.

Rate = (done·w_done + late·w_late + missed·w_missed) / (done + late + missed); excused instances
are left out of both sides. Weights come from `catalog.scoring` (default 1 / 0.5 / 0).

Seed 003 (九江市柴桑区, （二十六）): units are ranked every quarter; the two lowest are criticised
(通报批评) the first time, and interviewed (约谈) by the deputy head after two consecutive quarters
and by the head after three; the two best are commended (通报表扬). `RankingPolicy` holds those
numbers so duties.yaml can change them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, select

from bot.store.models import Duty, DutyInstance, Person, Unit

FINAL = ("done", "late", "missed", "excused")
COUNTED = ("done", "late", "missed")
SHANGHAI = ZoneInfo("Asia/Shanghai")


class Weights(Protocol):
    done: float
    late: float
    missed: float


@dataclass(frozen=True)
class DefaultWeights:
    done: float = 1.0
    late: float = 0.5
    missed: float = 0.0


# ---------------------------------------------------------------------------------------------
# Statuses
# ---------------------------------------------------------------------------------------------
def effective_status(inst: DutyInstance, now: datetime) -> str:
    """done | late | missed | excused, or open while the window has not closed."""
    if inst.status in FINAL:
        return inst.status
    if inst.done_count >= inst.required:
        return "done" if inst.done_at is None or inst.done_at <= inst.due_at else "late"
    return "missed" if inst.closes_at <= now else "open"


def status_expr(now: datetime) -> Any:
    """`effective_status` as a SQL expression, so the database does the counting."""
    i = DutyInstance
    return case(
        (i.status.in_(FINAL), i.status),
        (and_(i.done_count >= i.required, or_(i.done_at.is_(None), i.done_at <= i.due_at)), "done"),
        (i.done_count >= i.required, "late"),
        (i.closes_at <= now, "missed"),
        else_="open",
    )


@dataclass
class Tally:
    done: int = 0
    late: int = 0
    missed: int = 0
    excused: int = 0
    open: int = 0  # window not closed yet: not counted

    @property
    def required(self) -> int:
        """Instances that count: done, late or missed."""
        return self.done + self.late + self.missed

    def score(self, weights: Weights = DefaultWeights()) -> float:
        return self.done * weights.done + self.late * weights.late + self.missed * weights.missed

    def rate(self, weights: Weights = DefaultWeights()) -> float | None:
        """The weighted completion rate in [0, 1]; None when nothing counts."""
        return None if self.required == 0 else self.score(weights) / self.required

    def add(self, status: str, n: int = 1) -> None:
        setattr(self, status, getattr(self, status) + n)

    def merge(self, other: Tally) -> None:
        for s in (*FINAL, "open"):
            self.add(s, getattr(other, s))


# ---------------------------------------------------------------------------------------------
# Ranges
# ---------------------------------------------------------------------------------------------
def utc_bounds(start: date, end: date, tz: ZoneInfo = SHANGHAI) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) local, as UTC: `end` is inclusive."""
    lo = datetime.combine(start, time(0), tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), tz).astimezone(UTC)
    return lo, hi


_QUARTER = re.compile(r"(19[0-9]{2}|20[0-9]{2}|2100)-Q([1-4])")  # ASCII digits; years date() and we can mean


def parse_quarter(key: str) -> tuple[int, int]:
    m = _QUARTER.fullmatch(key.strip().upper())
    if not m:
        raise ValueError(f"季度应写成 2026-Q3 / quarter must look like 2026-Q3: {key!r}")
    return int(m[1]), int(m[2])


def quarter_bounds(key: str) -> tuple[date, date]:
    """First and last day (inclusive) of a quarter such as 2026-Q3."""
    year, q = parse_quarter(key)
    first = date(year, 3 * q - 2, 1)
    nxt = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return first, nxt - timedelta(days=1)


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def previous_quarter(key: str) -> str:
    year, q = parse_quarter(key)
    return f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}"


def quarters_between(start: date, end: date) -> list[str]:
    out, key = [], quarter_of(end)
    while True:
        out.append(key)
        if quarter_bounds(key)[0] <= start:
            break
        key = previous_quarter(key)
    return out[::-1]


def last_closed_quarter(today: date) -> str:
    """The quarter before the one `today` is in: the one a quarterly meeting ranks."""
    return previous_quarter(quarter_of(today))


# ---------------------------------------------------------------------------------------------
# Completion rates
# ---------------------------------------------------------------------------------------------
@dataclass
class Summary:
    start: date
    end: date
    now: datetime
    weights: Weights
    total: Tally = field(default_factory=Tally)
    by_person: dict[str, Tally] = field(default_factory=dict)
    by_unit: dict[str, Tally] = field(default_factory=dict)
    by_kind: dict[str, Tally] = field(default_factory=dict)
    person_unit: dict[str, str] = field(default_factory=dict)
    person_name: dict[str, str] = field(default_factory=dict)
    unit_name: dict[str, str] = field(default_factory=dict)

    def rate(self, tally: Tally) -> float | None:
        return tally.rate(self.weights)


def unit_summary(session: Session, start: date, end: date, now: datetime, *, tz: ZoneInfo = SHANGHAI,
                 weights: Weights | None = None, unit_ids: Iterable[str] | None = None) -> Summary:
    """Tallies per unit (and the total) of the instances due in [start, end]: what a ranking needs,
    grouped by the database per unit (a few hundred rows back instead of one per person and kind:
    at 10,000 people most of summarize's time is Python adding those up).

    A person counts for the unit they belong to now (Person.unit_id), as in summarize."""
    lo, hi = utc_bounds(start, end, tz)
    status = status_expr(now).label("eff")
    query = (select(Person.unit_id, status, func.count().label("n"))
             .join(Person, Person.id == DutyInstance.person_id)
             .where(DutyInstance.due_at >= lo, DutyInstance.due_at < hi)
             .group_by(Person.unit_id, status))
    if unit_ids is not None:
        query = query.where(Person.unit_id.in_(list(unit_ids)))  # type: ignore[attr-defined]
    out = Summary(start, end, now, weights or DefaultWeights())
    out.unit_name = dict(session.exec(select(Unit.id, Unit.name)).all())
    for unit, eff, n in session.exec(query):
        out.by_unit.setdefault(unit, Tally()).add(eff, n)
        out.total.add(eff, n)
    return out


def summarize(session: Session, start: date, end: date, now: datetime, *, tz: ZoneInfo = SHANGHAI,
              weights: Weights | None = None, person_id: str | None = None,
              unit_ids: Iterable[str] | None = None) -> Summary:
    """Tallies per person, unit and duty kind of the instances due in [start, end] (local days).

    A person counts for the unit they belong to now (Person.unit_id)."""
    lo, hi = utc_bounds(start, end, tz)
    status = status_expr(now).label("eff")
    kind = func.coalesce(Duty.kind, "other").label("kind")
    query = (select(DutyInstance.person_id, kind, status, func.count().label("n"))
             .join(Duty, Duty.id == DutyInstance.duty_id, isouter=True)
             .where(DutyInstance.due_at >= lo, DutyInstance.due_at < hi)
             .group_by(DutyInstance.person_id, kind, status))
    if person_id is not None:
        query = query.where(DutyInstance.person_id == person_id)
    if unit_ids is not None:
        members = select(Person.id).where(Person.unit_id.in_(list(unit_ids)))
        query = query.where(DutyInstance.person_id.in_(members))
    out = Summary(start, end, now, weights or DefaultWeights())
    for pid, name, unit in session.exec(select(Person.id, Person.name, Person.unit_id)):
        out.person_name[pid] = name
        out.person_unit[pid] = unit
    out.unit_name = dict(session.exec(select(Unit.id, Unit.name)).all())
    for pid, duty_kind, eff, n in session.exec(query):
        unit = out.person_unit.get(pid, "")
        for bucket, key in ((out.by_person, pid), (out.by_unit, unit), (out.by_kind, duty_kind)):
            bucket.setdefault(key, Tally()).add(eff, n)
        out.total.add(eff, n)
    return out


# ---------------------------------------------------------------------------------------------
# Quarterly ranking
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """What happens to a unit that has been in the bottom `after` quarters in a row."""

    after: int
    action: str  # 通报批评 | 约谈
    by_role: str | None = None  # whose 约谈: a role of the catalogue (分管负责人, 主要负责人)

    def describe(self) -> str:
        return f"{self.action}（{self.by_role}）" if self.by_role else self.action


@dataclass(frozen=True)
class RankingPolicy:
    bottom: int = 2  # 排名后两位
    top: int = 2  # 排名前二位: 通报表扬
    steps: tuple[Step, ...] = (Step(1, "通报批评"), Step(2, "约谈", "分管负责人"), Step(3, "约谈", "主要负责人"))
    units: tuple[str, ...] = ()  # the units ranked; empty: every unit with something to count
    lookback: int = 12  # how many earlier quarters a streak is followed back

    def step_for(self, streak: int) -> Step | None:
        found = None
        for step in sorted(self.steps, key=lambda s: s.after):
            if streak >= step.after:
                found = step
        return found


@dataclass
class UnitRank:
    unit_id: str
    name: str
    tally: Tally
    rate: float
    rank: int  # 1 = best; equal rates share a rank
    bottom: bool = False
    top: bool = False
    streak: int = 0  # consecutive quarters in the bottom, this one included
    step: Step | None = None
    interviewers: list[str] = field(default_factory=list)  # names of the people of step.by_role


@dataclass
class Ranking:
    quarter: str
    start: date
    end: date
    units: list[UnitRank]
    unranked: list[tuple[str, str]]  # (unit id, name) with nothing counted this quarter
    open_count: int  # instances of the quarter whose window has not closed: not counted
    policy: RankingPolicy

    @property
    def flagged(self) -> list[UnitRank]:
        return [u for u in self.units if u.bottom]


def _places(summary: Summary, policy: RankingPolicy) -> tuple[list[UnitRank], list[tuple[str, str]]]:
    wanted = list(policy.units) or sorted(u for u, t in summary.by_unit.items() if u)
    ranked, unranked = [], []
    for unit in wanted:
        tally = summary.by_unit.get(unit, Tally())
        rate = summary.rate(tally)
        name = summary.unit_name.get(unit, unit)
        if rate is None:
            unranked.append((unit, name))
        else:
            ranked.append(UnitRank(unit, name, tally, round(rate, 9), 0))
    rates = [u.rate for u in ranked]
    for u in ranked:
        higher = sum(r > u.rate for r in rates)
        lower = sum(r < u.rate for r in rates)
        u.rank = 1 + higher
        # Places, not units: units tied on the boundary share it (and all are named). Nobody is
        # last when everybody scored the same, and nobody is named when there are too few to rank.
        u.bottom = len(ranked) > policy.bottom and lower + 1 <= policy.bottom and higher > 0
        u.top = len(ranked) > policy.top and u.rank <= policy.top and lower > 0 and not u.bottom
    ranked.sort(key=lambda u: (u.rank, u.unit_id))
    return ranked, unranked


def rank_quarter(session: Session, quarter: str, now: datetime, *, tz: ZoneInfo = SHANGHAI,
                 weights: Weights | None = None, policy: RankingPolicy | None = None,
                 cache: dict | None = None) -> Ranking:
    """Units of one quarter ranked by rate, the bottom ones flagged with their streak and step.

    `cache` (a dict kept by the caller) shares quarters between calls with the same now, weights
    and policy: ranking a year looks back over the same quarters four times."""
    policy = policy or RankingPolicy()
    units_filter = policy.units or None
    cache = {} if cache is None else cache

    def places(key: str) -> tuple[list[UnitRank], list[tuple[str, str]], Summary]:
        if key not in cache:
            first, last = quarter_bounds(key)
            s = unit_summary(session, first, last, now, tz=tz, weights=weights, unit_ids=units_filter)
            cache[key] = (*_places(s, policy), s)
        ranked, unranked, s = cache[key]
        # Copies: the caller's UnitRank objects get streaks and steps written into them.
        return [replace(u) for u in ranked], list(unranked), s

    ranked, unranked, summary = places(quarter)
    first, last = quarter_bounds(quarter)
    streaks = {u.unit_id: 1 for u in ranked if u.bottom}
    alive = set(streaks)
    key = quarter
    for _ in range(policy.lookback):
        if not alive:
            break
        key = previous_quarter(key)
        earlier, _, _ = places(key)
        flagged = {u.unit_id for u in earlier if u.bottom}
        alive &= flagged
        for unit in alive:
            streaks[unit] += 1
    for u in ranked:
        if u.bottom:
            u.streak = streaks[u.unit_id]
            u.step = policy.step_for(u.streak)
            if u.step and u.step.by_role:
                if "heads" not in cache:  # read once for all the quarters of a history
                    cache["heads"] = _role_names(session)
                u.interviewers = cache["heads"].get(u.step.by_role, [])
    return Ranking(quarter, first, last, ranked, unranked, summary.total.open, policy)


def bottom_history(session: Session, quarter: str, now: datetime, *, quarters: int = 8, tz: ZoneInfo = SHANGHAI,
                   weights: Weights | None = None, policy: RankingPolicy | None = None) -> list[Ranking]:
    """The rankings of `quarter` and the `quarters - 1` before it, newest first (the web's 后两位历史):
    each with its flagged units, their streaks and steps. The quarters are summed once (shared cache)."""
    cache: dict = {}
    out, key = [], quarter
    for _ in range(quarters):
        out.append(rank_quarter(session, key, now, tz=tz, weights=weights, policy=policy, cache=cache))
        key = previous_quarter(key)
    return out


def _role_names(session: Session) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, roles in session.exec(select(Person.name, Person.roles).where(Person.retired_at.is_(None))):  # type: ignore[union-attr]
        for role in roles or []:
            out.setdefault(role, []).append(name)
    return out


def ranking_json(r: Ranking, weights: Weights | None = None) -> dict:
    return {
        "quarter": r.quarter, "from": r.start.isoformat(), "to": r.end.isoformat(),
        "not_counted_open": r.open_count,
        "units": [{
            "rank": u.rank, "unit": u.unit_id, "name": u.name, "rate": round(u.rate, 4),
            "required": u.tally.required, "done": u.tally.done, "late": u.tally.late, "missed": u.tally.missed,
            "excused": u.tally.excused, "bottom": u.bottom, "top": u.top, "streak": u.streak,
            "action": u.step.describe() if u.step else None, "interviewers": u.interviewers,
        } for u in r.units],
        "unranked": [{"unit": uid, "name": name} for uid, name in r.unranked],
    }


# ---------------------------------------------------------------------------------------------
# Settings from the catalogue
# ---------------------------------------------------------------------------------------------
def weights_of(catalog: Any) -> Weights:
    return getattr(catalog, "scoring", None) or DefaultWeights()


def policy_from(catalog: Any) -> RankingPolicy:
    """The catalogue's `assessment:` settings when the loader provides them, else seed 003's.

    Expected shape (duck-typed, so schedules/ needs no import from bot/): `bottom`, `top`, `units`,
    `steps` as items with `after`, `action`, `by` (a role name or None)."""
    settings = getattr(catalog, "assessment", None)
    if settings is None:
        return RankingPolicy()
    if isinstance(settings, RankingPolicy):
        return settings
    base = RankingPolicy()
    steps = getattr(settings, "steps", None)
    return RankingPolicy(
        bottom=getattr(settings, "bottom", base.bottom),
        top=getattr(settings, "top", base.top),
        steps=tuple(Step(s.after, s.action, getattr(s, "by", None)) for s in steps) if steps else base.steps,
        units=tuple(getattr(settings, "units", ()) or ()),
    )
