"""Numbers as lists write them: 3, 两, 十二, 二十六, ①."""

from __future__ import annotations

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
CN_NUMERAL = "零〇一二两三四五六七八九十百"


def number(text: str) -> int | None:
    """'3' → 3, '两' → 2, '十二' → 12, '二十六' → 26, '一百零五' → 105, '⑤' → 5; None otherwise."""
    text = text.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    if len(text) == 1 and text in CIRCLED:
        return CIRCLED.index(text) + 1
    if any(c not in CN_NUMERAL for c in text):
        return None
    total, current, seen_unit = 0, 0, False
    for c in text:
        if c in _DIGITS:
            current = current * 10 + _DIGITS[c] if current and not seen_unit else _DIGITS[c]
            seen_unit = False
        elif c == "十":
            total += (current or 1) * 10
            current, seen_unit = 0, True
        else:  # 百
            total += (current or 1) * 100
            current, seen_unit = 0, True
    value = total + current
    return value if value < 10000 else None
