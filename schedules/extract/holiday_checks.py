"""Inspections before holidays: "在春节、元旦、清明、五一、十一…等重要时间节点…带队开展隐患排查".

School breaks count too ("寒暑假放假前…组织开展一次校园安全隐患大排查"): drafted as a check before 寒假 and
暑假, with a note that their dates must be written under `holidays:` (no calendar knows them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..holidays import HOLIDAY_NAMES, SCHOOL_BREAKS
from .cadence import _PART_SEP, _SENTENCE_END, FREQUENCY_LINE
from .roles import PREFIX, mentions

_NAME = r"元旦|春节|清明节?|五一|劳动节|端午节?|中秋节?|国庆节?|十一|寒暑假|寒假|暑假"
# Names may be quoted: 春节、清明、“五一”、国庆 — the list must not stop at a quote mark.
_QUOTED = rf"[“\"「『‘']?(?:{_NAME})[”\"」』’']?"
_NAMES = re.compile(rf"{_QUOTED}(?:[、，,和及与]\s*{_QUOTED})*")
_QUOTES = "“”\"「」『』‘’'"
_GENERIC = re.compile(r"(?:重大|重要|法定|传统)?节假日|(?:重大|重要|传统)?节日(?=期间|前|来临)|(?:重大|重要|传统)节日")
_INSPECT = re.compile(r"检查|排查|巡查|督查|暗访")
_CELL_BEFORE = re.compile(r"\s*(?:等)?(?:重要)?(?:节日|节假日)?(?:前|期间)\s*(?:[|｜]|$)")
ALL_HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")  # official: 节假日 means these
_ORDER = ("元旦", "寒假", "春节", "清明节", "劳动节", "端午节", "暑假", "中秋节", "国庆节")
_BREAKS_NOTE = "寒暑假日期各校不同，请在 holidays: 中写明每年的起止日期，否则不排期"


@dataclass
class HolidayFind:
    holidays: tuple[str, ...]
    start: int  # the sentence, for the source clause
    end: int
    subject: str | None
    note: str = ""
    title_start: int = 0  # "在重要节假日…带队开展安全检查": the words the title is made of
    title_end: int = 0


def find(clause: str) -> list[HolidayFind]:
    out = []
    start = 0
    for end_m in [*_SENTENCE_END.finditer(clause), None]:
        end = end_m.start() if end_m else len(clause)
        sentence = clause[start:end]
        hit = _holidays_in(sentence)
        if hit:
            names, hol_start, hol_end, note = hit
            inspect = _INSPECT.search(sentence, hol_end)
            t_start = max(sentence.rfind(c, 0, hol_start) for c in _PART_SEP) + 1
            if inspect is None and FREQUENCY_LINE.match(sentence.lstrip()) and start > 0:
                # "5．带队开展节前安全检查。" + "频次：元旦、春节前": the act is the item's, before the line
                item = _INSPECT.search(clause, 0, start)
                if item:
                    out.append(HolidayFind(names, 0, end, None, note))
                start = end_m.end() if end_m else end
                continue
            if inspect is None and _CELL_BEFORE.match(sentence, hol_end):
                # a table row "带队开展节前…检查 | 元旦、春节、国庆节前 |": the act is in the cell before
                cell_end = max(sentence.rfind(c, 0, hol_start) for c in "|｜")
                cell_start = max(sentence.rfind(c, 0, cell_end) for c in "|｜") + 1
                inspect = _INSPECT.search(sentence, cell_start, cell_end) if cell_end > 0 else None
                t_start = cell_start
            if inspect:
                t_end = min([i for i in (sentence.find(c, inspect.end()) for c in _PART_SEP) if i >= 0]
                            or [len(sentence)])
                out.append(HolidayFind(names, start, end, _subject_between(sentence, hol_end, inspect.start()), note,
                                       start + t_start, start + t_end))
        start = end_m.end() if end_m else end
    return out


def _holidays_in(sentence: str) -> tuple[tuple[str, ...], int, int, str] | None:
    for m in _NAMES.finditer(sentence):
        words = re.split(r"[、，,和及与]\s*", m.group(0))
        if len(words) == 1 and words[0] == "十一":
            continue  # 十一 alone is a number far more often than National Day (“十一” quoted is the holiday)
        words = [w.strip(_QUOTES) for w in words]
        words = [x for w in words for x in (("寒假", "暑假") if w == "寒暑假" else (w,))]
        canonical = {HOLIDAY_NAMES[w] for w in words if w in HOLIDAY_NAMES}
        names = tuple(h for h in _ORDER if h in canonical)  # in calendar order
        if names:
            return names, m.start(), m.end(), _BREAKS_NOTE if canonical & SCHOOL_BREAKS else ""
    g = _GENERIC.search(sentence)
    if g:
        return ALL_HOLIDAYS, g.start(), g.end(), "原文未列节日名称，按全部法定节日起草"
    return None


def _subject_between(sentence: str, start: int, end: int) -> str | None:
    """"…等重要时间节点，各部门应当带队开展隐患排查": the role that opens a clause part."""
    for mention in mentions(sentence[start:end]):
        part_start = max(sentence.rfind(c, 0, start + mention.start) for c in "，,；;：:") + 1
        if re.fullmatch(PREFIX, sentence[part_start:start + mention.start]):
            return mention.role
    return None
