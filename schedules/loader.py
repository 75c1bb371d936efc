"""duties.yaml → Catalog, with every problem reported as `file:line:col: message`.

The YAML is composed into nodes first so that each value keeps its position; validation collects
all problems instead of stopping at the first, because an office fixing the file wants the list.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from . import holidays as hol
from .catalog import (
    DEFAULT_SEASONS,
    DIGEST_ALIASES,
    WEEKDAYS,
    WHEN,
    Assessment,
    CalloutPolicy,
    Catalog,
    Defaults,
    Duty,
    DutyKind,
    Frequency,
    HolidayCheck,
    HolidaySpan,
    Level,
    PeriodKind,
    Person,
    QuietHours,
    RankingStep,
    Reminder,
    Scoring,
    Season,
    Source,
    Task,
    Unit,
    Who,
)
from .frequency import MAX_YEARS, MONTH_MULTIPLES, nearest_form, parse_frequency, parse_structured, weekday_of

LEVEL_ALIASES = {"red": Level.RED, "红": Level.RED, "红色": Level.RED,
                 "orange": Level.ORANGE, "橙": Level.ORANGE, "橙色": Level.ORANGE,
                 "yellow": Level.YELLOW, "黄": Level.YELLOW, "黄色": Level.YELLOW,
                 "blue": Level.BLUE, "蓝": Level.BLUE, "蓝色": Level.BLUE}
ESCALATION_STEPS = ("deputy", "superior", "office")
CHANNEL_STEPS = ("voice", "sms")
# Mainland mobile numbers and landlines (area code, optional dash, optional extension-free number).
PHONE_RE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
# The fewest days a period of each kind can have: `spread` cannot cut it into more parts than that.
SHORTEST_PERIOD_DAYS = {PeriodKind.DAY: 1, PeriodKind.WEEK: 7, PeriodKind.XUN: 8, PeriodKind.HALFMONTH: 13,
                        PeriodKind.MONTH: 28,
                        PeriodKind.QUARTER: 90, PeriodKind.HALF: 181, PeriodKind.YEAR: 365}


def shortest_days(f: Frequency) -> int:
    """The fewest days one period of `f` can have (every 2 months: 59, every 2 years: one year)."""
    if f.n > 1 and f.every is PeriodKind.MONTH:
        return 28 + 30 * (f.n - 1)
    return SHORTEST_PERIOD_DAYS[f.every]


ID_RE = re.compile(r"^[\w\-.]{1,40}$")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class CatalogError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Node:
    """A YAML value with its position."""

    __slots__ = ("value", "line", "col")

    def __init__(self, value: Any, line: int, col: int):
        self.value, self.line, self.col = value, line, col


def _wrap(node: yaml.Node, constructor: yaml.constructor.SafeConstructor | None = None) -> _Node:
    constructor = constructor or yaml.constructor.SafeConstructor()
    pos = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, tuple[_Node, _Node]] = {}
        for k, v in node.value:
            key = _wrap(k, constructor)
            out[str(key.value)] = (key, _wrap(v, constructor))
        return _Node(out, *pos)
    if isinstance(node, yaml.SequenceNode):
        return _Node([_wrap(v, constructor) for v in node.value], *pos)
    try:
        value = constructor.construct_object(node, deep=True)
    except yaml.YAMLError:
        raise  # reported with its position by load_catalog_text
    except Exception:
        # A scalar PyYAML cannot build: one that looks like a date and is none (2026-02-30), or an
        # explicit tag on a wrong value (`!!int ` with nothing after it raises IndexError). Keep
        # the text, so the field's reader reports it with its position instead of a traceback.
        value = node.value
    return _Node(value, *pos)


# libyaml composes ten times faster than pure Python (a 10,000-person file in 0.5 s instead of 5 s),
# with the same node positions; on a syntax error the pure-Python parser runs again, as its
# messages name what it found ("found undefined alias 'x'").
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose_with(loader_class: type, text: str) -> yaml.Node | None:
    loader = loader_class(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _compose(text: str) -> yaml.Node | None:
    try:
        return _compose_with(_FastLoader, text)
    except yaml.YAMLError:
        if _FastLoader is yaml.SafeLoader:
            raise
        return _compose_with(yaml.SafeLoader, text)


class _Reader:
    """Walks the node tree, converting values and collecting problems."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def error(self, node: _Node, message: str) -> None:
        self.problems.append(Problem(self.path, node.line, node.col, message))

    # -- primitive readers -------------------------------------------------------------------
    def mapping(self, node: _Node, what: str) -> dict[str, tuple[_Node, _Node]] | None:
        if not isinstance(node.value, dict):
            self.error(node, f"{what} 应为映射 / must be a mapping")
            return None
        return node.value

    def seq(self, node: _Node | None, what: str) -> list[_Node]:
        if node is None or node.value is None:
            return []
        if not isinstance(node.value, list):
            self.error(node, f"{what} 应为列表 / must be a list")
            return []
        return node.value

    def string(self, node: _Node | None, what: str, required: bool = False) -> str | None:
        if node is None or node.value is None:
            return None
        if isinstance(node.value, dict | list):
            self.error(node, f"{what} 应为文字 / must be text")
            return None
        text = str(node.value).strip()
        return text or None

    def strings(self, node: _Node | None, what: str) -> tuple[str, ...]:
        if node is None or node.value is None:
            return ()
        if isinstance(node.value, str):
            return (node.value.strip(),)
        return tuple(s for s in (self.string(n, what) for n in self.seq(node, what)) if s)

    def clock(self, node: _Node | None, default: time, what: str) -> time:
        if node is None:
            return default
        text = str(node.value)
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            # YAML 1.1 reads an unquoted 18:00 as a sexagesimal int (1080)
            m = re.fullmatch(r"(\d+):(\d{2})", f"{node.value // 60}:{node.value % 60:02d}")
        if not m or int(m[1]) > 23 or int(m[2]) > 59:
            self.error(node, f"{what}: 时间格式应为 HH:MM / time must be HH:MM, got {text!r}")
            return default
        return time(int(m[1]), int(m[2]))

    def day(self, node: _Node | None, what: str) -> date | None:
        if node is None or node.value is None:
            return None
        if isinstance(node.value, date):
            return node.value
        try:
            return date.fromisoformat(str(node.value))
        except ValueError:
            self.error(node, f"{what}: 日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD, got {node.value!r}")
            return None

    def duration(self, node: _Node | None, default: timedelta, what: str) -> timedelta:
        if node is None:
            return default
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|秒|分钟|分|小时|天)\s*", str(node.value))
        if not m:
            self.error(node, f"{what}: 时长应写作 30s/3m/1h / duration must look like 30s, 3m, 1h; got {node.value!r}")
            return default
        unit = {"s": "seconds", "秒": "seconds", "m": "minutes", "分": "minutes", "分钟": "minutes",
                "h": "hours", "小时": "hours", "d": "days", "天": "days"}[m[2]]
        return timedelta(**{unit: float(m[1])})

    def integer(self, node: _Node | None, default: int, what: str, minimum: int = 0) -> int:
        if node is None:
            return default
        if not isinstance(node.value, int) or isinstance(node.value, bool) or node.value < minimum:
            self.error(node, f"{what} 应为不小于 {minimum} 的整数 / must be an integer ≥ {minimum}")
            return default
        return node.value

    def boolean(self, node: _Node | None, default: bool, what: str) -> bool:
        if node is None:
            return default
        if not isinstance(node.value, bool):
            self.error(node, f"{what} 应为 true/false / must be true or false")
            return default
        return node.value

    def unknown_keys(self, fields: dict[str, tuple[_Node, _Node]], allowed: set[str], what: str) -> None:
        for name, (key, _) in fields.items():
            if name not in allowed:
                self.error(key, f"{what}: 未知字段 {name!r} / unknown field; allowed: {', '.join(sorted(allowed))}")


def _get(fields: dict[str, tuple[_Node, _Node]] | None, name: str) -> _Node | None:
    if not fields or name not in fields:
        return None
    return fields[name][1]


def _find(node: _Node | None, text: str) -> _Node | None:
    """The scalar under `node` that reads `text`, so a message can point at the very list entry."""
    if node is None:
        return None
    if isinstance(node.value, dict):
        children = [v for _, v in node.value.values()]
    elif isinstance(node.value, list):
        children = node.value
    else:
        return node if node.value is not None and str(node.value).strip() == text else None
    return next((found for child in children if (found := _find(child, text))), None)


class _CatalogReader(_Reader):
    def read(self, root: _Node) -> Catalog | None:
        top = self.mapping(root, "duties.yaml")
        if top is None:
            return None
        self.unknown_keys(top, {"timezone", "defaults", "units", "roles", "people", "duties", "tasks",
                                "holiday_checks", "holidays", "extra_workdays", "callouts", "scoring", "assessment",
                                "start_year", "seasons"},
                          "duties.yaml")
        timezone = self.timezone(_get(top, "timezone"))
        start_year = self.start_year(_get(top, "start_year"))
        self.seasons = self.read_seasons(_get(top, "seasons"))
        defaults = self.defaults(_get(top, "defaults"))
        units = self.units(_get(top, "units"))
        roles = self.roles(_get(top, "roles"))
        people = [p for p in (self.person(n) for n in self.seq(_get(top, "people"), "people")) if p]
        duties = [d for d in (self.duty(n) for n in self.seq(_get(top, "duties"), "duties")) if d]
        tasks = [t for t in (self.task(n) for n in self.seq(_get(top, "tasks"), "tasks")) if t]
        checks = [c for c in (self.holiday_check(n) for n in self.seq(_get(top, "holiday_checks"), "holiday_checks")) if c]
        spans = [s for s in (self.holiday_span(n) for n in self.seq(_get(top, "holidays"), "holidays")) if s]
        workdays = tuple(d for d in (self.day(n, "extra_workdays") for n in self.seq(_get(top, "extra_workdays"), "extra_workdays")) if d)
        callouts = self.callouts(_get(top, "callouts"))
        scoring = self.scoring(_get(top, "scoring"))
        assessment, step_nodes = self.assessment(_get(top, "assessment"))
        catalog = Catalog(
            timezone=timezone, defaults=defaults, units=tuple(u for u, _ in units), roles=roles,
            people=tuple(p for p, _ in people), duties=tuple(d for d, _ in duties),
            tasks=tuple(t for t, _ in tasks), holiday_checks=tuple(c for c, _ in checks),
            holidays=tuple(spans), extra_workdays=workdays,
            callouts={p.level: p for p, _ in callouts}, scoring=scoring, assessment=assessment,
            path=self.path, start_year=start_year, seasons=self.seasons,
        )
        _Validator(self, catalog, units, people, duties, tasks, checks, callouts, step_nodes, root).run()
        return catalog

    def start_year(self, node: _Node | None) -> int:
        """The year every-n-years cycles count from (至少每两年一次 → due in start_year, +2, +4…)."""
        if node is None:
            return date.today().year
        year = self.integer(node, 0, "start_year", minimum=2000)
        if year and year > 2100:
            self.error(node, "start_year 应在 2000–2100 之间 / start_year must be between 2000 and 2100")
        return year if 2000 <= year <= 2100 else date.today().year

    def read_seasons(self, node: _Node | None) -> dict[str, Season]:
        """`seasons: {汛期: {from: 05-01, to: 09-30}}`; 汛期 is known without it."""
        seasons = dict(DEFAULT_SEASONS)
        if node is None:
            return seasons
        for name, (_key, value) in (self.mapping(node, "seasons") or {}).items():
            fields = self.mapping(value, f"seasons.{name}") or {}
            self.unknown_keys(fields, {"from", "to"}, f"seasons.{name}")
            start, end = self.month_day(_get(fields, "from")), self.month_day(_get(fields, "to"))
            if start is None or end is None:
                self.error(value, f"seasons.{name} 需要 from 和 to（MM-DD）/ a season needs `from` and `to` as MM-DD, "
                                  "e.g. {from: 05-01, to: 09-30}")
                continue
            seasons[name.strip()] = Season(name.strip(), start, end)
        return seasons

    def month_day(self, node: _Node | None) -> tuple[int, int] | None:
        if node is None:
            return None
        m = re.fullmatch(r"\s*(\d{1,2})-(\d{1,2})\s*", str(node.value))
        try:
            if m and date(2024, int(m[1]), int(m[2])):  # 2024: 02-29 is a day
                return int(m[1]), int(m[2])
        except ValueError:
            pass
        self.error(node, f"日期应写作 MM-DD / must be MM-DD, got {node.value!r}")
        return None

    def timezone(self, node: _Node | None) -> str:
        name = self.string(node, "timezone")
        if not name:
            return "Asia/Shanghai"
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.error(node, f"未知时区 “{name}” / unknown timezone; e.g. Asia/Shanghai")
            return "Asia/Shanghai"
        return name

    def defaults(self, node: _Node | None) -> Defaults:
        base = Defaults()
        fields = self.mapping(node, "defaults") if node is not None else None
        if not fields:
            return Defaults(reminders=DEFAULT_REMINDERS)
        self.unknown_keys(fields, {"remind_at", "due_time", "quiet_hours", "reminders", "late_days", "workdays_only"}, "defaults")
        quiet = base.quiet_hours
        qnode = _get(fields, "quiet_hours")
        if qnode is not None:
            m = re.fullmatch(r"\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*", str(qnode.value))
            if m:
                quiet = QuietHours(self.clock(_Node(m[1], qnode.line, qnode.col), quiet.start, "quiet_hours"),
                                   self.clock(_Node(m[2], qnode.line, qnode.col), quiet.end, "quiet_hours"))
            else:
                self.error(qnode, "quiet_hours 应写作 22:00-07:30 / must look like 22:00-07:30")
        reminders = self.reminders(_get(fields, "reminders"))
        return Defaults(
            remind_at=self.clock(_get(fields, "remind_at"), base.remind_at, "remind_at"),
            due_time=self.clock(_get(fields, "due_time"), base.due_time, "due_time"),
            quiet_hours=quiet,
            reminders=DEFAULT_REMINDERS if reminders is None else reminders,
            late_days=self.integer(_get(fields, "late_days"), base.late_days, "late_days"),
            workdays_only=self.boolean(_get(fields, "workdays_only"), False, "workdays_only"),
        )

    def reminders(self, node: _Node | None) -> tuple[Reminder, ...] | None:
        if node is None:
            return None
        out = []
        for item in self.seq(node, "reminders"):
            r = parse_reminder(str(item.value))
            if r is None:
                self.error(item, f"无法识别的提醒时间 {item.value!r} / unknown reminder offset; "
                                 "use open, -7d, 0d, +1d or -2h")
            else:
                out.append(r)
        return tuple(out)

    def units(self, node: _Node | None) -> list[tuple[Unit, _Node]]:
        out: list[tuple[Unit, _Node]] = []

        def walk(n: _Node, parent: str | None) -> None:
            if isinstance(n.value, dict):
                fields = n.value
                self.unknown_keys(fields, {"id", "name", "children"}, "unit")
                uid = self.string(_get(fields, "id"), "unit id") or self.string(_get(fields, "name"), "unit name")
                if not uid:
                    self.error(n, "单位缺少 id / unit needs an id")
                    return
                out.append((Unit(uid, self.string(_get(fields, "name"), "name") or uid, parent), n))
                for child in self.seq(_get(fields, "children"), "children"):
                    walk(child, uid)
            elif isinstance(n.value, str | int):
                out.append((Unit(str(n.value), str(n.value), parent), n))
            else:
                self.error(n, "单位应为名称或映射 / a unit is a name or a mapping")

        for n in self.seq(node, "units"):
            walk(n, None)
        return out

    def roles(self, node: _Node | None) -> dict[str, str]:
        if node is None:
            return {}
        if isinstance(node.value, list):
            return {s: "" for s in self.strings(node, "roles")}
        fields = self.mapping(node, "roles") or {}
        return {name: self.string(v, "role") or "" for name, (_, v) in fields.items()}

    def who(self, node: _Node | None) -> Who:
        if node is None:
            return Who()
        if isinstance(node.value, list | str):
            return Who(roles=self.strings(node, "who"))
        fields = self.mapping(node, "who") or {}
        self.unknown_keys(fields, {"roles", "people", "units"}, "who")
        return Who(self.strings(_get(fields, "roles"), "roles"), self.strings(_get(fields, "people"), "people"),
                   self.strings(_get(fields, "units"), "units"))

    def source(self, node: _Node | None) -> Source:
        if node is None:
            return Source()
        if isinstance(node.value, str):
            return Source(clause=node.value.strip())
        fields = self.mapping(node, "source") or {}
        self.unknown_keys(fields, {"document", "clause"}, "source")
        return Source(self.string(_get(fields, "document"), "document") or "",
                      self.string(_get(fields, "clause"), "clause") or "")

    def kind(self, node: _Node | None, default: DutyKind) -> DutyKind:
        if node is None:
            return default
        try:
            return DutyKind(str(node.value))
        except ValueError:
            self.error(node, f"未知类型 {node.value!r} / unknown kind; one of {', '.join(k.value for k in DutyKind)}")
            return default

    def person(self, node: _Node) -> tuple[Person, _Node] | None:
        fields = self.mapping(node, "person")
        if fields is None:
            return None
        self.unknown_keys(fields, {"id", "name", "unit", "position", "roles", "telegram_id", "phone", "deputy",
                                   "superior", "office", "from", "to", "digest"}, "person")
        name = self.string(_get(fields, "name"), "name")
        if not name:
            self.error(node, "人员缺少 name / person needs a name")
            return None
        tg = _get(fields, "telegram_id")
        telegram_id = self.integer(tg, 0, "telegram_id", minimum=1) if tg is not None else None
        return Person(
            id=self.string(_get(fields, "id"), "id") or name, name=name,
            unit=self.string(_get(fields, "unit"), "unit") or "",
            position=self.string(_get(fields, "position"), "position") or "",
            roles=self.strings(_get(fields, "roles"), "roles"), telegram_id=telegram_id or None,
            phone=self.phone(_get(fields, "phone")),
            deputy=self.string(_get(fields, "deputy"), "deputy"),
            superior=self.string(_get(fields, "superior"), "superior"),
            office=self.boolean(_get(fields, "office"), False, "office"),
            term_from=self.day(_get(fields, "from"), "from"), term_to=self.day(_get(fields, "to"), "to"),
            digest=self.digest_mode(_get(fields, "digest")),
        ), node

    def phone(self, node: _Node | None) -> str | None:
        if node is None or node.value in (None, ""):
            return None
        text = re.sub(r"[\s()]", "", str(node.value))
        match = PHONE_RE.match(text)
        if not match:
            self.error(node, f"电话号码格式不对 {node.value!r} / bad phone number; a mainland mobile (13800138000) "
                             "or a landline with area code (0571-12345678)")
            return None
        return match.group(1).replace("-", "")

    def digest_mode(self, node: _Node | None) -> str:
        if node is None or node.value is None:
            return "daily"
        mode = DIGEST_ALIASES.get(str(node.value).strip())
        if mode is None:
            self.error(node, f"digest: 应为 daily（每日汇总）或 each（随到随发）/ must be daily or each, got {node.value!r}")
            return "daily"
        return mode

    def frequency(self, fields: dict) -> Frequency | None:
        node = _get(fields, "frequency")
        if node is None:
            return None
        if isinstance(node.value, dict):
            return self.structured_frequency(node)
        freq = parse_frequency(str(node.value), tuple(self.seasons))
        if freq is None:
            self.error(node, f"无法识别的频次 “{node.value}” / cannot parse frequency {str(node.value)!r}; "
                             f"最接近的写法 / nearest known form: {nearest_form(str(node.value), tuple(self.seasons))}; "
                             "write it like 每月至少1次, 每季度1次, 每半年至少1次, 每年3次, 每周1次, 每旬1次, 每日, "
                             "每两个月1次, 每半月1次, 至少每两年一次, 每月10日、24日, 每周五, 每月5日前, 每年11月底前, "
                             "上半年1次, 每年汛前1次")
        return freq

    def structured_frequency(self, node: _Node) -> Frequency | None:
        """`{every, at_least}` plus one refinement: `n` (+ `anchor`), `days`, `weekday`, `due`, `which`,
        or `season` (+ `when`). `every` may be left out when the refinement implies it."""
        f = node.value
        self.unknown_keys(f, {"every", "at_least", "n", "anchor", "days", "weekday", "due", "which", "season",
                              "when"}, "frequency")
        refinements = [k for k in ("n", "days", "weekday", "due", "which", "season") if _get(f, k) is not None]
        implied = {"days": "month", "weekday": "week", "which": "half", "season": "year"}
        every, at_least = _get(f, "every"), _get(f, "at_least")
        count = at_least.value if at_least is not None else 1
        default_every = implied.get(refinements[0], "") if refinements else ""
        freq = parse_structured(every.value if every is not None else default_every, count)
        if freq is None:
            self.error(node, "无法识别的结构化频次 / structured frequency needs `every: day|week|xun|month|"
                             "quarter|half|year` (or halfmonth) and `at_least: N` (N ≥ 1)")
            return None
        if len(refinements) > 1:
            self.error(node, f"frequency: {' 与 '.join(refinements)} 不能同时使用 / use only one of "
                             f"{', '.join(refinements)}")
            return None
        if _get(f, "anchor") is not None and "n" not in refinements:
            self.error(_get(f, "anchor"), "frequency.anchor 只用于 {every: year, n: N} / `anchor` needs `every: year, n: N`")
            return None
        if _get(f, "when") is not None and "season" not in refinements:
            self.error(_get(f, "when"), "frequency.when 只用于 season / `when` needs `season`")
            return None
        if not refinements:
            return freq
        what, value = refinements[0], _get(f, refinements[0])
        reader = getattr(self, f"refine_{what}")
        return reader(freq, value, f)

    def _refined(self, freq: Frequency, **changes) -> Frequency:
        parts = ", ".join(f"{k}: {v}" for k, v in changes.items() if v is not None)
        return replace(freq, phrase=f"{freq.phrase}, {parts}", **changes)

    def refine_n(self, freq: Frequency, node: _Node, f: dict) -> Frequency | None:
        n = node.value
        ok = isinstance(n, int) and not isinstance(n, bool)
        if ok and freq.every is PeriodKind.MONTH and n in MONTH_MULTIPLES:
            kind = MONTH_MULTIPLES[n]
            return self._refined(replace(freq, every=kind), n=n if kind is PeriodKind.MONTH else 1)
        if ok and freq.every is PeriodKind.YEAR and 1 <= n <= MAX_YEARS:
            anchor_node = _get(f, "anchor")
            anchor = None
            if anchor_node is not None:
                anchor = self.integer(anchor_node, 0, "anchor", minimum=2000) or None
            return self._refined(freq, n=n, anchor=anchor)
        self.error(node, f"frequency.n 无效：{n!r} / `n` must be 2, 3, 4, 6 or 12 with `every: month`, "
                         f"or 2–{MAX_YEARS} with `every: year`")
        return None

    def refine_days(self, freq: Frequency, node: _Node, f: dict) -> Frequency | None:
        values = node.value if isinstance(node.value, list) else [node]
        days = [v.value if isinstance(v, _Node) else v for v in values]
        if (freq.every is not PeriodKind.MONTH or not days
                or not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 31 for d in days)):
            self.error(node, f"frequency.days 无效：{days!r} / `days` is a list of days of the month (1–31), "
                             "e.g. [10, 24], with `every: month`")
            return None
        return self._refined(freq, days=tuple(sorted(set(days))))

    def refine_weekday(self, freq: Frequency, node: _Node, f: dict) -> Frequency | None:
        day = weekday_of(node.value)
        if freq.every is not PeriodKind.WEEK or day is None:
            self.error(node, f"frequency.weekday 无效：{node.value!r} / `weekday` is one of "
                             f"{', '.join(WEEKDAYS)} (or 周一…周日), with `every: week`")
            return None
        return self._refined(freq, weekday=day)

    def refine_due(self, freq: Frequency, node: _Node, f: dict) -> Frequency | None:
        text = str(node.value).strip()
        m = re.fullmatch(r"(?:(\d{1,2})-)?(\d{1,2})", text)
        month, day = (int(m[1]) if m and m[1] else 0), (int(m[2]) if m else 0)
        valid = bool(m) and 1 <= day <= 31 and (
            (freq.every is PeriodKind.MONTH and month == 0)
            or (freq.every is PeriodKind.YEAR and 1 <= month <= 12
                and day <= (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]))
        if not valid:
            self.error(node, f"frequency.due 无效：{node.value!r} / `due` is \"DD\" with `every: month` "
                             "(每月5日前: \"05\") or \"MM-DD\" with `every: year` (每年11月底前: \"11-30\")")
            return None
        return self._refined(freq, due=(month, day))

    def refine_which(self, freq: Frequency, node: _Node, f: dict) -> Frequency | None:
        which = str(node.value).strip().upper()
        which = {"上半年": "H1", "下半年": "H2"}.get(str(node.value).strip(), which)
        if freq.every is not PeriodKind.HALF or which not in ("H1", "H2"):
            self.error(node, f"frequency.which 无效：{node.value!r} / `which` is H1 (上半年) or H2 (下半年), "
                             "with `every: half`")
            return None
        return self._refined(freq, which=which)

    def refine_season(self, freq: Frequency, node: _Node, f: dict) -> Frequency | None:
        name = str(node.value).strip()
        when_node = _get(f, "when")
        when = str(when_node.value).strip().lower() if when_node is not None else "during"
        when = {"前": "before", "期间": "during", "中": "during", "后": "after"}.get(when, when)
        if name not in self.seasons:
            self.error(node, f"未知时段 “{name}” / unknown season; declare it under seasons: "
                             f"(known: {', '.join(self.seasons)})")
            return None
        if freq.every is not PeriodKind.YEAR or when not in WHEN:
            self.error(when_node or node, f"frequency.when 无效：{when!r} / `when` is before, during or after "
                                          "(汛前/汛期/汛后), with `every: year`")
            return None
        return self._refined(freq, season=name, when=when)

    def duty(self, node: _Node) -> tuple[Duty, _Node] | None:
        fields = self.mapping(node, "duty")
        if fields is None:
            return None
        self.unknown_keys(fields, {"id", "title", "kind", "who", "source", "frequency", "workdays_only", "due_time",
                                   "late_days", "reminders", "spread"}, "duty")
        did, title = self.string(_get(fields, "id"), "id"), self.string(_get(fields, "title"), "title")
        if not did or not title:
            self.error(node, "职责需要 id 和 title / a duty needs id and title")
            return None
        due_time = _get(fields, "due_time")
        late = _get(fields, "late_days")
        return Duty(
            id=did, title=title, kind=self.kind(_get(fields, "kind"), DutyKind.OTHER),
            who=self.who(_get(fields, "who")), source=self.source(_get(fields, "source")),
            frequency=self.frequency(fields),
            workdays_only=self.boolean(_get(fields, "workdays_only"), False, "workdays_only"),
            due_time=self.clock(due_time, time(18), "due_time") if due_time is not None else None,
            late_days=self.integer(late, 0, "late_days") if late is not None else None,
            reminders=self.reminders(_get(fields, "reminders")),
            spread=self.boolean(_get(fields, "spread"), False, "spread"), line=node.line,
        ), node

    def task(self, node: _Node) -> tuple[Task, _Node] | None:
        fields = self.mapping(node, "task")
        if fields is None:
            return None
        self.unknown_keys(fields, {"id", "title", "due", "opens", "who", "kind", "units", "source", "reminders"}, "task")
        tid, title = self.string(_get(fields, "id"), "id"), self.string(_get(fields, "title"), "title")
        due = self.day(_get(fields, "due"), "due")
        if not tid or not title or not due:
            if not (_get(fields, "due") and due is None):
                self.error(node, "任务需要 id、title 和 due / a task needs id, title and due")
            return None
        return Task(
            id=tid, title=title, due=due, opens=self.day(_get(fields, "opens"), "opens"),
            who=self.who(_get(fields, "who")), kind=self.kind(_get(fields, "kind"), DutyKind.OTHER),
            units=self.strings(_get(fields, "units"), "units"), source=self.source(_get(fields, "source")),
            reminders=self.reminders(_get(fields, "reminders")), line=node.line,
        ), node

    def holiday_check(self, node: _Node) -> tuple[HolidayCheck, _Node] | None:
        fields = self.mapping(node, "holiday_check")
        if fields is None:
            return None
        self.unknown_keys(fields, {"id", "title", "holidays", "days_before", "who", "kind", "source", "reminders"},
                          "holiday_check")
        cid, title = self.string(_get(fields, "id"), "id"), self.string(_get(fields, "title"), "title")
        if not cid or not title:
            self.error(node, "节前检查需要 id 和 title / a holiday check needs id and title")
            return None
        names = []
        for n in self.seq(_get(fields, "holidays"), "holidays"):
            canonical = hol.HOLIDAY_NAMES.get(str(n.value).strip())
            if canonical is None:
                self.error(n, f"未知节日 “{n.value}” / unknown holiday; one of {', '.join(sorted(set(hol.HOLIDAY_NAMES.values())))}")
            else:
                names.append(canonical)
        return HolidayCheck(
            id=cid, title=title, holidays=tuple(names), who=self.who(_get(fields, "who")),
            days_before=self.integer(_get(fields, "days_before"), 7, "days_before", minimum=1),
            kind=self.kind(_get(fields, "kind"), DutyKind.INSPECTION), source=self.source(_get(fields, "source")),
            reminders=self.reminders(_get(fields, "reminders")), line=node.line,
        ), node

    def holiday_span(self, node: _Node) -> HolidaySpan | None:
        fields = self.mapping(node, "holiday")
        if fields is None:
            return None
        self.unknown_keys(fields, {"name", "from", "to"}, "holiday")
        name_node = _get(fields, "name")
        name = self.string(name_node, "name")
        if not name or name not in hol.HOLIDAY_NAMES:
            self.error(name_node or node, f"未知节日 “{name}” / unknown holiday name")
            return None
        start, end = self.day(_get(fields, "from"), "from"), self.day(_get(fields, "to"), "to")
        if not start:
            self.error(node, "节日需要 from 日期 / a holiday needs `from`")
            return None
        end = end or start
        if end < start:
            self.error(node, "节日的 to 早于 from / `to` is before `from`")
            return None
        return HolidaySpan(hol.HOLIDAY_NAMES[name], start, end)

    def callouts(self, node: _Node | None) -> list[tuple[CalloutPolicy, _Node]]:
        if node is None:
            return []
        fields = self.mapping(node, "callouts") or {}
        out = []
        for name, (key, value) in fields.items():
            level = LEVEL_ALIASES.get(name.strip().lower())
            if level is None:
                self.error(key, f"未知预警级别 {name!r} / unknown warning level; use red/orange/yellow/blue or 红/橙/黄/蓝")
                continue
            pf = self.mapping(value, f"callouts.{name}") or {}
            self.unknown_keys(pf, {"who", "ack_within", "recall_every", "recalls", "escalate", "redial_every",
                                   "report_within", "summary_within"}, f"callouts.{name}")
            base = CalloutPolicy(level=level, who=Who())
            out.append((CalloutPolicy(
                level=level, who=self.who(_get(pf, "who")),
                ack_within=self.duration(_get(pf, "ack_within"), base.ack_within, "ack_within"),
                recall_every=self.duration(_get(pf, "recall_every"), base.recall_every, "recall_every"),
                recalls=self.integer(_get(pf, "recalls"), base.recalls, "recalls"),
                escalate=self.strings(_get(pf, "escalate"), "escalate") if _get(pf, "escalate") else base.escalate,
                redial_every=self.duration(_get(pf, "redial_every"), base.redial_every, "redial_every"),
                report_within=self.duration(_get(pf, "report_within"), base.report_within, "report_within"),
                summary_within=self.duration(_get(pf, "summary_within"), base.summary_within, "summary_within"),
                line=value.line,
            ), value))
        return out

    def assessment(self, node: _Node | None) -> tuple[Assessment, list[tuple[RankingStep, _Node]]]:
        base = Assessment()
        if node is None:
            return base, []
        fields = self.mapping(node, "assessment") or {}
        self.unknown_keys(fields, {"bottom", "top", "units", "steps"}, "assessment")
        steps = []
        for item in self.seq(_get(fields, "steps"), "steps"):
            sf = self.mapping(item, "step")
            if sf is None:
                continue
            self.unknown_keys(sf, {"after", "action", "by"}, "assessment.steps")
            action = self.string(_get(sf, "action"), "action")
            if not action or _get(sf, "after") is None:
                self.error(item, "每一步需要 after 和 action / a step needs `after` and `action`")
                continue
            steps.append((RankingStep(self.integer(_get(sf, "after"), 1, "after", minimum=1), action,
                                      self.string(_get(sf, "by"), "by")), item))
        return Assessment(
            bottom=self.integer(_get(fields, "bottom"), base.bottom, "bottom"),
            top=self.integer(_get(fields, "top"), base.top, "top"),
            units=self.strings(_get(fields, "units"), "units"),
            steps=tuple(s for s, _ in steps) if _get(fields, "steps") is not None else base.steps,
        ), steps

    def scoring(self, node: _Node | None) -> Scoring:
        if node is None:
            return Scoring()
        fields = self.mapping(node, "scoring") or {}
        self.unknown_keys(fields, {"done", "late", "missed"}, "scoring")
        values = {}
        for name in ("done", "late", "missed"):
            n = _get(fields, name)
            if n is None:
                continue
            if not isinstance(n.value, int | float) or isinstance(n.value, bool):
                self.error(n, f"scoring.{name} 应为数字 / must be a number")
            else:
                values[name] = float(n.value)
        return Scoring(**values)


DEFAULT_REMINDERS: tuple[Reminder, ...] = ()  # filled below, once parse_reminder exists


def parse_reminder(text: str) -> Reminder | None:
    t = text.strip().lower()
    if t in ("open", "开始", "期初"):
        return Reminder(label="open", anchor="open")
    if t in ("due", "due morning", "截止日"):
        return Reminder(label="0d")
    m = re.fullmatch(r"([+-]?)(\d+(?:\.\d+)?)\s*([dh])", t)
    if not m:
        return None
    sign = -1 if m[1] == "-" else 1
    if m[3] == "h":
        return Reminder(label=t, hours=sign * float(m[2]))
    if "." in m[2]:
        return None
    return Reminder(label=t if m[1] or m[2] != "0" else "0d", days=sign * int(m[2]))


DEFAULT_REMINDERS = tuple(parse_reminder(s) for s in ("open", "-7d", "-3d", "-1d", "0d", "+1d"))  # type: ignore[misc]


class _Validator:
    """Cross-references: ids, roles, people, units, deputy/superior cycles, callout escalation."""

    def __init__(self, r: _Reader, catalog: Catalog, units, people, duties, tasks, checks, callouts, steps,
                 root: _Node):
        self.r, self.c = r, catalog
        self.units, self.people, self.duties, self.tasks = units, people, duties, tasks
        self.checks, self.callouts, self.steps, self.root = checks, callouts, steps, root

    def run(self) -> None:
        self.unique("单位 / unit", [(u.id, n) for u, n in self.units])
        self.unique("人员 / person", [(p.id, n) for p, n in self.people])
        # Two people bound to one Telegram account would break the store's unique binding.
        self.unique("Telegram", [(str(p.telegram_id), _get(n.value, "telegram_id") or n)
                                 for p, n in self.people if p.telegram_id])
        self.unique("职责 / duty", [(d.id, n) for d, n in self.duties] + [(t.id, n) for t, n in self.tasks]
                    + [(c.id, n) for c, n in self.checks])
        for ident, node in [(d.id, n) for d, n in self.duties] + [(t.id, n) for t, n in self.tasks]:
            if not ID_RE.match(ident):
                self.r.error(node, f"id {ident!r} 只能含字母、数字、-_. 且不超过40字符 / ids use letters, digits, - _ . (max 40)")
        unit_ids = {u.id for u, _ in self.units}
        for p, node in self.people:
            fields = node.value
            if p.unit and unit_ids and p.unit not in unit_ids:
                self.r.error(_get(fields, "unit") or node, f"未知单位 “{p.unit}” / unknown unit")
            for role in p.roles:
                if role not in self.c.roles:
                    self.r.error(_find(_get(fields, "roles"), role) or node,
                                 f"未知角色 “{role}” / unknown role (declare it under roles:)")
            for rel in ("deputy", "superior"):
                other = getattr(p, rel)
                if other and not self.c.find_person(other):
                    self.r.error(_get(fields, rel) or node, f"{rel}: 未知人员 “{other}” / unknown person")
                elif other and self.c.find_person(other).id == p.id:
                    self.r.error(_get(fields, rel) or node, f"{rel}: 不能是本人 / cannot be the person themself")
        self.superior_cycles()
        for d, node in self.duties:
            self.check_who(d.who, node)
            if d.spread and (not d.frequency or d.frequency.at_least < 2):
                self.r.error(_get(node.value, "spread") or node, "spread 需要频次至少2次 / spread needs a frequency of at least 2")
            elif d.spread and not (d.frequency.plain or d.frequency.n > 1 or d.frequency.which):
                self.r.error(_get(node.value, "spread") or node,
                             "spread 不能用于指定日期或时段的频次 / spread cannot cut a frequency with fixed days, "
                             "a weekday, a due day or a season")
            elif d.spread and d.frequency.at_least > shortest_days(d.frequency):
                self.r.error(_get(node.value, "spread") or node,
                             f"spread: {d.frequency.at_least} 次多于周期的天数 / more parts than the period has days "
                             f"({shortest_days(d.frequency)})")
        for t, node in self.tasks:
            self.check_who(t.who, node)
            if t.opens and t.opens > t.due:
                self.r.error(_get(node.value, "opens") or node, "opens 晚于 due / `opens` is after `due`")
            for u in t.units:
                if unit_ids and u not in unit_ids:
                    self.r.error(_find(_get(node.value, "units"), u) or node, f"未知单位 “{u}” / unknown unit")
        for c, node in self.checks:
            self.check_who(c.who, node)
            listed = _get(node.value, "holidays")
            if not c.holidays and not (listed and listed.value):  # unknown names are reported already
                self.r.error(node, "节前检查需要至少一个节日 / a holiday check needs holidays")
        for p, node in self.callouts:
            self.check_who(p.who, node)
            self.check_escalation(p, node)
        self.check_assessment()

    def check_assessment(self) -> None:
        for step, node in self.steps:
            if step.by and step.by not in self.c.roles:
                self.r.error(_get(node.value, "by") or node, f"未知角色 “{step.by}” / unknown role")
        section = _get(self.root.value, "assessment")
        units_node = _get(section.value, "units") if section and isinstance(section.value, dict) else None
        unit_ids = {u.id for u in self.c.units}
        for unit in self.c.assessment.units:
            if unit not in unit_ids:
                self.r.error(_find(units_node, unit) or units_node or self.root, f"未知单位 “{unit}” / unknown unit")

    def unique(self, what: str, items: list[tuple[str, _Node]]) -> None:
        seen: dict[str, _Node] = {}
        for ident, node in items:
            if ident in seen:
                self.r.error(node, f"重复的{what} id “{ident}”（首次出现在第 {seen[ident].line} 行）/ duplicate id, first at line {seen[ident].line}")
            else:
                seen[ident] = node

    def check_who(self, who: Who, node: _Node) -> None:
        where = _get(node.value, "who") or node
        if not (who.roles or who.people or who.units):
            self.r.error(where, "缺少 who（角色或人员）/ `who` is missing: name roles or people")
            return
        for role in who.roles:
            if role not in self.c.roles:
                self.r.error(_find(where, role) or where, f"未知角色 “{role}” / unknown role")
        for person in who.people:
            if not self.c.find_person(person):
                self.r.error(_find(where, person) or where, f"未知人员 “{person}” / unknown person")
        unit_ids = {u.id for u in self.c.units}
        for unit in who.units:
            if unit not in unit_ids:
                self.r.error(_find(where, unit) or where, f"未知单位 “{unit}” / unknown unit")

    def superior_cycles(self) -> None:
        for rel in ("superior", "deputy"):
            reported: set[frozenset[str]] = set()
            for p, node in self.people:
                chain, current = [p.id], p
                while True:
                    nxt = getattr(current, rel)
                    nxt_p = self.c.find_person(nxt) if nxt else None
                    if nxt_p is None:
                        break
                    if nxt_p.id in chain:
                        cycle = chain[chain.index(nxt_p.id):]
                        key = frozenset(cycle)
                        # A deputy pair (A stands in for B and B for A) is normal; longer loops and
                        # any superior loop mean nobody is on top.
                        if (rel == "superior" or len(cycle) > 2) and key not in reported:
                            reported.add(key)
                            self.r.error(_get(node.value, rel) or node,
                                         f"{rel} 形成循环 / {rel} cycle: {' → '.join(cycle + [nxt_p.id])}")
                        break
                    chain.append(nxt_p.id)
                    current = nxt_p

    def check_escalation(self, policy: CalloutPolicy, node: _Node) -> None:
        where = _get(node.value, "escalate") or node
        if not policy.escalate:
            self.r.error(where, "叫应策略无法升级：escalate 为空 / callout policy cannot escalate: empty chain")
            return
        people_steps: list[str] = []
        for step in policy.escalate:
            parts = [p.strip() for p in step.split("+")]
            for part in parts:
                if part in CHANNEL_STEPS:
                    continue
                if part not in ESCALATION_STEPS and not self.c.find_person(part):
                    self.r.error(where, f"未知升级对象 “{part}” / unknown escalation step; use deputy, superior, "
                                        "office, a person, voice or sms (joined with +)")
                    return
                people_steps.append(part)
        if not people_steps:  # phoning the silent one is not enough: somebody must hear of the silence
            self.r.error(where, "叫应策略无法升级：escalate 只有 voice/sms，没有人 / callout policy reaches "
                                "nobody else: add deputy, superior, office or a person")
            return
        if "office" in people_steps and not self.c.office:
            self.r.error(where, "升级到 office 但没有安委办人员（office: true）/ escalates to office but nobody has office: true")
        named = [s for s in people_steps if s not in ESCALATION_STEPS]
        personal = [s for s in people_steps if s in ("deputy", "superior")]
        if named or ("office" in people_steps and self.c.office) or not personal:
            return
        for person in self.c.members(policy.who):
            if not any(getattr(person, step, None) for step in personal):
                self.r.error(where, f"叫应策略无法升级：{person.name} 没有 {'/'.join(personal)} / "
                                    f"callout policy cannot escalate for {person.name}")
                return


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the node tree is built.

    The tree is acyclic and all of it survives until the catalogue is built, so each collection
    rescans it for nothing: with 20,000 people that made loading take 2.5 times as long as with
    10,000. Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_catalog_text(text: str, path: str = "duties.yaml") -> Catalog:
    """Parse and validate; raise CatalogError listing every problem."""
    with _gc_paused():
        return _load_catalog_text(text, path)


def _load_catalog_text(text: str, path: str) -> Catalog:
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        context = f" ({e.context}, line {e.context_mark.line + 1})" if e.context and e.context_mark else ""
        raise CatalogError([Problem(path, line, col,
                                    f"YAML 语法错误 / YAML syntax error: {e.problem or e}{context}")]) from None
    except yaml.YAMLError as e:
        raise CatalogError([Problem(path, 1, 1, f"YAML 错误 / YAML error: {e}")]) from None
    if root is None:
        raise CatalogError([Problem(path, 1, 1, "文件为空 / the file is empty")])
    reader = _CatalogReader(path)
    try:
        catalog = reader.read(_wrap(root))
    except yaml.MarkedYAMLError as e:  # e.g. an unknown tag (!foo) met while constructing a value
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise CatalogError([Problem(path, line, col, f"YAML 错误 / YAML error: {e.problem or e}")]) from None
    except yaml.YAMLError as e:
        raise CatalogError([Problem(path, 1, 1, f"YAML 错误 / YAML error: {e}")]) from None
    if reader.problems or catalog is None:
        raise CatalogError(sorted(reader.problems, key=lambda p: (p.line, p.col)))
    return catalog


MAX_CATALOG_BYTES = 20 * 1024 * 1024  # a county's list is ~100 kB; /dev/zero and the like never end


def load_catalog(path: str | Path) -> Catalog:
    p = Path(path)
    try:
        with p.open("rb") as f:  # read a bounded amount: `--duties /dev/full` must not fill the memory
            data = f.read(MAX_CATALOG_BYTES + 1)
        if len(data) > MAX_CATALOG_BYTES:
            raise CatalogError([Problem(str(p), 0, 0, f"文件过大（超过 {MAX_CATALOG_BYTES // 1024 // 1024} MB），"
                                                      "不是职责清单 / the file is too large to be a catalogue")])
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise CatalogError([Problem(str(p), 0, 0, "找不到文件 / file not found")]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise CatalogError([Problem(str(p), 0, 0, f"无法读取文件 / cannot read the file: {e}")]) from None
    return load_catalog_text(text, str(p))
