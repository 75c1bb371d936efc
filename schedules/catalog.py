"""The duty catalogue: what duties.yaml says, as plain immutable values.

Nothing here reads files, clocks or databases; `schedules.loader` builds a Catalog from YAML and
`schedules.expand` / `schedules.compiler` turn it into instances and jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from enum import StrEnum
from functools import cached_property


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    XUN = "xun"  # 旬: days 1-10, 11-20, 21-end of a month
    HALFMONTH = "halfmonth"  # 半月: days 1-15, 16-end of a month
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"


class DutyKind(StrEnum):
    INSPECTION = "inspection"
    MEETING = "meeting"
    REPORT = "report"
    STUDY = "study"
    DRILL = "drill"
    TRAINING = "training"
    OTHER = "other"


class Level(StrEnum):
    """Warning levels of a 叫应 callout, most severe first."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"


@dataclass(frozen=True)
class Source:
    """Where a duty comes from, so that a reminder can quote it."""

    document: str = ""
    clause: str = ""


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WHEN = ("before", "during", "after")  # a season's windows: 汛前, 汛期, 汛后


@dataclass(frozen=True)
class Season:
    """A recurring stretch of the year (汛期 05-01 to 09-30); it may run across New Year."""

    name: str
    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]  # inclusive


DEFAULT_SEASONS: dict[str, Season] = {"汛期": Season("汛期", (5, 1), (9, 30))}


@dataclass(frozen=True)
class Frequency:
    """How often a duty recurs: `at_least` times per period of `every`, with the refinements lists write.

    Only one refinement applies at a time (the loader and the grammar make sure): `n` (every 2 months,
    every 3 years from `anchor`), `days` (每月10日、24日: one instance per day, each due on it), `weekday`
    (每周五: the week's instance is due that day), `due` (每月5日前: (0, 5); 每年11月底前: (11, 30)),
    `which` (上半年: only the H1 instance), `season` + `when` (每年汛前: before the season).
    """

    every: PeriodKind
    at_least: int = 1
    phrase: str = ""  # the wording of the list, e.g. "每月至少1次"
    n: int = 1
    anchor: int | None = None  # a year of the cycle for every n years; None: the catalogue's start_year
    days: tuple[int, ...] = ()
    weekday: int | None = None  # 0 = Monday
    due: tuple[int, int] | None = None  # (month, day); month 0 for "day of each period's month"
    which: str | None = None  # "H1" | "H2"
    season: str | None = None
    when: str | None = None  # "before" | "during" | "after"

    @property
    def plain(self) -> bool:
        """No refinement: the period's last day is the due day, as before."""
        return (self.n == 1 and not self.days and self.weekday is None and self.due is None
                and self.which is None and self.season is None)


@dataclass(frozen=True)
class Reminder:
    """When to remind, relative to an instance.

    `anchor` is "open" (the day the period opens) or "due" (the due day). `days` moves that day
    (negative: before); the reminder is sent at the catalogue's remind time on that day. `hours`,
    when set, is an exact offset from the due moment instead (e.g. -2h).
    """

    label: str  # as written: "open", "-7d", "0d", "+1d", "-2h"
    anchor: str = "due"
    days: int = 0
    hours: float | None = None


@dataclass(frozen=True)
class QuietHours:
    start: time = time(22, 0)
    end: time = time(7, 30)

    def contains(self, t: time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


@dataclass(frozen=True)
class Defaults:
    remind_at: time = time(9, 0)
    due_time: time = time(18, 0)
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    reminders: tuple[Reminder, ...] = ()
    late_days: int = 3  # how long after the due moment a check-in still counts (as late)
    workdays_only: bool = False


@dataclass(frozen=True)
class Who:
    """Who a duty applies to: people with any of `roles` (optionally only in `units`), plus `people`."""

    roles: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    units: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    parent: str | None = None


# How a person gets routine reminders: "daily" holds them for one digest at defaults.remind_at
# (unless the duty falls due before then), "each" sends them when they fall due (still one message
# for everything due in the same minute). Aliases as an office would write them in duties.yaml.
DIGEST_MODES = ("daily", "each")
DIGEST_ALIASES = {"daily": "daily", "每日汇总": "daily", "汇总": "daily",
                  "each": "each", "随到随发": "each", "逐条": "each"}


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    unit: str
    position: str = ""
    roles: tuple[str, ...] = ()
    telegram_id: int | None = None
    deputy: str | None = None
    superior: str | None = None
    office: bool = False
    term_from: date | None = None
    term_to: date | None = None
    digest: str = "daily"  # DIGEST_MODES: routine reminders in one morning digest, or as they fall due

    def serves_on(self, start: date, end: date) -> bool:
        """True when the person's term overlaps [start, end)."""
        if self.term_from and self.term_from >= end:
            return False
        return not (self.term_to and self.term_to < start)


@dataclass(frozen=True)
class Duty:
    id: str
    title: str
    kind: DutyKind
    who: Who
    source: Source = Source()
    frequency: Frequency | None = None  # None: a clause without a schedule, kept so nothing is dropped
    workdays_only: bool = False
    due_time: time | None = None  # None: the catalogue default
    late_days: int | None = None
    reminders: tuple[Reminder, ...] | None = None  # None: the catalogue default
    spread: bool = False
    line: int = 0

    @property
    def scheduled(self) -> bool:
        return self.frequency is not None


@dataclass(frozen=True)
class Task:
    """A one-off item with a deadline (重点工作清单: "9月底前完成…")."""

    id: str
    title: str
    due: date
    who: Who
    opens: date | None = None  # None: the start of the due date's year
    kind: DutyKind = DutyKind.OTHER
    units: tuple[str, ...] = ()  # responsible departments (责任部室), shown with the task
    source: Source = Source()
    reminders: tuple[Reminder, ...] | None = None
    line: int = 0


@dataclass(frozen=True)
class HolidayCheck:
    """An inspection due before each named official holiday (重点时段检查)."""

    id: str
    title: str
    holidays: tuple[str, ...]  # canonical Chinese names, see schedules.holidays.HOLIDAY_NAMES
    who: Who
    days_before: int = 7  # the window opens this many days before the holiday starts
    kind: DutyKind = DutyKind.INSPECTION
    source: Source = Source()
    reminders: tuple[Reminder, ...] | None = None
    line: int = 0


@dataclass(frozen=True)
class HolidaySpan:
    """An official holiday written in duties.yaml, for years chinese-calendar does not know yet."""

    name: str
    start: date
    end: date  # inclusive


@dataclass(frozen=True)
class CalloutPolicy:
    """How a 叫应 of one warning level runs."""

    level: Level
    who: Who
    ack_within: timedelta = timedelta(minutes=3)
    recall_every: timedelta = timedelta(minutes=1)  # between re-calls once the ack deadline passed
    recalls: int = 3  # re-calls before escalating
    escalate: tuple[str, ...] = ("superior", "office")  # "deputy", "superior", "office" or person ids
    report_within: timedelta = timedelta(minutes=15)
    summary_within: timedelta = timedelta(minutes=30)
    line: int = 0


@dataclass(frozen=True)
class Scoring:
    done: float = 1.0
    late: float = 0.5
    missed: float = 0.0


@dataclass(frozen=True)
class RankingStep:
    """What happens to a unit in the bottom `after` quarters in a row (seed 003's 季度考核排名)."""

    after: int
    action: str  # 通报批评 | 约谈
    by: str | None = None  # whose 约谈: a role name


@dataclass(frozen=True)
class Assessment:
    bottom: int = 2  # the lowest N units each quarter are flagged
    top: int = 2  # the highest N are commended
    units: tuple[str, ...] = ()  # the units ranked; empty: every unit with something to count
    steps: tuple[RankingStep, ...] = (
        RankingStep(1, "通报批评"), RankingStep(2, "约谈", "分管负责人"), RankingStep(3, "约谈", "主要负责人"),
    )


@dataclass(frozen=True)
class Catalog:
    timezone: str = "Asia/Shanghai"
    defaults: Defaults = field(default_factory=Defaults)
    units: tuple[Unit, ...] = ()
    roles: dict[str, str] = field(default_factory=dict)  # role name -> description
    people: tuple[Person, ...] = ()
    duties: tuple[Duty, ...] = ()
    tasks: tuple[Task, ...] = ()
    holiday_checks: tuple[HolidayCheck, ...] = ()
    holidays: tuple[HolidaySpan, ...] = ()
    extra_workdays: tuple[date, ...] = ()  # 调休 working days for years chinese-calendar does not know
    callouts: dict[Level, CalloutPolicy] = field(default_factory=dict)
    scoring: Scoring = field(default_factory=Scoring)
    assessment: Assessment = field(default_factory=Assessment)
    path: str = "duties.yaml"
    start_year: int | None = None  # every-n-years cycles count from it; None: the current year
    seasons: dict[str, Season] = field(default_factory=lambda: dict(DEFAULT_SEASONS))

    @cached_property
    def person_by_id(self) -> dict[str, Person]:
        return {p.id: p for p in self.people}

    @cached_property
    def unit_by_id(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}

    @cached_property
    def duty_by_id(self) -> dict[str, Duty]:
        return {d.id: d for d in self.duties}

    def find_person(self, key: str) -> Person | None:
        """A person by id or by name."""
        if key in self.person_by_id:
            return self.person_by_id[key]
        return next((p for p in self.people if p.name == key), None)

    def unit_and_descendants(self, unit_id: str) -> set[str]:
        found = {unit_id}
        changed = True
        while changed:
            changed = False
            for u in self.units:
                if u.parent in found and u.id not in found:
                    found.add(u.id)
                    changed = True
        return found

    def members(self, who: Who) -> list[Person]:
        """The people a duty or policy applies to, in catalogue order."""
        units: set[str] | None = None
        if who.units:
            units = set().union(*(self.unit_and_descendants(u) for u in who.units))
        named = set(who.people)
        out = []
        for p in self.people:
            by_role = bool(set(p.roles) & set(who.roles)) and (units is None or p.unit in units)
            by_unit_only = not who.roles and units is not None and p.unit in units and not named
            if by_role or by_unit_only or p.id in named or p.name in named:
                out.append(p)
        return out

    @property
    def office(self) -> list[Person]:
        return [p for p in self.people if p.office]
