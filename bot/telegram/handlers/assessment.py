"""The office's assessment commands: /rank [2026-Q3] and /export [dates | name [dates]].

/rank shows the quarterly ranking (default: the last finished quarter) with buttons for the
quarters around it (`a:rank:<quarter>`). /export builds the workbook (or one leader's 履职档案
zip) in a thread and sends it as a document through the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select
from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot import clock
from bot.services import assessment, export, outbox
from bot.store.models import Person
from bot.telegram.access import office_only
from bot.telegram.context import BotContext, get_ctx
from bot.texts import assessment as T
from bot.texts import fmt

log = logging.getLogger(__name__)

COMMANDS: list[tuple[str, str]] = []
OFFICE_COMMANDS = [("rank", T.COMMAND_RANK), ("export", T.COMMAND_EXPORT)]
EXPORT_DIR = "exports"
TELEGRAM_UPLOAD_LIMIT = 50 * 1024 * 1024  # bots may send documents up to 50 MB


def register(app: Application) -> None:
    app.add_handler(CommandHandler("rank", rank))
    app.add_handler(CommandHandler("export", export_command))
    app.add_handler(CallbackQueryHandler(on_tap, pattern=r"^a:"))


def _send(session, chat_id: int, key: str, body: str, person_id: str, buttons: outbox.Buttons | None = None) -> None:
    outbox.enqueue(session, chat_id=chat_id, payload=outbox.text(body, buttons), dedupe_key=key,
                   priority=outbox.INTERACTIVE, person_id=person_id)


# -- /rank --------------------------------------------------------------------------------------------
def ranking_message(r: assessment.Ranking, now: datetime, tz: ZoneInfo) -> str:
    if not r.units:
        body = T.RANK_EMPTY.format(quarter=fmt.period(r.quarter))
    else:
        lines = [T.RANK_TITLE.format(quarter=fmt.period(r.quarter), start=f"{r.start.month}月{r.start.day}日",
                                     end=f"{r.end.month}月{r.end.day}日", now=fmt.moment(now, tz))]
        for u in r.units:
            mark = ""
            if u.top:
                mark = T.RANK_TOP
            elif u.bottom:
                mark = T.RANK_BOTTOM.format(bottom=r.policy.bottom, streak=u.streak,
                                            action=u.step.describe() if u.step else "")
                if u.interviewers:
                    mark += T.RANK_BY.format(names="、".join(u.interviewers))
            lines.append(T.RANK_LINE.format(
                rank=u.rank, name=u.name, rate=f"{u.rate:.1%}", required=u.tally.required, done=u.tally.done,
                late=u.tally.late, missed=u.tally.missed,
                excused=T.RANK_EXCUSED.format(n=u.tally.excused) if u.tally.excused else "", mark=mark))
        body = "\n".join(lines)
    if r.unranked:
        body += "\n" + T.RANK_UNRANKED.format(names="、".join(name for _, name in r.unranked))
    if r.open_count:
        body += "\n" + T.RANK_OPEN.format(n=r.open_count)
    return body


def rank_buttons(quarter: str, today: date) -> outbox.Buttons:
    previous = assessment.previous_quarter(quarter)
    row = [outbox.button(T.RANK_OTHER_BUTTON.format(quarter=fmt.period(previous)), f"a:rank:{previous}")]
    current = assessment.quarter_of(today)
    if quarter != current:
        year, q = assessment.parse_quarter(quarter)
        following = f"{year + 1}-Q1" if q == 4 else f"{year}-Q{q + 1}"
        row.append(outbox.button(T.RANK_OTHER_BUTTON.format(quarter=fmt.period(following)), f"a:rank:{following}"))
    return [row]


def _rank_body(ctx: BotContext, quarter: str, now: datetime) -> tuple[str, outbox.Buttons]:
    tz = ctx.schedule.tz
    with ctx.store.session() as s:
        r = assessment.rank_quarter(s, quarter, now, tz=tz, weights=assessment.weights_of(ctx.catalog),
                                    policy=assessment.policy_from(ctx.catalog))
    return ranking_message(r, now, tz), rank_buttons(quarter, now.astimezone(tz).date())


@office_only
async def rank(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    ctx = get_ctx(context)
    chat_id = update.effective_chat.id
    args = context.args or []

    def work() -> None:
        now = clock.now()
        quarter = args[0].upper() if args else assessment.last_closed_quarter(now.astimezone(ctx.schedule.tz).date())
        try:
            assessment.parse_quarter(quarter)
        except ValueError as e:
            body, buttons = f"{e}\n{T.RANK_USAGE}", None
        else:
            body, buttons = _rank_body(ctx, quarter, now)
        with ctx.store.session() as s:
            _send(s, chat_id, f"rank:{update.update_id}", body, person.id, buttons)

    await asyncio.to_thread(work)


@office_only
async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    query = update.callback_query
    ctx = get_ctx(context)
    parts = (query.data or "").split(":")
    chat_id = query.message.chat.id if query.message else person.telegram_id

    def work() -> str:
        if len(parts) != 3 or parts[1] != "rank":
            return T.EXEMPT_NOT_FOUND
        try:
            assessment.parse_quarter(parts[2])
        except ValueError as e:
            return str(e)
        body, buttons = _rank_body(ctx, parts[2], clock.now())
        with ctx.store.session() as s:
            _send(s, chat_id, f"rank:tap:{query.id}", body, person.id, buttons)
        return ""

    toast = await asyncio.to_thread(work)
    with contextlib.suppress(BadRequest):
        await query.answer(toast or None)


# -- /export ------------------------------------------------------------------------------------------
def parse_export_args(args: list[str], today: date) -> tuple[str | None, date, date]:
    """(person name or None, start, end). Raises ValueError with a message for the office member."""
    dates: list[date] = []
    names: list[str] = []
    for a in args:
        try:
            dates.append(date.fromisoformat(a))
        except ValueError:
            if any(c.isdigit() for c in a) and "-" in a:
                raise ValueError(T.EXPORT_BAD_DATE.format(text=a)) from None
            names.append(a)
    if len(dates) not in (0, 2) or len(names) > 1:
        raise ValueError(T.EXPORT_USAGE)
    start, end = dates if dates else (date(today.year, 1, 1), today)
    if end < start:
        raise ValueError(T.EXPORT_BAD_DATE.format(text=f"{start} > {end}"))
    return (names[0] if names else None), start, end


@office_only
async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    ctx = get_ctx(context)
    chat_id = update.effective_chat.id
    key = f"export:{update.update_id}"
    now = clock.now()
    tz = ctx.schedule.tz

    def prepare() -> tuple[Person | None, date, date] | None:
        with ctx.store.session() as s:
            try:
                name, start, end = parse_export_args(context.args or [], now.astimezone(tz).date())
            except ValueError as e:
                _send(s, chat_id, key, str(e), person.id)
                return None
            leader = None
            if name is not None:
                leader = s.exec(select(Person).where((Person.name == name) | (Person.id == name))).first()
                if leader is None:
                    _send(s, chat_id, key, T.EXPORT_UNKNOWN_PERSON.format(name=name), person.id)
                    return None
            what = T.EXPORT_WHAT_PERSON.format(name=leader.name) if leader else T.EXPORT_WHAT_ALL
            _send(s, chat_id, f"{key}:working", T.EXPORT_WORKING.format(what=what, start=start, end=end), person.id)
            return leader, start, end

    found = await asyncio.to_thread(prepare)
    if found is None:
        return
    leader, start, end = found

    def build() -> None:
        data_dir = Path(ctx.settings.data_dir)
        common = dict(data_dir=data_dir, tz=tz, weights=assessment.weights_of(ctx.catalog),
                      policy=assessment.policy_from(ctx.catalog))
        if leader is not None:
            filename = f"履职档案_{export.safe_name(leader.name)}_{start}_{end}.zip"
            what = T.EXPORT_WHAT_PERSON.format(name=leader.name)
        else:
            filename = f"履职记录_{start}_{end}.xlsx"
            what = T.EXPORT_WHAT_ALL
        rel = f"{EXPORT_DIR}/{update.update_id}-{filename}"
        try:
            if leader is not None:
                result = export.write_archive(ctx.store, data_dir / rel, leader.id, start, end, now, **common)
            else:
                result = export.write_xlsx(ctx.store, data_dir / rel, start, end, now, **common)
        except Exception as e:  # the office member must hear about it, not wait forever
            log.exception("export failed")
            with ctx.store.session() as s:
                _send(s, chat_id, f"{key}:failed", T.EXPORT_FAILED.format(error=type(e).__name__), person.id)
            return
        size = (data_dir / rel).stat().st_size
        with ctx.store.session() as s:
            if size > TELEGRAM_UPLOAD_LIMIT:  # the sender would fail: say where the file is instead
                _send(s, chat_id, f"{key}:big", T.EXPORT_TOO_BIG.format(
                    what=what, mb=round(size / 1e6), path=(data_dir / rel).resolve()), person.id)
                return
            caption = T.EXPORT_CAPTION.format(what=what, start=start, end=end, seq=result.head_seq or 0,
                                              head=result.head_hash[:16])
            outbox.enqueue(s, chat_id=chat_id, payload=outbox.document(rel, filename, caption),
                           dedupe_key=f"{key}:file", priority=outbox.INTERACTIVE, person_id=person.id)

    # A year of 10,000 people takes a while: build in the background so the inbox keeps flowing.
    context.application.create_task(asyncio.to_thread(build), update=update, name=f"export-{update.update_id}")
