"""The frequency grammar of responsibility lists: "每月至少1次", "每季度1次", "每年3次", "每日"."""

from __future__ import annotations

import re

from .catalog import Frequency, PeriodKind

PERIOD_WORDS: dict[str, PeriodKind] = {
    "日": PeriodKind.DAY, "天": PeriodKind.DAY,
    "周": PeriodKind.WEEK, "星期": PeriodKind.WEEK,
    "旬": PeriodKind.XUN,
    "月": PeriodKind.MONTH,
    "季度": PeriodKind.QUARTER, "季": PeriodKind.QUARTER,
    "半年": PeriodKind.HALF,
    "年": PeriodKind.YEAR, "年度": PeriodKind.YEAR,
}
# Structured forms (`every: quarter`) accept the English names and a few aliases.
PERIOD_NAMES: dict[str, PeriodKind] = {k.value: k for k in PeriodKind} | {
    "daily": PeriodKind.DAY, "weekly": PeriodKind.WEEK, "monthly": PeriodKind.MONTH,
    "quarterly": PeriodKind.QUARTER, "half-year": PeriodKind.HALF, "halfyear": PeriodKind.HALF,
    "yearly": PeriodKind.YEAR, "annual": PeriodKind.YEAR,
}
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_PERIOD_ALT = "|".join(sorted(PERIOD_WORDS, key=len, reverse=True))
_COUNT = r"[0-9]+|[零一二两三四五六七八九十]+"
_PHRASE = re.compile(
    rf"^每(?:个)?(?P<period>{_PERIOD_ALT})(?:(?:至少|不少于|最少)?(?P<count>{_COUNT})\s*次(?:以上)?)?$"
)


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


def parse_frequency(phrase: str) -> Frequency | None:
    """Parse one normalized frequency phrase; None when it is not one.

    A phrase without a count ("每日", "每半年") means once per period.
    """
    text = re.sub(r"\s+", "", phrase)
    m = _PHRASE.match(text)
    if not m:
        return None
    count = chinese_number(m["count"]) if m["count"] else 1
    if not count:
        return None
    return Frequency(every=PERIOD_WORDS[m["period"]], at_least=count, phrase=phrase.strip())


def parse_structured(every: str, at_least: int = 1) -> Frequency | None:
    kind = PERIOD_NAMES.get(str(every).strip().lower())
    if kind is None or not isinstance(at_least, int) or isinstance(at_least, bool) or at_least < 1:
        return None
    return Frequency(every=kind, at_least=at_least, phrase=f"every {kind.value}, at least {at_least}")
