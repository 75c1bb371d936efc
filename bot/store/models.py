"""The store's tables. The store is the single source of truth: the scheduler and the Telegram side
keep nothing that a restart would need.

Every datetime is stored as UTC (`UTCDateTime` normalizes on the way in and out, so SQLite and
PostgreSQL behave alike). Append-only tables (check-ins, evidence, callout acks and reports) are
chained by `ledger` rows; see bot/services/ledger.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# Row ids are INTEGER primary keys: 32 bits on PostgreSQL (SQLite's are 64). A larger number, from a
# user or a forged button, names no row, and must be refused before it reaches a query, where
# PostgreSQL fails with "integer out of range" instead of finding nothing.
MAX_ROW_ID = 2**31 - 1


def row_id_of(text: str) -> int | None:
    """`text` as a row id if it can be one: ASCII digits (str.isdigit also takes "²", which int()
    refuses, and int() takes "３") naming 1..MAX_ROW_ID; None otherwise."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None


def utcnow() -> datetime:
    return datetime.now(UTC)


def _dt(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _json(default: Any = None) -> Any:
    return Field(default_factory=(lambda: default() if callable(default) else default), sa_type=JSON)


# ---------------------------------------------------------------------------------------------
# The catalogue as loaded by `dutybot sync`: rows are updated and retired, never deleted.
# ---------------------------------------------------------------------------------------------
class Unit(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=80)
    name: str
    parent_id: str | None = Field(default=None, max_length=80)
    retired_at: datetime | None = _dt()


class Person(SQLModel, table=True):
    # 未报告 sorted by unit walks people in (unit, id) order (bot/services/overdue.py)
    __table_args__ = (Index("ix_person_unit_person", "unit_id", "id"),)

    id: str = Field(primary_key=True, max_length=80)  # the catalogue id (the name unless given)
    name: str = Field(index=True)
    unit_id: str = Field(default="", max_length=80, index=True)
    position: str = ""
    roles: list[str] = _json(list)
    telegram_id: int | None = Field(default=None, sa_type=BigInteger, unique=True, index=True)
    phone: str | None = Field(default=None, max_length=32)  # for 叫应 calls and SMS; shown to the office only
    deputy_id: str | None = None
    superior_id: str | None = None
    is_office: bool = False
    term_from: datetime | None = _dt()
    term_to: datetime | None = _dt()
    retired_at: datetime | None = _dt()
    updated_at: datetime | None = _dt()


class Duty(SQLModel, table=True):
    """A schedulable item of the catalogue: a duty, a one-off task, a holiday check or a campaign."""

    id: str = Field(primary_key=True, max_length=80)
    item: str = "duty"  # duty | task | holiday | campaign
    title: str
    kind: str = "other"
    frequency: str = ""  # the wording, e.g. 每月至少1次; empty when not scheduled
    source_document: str = ""
    source_clause: str = Field(default="", sa_type=Text)
    content_hash: str = ""  # of the catalogue entry, so sync only touches what changed
    retired_at: datetime | None = _dt()
    updated_at: datetime | None = _dt()


class DutyInstance(SQLModel, table=True):
    """One person's obligation for one period of one duty."""

    __table_args__ = (
        UniqueConstraint("duty_id", "person_id", "period_key"),
        Index("ix_instance_status_due", "status", "due_at", "id"),  # id: pages in a stable order, read in order
        # 未报告 by period: a period key's rows of one status due in the filter's dates are one range
        Index("ix_instance_period", "period_key", "status", "due_at", "id"),
        Index("ix_instance_person", "person_id", "status", "id"),
        # "current periods": windows containing now; with status, due and id, 未报告 of the windows
        # open now is counted and sorted by due or status from this index alone
        Index("ix_instance_closes", "closes_at", "opens_at", "status", "due_at", "id"),
        Index("ix_instance_due", "due_at", "id"),  # the web's 未报告 by period (any status), by due
        Index("ix_instance_status_duty_due", "status", "duty_id", "due_at"),  # 未报告 by status and kind, counted
        # "not reported" counts per unit: for each person, its open instances counted from the
        # index alone (status.unreported_by_unit; bench/RESULTS.md)
        Index("ix_instance_open_person", "status", "person_id", "closes_at", "opens_at"),
        # 未报告 sorted by unit: each person's instances by due, after ix_person_unit_person; on
        # PostgreSQL a unit's period (any sort) from the index alone, the sort keys included
        Index("ix_instance_person_due", "person_id", "due_at", "id", postgresql_include=["status", "period_key", "duty_id"]),
        # 未报告 of the windows open now in one status: counted and sorted by due from the index alone
        Index("ix_instance_status_closes", "status", "closes_at", "opens_at", "due_at"),
        # 未报告 of one unit over the windows open now in every status: per person, from the index.
        # PostgreSQL only: SQLite then reads a unit's periods through it instead of
        # ix_instance_person_due and looks every row up (15-40 ms became 100-230 ms at 1.5 M)
        Index("ix_instance_person_closes", "person_id", "closes_at", "opens_at").ddl_if(dialect="postgresql"),
    )
    id: int | None = Field(default=None, primary_key=True)
    duty_id: str = Field(max_length=80)
    person_id: str = Field(max_length=80)
    period_key: str = Field(max_length=40)
    opens_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    required: int = 1
    done_count: int = 0
    status: str = "open"  # open | done | late | missed | excused
    done_at: datetime | None = _dt()
    closed_at: datetime | None = _dt()


class InstanceCount(SQLModel, table=True):
    """How many instances have each (due moment, duty, status): 未报告's exact total of a period
    without counting a year's index entries (PostgreSQL only: triggers of migration webperf_2 add
    a row to InstanceCountDelta for every change of an instance, in the changing transaction, and
    bot/services/overdue.fold_counts folds those rows in here; on SQLite the table stays empty)."""

    due_at: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    duty_id: str = Field(max_length=80, primary_key=True)
    status: str = Field(max_length=20, primary_key=True)
    n: int = 0


class InstanceCountDelta(SQLModel, table=True):
    """Changes to InstanceCount not folded in yet (+n / -n): appended, never updated in place, so
    writers of different instances never wait on each other's count row."""

    id: int | None = Field(default=None, primary_key=True)
    due_at: datetime = Field(sa_type=UTCDateTime)
    duty_id: str = Field(max_length=80)
    status: str = Field(max_length=20)
    n: int


# ---------------------------------------------------------------------------------------------
# What leaders sent, as received (inbox) and as proof (check-ins, evidence).
# ---------------------------------------------------------------------------------------------
class InboxUpdate(SQLModel, table=True):
    """A Telegram update committed before it is confirmed to Telegram, processed from here."""

    id: int | None = Field(default=None, primary_key=True)
    update_id: int = Field(sa_type=BigInteger, unique=True, index=True)
    payload: dict = _json(dict)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state: str = Field(default="new", index=True)  # new | done | failed
    attempts: int = 0
    processed_at: datetime | None = _dt()
    error: str | None = None
    # Several processes work the inbox: a `new` row is claimed (claimed_by, claimed_until) while
    # one of them handles it; rows of the same chat_key are handled in order (bot/telegram/inbox.py).
    chat_key: str | None = Field(default=None, max_length=40)
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = _dt()


class CheckIn(SQLModel, table=True):
    """A report of performance (履职). Append-only."""

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int | None = Field(default=None, index=True)  # None only for callout reports
    person_id: str = Field(max_length=80, index=True)
    text: str = Field(default="", sa_type=Text)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    update_id: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    media_group_id: str | None = None
    attachments: list[dict] = _json(list)  # Telegram file ids of what came with it


class Evidence(SQLModel, table=True):
    """A stored file (photo, document) of a check-in, content-addressed by SHA-256. Append-only."""

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int | None = Field(default=None, index=True)
    callout_target_id: int | None = Field(default=None, index=True)
    sha256: str = Field(max_length=64, index=True)
    path: str  # relative to DATA_DIR
    mime: str = ""
    size: int = 0
    width: int | None = None
    height: int | None = None
    exif_time: str | None = None
    tg_file_id: str = ""
    tg_file_unique_id: str = Field(default="", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Download(SQLModel, table=True):
    """A file still to fetch from Telegram; retried until it is stored as Evidence."""

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int | None = Field(default=None, index=True)
    callout_target_id: int | None = None
    tg_file_id: str
    tg_file_unique_id: str = Field(default="", unique=True)
    mime: str = ""
    attempts: int = 0
    next_try_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state: str = Field(default="pending", index=True)  # pending | done | failed
    error: str | None = None


class CheckInDraft(SQLModel, table=True):
    """What a leader sent that is not a check-in yet: an album still arriving, photos waiting for
    the leader to say which duty they prove, or a 报告完成 tap waiting for its text or photos.
    Kept in the store so a restart in the middle loses nothing."""

    id: int | None = Field(default=None, primary_key=True)
    # u:<update id> (one message), g:<media group id> (an album), w:<callback query id> (a tap)
    key: str = Field(max_length=200, unique=True)
    person_id: str = Field(max_length=80, index=True)
    chat_id: int = Field(sa_type=BigInteger)
    instance_id: int | None = None  # the duty it is for, once known
    text: str = Field(default="", sa_type=Text)
    attachments: list[dict] = _json(list)
    update_ids: list[int] = _json(list)
    media_group_id: str | None = None
    # awaiting (a tap) | collecting (an album) | asking (which duty?) | kept (no open duty) | done,
    # or closed without a check-in: dropped (cancelled) | replaced (a newer tap) | used (content came)
    state: str = Field(default="collecting", max_length=20, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    prompt_outbox_id: int | None = None
    checkin_id: int | None = None
    # The duties of the reminder or digest this replies to (Telegram's reply): they come first.
    reply_instances: list[int] = _json(list)


class LedgerEntry(SQLModel, table=True):
    """The hash chain over every append-only record: verify walks it in seq order."""

    seq: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # checkin | evidence | ack | report | exemption | correction
    ref_id: int
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    content_hash: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64, unique=True)  # a fork of the chain cannot be written
    hash: str = Field(max_length=64, unique=True)
    __table_args__ = (UniqueConstraint("kind", "ref_id"),)


# ---------------------------------------------------------------------------------------------
# Outgoing messages.
# ---------------------------------------------------------------------------------------------
class Outbox(SQLModel, table=True):
    """Every message the bot sends, drained by one sender. Lower priority number goes first."""

    # The sender's claim order (bot/telegram/sender.py); migration outbox_claim_1 says why not_before is not in it.
    __table_args__ = (Index("ix_outbox_claim", "state", "priority", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    person_id: str | None = Field(default=None, max_length=80)
    priority: int = 50  # 0 callout, 10 office/answers, 50 routine reminders
    payload: dict = _json(dict)  # {"method": "sendMessage", ...}; see bot/services/messages.py
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    not_before: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state: str = "pending"  # pending | sending | sent | failed | skipped (duty done meanwhile) | cancelled
    attempts: int = 0
    claimed_until: datetime | None = _dt()
    claimed_by: str | None = Field(default=None, max_length=80)  # the sender process holding the claim
    sent_at: datetime | None = _dt()
    tg_message_id: int | None = Field(default=None, sa_type=BigInteger)
    last_error: str | None = None


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(max_length=80, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = _dt()
    used_by: int | None = Field(default=None, sa_type=BigInteger)


# ---------------------------------------------------------------------------------------------
# 叫应 (callouts).
# ---------------------------------------------------------------------------------------------
class Callout(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    level: str  # red | orange | yellow | blue
    hazard: str = ""
    text: str = Field(default="", sa_type=Text)
    units: list[str] = _json(list)
    policy: dict = _json(dict)  # the policy as it was when issued, durations in seconds
    issued_by: str | None = None  # person id; None from the CLI
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attachment: dict | None = Field(default=None, sa_type=JSON)
    board_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    board_outbox_id: int | None = None
    lifted_at: datetime | None = _dt()
    lifted_by: str | None = None
    # The summary (总结) due policy.summary_within after lifting; reminded once at the deadline.
    summary_at: datetime | None = _dt()
    summary_by: str | None = None
    summary_text: str = Field(default="", sa_type=Text, sa_column_kwargs={"server_default": ""})
    summary_reminded_at: datetime | None = _dt()


class CalloutTarget(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("callout_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    callout_id: int = Field(index=True)
    person_id: str = Field(max_length=80)
    reason: str = "policy"  # policy | escalation
    escalated_from_id: int | None = None  # the CalloutTarget whose silence added this one
    calls_made: int = 0
    first_sent_at: datetime | None = _dt()
    last_called_at: datetime | None = _dt()
    next_call_at: datetime | None = _dt(index=True)
    acked_at: datetime | None = _dt()
    escalated_at: datetime | None = _dt()
    # Person ids this target's silence was escalated to: new escalation targets and people who
    # were already targets and got an escalation notice instead (a person is a target once).
    escalated_to: list[str] = _json(list)
    report_at: datetime | None = _dt()
    report_measures: list[str] = _json(list)
    report_text: str = Field(default="", sa_type=Text)
    acked_channel: str | None = None  # telegram | voice | sms: how 收到 came
    released_at: datetime | None = _dt()  # an escalation target let go: the silent person answered
    chain_step: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # next escalation step


# ---------------------------------------------------------------------------------------------
# Assessment and bookkeeping.
# ---------------------------------------------------------------------------------------------
class Exemption(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(max_length=80, index=True)
    instance_id: int | None = Field(default=None, index=True)
    reason_kind: str = ""  # 请假 | 出差 | 因公
    reason: str = Field(default="", sa_type=Text)
    date_from: datetime | None = _dt()
    date_to: datetime | None = _dt()
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state: str = "pending"  # pending | approved | refused | revoked (approved, then an ExemptionRevocation)
    decided_by: str | None = None
    decided_at: datetime | None = _dt()


class AuditLog(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_telegram_id: int | None = Field(default=None, sa_type=BigInteger)
    person_id: str | None = None
    action: str
    detail: dict = _json(dict)


class KeyValue(SQLModel, table=True):
    """Small process-wide state: the scheduler's watermark, the catalogue hash."""

    key: str = Field(primary_key=True, max_length=80)
    value: str = Field(default="", sa_type=Text)
    updated_at: datetime | None = _dt()



# ---------------------------------------------------------------------------------------------
# The web console (bot/web): sign-in links, sessions, background export jobs.
# ---------------------------------------------------------------------------------------------
class WebLink(SQLModel, table=True):
    """A one-time sign-in link (/web, `dutybot web-link`): only the token's SHA-256 is kept."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(max_length=80, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = _dt()


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds the id, the store its SHA-256."""

    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(max_length=64, unique=True)
    person_id: str = Field(max_length=80, index=True)
    csrf_token: str = Field(max_length=64)  # useless without the session cookie; sent in every form
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = _dt()
    ip: str = Field(default="", max_length=64)


class ExportJob(SQLModel, table=True):
    """An export started from the web or the CLI, run by a worker; the file is kept 7 days."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # assessment | person
    params: dict = _json(dict)  # {"from": "2026-01-01", "to": "2026-12-31"} | {"person_id": ...}
    state: str = Field(default="queued", max_length=20, index=True)  # queued | running | done | failed
    done: int = 0  # progress: rows (or files) written so far
    total: int = 0  # expected rows; 0 while unknown
    path: str = ""  # relative to DATA_DIR
    filename: str = ""
    size: int = 0
    error: str = ""
    created_by: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = _dt()
    heartbeat_at: datetime | None = _dt()  # progress writes; a stale one means its process died
    finished_at: datetime | None = _dt()
    expires_at: datetime | None = _dt()


class CalendarFeed(SQLModel, table=True):
    """A person's secret calendar-feed URL (/ics/<token>.ics): the token's SHA-256, revocable."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(max_length=80, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = _dt()
    last_fetched_at: datetime | None = _dt()


class ExemptionRevocation(SQLModel, table=True):
    """The office took back an approved exemption (with a reason). Append-only and chained in the
    ledger like the approval; the Exemption row itself never changes after its decision."""

    id: int | None = Field(default=None, primary_key=True)
    exemption_id: int = Field(unique=True)
    reason: str = Field(sa_type=Text)
    revoked_by: str = Field(max_length=80)
    revoked_at: datetime = Field(sa_type=UTCDateTime)
    reinstated: list[int] = _json(list)  # instance ids no longer excused

# ---------------------------------------------------------------------------------------------
# Reminder digests, personal settings, check-in corrections (bot/services/digest.py,
# settings.py, corrections.py).
# ---------------------------------------------------------------------------------------------
class ReminderItem(SQLModel, table=True):
    """One reminder of one duty instance, waiting to go out in its person's next digest.

    The scheduler queues items (deduplicated like the outbox: `remind:<instance id>:<label>`);
    the composer turns every item of a person that is due into one outbox message (or a few, at
    Telegram's limits) and links them to it, so a reply to that message finds its duties."""

    __table_args__ = (Index("ix_reminderitem_due", "state", "release_at"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    instance_id: int = Field(index=True)
    person_id: str = Field(max_length=80)
    chat_id: int = Field(sa_type=BigInteger)
    label: str = Field(default="", max_length=40)  # open, -3d, +1d, snooze-…
    lead: str = ""  # the reminder's first line when it goes out alone
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    release_at: datetime = Field(sa_type=UTCDateTime)  # not before (quiet hours, the daily digest)
    state: str = Field(default="pending", max_length=20)  # pending | sent | skipped (done meanwhile)
    outbox_id: int | None = Field(default=None, index=True)


class PersonSetting(SQLModel, table=True):
    """A person's own choice made in Telegram (/settings); it wins over duties.yaml."""

    person_id: str = Field(primary_key=True, max_length=80)
    key: str = Field(primary_key=True, max_length=40)
    value: str = ""
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CheckInCorrection(SQLModel, table=True):
    """A leader withdrew a check-in (撤回) or moved it to another duty. Append-only and chained:
    the check-in itself is never edited; counts and statuses follow the correction."""

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = Field(index=True, unique=True)  # a check-in is corrected at most once
    person_id: str = Field(max_length=80)
    action: str = Field(max_length=20)  # withdraw | move
    to_instance_id: int | None = None
    new_checkin_id: int | None = None  # the check-in the move made on to_instance_id
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# ---------------------------------------------------------------------------------------------
# Cluster: the leader lease (bot/store/lease.py).
# ---------------------------------------------------------------------------------------------
class LeaderLease(SQLModel, table=True):
    """Who leads (runs the scheduler, 叫应 ticks, workers, getUpdates) until when; the epoch
    is the fencing token of the current term."""

    name: str = Field(primary_key=True, max_length=40)
    holder: str | None = Field(default=None, max_length=80)
    epoch: int = Field(default=0, sa_type=BigInteger)
    expires_at: datetime | None = _dt()  # written with the database's clock
    acquired_at: datetime | None = _dt()


__all__ = [
    "AuditLog", "Callout", "CalloutTarget", "CheckIn", "CheckInDraft", "Download", "Duty", "DutyInstance",
    "Evidence", "Exemption", "InboxUpdate", "Invite", "KeyValue", "LeaderLease", "LedgerEntry", "Outbox", "Person",
    "Unit", "UTCDateTime", "utcnow", "ReminderItem", "PersonSetting", "CheckInCorrection", "WebLink", "WebSession",
    "ExportJob", "ExemptionRevocation", "CalendarFeed",
]


# ---------------------------------------------------------------------------------------------
# 叫应 by phone and SMS (bot/services/callouts/contacts.py).
# ---------------------------------------------------------------------------------------------
class CalloutContact(SQLModel, table=True):
    """One phone call or SMS of a callout: queued by the timeline, placed by the phone worker,
    settled by the provider's receipt. Never deleted: the record shows every attempt."""

    __table_args__ = (Index("ix_calloutcontact_due", "state", "not_before"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=200)
    callout_id: int = Field(index=True)
    target_id: int = Field(index=True)  # the CalloutTarget called or told
    person_id: str = Field(max_length=80)
    channel: str  # voice | sms
    purpose: str = "call"  # call (the warning, press 1) | notice (escalation, 未叫醒, release)
    phone: str = Field(max_length=32)
    params: dict = _json(dict)  # template parameters
    state: str = "queued"  # queued | placing | placed | acked | answered | no_answer | busy | power_off | unreachable | delivered | undelivered | error | cancelled
    provider_id: str | None = Field(default=None, unique=True, max_length=120)  # CallId / BizId
    status_code: str = ""  # the provider's last status code
    error: str = Field(default="", sa_type=Text)
    attempts: int = 0
    not_before: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = _dt()
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    placed_at: datetime | None = _dt()
    result_at: datetime | None = _dt()
