"""The words of a 叫应: call, re-call, escalation, report form, board and closing summary.

Pure functions of store rows (no queries, no clock), so what a message says is easy to test.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.store.models import Callout, CalloutTarget, Person
from bot.texts import callouts as T
from bot.texts import fmt

TZ = fmt.SHANGHAI
MAX_MESSAGE = 4000  # Telegram allows 4096 characters; keep room for the ✅ line an edit adds


def level_name(level: str) -> str:
    return T.LEVEL_NAMES.get(level, level)


def scope_text(unit_names: Sequence[str]) -> str:
    return "、".join(unit_names) if unit_names else T.SCOPE_ALL


def header(callout: Callout, issuer: Person | None, unit_names: Sequence[str], tz: ZoneInfo = TZ) -> dict:
    return {"icon": T.LEVEL_ICONS.get(callout.level, ""), "level": level_name(callout.level),
            "hazard": callout.hazard or "", "text": callout.text, "scope": scope_text(unit_names),
            "issuer": issuer.name if issuer else T.ISSUER_UNKNOWN, "issued": fmt.moment(callout.issued_at, tz),
            "cid": callout.id}


def silent_line(path: Iterable[tuple[CalloutTarget, Person]]) -> str:
    parts = []
    for target, person in path:
        if target.acked_at is not None:
            continue
        template = T.SILENT_CALLED if target.calls_made else T.SILENT_UNREACHABLE
        parts.append(template.format(name=person.name, position=person.position or person.unit_id,
                                     calls=target.calls_made))
    return T.SILENT_JOIN.join(parts)


def call_text(h: dict, n: int, silent: str | None) -> str:
    """Call number n (1 = the first) of a recipient; `silent` set for an escalation target."""
    if silent is not None:
        body = T.ESCALATION.format(silent=silent, **h)
        return body if n == 1 else T.ESCALATION_RECALL.format(n=n) + body
    return T.CALL.format(**h) if n == 1 else T.RECALL.format(n=n, **h)


def notice_text(h: dict, silent: str) -> str:
    return T.ESCALATION_NOTICE.format(silent=silent, **h)


def acked_text(original: str, acked_at: datetime, tz: ZoneInfo = TZ) -> str:
    return T.ACKED.format(body=original, clock=fmt.clock(acked_at, tz))


def report_due(target: CalloutTarget, policy: dict) -> datetime | None:
    """A report is due `report_within` after the person answered 收到."""
    if target.acked_at is None:
        return None
    return target.acked_at + timedelta(seconds=policy.get("report_within", 900))


def report_late(target: CalloutTarget, policy: dict) -> bool:
    due = report_due(target, policy)
    return bool(due and target.report_at and target.report_at > due)


def measures_text(measures: Sequence[str]) -> str:
    return "、".join(measures) if measures else T.NONE


def report_form(h: dict, target: CalloutTarget, policy: dict, photos: int, tz: ZoneInfo = TZ) -> str:
    due = report_due(target, policy)
    body = T.REPORT_FORM.format(deadline=fmt.clock(due, tz) if due else "", **_no_text(h))
    if target.report_measures:
        body += T.REPORT_FORM_STATE.format(measures=measures_text(target.report_measures))
    if target.report_text:
        body += T.REPORT_FORM_TEXT.format(text=_clip(target.report_text, 1500))
    if photos:
        body += T.REPORT_FORM_PHOTOS.format(n=photos)
    return body


def report_done(h: dict, target: CalloutTarget, policy: dict, photos: int, tz: ZoneInfo = TZ) -> str:
    late = T.REPORT_LATE_MARK if report_late(target, policy) else ""
    note = T.REPORT_FORM_TEXT.format(text=_clip(target.report_text, 1500)) if target.report_text else ""
    pics = T.REPORT_FORM_PHOTOS.format(n=photos) if photos else ""
    return T.REPORT_DONE.format(clock=fmt.clock(target.report_at, tz), late=late, note=note, photos=pics,
                                measures=measures_text(target.report_measures), **_no_text(h))


def _no_text(h: dict) -> dict:
    return {k: v for k, v in h.items() if k != "text"}


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


# -- the board ------------------------------------------------------------------------------
def counts(targets: Sequence[CalloutTarget]) -> dict[str, int]:
    return {
        "total": len(targets),
        "sent": sum(1 for t in targets if t.calls_made > 0),
        "acked": sum(1 for t in targets if t.acked_at is not None),
        "recalling": sum(1 for t in targets if t.acked_at is None and t.calls_made >= 2 and t.escalated_at is None),
        "escalated": sum(1 for t in targets if t.escalated_at is not None),
        "reported": sum(1 for t in targets if t.report_at is not None),
    }


def last_event(targets: Sequence[CalloutTarget]) -> datetime | None:
    times = [x for t in targets for x in (t.last_called_at, t.acked_at, t.escalated_at, t.report_at) if x]
    return max(times, default=None)


@dataclass
class BoardData:
    """What the board shows: counts over every target, but only the first silent ones in full."""

    counts: dict[str, int]
    silent: Sequence[CalloutTarget]  # the first `max_names` unanswered targets, in target order
    silent_total: int
    last_event: datetime | None
    delivered: int | None = None  # first calls Telegram accepted (None: not known, shown as sent)


def board_data(targets: Sequence[CalloutTarget], delivered: int | None = None, max_names: int = 40) -> BoardData:
    silent = [t for t in targets if t.acked_at is None]
    return BoardData(counts(targets), silent[:max_names], len(silent), last_event(targets), delivered)


def board(callout: Callout, h: dict, data: BoardData, people: dict, tz: ZoneInfo = TZ) -> str:
    """`people`: person id → anything with `.name`, for the silent ones and where they escalated to."""
    c = data.counts
    shown = c["sent"] if data.delivered is None else data.delivered
    text = T.BOARD.format(delivered=shown, **c, **{k: v for k, v in h.items() if k != "text"})
    if data.silent_total:
        items = []
        for t in data.silent:
            name = people[t.person_id].name if t.person_id in people else t.person_id
            items.append(T.BOARD_SILENT_ITEM.format(name=name, note=_silent_note(t, people)))
        names = "、".join(items)
        if data.silent_total > len(data.silent):
            names += T.BOARD_SILENT_MORE.format(n=data.silent_total)
        text += T.BOARD_SILENT.format(n=data.silent_total, names=names)
    elif c["total"]:
        text += T.BOARD_ALL_ACKED
    if callout.lifted_at is not None:
        text += T.BOARD_LIFTED.format(clock=fmt.clock(callout.lifted_at, tz))
    if data.last_event is not None:
        text += T.BOARD_AS_OF.format(clock=fmt.clock(data.last_event, tz))
    return _clip(text, MAX_MESSAGE)


def _silent_note(t: CalloutTarget, people: dict) -> str:
    if t.escalated_at is not None:
        if not t.escalated_to:
            return T.BOARD_NOTE_ESCALATED_NONE
        return T.BOARD_NOTE_ESCALATED.format(to="、".join(people[p].name if p in people else p for p in t.escalated_to))
    if t.calls_made == 0:
        return T.BOARD_NOTE_UNREACHABLE
    return T.BOARD_NOTE_CALLS.format(n=t.calls_made) if t.calls_made >= 2 else ""


# -- the closing summary --------------------------------------------------------------------
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}秒"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}分{sec:02d}秒"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}小时{minutes:02d}分"


def summary(callout: Callout, h: dict, targets: Sequence[CalloutTarget], people: dict[str, Person],
            tz: ZoneInfo = TZ, max_lines: int = 60) -> list[str]:
    """The closing summary, split into messages that fit Telegram."""
    policy = callout.policy
    c = counts(targets)
    took = [((t.acked_at - t.first_sent_at).total_seconds(), t) for t in targets
            if t.acked_at is not None and t.first_sent_at is not None]
    took_s = [max(0.0, s) for s, _ in took]
    recalled = [t for t in targets if t.calls_made >= 2 or t.escalated_at is not None]
    late = sum(1 for t in targets if report_late(t, policy))
    lifted = callout.lifted_at or callout.issued_at
    head = T.SUMMARY.format(
        lifted=fmt.moment(lifted, tz), silent=c["total"] - c["acked"], recalled=len(recalled), late=late,
        avg=duration(sum(took_s) / len(took_s) if took_s else None), max=duration(max(took_s, default=None)),
        summary_due=fmt.moment(lifted + timedelta(seconds=policy.get("summary_within", 1800)), tz),
        **c, **{k: v for k, v in h.items() if k != "text"})

    def name(t: CalloutTarget) -> str:
        return people[t.person_id].name if t.person_id in people else t.person_id

    sections: list[tuple[str, list[str]]] = []
    sections.append((T.SUMMARY_ACKS, [T.SUMMARY_ACK_LINE.format(name=name(t), took=duration(max(0.0, s)))
                                      for s, t in sorted(took, key=lambda x: x[0])]))
    recall_lines = []
    for t in recalled:
        esc = ""
        if t.escalated_at is not None:
            esc = T.SUMMARY_ESCALATED.format(to="、".join(people[p].name if p in people else p
                                                          for p in t.escalated_to) or T.NONE)
        recall_lines.append(T.SUMMARY_RECALL_LINE.format(name=name(t), calls=t.calls_made, escalated=esc))
    sections.append((T.SUMMARY_RECALLED, recall_lines))
    sections.append((T.SUMMARY_REPORTS, [
        T.SUMMARY_REPORT_LINE.format(name=name(t), clock=fmt.clock(t.report_at, tz),
                                     late=T.REPORT_LATE_MARK if report_late(t, policy) else "",
                                     measures=measures_text(t.report_measures))
        for t in sorted((t for t in targets if t.report_at), key=lambda t: t.report_at)]))
    sections.append((T.SUMMARY_SILENT, [name(t) for t in targets if t.acked_at is None]))

    messages, current = [], head
    for title, lines in sections:
        if not lines:
            continue
        shown = lines[:max_lines]
        if len(lines) > max_lines:
            shown.append(T.SUMMARY_MORE.format(n=len(lines), cid=callout.id))
        block = T.SUMMARY_SECTION.format(title=title, lines="\n".join(shown))
        if len(current) + len(block) > MAX_MESSAGE:
            messages.append(current)
            current = T.SUMMARY_CONTINUED + block
            while len(current) > MAX_MESSAGE:  # a single huge section: cut at line ends
                cut = current.rfind("\n", 0, MAX_MESSAGE)
                messages.append(current[:cut])
                current = T.SUMMARY_CONTINUED + current[cut:]
        else:
            current += block
    messages.append(current)
    return messages
