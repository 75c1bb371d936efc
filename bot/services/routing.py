"""Which duty a leader's message is about, when they did not say it with a button.

In order (bot/services/checkins.py applies it):
1. a reply (Telegram's reply) to a reminder or a digest: the duties of that message — the outbox
   payload lists them (`instances`, bot/services/digest.py); one still open → that one;
2. a 报告完成 / 上传佐证 tap before the message: that duty (the waiting draft);
3. otherwise the caption: `rank` scores every instance that accepts a check-in now by the words of
   the caption — the kind of duty (检查/巡查 ↔ inspection, 会议/研究 ↔ meeting, 汇报/报告 ↔ report,
   学习, 培训, 演练), the period (本月, 上月, 本季度, 上季度, 本周, 今年, 11月, 第四季度) and the words
   of the duty's title — and `clear_winner` says whether one stands out enough to file without
   asking (then the confirmation carries 改为其他职责). Otherwise the bot asks, best guesses first.

`rank` and `clear_winner` are pure: no store, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

# Words of a caption → the duty kind they point to (schedules.catalog.DutyKind values).
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "inspection": ("检查", "巡查", "排查", "督查", "查看", "检察", "隐患"),
    "meeting": ("会议", "研究", "开会", "例会", "专题会", "部署", "会上"),
    "report": ("汇报", "报告", "上报", "报送", "述职"),
    "study": ("学习", "研学", "宣讲"),
    "training": ("培训", "授课", "讲座", "教育"),
    "drill": ("演练", "演习", "应急演"),
}
KIND_SCORE = 3
PERIOD_SCORE = 3
TITLE_SCORE = 1  # per two-character word of the title found in the caption
TITLE_CAP = 4
CLEAR_MIN = 3  # a winner needs at least this score ...
CLEAR_MARGIN = 2  # ... and this much more than the runner-up
_CN_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
           "十一": 11, "十二": 12}
# Characters that never make a title word on their own (particles and the bot's own framing).
_STOP = set("的了和与及在对于等并把将是有一个各项")


@dataclass(frozen=True)
class Candidate:
    """An instance that accepts a check-in now, as the ranking sees it."""

    instance_id: int
    title: str
    kind: str
    period_key: str
    due_at: datetime


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: int
    why: tuple[str, ...] = ()


def kinds_in(text: str) -> set[str]:
    return {kind for kind, words in KIND_WORDS.items() if any(w in text for w in words)}


def periods_in(text: str, today: date) -> set[str]:
    """Period keys the caption names, relative to `today` (local)."""
    y, m = today.year, today.month
    q = (m - 1) // 3 + 1
    prev_m = (y, m - 1) if m > 1 else (y - 1, 12)
    prev_q = (y, q - 1) if q > 1 else (y - 1, 4)
    keys: set[str] = set()
    if "本月" in text or "这个月" in text or "当月" in text:
        keys.add(f"{y}-{m:02d}")
    if "上月" in text or "上个月" in text:
        keys.add(f"{prev_m[0]}-{prev_m[1]:02d}")
    if "本季度" in text or "这个季度" in text or "本季" in text:
        keys.add(f"{y}-Q{q}")
    if "上季度" in text or "上个季度" in text:
        keys.add(f"{prev_q[0]}-Q{prev_q[1]}")
    if "本周" in text or "这周" in text:
        iso = today.isocalendar()
        keys.add(f"{iso.year}-W{iso.week:02d}")
    if "今年" in text or "本年度" in text:
        keys.add(f"{y}")
    if "上半年" in text:
        keys.add(f"{y}-H1")
    if "下半年" in text:
        keys.add(f"{y}-H2")
    for month in re.findall(r"(\d{1,2}|十[一二]?|[一二三四五六七八九])月", text):
        n = int(month) if month.isdigit() else _CN_NUM.get(month, 0)
        if 1 <= n <= 12:
            keys.add(f"{y if n <= m else y - 1}-{n:02d}")
    for quarter in re.findall(r"第?([一二三四1-4])季度", text):
        n = int(quarter) if quarter.isdigit() else _CN_NUM[quarter]
        keys.add(f"{y if n <= q else y - 1}-Q{n}")
    return keys


def _period_matches(period_key: str, named: set[str]) -> bool:
    # A sub-period (a 旬 "2026-12-2", a spread part "2026#1") matches the month or year named.
    return any(period_key == k or period_key.startswith(f"{k}-") or period_key.startswith(f"{k}#") for k in named)


def title_words(title: str) -> set[str]:
    """Two-character words of a title (Chinese has no spaces: every adjacent pair of CJK
    characters, minus pairs with a particle)."""
    chars = re.sub(r"[^\u4e00-\u9fff]", " ", title)
    words = set()
    for part in chars.split():
        for i in range(len(part) - 1):
            pair = part[i:i + 2]
            if not (set(pair) & _STOP):
                words.add(pair)
    return words


def rank(text: str, candidates: list[Candidate], today: date) -> list[Ranked]:
    """Candidates by how well the caption fits them, best first; ties keep the nearest due first."""
    text = text or ""
    kinds = kinds_in(text)
    periods = periods_in(text, today)
    out = []
    for c in candidates:
        score, why = 0, []
        if c.kind in kinds:
            score += KIND_SCORE
            why.append(f"kind:{c.kind}")
        if periods and _period_matches(c.period_key, periods):
            score += PERIOD_SCORE
            why.append(f"period:{c.period_key}")
        hits = sorted(w for w in title_words(c.title) if w in text)
        if hits:
            score += min(len(hits), TITLE_CAP) * TITLE_SCORE
            why.append("title:" + ",".join(hits[:TITLE_CAP]))
        out.append(Ranked(c, score, tuple(why)))
    return sorted(out, key=lambda r: (-r.score, r.candidate.due_at, r.candidate.instance_id))


def clear_winner(ranked: list[Ranked]) -> Candidate | None:
    """The one candidate the caption clearly points to, or None (then ask)."""
    if not ranked or ranked[0].score < CLEAR_MIN:
        return None
    if len(ranked) > 1 and ranked[0].score - ranked[1].score < CLEAR_MARGIN:
        return None
    return ranked[0].candidate


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()
