"""Check-ins: a leader reports performing a duty, from a reminder's buttons or by simply sending
photos at any time.

Everything a leader sends first becomes a `CheckInDraft` in the store (keyed by update id, album
or button tap), so a redelivered update or a restart in the middle of an album never loses or
doubles anything. A draft becomes a `CheckIn` once its duty is known and its content complete:
at once for a single message, after a short quiet time for an album (its parts arrive as
separate updates), or when the leader taps the duty it belongs to.

Functions take the session, the person and `now`, and answer through the outbox; the few words
shown in a button's toast are returned to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.services import digest, evidence, ledger, outbox, reminders, routing
from bot.store.models import (
    CheckIn,
    CheckInCorrection,
    CheckInDraft,
    Duty,
    DutyInstance,
    InboxUpdate,
    Outbox,
    Person,
)
from bot.texts import checkins as T
from bot.texts import fmt
from bot.texts import reminders as RT
from schedules import Schedule

ALBUM_QUIET = timedelta(seconds=2)  # an album is complete when no part came for this long
ALBUM_PATIENCE = timedelta(seconds=20)  # ... and the inbox had time to process what it holds
AWAIT_FOR = timedelta(hours=24)  # how long a 报告完成 tap waits for the photos or text
MAX_FILE_BYTES = evidence.MAX_FILE_BYTES
MAX_PICK_BUTTONS = 8
UNFILED_AFTER = timedelta(hours=24)  # files not filed by then: one reminder, then 未归档佐证 for the office


@dataclass(frozen=True)
class Incoming:
    """A leader's message, Telegram-neutral. `attachments` are dicts with kind (photo | document |
    video), file_id, file_unique_id, size, mime, width, height, file_name."""

    update_id: int
    chat_id: int
    text: str = ""
    media_group_id: str | None = None
    attachments: tuple[dict, ...] = ()
    unsupported: str | None = None  # sticker, voice, location...: what it was
    reply_to: int | None = None  # the bot's message this one replies to (Telegram message id)
    reply_buttons: tuple[str, ...] = ()  # that message's button data, as Telegram quotes it


@dataclass
class Recorded:
    checkin: CheckIn
    instance: DutyInstance
    created: bool  # False: this update made a check-in before
    completed: bool = False  # this check-in reached the required count


@dataclass
class Outcome:
    """What `receive` did with a message (for the caller's log and for tests)."""

    action: str  # duplicate | too_big | unsupported | help | checkin | collecting | asking | kept | not_open
    recorded: Recorded | None = None
    draft_id: int | None = None
    notes: list[str] = field(default_factory=list)


# -- instances --------------------------------------------------------------------------------
def open_instances(session: Session, person_id: str, now: datetime) -> list[DutyInstance]:
    """The person's instances that accept a check-in now, nearest due first."""
    return list(session.exec(
        select(DutyInstance).where(
            DutyInstance.person_id == person_id, DutyInstance.status == "open",
            DutyInstance.opens_at <= now, DutyInstance.closes_at > now,
        ).order_by(DutyInstance.due_at, DutyInstance.id)  # type: ignore[arg-type]
    ))


def accepting(instance: DutyInstance, at: datetime) -> bool:
    return instance.status == "open" and instance.opens_at <= at < instance.closes_at


def _duty(session: Session, instance: DutyInstance) -> Duty:
    return session.get(Duty, instance.duty_id) or Duty(id=instance.duty_id, title=instance.duty_id)


def instance_names(session: Session, instance: DutyInstance) -> dict:
    """Title and period of an instance, as the texts show them."""
    return {"title": _duty(session, instance).title, "period": fmt.period(instance.period_key)}


def short_names(session: Session, instance: DutyInstance) -> dict:
    """Title and period short enough for a button."""
    found = instance_names(session, instance)
    return {"title": _short(found["title"], 22), "period": found["period"]}


def _send(session: Session, chat_id: int, key: str, body: str, buttons: outbox.Buttons | None = None,
          person_id: str | None = None):
    return outbox.enqueue(session, chat_id=chat_id, payload=outbox.text(body, buttons), dedupe_key=key,
                          priority=outbox.INTERACTIVE, person_id=person_id)


# -- the check-in itself --------------------------------------------------------------------------
def record(session: Session, *, instance: DutyInstance, person_id: str, chat_id: int, text: str,
           attachments: list[dict], at: datetime, update_id: int | None, media_group_id: str | None = None,
           tz: ZoneInfo = fmt.SHANGHAI, note: str = "") -> Recorded | None:
    """Append a check-in, chain it, queue its files and count it. None when the instance does not
    accept it (the caller tells the leader). The same update never makes two check-ins."""
    if update_id is not None:
        earlier = session.exec(select(CheckIn).where(CheckIn.update_id == update_id)).first()
        if earlier is not None:
            inst = session.get(DutyInstance, earlier.instance_id) if earlier.instance_id else instance
            return Recorded(earlier, inst or instance, created=False)
    # Lock the instance so two check-ins arriving together both count (PostgreSQL; SQLite has
    # one writer anyway).
    locked = session.exec(
        select(DutyInstance).where(DutyInstance.id == instance.id).with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if not accepting(locked, at) or locked.person_id != person_id:
        return None
    row = CheckIn(instance_id=locked.id, person_id=person_id, text=text, at=at, update_id=update_id,
                  media_group_id=media_group_id, attachments=list(attachments))
    session.add(row)
    session.flush()
    ledger.record(session, "checkin", row, at)
    for attachment in attachments:
        evidence.schedule(session, row, attachment, at)
    locked.done_count += 1
    completed = locked.done_count >= locked.required
    if completed:
        locked.status = "done" if at <= locked.due_at else "late"
        locked.done_at = at
    session.flush()
    _confirm(session, row, locked, chat_id, completed, tz, note)
    return Recorded(row, locked, created=True, completed=completed)


def _confirm(session: Session, row: CheckIn, inst: DutyInstance, chat_id: int, completed: bool,
             tz: ZoneInfo, note: str = "") -> None:
    files = T.FILES_SOME.format(count=len(row.attachments)) if row.attachments else T.FILES_NONE
    names = instance_names(session, inst)
    if completed:
        body = T.CONFIRM_DONE.format(**names, done=inst.done_count, required=inst.required, files=files,
                                     late=T.CONFIRM_LATE if inst.status == "late" else "")
    else:
        body = T.CONFIRM_PROGRESS.format(**names, done=inst.done_count, required=inst.required,
                                         left=inst.required - inst.done_count, due=fmt.moment(inst.due_at, tz),
                                         files=files)
    buttons = [[outbox.button(T.BTN_MOVE, f"r:move:{row.id}"), outbox.button(T.BTN_WITHDRAW, f"r:undo:{row.id}")]]
    _send(session, chat_id, f"checkin:{row.id}:confirm", body + note, buttons, person_id=row.person_id)


# -- drafts -----------------------------------------------------------------------------------
def _draft(session: Session, key: str) -> CheckInDraft | None:
    return session.exec(select(CheckInDraft).where(CheckInDraft.key == key)).first()


def _add_draft(session: Session, draft: CheckInDraft) -> CheckInDraft | None:
    """Insert; None when another worker inserted the same key first."""
    try:
        with session.begin_nested():
            session.add(draft)
            session.flush()
    except IntegrityError:
        return None
    return draft


def _awaiting(session: Session, person_id: str, now: datetime) -> CheckInDraft | None:
    """The person's latest 报告完成 tap still waiting for what they send."""
    return session.exec(
        select(CheckInDraft).where(
            CheckInDraft.person_id == person_id, CheckInDraft.state == "awaiting",
            CheckInDraft.created_at > now - AWAIT_FOR,
        ).order_by(CheckInDraft.created_at.desc(), CheckInDraft.id.desc())  # type: ignore[union-attr]
    ).first()


def _what(attachments: list[dict]) -> str:
    if not attachments:
        return T.WHAT_TEXT
    kinds = {a.get("kind") for a in attachments}
    if kinds <= {"photo"}:
        return T.WHAT_PHOTOS
    if "photo" in kinds:
        return T.WHAT_MIXED
    return T.WHAT_FILES


def _join(text: str, more: str) -> str:
    more = (more or "").strip()
    if not more or more in text:
        return text
    return f"{text}\n{more}" if text else more


def _settle(session: Session, draft: CheckInDraft, person: Person, now: datetime, tz: ZoneInfo) -> Outcome:
    """A complete draft: record it when its duty is known and open, otherwise ask the leader."""
    if draft.instance_id is not None:
        inst = session.get(DutyInstance, draft.instance_id)
        if inst is not None:
            done = record(session, instance=inst, person_id=person.id, chat_id=draft.chat_id, text=draft.text,
                          attachments=list(draft.attachments), at=draft.created_at,
                          update_id=draft.update_ids[0] if draft.update_ids else None,
                          media_group_id=draft.media_group_id, tz=tz)
            if done is not None:
                draft.state, draft.checkin_id, draft.updated_at = "done", done.checkin.id, now
                return Outcome("checkin", done, draft.id)
        draft.instance_id = None  # closed meanwhile: let the leader choose another duty
    return _route(session, draft, person, now, tz)


def _route(session: Session, draft: CheckInDraft, person: Person, now: datetime, tz: ZoneInfo) -> Outcome:
    """No button said which duty: a reply to a reminder or digest, else the caption (see
    bot/services/routing.py); file it when one duty clearly fits, otherwise ask, best guesses first."""
    choices = open_instances(session, person.id, now)
    replied = [i for i in choices if i.id in (draft.reply_instances or [])]
    pool = replied or choices
    ranked = routing.rank(draft.text, [_candidate(session, i) for i in pool], routing.local_today(now, tz))
    by_id = {i.id: i for i in pool}
    if len(replied) == 1:
        winner, note = replied[0], T.ROUTED_REPLY
    else:
        best = routing.clear_winner(ranked)
        winner, note = (by_id[best.instance_id], T.ROUTED_CAPTION) if best is not None else (None, "")
    if winner is not None:
        done = record(session, instance=winner, person_id=person.id, chat_id=draft.chat_id, text=draft.text,
                      attachments=list(draft.attachments), at=draft.created_at,
                      update_id=draft.update_ids[0] if draft.update_ids else None,
                      media_group_id=draft.media_group_id, tz=tz,
                      note=note.format(**instance_names(session, winner)))
        if done is not None:
            draft.state, draft.checkin_id, draft.instance_id, draft.updated_at = "done", done.checkin.id, winner.id, now
            return Outcome("checkin", done, draft.id, notes=["routed"])
    guesses = [by_id[r.candidate.instance_id] for r in ranked if r.score > 0]
    rest = [i for i in choices if i not in guesses]
    return _ask(session, draft, person, now, guesses + rest, guessed=bool(guesses))


def _candidate(session: Session, inst: DutyInstance) -> routing.Candidate:
    duty = _duty(session, inst)
    return routing.Candidate(inst.id, duty.title, duty.kind, inst.period_key, inst.due_at)


def replied_instances(session: Session, msg: Incoming) -> list[int]:
    """The duties of the bot's message a leader replied to (a reminder, a digest), in its order:
    as stored with the outbox row that sent it; a reply faster than the sender recording the
    message id falls back to the quoted message's 报告 buttons."""
    if msg.reply_to is None:
        return []
    payload = session.exec(select(Outbox.payload).where(Outbox.chat_id == msg.chat_id,
                                                        Outbox.tg_message_id == msg.reply_to)).first()
    if payload is not None:
        return [int(i) for i in payload.get("instances", [])]
    found = []
    for data in msg.reply_buttons:
        parts = data.split(":")
        if len(parts) == 3 and parts[:2] == ["r", "done"] and parts[2].isdigit():
            found.append(int(parts[2]))
    return found


def _ask(session: Session, draft: CheckInDraft, person: Person, now: datetime,
         choices: list[DutyInstance] | None = None, guessed: bool = False) -> Outcome:
    for attachment in draft.attachments:  # stored now, whether or not the question is ever answered
        evidence.keep_unfiled(session, attachment, now)
    choices = open_instances(session, person.id, now) if choices is None else choices
    what = _what(list(draft.attachments))
    draft.updated_at = now
    if not choices:
        draft.state = "kept"  # stored, counted nowhere; nothing is thrown away
        _send(session, draft.chat_id, f"draft:{draft.id}:none", T.NO_OPEN_DUTY.format(what=what), person_id=person.id)
        return Outcome("kept", draft_id=draft.id)
    if len(choices) == 1:
        names = instance_names(session, choices[0])
        body = T.ASK_WHICH_ONE.format(what=what, **names)
        buttons = [[outbox.button(T.BTN_PICK_ONE.format(title=_short(names["title"], 24)),
                                  f"r:pick:{draft.id}:{choices[0].id}")], [_cancel(draft)]]
    else:
        body = T.ASK_WHICH.format(what=what) + (T.ASK_GUESSED if guessed else "")
        buttons = _pick_buttons(session, draft, choices)
    draft.state = "asking"
    row = _send(session, draft.chat_id, f"draft:{draft.id}:ask", body, buttons, person_id=person.id)
    if row is not None:
        draft.prompt_outbox_id = row.id
    return Outcome("asking", draft_id=draft.id)


def _cancel(draft: CheckInDraft) -> dict:
    return outbox.button(T.BTN_CANCEL, f"r:drop:{draft.id}")


def _pick_buttons(session: Session, draft: CheckInDraft, choices: list[DutyInstance]) -> outbox.Buttons:
    """One button per duty (the first MAX_PICK_BUTTONS, in the order given) and 取消."""
    buttons = []
    for inst in choices[:MAX_PICK_BUTTONS]:
        names = instance_names(session, inst)
        label = T.BTN_PICK.format(title=_short(names["title"], 22), period=names["period"])
        buttons.append([outbox.button(label, f"r:pick:{draft.id}:{inst.id}")])
    buttons.append([_cancel(draft)])
    return buttons


def _short(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


# -- what a leader sends ------------------------------------------------------------------------
def is_duplicate(session: Session, msg: Incoming) -> bool:
    if session.exec(select(CheckIn.id).where(CheckIn.update_id == msg.update_id)).first() is not None:
        return True
    if _draft(session, f"u:{msg.update_id}") is not None:
        return True
    if msg.media_group_id:
        album = _draft(session, f"g:{msg.media_group_id}")
        return album is not None and msg.update_id in (album.update_ids or [])
    return False


def receive(session: Session, person: Person, msg: Incoming, now: datetime, tz: ZoneInfo = fmt.SHANGHAI) -> Outcome:
    """A leader's message that is not a command: a check-in, part of one, or a short answer."""
    if is_duplicate(session, msg):
        return Outcome("duplicate")
    if msg.unsupported:
        what = T.UNSUPPORTED_KINDS.get(msg.unsupported, T.UNSUPPORTED_OTHER)
        _send(session, msg.chat_id, f"unsupported:{msg.update_id}", T.UNSUPPORTED.format(what=what),
              person_id=person.id)
        return Outcome("unsupported")
    too_big = [a for a in msg.attachments if (a.get("size") or 0) > MAX_FILE_BYTES]
    if too_big:
        a = too_big[0]
        _send(session, msg.chat_id, f"toobig:{msg.update_id}",
              T.TOO_BIG.format(name=a.get("file_name") or _what([a]), size=f"{a['size'] / 1024 / 1024:.1f}"),
              person_id=person.id)
        return Outcome("too_big")
    if msg.attachments:
        return _receive_files(session, person, msg, now, tz)
    if msg.text.strip():
        return _receive_text(session, person, msg, now, tz)
    _send(session, msg.chat_id, f"help:{msg.update_id}", T.HELP_SHORT, person_id=person.id)
    return Outcome("help")


def _receive_text(session: Session, person: Person, msg: Incoming, now: datetime, tz: ZoneInfo) -> Outcome:
    replied = replied_instances(session, msg)
    if replied:  # a reply to a reminder or digest: a report on its duty
        draft = _add_draft(session, CheckInDraft(
            key=f"u:{msg.update_id}", person_id=person.id, chat_id=msg.chat_id, text=msg.text.strip(),
            update_ids=[msg.update_id], reply_instances=replied, state="collecting", created_at=now, updated_at=now))
        if draft is None:
            return Outcome("duplicate")
        return _settle(session, draft, person, now, tz)
    waiting = _awaiting(session, person.id, now)
    if waiting is None:
        _send(session, msg.chat_id, f"help:{msg.update_id}", T.HELP_SHORT, person_id=person.id)
        return Outcome("help")
    inst = session.get(DutyInstance, waiting.instance_id) if waiting.instance_id else None
    done = None
    if inst is not None:
        done = record(session, instance=inst, person_id=person.id, chat_id=msg.chat_id, text=msg.text.strip(),
                      attachments=[], at=now, update_id=msg.update_id, tz=tz)
    waiting.update_ids = [*waiting.update_ids, msg.update_id]
    waiting.updated_at = now
    if done is None:
        waiting.state = "dropped"
        _not_open(session, inst, msg.chat_id, f"notopen:{msg.update_id}", person.id)
        return Outcome("not_open", draft_id=waiting.id)
    waiting.state, waiting.checkin_id, waiting.text = "done", done.checkin.id, msg.text.strip()
    return Outcome("checkin", done, waiting.id)


def _not_open(session: Session, inst: DutyInstance | None, chat_id: int, key: str, person_id: str) -> None:
    if inst is None:
        return
    body = T.NOT_OPEN.format(**instance_names(session, inst), status=T.STATUS_NAMES.get(inst.status, inst.status))
    _send(session, chat_id, key, body, person_id=person_id)


def _receive_files(session: Session, person: Person, msg: Incoming, now: datetime, tz: ZoneInfo) -> Outcome:
    files = [dict(a) for a in msg.attachments]
    if msg.media_group_id:
        album = _draft(session, f"g:{msg.media_group_id}")
        if album is not None:
            return _add_part(session, album, msg, files, now)
    replied = replied_instances(session, msg)
    waiting = None if replied else _awaiting(session, person.id, now)  # a reply says more than an older tap
    key = f"g:{msg.media_group_id}" if msg.media_group_id else f"u:{msg.update_id}"
    draft = _add_draft(session, CheckInDraft(
        key=key, person_id=person.id, chat_id=msg.chat_id, instance_id=waiting.instance_id if waiting else None,
        text=msg.text.strip(), attachments=files, update_ids=[msg.update_id], media_group_id=msg.media_group_id,
        reply_instances=replied, state="collecting", created_at=now, updated_at=now,
    ))
    if draft is None:  # another worker started this album a moment ago
        return _add_part(session, _draft(session, key), msg, files, now)
    if waiting is not None:
        waiting.state, waiting.updated_at = "used", now
    if msg.media_group_id:
        return Outcome("collecting", draft_id=draft.id)  # finish_albums settles it when complete
    return _settle(session, draft, person, now, tz)


def _add_part(session: Session, album: CheckInDraft, msg: Incoming, files: list[dict], now: datetime) -> Outcome:
    if msg.update_id in (album.update_ids or []):
        return Outcome("duplicate")
    album.update_ids = [*album.update_ids, msg.update_id]
    album.attachments = [*album.attachments, *files]
    album.text = _join(album.text, msg.text)
    album.updated_at = now
    if album.state == "done" and album.checkin_id is not None:
        # A straggler after the album was recorded: its files still become evidence of that check-in.
        checkin = session.get(CheckIn, album.checkin_id)
        for attachment in files:
            evidence.schedule(session, checkin, attachment, now)
        return Outcome("checkin", draft_id=album.id, notes=["late album part"])
    if album.state in ("asking", "kept", "unfiled", "dropped"):  # asked already: the straggler is kept too
        for attachment in files:
            evidence.keep_unfiled(session, attachment, now)
        return Outcome(album.state, draft_id=album.id, notes=["late album part"])
    return Outcome("collecting", draft_id=album.id)


def finish_albums(session: Session, now: datetime, tz: ZoneInfo = fmt.SHANGHAI,
                  started_at: datetime | None = None) -> int:
    """Settle albums whose last part came more than ALBUM_QUIET ago; returns how many.

    A part may still wait in the inbox (stored, not processed yet) or at Telegram (after a
    restart, before the first poll): so nothing is settled in the first ALBUM_QUIET after the
    worker started (`started_at`), and while the inbox has unprocessed updates an album waits, up
    to ALBUM_PATIENCE. A part later still becomes evidence of the check-in all the same."""
    if started_at is not None and now < started_at + ALBUM_QUIET:
        return 0
    drafts = list(session.exec(
        select(CheckInDraft).where(CheckInDraft.state == "collecting", CheckInDraft.updated_at <= now - ALBUM_QUIET)
        .order_by(CheckInDraft.id)  # type: ignore[arg-type]
    ))
    if not drafts:
        return 0
    backlog = session.exec(select(InboxUpdate.id).where(InboxUpdate.state == "new").limit(1)).first() is not None
    settled = 0
    for draft in drafts:
        if backlog and draft.updated_at > now - ALBUM_PATIENCE:
            continue
        person = session.get(Person, draft.person_id)
        if person is None:
            draft.state = "kept"
            continue
        _settle(session, draft, person, now, tz)
        settled += 1
    return settled


def remind_unfiled(session: Session, now: datetime, tz: ZoneInfo = fmt.SHANGHAI) -> int:
    """Files a leader sent that are still not filed UNFILED_AFTER later: one reminder each, with
    the duties that accept them now; then the draft is `unfiled` (the office sees its files as
    未归档佐证, the leader can still pick a duty). Returns how many reminders were queued."""
    drafts = list(session.exec(
        select(CheckInDraft).where(CheckInDraft.state.in_(["asking", "kept"]),  # type: ignore[attr-defined]
                                   CheckInDraft.created_at <= now - UNFILED_AFTER)
        .order_by(CheckInDraft.id).limit(100)))  # type: ignore[arg-type]
    for draft in drafts:
        draft.state, draft.updated_at = "unfiled", now
        if not draft.attachments:
            continue
        what = _what(list(draft.attachments))
        body = T.UNFILED.format(when=fmt.moment(draft.created_at, tz), what=what, count=len(draft.attachments),
                                text=T.UNFILED_TEXT.format(text=_short(draft.text, 30)) if draft.text else "")
        buttons = _pick_buttons(session, draft, open_instances(session, draft.person_id, now))
        _send(session, draft.chat_id, f"draft:{draft.id}:unfiled", body, buttons, person_id=draft.person_id)
    return len(drafts)


@dataclass(frozen=True)
class UnfiledFile:
    """A stored file no check-in took (未归档佐证), with who sent it and what they wrote."""

    person_id: str
    at: datetime
    path: str
    sha256: str
    size: int
    text: str
    draft_state: str
    evidence_id: int
    mime: str = ""


def unfiled_files(session: Session, now: datetime, person_id: str | None = None,
                  min_age: timedelta = UNFILED_AFTER) -> list[UnfiledFile]:
    """Files sent more than `min_age` ago and never filed under a duty, oldest first."""
    files = evidence.unfiled(session, now - min_age)
    if not files:
        return []
    wanted = {f.tg_file_unique_id for f in files}
    owner: dict[str, CheckInDraft] = {}
    query = select(CheckInDraft).where(CheckInDraft.state != "done")
    if person_id is not None:
        query = query.where(CheckInDraft.person_id == person_id)
    for draft in session.exec(query.order_by(CheckInDraft.id)):  # type: ignore[arg-type]
        for a in draft.attachments or []:
            if a.get("file_unique_id") in wanted:
                owner.setdefault(a["file_unique_id"], draft)
    return [UnfiledFile(d.person_id, f.at, f.path, f.sha256, f.size, d.text, d.state, f.id, f.mime)
            for f in files if (d := owner.get(f.tg_file_unique_id)) is not None]


def next_album_due(session: Session) -> datetime | None:
    first = session.exec(select(CheckInDraft.updated_at).where(CheckInDraft.state == "collecting")
                         .order_by(CheckInDraft.updated_at).limit(1)).first()  # type: ignore[arg-type]
    return None if first is None else first + ALBUM_QUIET


# -- buttons ----------------------------------------------------------------------------------
def _own_instance(session: Session, person: Person, instance_id: int) -> tuple[DutyInstance | None, str | None]:
    inst = session.get(DutyInstance, instance_id)
    if inst is None:
        return None, T.UNKNOWN_TOAST
    if inst.person_id != person.id:
        return None, T.NOT_YOURS_TOAST
    return inst, None


def start_report(session: Session, person: Person, chat_id: int, instance_id: int, tap_id: str, now: datetime,
                 upload: bool = False) -> str:
    """报告完成 / 上传佐证 on a reminder: wait for the leader's photos or text (or a bare confirmation)."""
    inst, refusal = _own_instance(session, person, instance_id)
    if inst is None:
        return refusal
    if not accepting(inst, now):
        _not_open(session, inst, chat_id, f"notopen:tap:{tap_id}", person.id)
        return T.NOT_OPEN_TOAST
    draft = _draft(session, f"w:{tap_id}")
    if draft is None:
        for old in session.exec(select(CheckInDraft).where(CheckInDraft.person_id == person.id,
                                                          CheckInDraft.state == "awaiting")):
            old.state, old.updated_at = "replaced", now
        draft = _add_draft(session, CheckInDraft(key=f"w:{tap_id}", person_id=person.id, chat_id=chat_id,
                                                 instance_id=inst.id, state="awaiting", created_at=now,
                                                 updated_at=now))
        if draft is None:
            return T.ASKED_TOAST
    names = instance_names(session, inst)
    cancel = outbox.button(T.BTN_CANCEL, f"r:drop:{draft.id}")
    if upload:
        body, buttons = T.ASK_UPLOAD.format(**names), [[cancel]]
    else:
        body = T.ASK_REPORT.format(**names)
        buttons = [[outbox.button(T.BTN_CONFIRM_ONLY, f"r:ok:{draft.id}"), cancel]]
    row = _send(session, chat_id, f"draft:{draft.id}:ask", body, buttons, person_id=person.id)
    if row is not None:
        draft.prompt_outbox_id = row.id
    return T.ASKED_TOAST


def confirm_only(session: Session, person: Person, draft_id: int, update_id: int | None, now: datetime,
                 tz: ZoneInfo = fmt.SHANGHAI) -> str:
    """仅确认完成: a check-in without text or photos."""
    draft = session.get(CheckInDraft, draft_id)
    if draft is None or draft.person_id != person.id:
        return T.UNKNOWN_TOAST
    if draft.state != "awaiting":
        return T.ALREADY_TOAST
    inst = session.get(DutyInstance, draft.instance_id) if draft.instance_id else None
    done = None
    if inst is not None:
        done = record(session, instance=inst, person_id=person.id, chat_id=draft.chat_id, text="", attachments=[],
                      at=now, update_id=update_id, tz=tz)
    draft.updated_at = now
    if done is None:
        draft.state = "dropped"
        _not_open(session, inst, draft.chat_id, f"notopen:draft:{draft.id}", person.id)
        return T.NOT_OPEN_TOAST
    draft.state, draft.checkin_id = "done", done.checkin.id
    _close_prompt(session, draft, T.PICKED.format(**instance_names(session, inst)))
    return T.CHECKIN_TOAST


def pick(session: Session, person: Person, draft_id: int, instance_id: int, now: datetime,
         tz: ZoneInfo = fmt.SHANGHAI) -> str:
    """The leader chose the duty that the photos they sent belong to."""
    draft = session.get(CheckInDraft, draft_id)
    if draft is None or draft.person_id != person.id:
        return T.UNKNOWN_TOAST
    if draft.state not in ("asking", "kept", "unfiled"):
        return T.ALREADY_TOAST
    inst, refusal = _own_instance(session, person, instance_id)
    if inst is None:
        return refusal
    # The check-in is dated when the photos came, if the duty still accepted it then and now.
    at = draft.created_at if accepting(inst, draft.created_at) else now
    done = record(session, instance=inst, person_id=person.id, chat_id=draft.chat_id, text=draft.text,
                  attachments=list(draft.attachments), at=at,
                  update_id=draft.update_ids[0] if draft.update_ids else None,
                  media_group_id=draft.media_group_id, tz=tz)
    if done is None:
        _not_open(session, inst, draft.chat_id, f"notopen:pick:{draft.id}:{inst.id}", person.id)
        return T.NOT_OPEN_TOAST
    draft.state, draft.checkin_id, draft.instance_id, draft.updated_at = "done", done.checkin.id, inst.id, now
    _close_prompt(session, draft, T.PICKED.format(**instance_names(session, inst)))
    return T.CHECKIN_TOAST


def drop(session: Session, person: Person, draft_id: int, now: datetime) -> str:
    draft = session.get(CheckInDraft, draft_id)
    if draft is None or draft.person_id != person.id:
        return T.UNKNOWN_TOAST
    if draft.state not in ("awaiting", "asking", "kept", "collecting", "unfiled"):
        return T.ALREADY_TOAST
    draft.state, draft.updated_at = "dropped", now
    _close_prompt(session, draft, T.DROPPED)
    return T.DROPPED_TOAST


def _close_prompt(session: Session, draft: CheckInDraft, body: str) -> None:
    """Replace the question's buttons by the answer, so an old prompt cannot be tapped again."""
    if draft.prompt_outbox_id is None:
        return
    outbox.enqueue(session, chat_id=draft.chat_id, payload=outbox.edit(draft.prompt_outbox_id, body, []),
                   dedupe_key=f"draft:{draft.id}:closed", priority=outbox.INTERACTIVE, person_id=draft.person_id)


# -- 稍后提醒 and 查看条款 --------------------------------------------------------------------------
def snooze(session: Session, person: Person, chat_id: int, instance_id: int, now: datetime,
           schedule: Schedule) -> str:
    """稍后提醒: the reminder again in two hours, or when quiet hours end."""
    inst, refusal = _own_instance(session, person, instance_id)
    if inst is None:
        return refusal
    if not accepting(inst, now):
        return RT.SNOOZE_NOT_OPEN
    when = reminders.snooze_until(now, schedule)
    payload = reminders.reminder_payload(inst, _duty(session, inst), RT.LEAD_SNOOZED)
    outbox.enqueue(session, chat_id=chat_id, payload=payload,
                   dedupe_key=f"remind:{inst.id}:snooze-{when.astimezone(schedule.tz):%Y%m%d%H%M}",
                   priority=outbox.ROUTINE, person_id=person.id, not_before=when)
    return RT.SNOOZE_OK.format(when=fmt.moment(when, schedule.tz))


def clause(session: Session, person: Person, chat_id: int, instance_id: int, tap_id: str) -> str:
    """查看条款: the full source clause of the duty."""
    inst, refusal = _own_instance(session, person, instance_id)
    if inst is None:
        return refusal
    duty = _duty(session, inst)
    if duty.source_clause:
        body = RT.CLAUSE.format(title=duty.title, document=duty.source_document, clause=duty.source_clause)
    else:
        body = RT.CLAUSE_NONE.format(title=duty.title)
    _send(session, chat_id, f"clause:{tap_id}", body[:4000], person_id=person.id)
    return T.CLAUSE_TOAST


# -- the leader's own views ---------------------------------------------------------------------
def history(session: Session, person_id: str, limit: int = 10) -> list[tuple[CheckIn, DutyInstance | None]]:
    rows = list(session.exec(
        select(CheckIn).where(CheckIn.person_id == person_id, CheckIn.instance_id.is_not(None))  # type: ignore[union-attr]
        .order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(limit)  # type: ignore[union-attr]
    ))
    return [(c, session.get(DutyInstance, c.instance_id)) for c in rows]


MINE_LIMIT = 30  # lines of /mine; a phone scrolls that far, the rest is counted


def mine(session: Session, person_id: str, now: datetime, tz: ZoneInfo = fmt.SHANGHAI) -> tuple[str, outbox.Buttons]:
    """/mine, for a phone: open duties grouped 已逾期 / 本周到期 / 以后 (by due within each), one
    short line each, how many of the current periods' duties are done, and a numbered 报告 button
    per line (as in the reminder digest)."""
    rows = open_instances(session, person_id, now)
    done = len(session.exec(select(DutyInstance.id).where(
        DutyInstance.person_id == person_id, DutyInstance.status.in_(["done", "late"]),  # type: ignore[attr-defined]
        DutyInstance.opens_at <= now, DutyInstance.closes_at > now)).all())
    if not rows:
        return (T.MINE_NONE_DONE.format(done=done) if done else T.MINE_NONE), []
    today = now.astimezone(tz).date()
    week_end = datetime.combine(today + timedelta(days=7 - today.weekday()), datetime.min.time(), tz)
    groups: dict[str, list[DutyInstance]] = {T.MINE_OVERDUE_HEAD: [], T.MINE_WEEK_HEAD: [], T.MINE_LATER_HEAD: []}
    for inst in sorted(rows, key=lambda i: (i.due_at, i.id)):
        key = (T.MINE_OVERDUE_HEAD if inst.due_at < now else
               T.MINE_WEEK_HEAD if inst.due_at < week_end else T.MINE_LATER_HEAD)
        groups[key].append(inst)
    lines = [T.MINE_HEAD.format(count=len(rows), done=done)]
    shown: list[DutyInstance] = []
    for head, members in groups.items():
        members = members[:max(MINE_LIMIT - len(shown), 0)]
        if not members:
            continue
        lines += ["", T.MINE_GROUP.format(head=head, count=len(groups[head]))]
        for inst in members:
            shown.append(inst)
            line = digest.Line(inst.id, _duty(session, inst).title, digest.period_text(inst), inst.due_at,
                               inst.done_count, inst.required)
            lines.append(digest.line_text(len(shown), line, now, tz))
    if len(rows) > len(shown):
        lines.append(T.MINE_MORE.format(count=len(rows) - len(shown)))
    lines += ["", T.MINE_FOOT]
    numbers = [outbox.button(digest.T.BTN_NUMBER.format(n=n), f"r:done:{inst.id}") for n, inst in enumerate(shown, 1)]
    return "\n".join(lines), [numbers[i:i + digest.BUTTONS_PER_ROW] for i in range(0, len(numbers),
                                                                                  digest.BUTTONS_PER_ROW)]


def history_text(session: Session, person_id: str, tz: ZoneInfo = fmt.SHANGHAI, limit: int = 10) -> str:
    """/history: the person's recent check-ins with their times and how many files came with each."""
    rows = history(session, person_id, limit)
    if not rows:
        return T.HISTORY_NONE
    lines = [T.HISTORY_HEAD]
    fixes = {c.checkin_id: c.action for c in session.exec(select(CheckInCorrection).where(
        CheckInCorrection.checkin_id.in_([c.id for c, _ in rows])))}  # type: ignore[attr-defined]
    for checkin, inst in rows:
        names = instance_names(session, inst) if inst is not None else {"title": T.HISTORY_UNKNOWN_DUTY, "period": ""}
        count = len(checkin.attachments or [])
        text = _short(checkin.text.replace("\n", " "), 40) if checkin.text else ""
        lines.append(T.HISTORY_LINE.format(at=fmt.moment(checkin.at, tz), **names,
                                           files=T.HISTORY_FILES.format(count=count) if count else "",
                                           text=T.HISTORY_TEXT.format(text=text) if text else "")
                     + T.HISTORY_CORRECTED.get(fixes.get(checkin.id, ""), ""))
    return "\n".join(lines)
