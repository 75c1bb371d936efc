"""A draft catalogue as duties.yaml text, with `# 待核: …` comments on every guess."""

from __future__ import annotations

import json
import re

from ..catalog import DEFAULT_SEASONS
from .cadence import PERIOD_LABEL, SEASONS
from .draft import PLACEHOLDER_UNIT, Draft, DraftDuty, DraftHolidayCheck, DraftTask
from .text import printable

SCHOOL_BREAKS_ORDER = ("寒假", "暑假")

REVIEW = "待核"


def q(text: str) -> str:
    """A double-quoted YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(printable(text).replace("\n", " "), ensure_ascii=False)


def _comment(text: str) -> str:
    return re.sub(r"\s+", " ", printable(text)).strip()


def _notes(notes: list[str]) -> str:
    notes = [n for n in dict.fromkeys(notes) if n]
    return f"  # {REVIEW}: {'；'.join(_comment(n) for n in notes)}" if notes else ""


def _flow(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(q(i) for i in items) + "]"


def _source(document: str, clause: str) -> str:
    return f"{{document: {q(document)}, clause: {q(clause)}}}"


def summary_lines(draft: Draft) -> list[str]:
    periods = draft.per_period()
    by_period = "，".join(f"{PERIOD_LABEL[p]} {periods[p]}" for p in PERIOD_LABEL if periods[p])
    return [
        f"条款 / clauses read: {draft.clauses_read}",
        f"定期职责 / scheduled duties: {len(draft.scheduled)}" + (f"（{by_period}）" if by_period else ""),
        f"无频次职责 / duties without a frequency: {len(draft.unscheduled)}",
        f"任务 / tasks: {len(draft.tasks)}；节前检查 / holiday checks: {len(draft.holiday_checks)}",
        f"待核 / items to review: {len(draft.review)}",
    ]


def _duty(d: DraftDuty) -> list[str]:
    kind_note = _notes([n for n in d.notes if n.startswith("类型")])
    freq_notes = [n for n in d.notes if not n.startswith("类型") and not n.startswith("未找到") and "推断" not in n]
    who_notes = [n for n in d.notes if n.startswith("未找到") or "推断" in n]
    lines = [
        f"  - id: {d.id}",
        f"    title: {q(d.title)}",
        f"    kind: {d.kind.value}" + (kind_note or (_notes(["无频次，仅作记录，请确认是否需要定期提醒"])
                                                 if d.frequency is None else "")),
        f"    who: {_flow(d.roles)}" + _notes(who_notes),
    ]
    if d.frequency:
        lines.append(f"    frequency: {d.frequency}" + _notes(freq_notes))
    lines.append(f"    source: {_source(d.document, d.clause)}")
    return lines


def _task(t: DraftTask) -> list[str]:
    who = f"{{people: {_flow(t.people)}}}" if t.people else _flow(t.roles)
    lines = [
        f"  - id: {t.id}",
        f"    title: {q(t.title)}",
        f"    due: {t.due.isoformat()}" + _notes([n for n in t.notes if "年" in n or "时限" in n or "月底" in n]),
        f"    who: {who}" + _notes([n for n in t.notes if "领导" in n or "主体" in n or "推断" in n]),
    ]
    if t.units:
        lines.append(f"    units: {_flow(t.units)}" + _notes([n for n in t.notes if "部室" in n]))
    other = [n for n in t.notes if not any(k in n for k in ("年", "时限", "月底", "领导", "主体", "推断", "部室"))]
    lines.append(f"    source: {_source(t.document, t.clause)}" + _notes(other))
    return lines


def _check(c: DraftHolidayCheck) -> list[str]:
    about_holidays = [n for n in c.notes if "节日" in n or "寒暑假" in n]
    return [
        f"  - id: {c.id}",
        f"    title: {q(c.title)}",
        f"    holidays: {_flow(c.holidays)}" + _notes(about_holidays),
        f"    days_before: 7  # {REVIEW}: 节前几天开始检查，原文未写，按7天起草",
        f"    who: {_flow(c.roles)}" + _notes([n for n in c.notes if n not in about_holidays]),
        f"    source: {_source(c.document, c.clause)}",
    ]


def _break_dates(draft: Draft) -> list[str]:
    """A commented `holidays:` to fill in: no calendar knows a school's 寒假 and 暑假."""
    breaks = [b for b in SCHOOL_BREAKS_ORDER if any(b in c.holidays for c in draft.holiday_checks)]
    if not breaks:
        return []
    year = draft.year
    example = {"寒假": (f"{year}-01-20", f"{year}-02-25"), "暑假": (f"{year}-07-10", f"{year}-08-31")}
    return ["", f"# {REVIEW}: 寒暑假前的检查需要各年寒假、暑假的日期（示例日期，请按校历改写后取消注释）",
            "# holidays:"] + [f"#   - {{name: {b}, from: {example[b][0]}, to: {example[b][1]}}}" for b in breaks]


def _seasons(draft: Draft) -> list[str]:
    """`seasons:` for the seasons the duties name beyond 汛期 (known without it), with the usual dates."""
    named = dict.fromkeys(d.rule.season for d in draft.duties if d.rule is not None and d.rule.season)
    extra = [SEASONS[n] for n in named if n not in DEFAULT_SEASONS and n in SEASONS]
    if not extra:
        return []
    out = ["seasons:"]
    for s in extra:
        out.append(f"  {s.name}: {{from: {s.start[0]:02d}-{s.start[1]:02d}, to: {s.end[0]:02d}-{s.end[1]:02d}}}"
                   f"  # {REVIEW}: 各地{s.name}起止日期不同，请按本地规定改写")
    return out + [""]


def render(draft: Draft, source_name: str = "") -> str:
    out = [
        "# dutybot 职责清单草稿 — 由 `dutybot import-list` 自动生成，请逐项核对后再使用。",
        "# Draft catalogue written by `dutybot import-list`: check every `# 待核` (to review) mark before use.",
        f"# 来源 / source: {_comment(source_name or draft.title)}",
        f"# 清单 / list: {_comment(draft.title)}（{draft.year}年" + ("" if draft.year_known else "，文件未写年份") + "）",
        "# title 由条文自动生成，可按需修改 / titles are generated from the clauses; edit freely.",
        "#",
    ]
    out += [f"# {line}" for line in summary_lines(draft)]
    if draft.review:
        out.append(f"# {REVIEW}清单 / review list:")
        for item in draft.review:
            snippet = _comment(item.text)
            snippet = snippet if len(snippet) <= 40 else snippet[:40] + "…"
            out.append(f"#   - {_comment(item.ref)}: {_comment(item.reason)} — {snippet}")
    out += ["", "timezone: Asia/Shanghai", ""]
    if any(d.every_years for d in draft.duties):
        out += [f"start_year: {draft.year}  # {REVIEW}: “每两年”等周期从这一年起算 / every-n-years cycles count from it",
                ""]

    out += _seasons(draft)
    out.append("units:")
    out.append(f"  - id: {q(PLACEHOLDER_UNIT)}  # {REVIEW}: 示例单位，请改为实际单位名称")
    if draft.units:
        out.append("    children:")
        out += [f"      - {q(u)}  # {REVIEW}: 取自“责任部室”列" for u in draft.units]
    out.append("")

    out.append("roles:" + ("" if draft.roles else " {}"))
    for name, description in draft.roles.items():
        out.append(f"  {q(name)}: {q(description)}" + _notes([draft.role_notes.get(name, "")]))
    out.append("")

    out.append("people:" + ("" if draft.people else " []"))
    for p in draft.people:
        out += [f"  - name: {q(p.name)}  # {REVIEW}: {_comment(p.note)}",
                f"    unit: {q(PLACEHOLDER_UNIT)}",
                f"    roles: {_flow(p.roles)}"]
    out.append("")

    out.append("duties:" + ("" if draft.duties else " []"))
    starts = {index: title for title, index in draft.sections}
    for i, d in enumerate(draft.duties):
        if i in starts:
            out.append(f"  # —— {_comment(starts[i])} ——")
        out += _duty(d)
    out.append("")

    out.append("tasks:" + ("" if draft.tasks else " []"))
    for t in draft.tasks:
        out += _task(t)
    out.append("")

    out.append("holiday_checks:" + ("" if draft.holiday_checks else " []"))
    for c in draft.holiday_checks:
        out += _check(c)
    out += _break_dates(draft)
    return "\n".join(out) + "\n"
