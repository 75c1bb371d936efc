"""The frequency grammar of responsibility lists, shared by duties.yaml and the importer.

One set of patterns reads how lists write a period: "每月至少1次", "每个月至少开展1次", "一年两次",
"全年不少于4次", "每两个月1次", "至少每两年一次", "每半月", "每月10日、24日", "每周五", "每月5日前",
"每年11月底前", "上半年、下半年各一次", "每年汛前1次". `ANCHOR` finds where a period is named (the
importer searches clauses with it, adding a few context-only forms of its own); `read_anchor` says what
a match means; `parse_frequency` accepts a whole phrase (the catalogue's `frequency:`), and
`phrase_of` writes a Frequency back as a phrase that parses to it, which is what the importer drafts.

What the calendar cannot hold (每两周, 每三天) is still recognized: `Anchor.approx` carries the nearest
period the importer drafts (marked for review), and the loader refuses it, naming that nearest form.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from functools import lru_cache

from .catalog import DEFAULT_SEASONS, Frequency, PeriodKind

PERIOD_WORDS: dict[str, PeriodKind] = {
    "日": PeriodKind.DAY, "天": PeriodKind.DAY,
    "周": PeriodKind.WEEK, "星期": PeriodKind.WEEK,
    "旬": PeriodKind.XUN,
    "半月": PeriodKind.HALFMONTH, "半个月": PeriodKind.HALFMONTH,
    "月": PeriodKind.MONTH, "月度": PeriodKind.MONTH, "个月": PeriodKind.MONTH,
    "季度": PeriodKind.QUARTER, "季": PeriodKind.QUARTER,
    "半年": PeriodKind.HALF, "半年度": PeriodKind.HALF,
    "年": PeriodKind.YEAR, "年度": PeriodKind.YEAR, "全年": PeriodKind.YEAR,
}
# Structured forms (`every: quarter`) accept the English names and a few aliases.
PERIOD_NAMES: dict[str, PeriodKind] = {k.value: k for k in PeriodKind} | {
    "daily": PeriodKind.DAY, "weekly": PeriodKind.WEEK, "monthly": PeriodKind.MONTH,
    "quarterly": PeriodKind.QUARTER, "half-year": PeriodKind.HALF, "halfyear": PeriodKind.HALF,
    "yearly": PeriodKind.YEAR, "annual": PeriodKind.YEAR, "half-month": PeriodKind.HALFMONTH,
    "semimonthly": PeriodKind.HALFMONTH,
}
PERIOD_WORD = {PeriodKind.DAY: "日", PeriodKind.WEEK: "周", PeriodKind.XUN: "旬", PeriodKind.HALFMONTH: "半月",
               PeriodKind.MONTH: "月", PeriodKind.QUARTER: "季度", PeriodKind.HALF: "半年", PeriodKind.YEAR: "年"}
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
MONTH_MULTIPLES = {1: PeriodKind.MONTH, 2: PeriodKind.MONTH, 3: PeriodKind.QUARTER, 4: PeriodKind.MONTH,
                   6: PeriodKind.HALF, 12: PeriodKind.YEAR}
MAX_YEARS = 10  # 每十年 is the longest cycle a list writes (人员轮训 每3年, 预案评估 每3年, 普查 每5年)

N = r"(?:\d{1,3}|[一二两三四五六七八九十]{1,3})"
AT_LEAST = r"(?:至少|不少于|不低于|最少|不得少于)"
_BY = r"(?:前|之前|以前)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9]|[一二三四五六七八九十]{1,3})"


def _season_forms(name: str) -> list[str]:
    """How lists write the stretches of a season: 汛期 → 汛前, 汛期前, 汛期, 汛期内, 主汛期, 汛后…"""
    stems = [name] + ([name[:-1]] if name.endswith("期") and len(name) > 1 else [])
    forms = [f"{s}{w}" for s in stems for w in ("前", "后")]
    forms += [f"{name}{w}" for w in _BEFORE_WORDS + _AFTER_WORDS]  # 森林防火期开始前, 汛期结束后
    forms += [f"主{name}", f"{name}内", f"{name}期间", f"{name}中", name]
    return forms


_BEFORE_WORDS = ("开始前", "到来前", "来临前")
_AFTER_WORDS = ("结束后",)


def season_word(text: str, seasons: tuple[str, ...]) -> tuple[str, str] | None:
    """"汛前" → ("汛期", "before"); None when `text` names no stretch of a known season."""
    for name in seasons:
        stems = [name] + ([name[:-1]] if name.endswith("期") and len(name) > 1 else [])
        for s in stems:
            if text == f"{s}前" or text in (f"{name}{w}" for w in _BEFORE_WORDS):
                return name, "before"
            if text == f"{s}后" or text in (f"{name}{w}" for w in _AFTER_WORDS):
                return name, "after"
        if text in _season_forms(name):
            return name, "during"
    return None


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def _anchor_pattern(seasons: tuple[str, ...]) -> str:
    season = _alt([f for s in seasons for f in _season_forms(s)])
    return (
        # 每月, 每两个月, 每半月, 每两年, 每周五, 每月10日、24日, 每月5日前, 每年11月底前, 每年汛前
        r"每(?:一|个|(?P<skip>隔))?(?:(?P<mult>[两二三四五六七八九十\d]{1,2})个?)?"
        r"(?P<unit>半个?月|半年度?|年度|年|季度|季|月度|月|旬|周|星期|天|日)"
        r"(?:(?<=[周期])(?:星期|周)?(?P<weekday>[一二三四五六日天])(?![次回遍轮个])"
        rf"|(?<=月)的?(?P<days>{_DAY}[日号](?:[、，,和及与]{_DAY}[日号])*)(?P<days_by>{_BY})?"
        rf"|(?<=年)度?的?(?P<due_month>1[0-2]|0?[1-9]|[一二三四五六七八九十]{{1,2}})月份?"
        rf"(?:(?P<due_day>{_DAY})[日号]|(?P<due_end>底|末))?(?:{_BY})?"
        rf"|(?<=年)的?(?P<season>{season})(?![、和及与]))?"
        # 一年两次, 1个月1次 (never 一月: that is January)
        rf"|(?<![上下每本同当第])(?:一|1)(?P<unit2>个月|个?(?:年|季度|季|周|旬))内?{AT_LEAST}?(?P<count2>{N})次"
        # 两年一次, 三年至少一次: a cycle of years written without 每
        rf"|(?<![上下每本同当第近前后这那\d一二两三四五六七八九十])(?P<years>[两二三四五]|[2-5])年{AT_LEAST}?(?:一|1)次"
        rf"|(?<![上下每本])(?P<half_month>半个?月){AT_LEAST}?(?P<count_hm>{N})次"
        rf"|(?<![上下每本])(?P<unit3>半年){AT_LEAST}?(?P<count3>{N})次"
        # "每年上半年、下半年各1次" stays a yearly count of 2 (times of the year, as the importer always read it)
        r"|(?<!年)(?P<both_halves>上\s*[、和及与]?\s*下半年各|上半年\s*[、和及与]\s*下半年各?)"
        r"|(?<![每至到、])(?P<named_half>上半年|下半年)(?![各底末前、和及与])(?=[^。；;，,]{0,15}?(?:次|回|轮|遍))"
        r"|(?P<once_a_year>[一每]年一度)"
        r"|(?P<whole_year>全年)(?=[^。；;]{0,30}?(?:次|回|轮|遍))"
        rf"|(?P<count4>{N})次[/／](?P<unit4>年|季度|季|月|周|旬|日|天)"
        rf"|(?<![每年的、])(?P<season2>{season})(?![、和及与])(?=[^。；;，,]{{0,40}}?(?:次|回|轮|遍))"
    )


@lru_cache(maxsize=16)
def anchor_regex(seasons: tuple[str, ...] = tuple(DEFAULT_SEASONS)) -> re.Pattern:
    return re.compile(_anchor_pattern(seasons))


ANCHOR = anchor_regex()
# "开展1次", "至少组织一次", "各1次", "向主要负责人专题汇报1次": the words of the act, then the count. The words
# hold no other count, no second period and no sentence end, so "每月至少1次，每季度1次" is no one frequency. A
# catalogue counts in 次 only (the loader has always refused "每季度一回"); the importer also reads 回/轮/遍.
# 轮训/轮岗 are acts, not counts; KTV and the like are words of the act too. Shifts count: "带班下井不少于5个班次".
_ACT_WORDS = rf"(?:(?!{N}(?:个?班)?(?:次|回|遍|轮)|[次回遍每]|轮(?![训岗换值流]))[\u4e00-\u9fffA-Za-z、，,（）()“”《》])"
_COUNT_TAIL = re.compile(rf"^{_ACT_WORDS}{{0,40}}?{AT_LEAST}?(?P<cnt>{N})(?:个?班)?次(?:以上|及以上)?$")
# "每年上半年、下半年各1次" is 上半年、下半年各1次: each half named (the 每年 adds nothing).
_YEAR_BEFORE_HALVES = re.compile(r"^每年(?=(?:上半年\s*[、和及与]\s*下半年|上\s*[、和及与]?\s*下半年)各)")


@dataclass(frozen=True)
class Anchor:
    """What a period named in the text means. `frequency` is None when the calendar cannot hold it;
    then `approx` (a frequency and a note) is the nearest the importer may draft, or nothing."""

    frequency: Frequency | None
    count: int | None = None  # a count written inside the anchor itself (一年两次)
    at_least: bool = False
    needs_count: bool = False  # 全年, 上半年, 汛前 are a period only with a count after them
    approx: tuple[Frequency, str] | None = None
    reason: str = ""  # why there is no frequency
    both_halves: bool = False  # 上半年、下半年各: each half named


def chinese_number(text: str) -> int | None:
    """'3' -> 3, '两' -> 2, '十二' -> 12; None when it is not a number."""
    if text.isdigit():
        return int(text)
    if not text or any(c not in CN_DIGITS and c != "十" for c in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        # 十, 十二, 二十, 二十三; anything else ("十十", "一二十") is not a number
        if len(tens) > 1 or len(ones) > 1 or "十" in ones:
            return None
        return (CN_DIGITS[tens] if tens else 1) * 10 + (CN_DIGITS[ones] if ones else 0)
    value = 0
    for c in text:
        value = value * 10 + CN_DIGITS[c]
    return value


def _cn(n: int) -> str:
    return {2: "两"}.get(n) or "零一二三四五六七八九十"[n] if n <= 10 else str(n)


def _multiple(text: str, kind: PeriodKind, mult: int) -> Anchor:
    """每两个月, 每三年, 每两周…: a period of the calendar, or the nearest one the importer may draft."""
    if kind is PeriodKind.MONTH and mult in MONTH_MULTIPLES:
        target = MONTH_MULTIPLES[mult]
        return Anchor(Frequency(target, n=mult if target is PeriodKind.MONTH else 1))
    if kind is PeriodKind.QUARTER and mult in (2, 4):
        return Anchor(Frequency(PeriodKind.HALF if mult == 2 else PeriodKind.YEAR))
    if kind is PeriodKind.DAY and mult == 10:  # 每十天: a 旬
        return Anchor(Frequency(PeriodKind.XUN))
    if kind is PeriodKind.YEAR and 2 <= mult <= MAX_YEARS:
        return Anchor(Frequency(PeriodKind.YEAR, n=mult))
    if kind is PeriodKind.WEEK and mult == 2:
        return Anchor(None, approx=(Frequency(PeriodKind.MONTH, 2), f"原文“{text}”，按每月2次起草"),
                      reason="每两周 is not a period of the calendar")
    if kind is PeriodKind.DAY and mult <= 3:
        per_week = 7 // mult
        return Anchor(None, approx=(Frequency(PeriodKind.WEEK, per_week), f"原文“{text}”，按每周{per_week}次起草"),
                      reason=f"every {mult} days is not a period of the calendar")
    return Anchor(None, reason=f"原文“{text}”，超出可排期的周期，未排期")


def _days(text: str) -> tuple[int, ...]:
    return tuple(sorted({chinese_number(d) or 0 for d in re.findall(_DAY, text)} - {0}))


def read_anchor(m: re.Match, seasons: tuple[str, ...] = tuple(DEFAULT_SEASONS)) -> Anchor:
    """The meaning of a match of `anchor_regex` (any of the grammar's groups)."""
    text = m.group(0)
    at_least = bool(re.search(AT_LEAST, text))
    if m["unit"]:
        unit = m["unit"]
        mult = chinese_number(m["mult"]) if m["mult"] else 1
        if m["skip"] and mult == 1:  # 每隔一个月: every other month
            mult = 2
        kind = PERIOD_WORDS[unit.replace("个", "") if unit.startswith("半") else unit]
        if mult is None or mult < 1:
            return Anchor(None, reason=f"原文“{text}”，无法识别的周期")
        if mult > 1:
            if kind in (PeriodKind.HALFMONTH, PeriodKind.HALF, PeriodKind.XUN) or any(
                    m[g] for g in ("weekday", "days", "due_month", "season")):
                return Anchor(None, reason=f"原文“{text}”，超出可排期的周期，未排期")
            return _multiple(text, kind, mult)
        if m["weekday"]:
            return Anchor(Frequency(PeriodKind.WEEK, weekday=CN_WEEKDAY[m["weekday"]]))
        if m["days"]:
            days = _days(m["days"])
            if not days or days[-1] > 31:
                return Anchor(None, reason=f"原文“{text}”，日期无法识别")
            if m["days_by"] and len(days) == 1:  # 每月5日前: monthly, due that day
                return Anchor(Frequency(PeriodKind.MONTH, due=(0, days[0])))
            return Anchor(Frequency(PeriodKind.MONTH, days=days))
        if m["due_month"]:
            month = chinese_number(m["due_month"]) or 0
            if not 1 <= month <= 12:
                return Anchor(None, reason=f"原文“{text}”，月份无法识别")
            day = chinese_number(m["due_day"]) if m["due_day"] else 31  # 底/末/no day: the month's last
            if not day or day > 31:
                return Anchor(None, reason=f"原文“{text}”，日期无法识别")
            return Anchor(Frequency(PeriodKind.YEAR, due=(month, _clamp(month, day))))
        if m["season"]:
            name, when = season_word(m["season"], seasons)  # type: ignore[misc]
            return Anchor(Frequency(PeriodKind.YEAR, season=name, when=when))
        return Anchor(Frequency(kind))
    if m["unit2"]:
        return Anchor(Frequency(PERIOD_WORDS[m["unit2"].replace("个", "")]), chinese_number(m["count2"]), at_least)
    if m["years"]:
        return Anchor(Frequency(PeriodKind.YEAR, n=chinese_number(m["years"]) or 2), 1, at_least)
    if m["half_month"]:
        return Anchor(Frequency(PeriodKind.HALFMONTH), chinese_number(m["count_hm"]), at_least)
    if m["unit3"]:
        return Anchor(Frequency(PeriodKind.HALF), chinese_number(m["count3"]), at_least)
    if m["both_halves"]:  # the same calendar as every half; the importer drafts the halves separately
        return Anchor(Frequency(PeriodKind.HALF), both_halves=True)
    if m["named_half"]:
        return Anchor(Frequency(PeriodKind.HALF, which="H1" if m["named_half"] == "上半年" else "H2"),
                      needs_count=True)
    if m["once_a_year"]:
        return Anchor(Frequency(PeriodKind.YEAR), 1)
    if m["whole_year"]:
        return Anchor(Frequency(PeriodKind.YEAR), needs_count=True)
    if m["unit4"]:
        return Anchor(Frequency(PERIOD_WORDS[m["unit4"]]), chinese_number(m["count4"]), at_least)
    if m["season2"]:
        name, when = season_word(m["season2"], seasons)  # type: ignore[misc]
        return Anchor(Frequency(PeriodKind.YEAR, season=name, when=when), needs_count=True)
    raise ValueError(text)


def _clamp(month: int, day: int) -> int:
    """The last day a month can have in any year (2月29日 stays: Feb 28 in common years)."""
    return min(day, (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1])


def _normalize(phrase: str) -> str:
    text = re.sub(r"\s+", "", phrase).strip("。；;，,.")
    return re.sub(r"^(?:原则上|应当?|须|必须)?(?:至少|不少于)(?=每)", "", text)


def parse_frequency(phrase: str, seasons: tuple[str, ...] = tuple(DEFAULT_SEASONS)) -> Frequency | None:
    """Parse one frequency phrase as a list writes it; None when it is not one.

    A phrase without a count ("每日", "每半年", "每周五") means once per period.
    """
    text = _YEAR_BEFORE_HALVES.sub("", _normalize(phrase))
    m = anchor_regex(seasons).match(text)
    if not m:
        return None
    anchor = read_anchor(m, seasons)
    if anchor.frequency is None:
        return None
    rest = text[m.end():]
    if anchor.count is not None:
        if not re.fullmatch(r"(?:以上|及以上)?", rest):
            return None
        count = anchor.count
    elif rest:
        tail = _COUNT_TAIL.match(rest)
        if not tail:
            return None
        count = chinese_number(tail["cnt"])
    elif anchor.needs_count:
        return None
    else:
        count = 1
    if not count:
        return None
    return replace(anchor.frequency, at_least=count, phrase=phrase.strip())


def parse_structured(every: str, at_least: int = 1) -> Frequency | None:
    kind = PERIOD_NAMES.get(str(every).strip().lower())
    if kind is None or not isinstance(at_least, int) or isinstance(at_least, bool) or at_least < 1:
        return None
    return Frequency(every=kind, at_least=at_least, phrase=f"every {kind.value}, at least {at_least}")


_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def weekday_of(name: object) -> int | None:
    """"fri", "Friday", "周五", "星期五", 5 (ISO: Monday 1) → 4; None otherwise."""
    if isinstance(name, int) and not isinstance(name, bool):
        return name - 1 if 1 <= name <= 7 else None
    text = str(name).strip().lower()
    for i, full in enumerate(_WEEKDAY_NAMES):
        if len(text) >= 3 and full.startswith(text):
            return i
    m = re.fullmatch(r"(?:周|星期)?([一二三四五六日天])", text)
    return CN_WEEKDAY[m[1]] if m else None


def phrase_of(f: Frequency, at_least: bool = False) -> str:
    """The phrase a catalogue writes for `f`, which `parse_frequency` reads back as `f`; `at_least`
    writes 至少 before the count."""
    count = f"{'至少' if at_least else ''}{f.at_least}次"
    if f.season is not None:
        stem = f.season[:-1] if f.season.endswith("期") and len(f.season) == 2 else f.season  # 汛前; 森林防火期前
        word = {"before": f"{stem}前", "after": f"{stem}后"}.get(f.when or "during", f.season)
        return f"每年{word}{count}"
    if f.days:
        return "每月" + "、".join(f"{d}日" for d in f.days) + ("各" if len(f.days) > 1 else "") + count
    if f.weekday is not None:
        return f"每周{'一二三四五六日'[f.weekday]}{count}"
    if f.due is not None:
        month, day = f.due
        return (f"每月{day}日前" if month == 0 else f"每年{month}月{day}日前") + count
    if f.which is not None:
        return f"{'上' if f.which == 'H1' else '下'}半年{count}"
    if f.n > 1:
        return f"每{_cn(f.n)}{'个月' if f.every is PeriodKind.MONTH else '年'}{count}"
    return f"每{PERIOD_WORD[f.every]}{count}"


# The forms an error message offers as the nearest known one.
KNOWN_FORMS = (
    "每日", "每周1次", "每旬1次", "每半月1次", "每月至少1次", "每个月至少开展1次", "每两个月1次", "每季度1次",
    "每四个月1次", "每半年至少1次", "每年3次", "一年两次", "全年不少于4次", "至少每两年一次", "每三年1次",
    "每月10日、24日", "每周五", "每月5日前", "每年11月底前", "上半年1次", "上半年、下半年各一次", "每年汛前1次",
    "每年汛期1次", "每年汛后1次",
)


def nearest_form(phrase: str, seasons: tuple[str, ...] = tuple(DEFAULT_SEASONS)) -> str:
    """The known form closest to an unparseable phrase, for the loader's message."""
    text = _normalize(phrase)
    m = anchor_regex(seasons).search(text)
    if m:
        anchor = read_anchor(m, seasons)
        if anchor.approx is not None:
            return phrase_of(anchor.approx[0])
        if anchor.frequency is not None:  # the period is right, the count is not: 每月若干次
            return phrase_of(anchor.frequency, at_least=True)
    close = difflib.get_close_matches(text, KNOWN_FORMS, n=1, cutoff=0.0)
    return close[0] if close else KNOWN_FORMS[4]
