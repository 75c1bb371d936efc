"""Formatting of times and numbers for people: always in the display timezone (Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = "一二三四五六日"


def local(dt: datetime, tz: ZoneInfo = SHANGHAI) -> datetime:
    return dt.astimezone(tz)


def day(dt: datetime, tz: ZoneInfo = SHANGHAI) -> str:
    d = local(dt, tz)
    return f"{d.month}月{d.day}日（周{WEEKDAYS[d.weekday()]}）"


def moment(dt: datetime, tz: ZoneInfo = SHANGHAI) -> str:
    d = local(dt, tz)
    return f"{d.month}月{d.day}日 {d:%H:%M}"


def clock(dt: datetime, tz: ZoneInfo = SHANGHAI) -> str:
    return f"{local(dt, tz):%H:%M}"


def full(dt: datetime, tz: ZoneInfo = SHANGHAI) -> str:
    return f"{local(dt, tz):%Y-%m-%d %H:%M}"


def period(key: str) -> str:
    """2026-03 → 2026年3月; 2026-Q2 → 2026年第二季度; 2026-B2 → 2026年3–4月; 2026-03-H1 → 2026年3月上半月;
    2026-汛期前 → 2026年汛期前; other keys as they are."""
    import re

    if m := re.fullmatch(r"(\d{4})-(\d{2})", key):
        return f"{m[1]}年{int(m[2])}月"
    if m := re.fullmatch(r"(\d{4})-Q(\d)", key):
        return f"{m[1]}年第{'一二三四'[int(m[2]) - 1]}季度"
    if m := re.fullmatch(r"(\d{4})-H(\d)", key):
        return f"{m[1]}年{'上下'[int(m[2]) - 1]}半年"
    if m := re.fullmatch(r"(\d{4})", key):
        return f"{m[1]}年度"
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d)", key):
        return f"{m[1]}年{int(m[2])}月{'上中下'[int(m[3]) - 1]}旬"
    if m := re.fullmatch(r"(\d{4})-W(\d{2})", key):
        return f"{m[1]}年第{int(m[2])}周"
    if m := re.fullmatch(r"(\d{4})-(.+节)", key):
        return f"{m[1]}年{m[2]}前"
    if m := re.fullmatch(r"(\d{4})-(\d{2})-H([12])", key):
        return f"{m[1]}年{int(m[2])}月{'上下'[int(m[3]) - 1]}半月"
    if m := re.fullmatch(r"(\d{4})-([BT])(\d)", key):
        n = 2 if m[2] == "B" else 4
        first = (int(m[3]) - 1) * n + 1
        return f"{m[1]}年{first}–{first + n - 1}月"
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", key):
        return f"{m[1]}年{int(m[2])}月{int(m[3])}日"
    if m := re.fullmatch(r"(\d{4})-([\u4e00-\u9fff]+)", key):  # a season: 2026-汛期前, 2026-汛期, 2026-汛期后
        return f"{m[1]}年{m[2]}"
    return key
