"""叫应: emergency-warning broadcasts that every responsible leader must answer (有叫有应有记录).

Everything lives in the store, and one function, `tick(session, now)`, moves every callout on from
there, so a restart in the middle of a broadcast resumes it and two workers cannot double a step.

A recipient's timeline (`CalloutTarget`; `next_call_at` is when it needs looking at next):

    call 1 ──ack_within──▶ call 2 ──recall_every──▶ … call 1+recalls ──recall_every──▶ escalate

- escalate: a new target (reason "escalation", escalated_from_id) with calls of its own that name
  who is silent (see below);
- 收到 at any point: `ack` records acked_at (once) and makes the target due now; the worker's next
  step (`follow_up`) drops queued calls, edits the sent ones to 已收到 HH:MM and sends the report
  form; the report is due report_within after the answer and nudged once when overdue
  (reports.py).

The waits count from when the previous call was *delivered* (the outbox row's sent_at), not
queued: after downtime or behind a slow Telegram nobody is re-called for a message they could not
have seen. A call that cannot be delivered (no Telegram binding, blocked bot) escalates at once.

Escalation walks the policy's chain (deputy, superior, office or person ids), relative to the
silent recipient who started it. A step naming someone not yet a target adds them as an escalation
target, and the chain stops there until that person is silent too. A step naming someone who
already answered sends them a notice instead (a person is a target once per callout); a step
naming nobody, or only people who are silent themselves, is skipped.

Dedupe keys: callout:<id>:<target>:call<n> | :file | :form | :form<n> (its edits) | :nudge | :lift |
:ack<n> (the edit of call n), callout:<id>:<target>:escalate:<silent target> (notices),
callout:<id>:board:<n>, callout:<id>:summary:<chat>:<n>. Calls, re-calls, escalations, answers and
解除 use priority outbox.CALLOUT and ignore quiet hours; board edits go one notch ahead
(BOARD_PRIORITY) so the office sees the board move while a large broadcast drains, coalesced
(`refresh_board`): one edit in flight, one waiting and rewritten in place. A call made pointless
(answered, lifted) while still queued gets the outbox state "cancelled", which the sender never
claims.

The board is the office's one live message; `records.callout_status` / `records.callout_records`
are the record (CLI, export).

The modules, bottom up (each imports only those above it):

    policy      the policy snapshot a callout keeps, CalloutError
    keys        outbox dedupe keys and states
    render      every message's words (pure)
    lookup      the callout, its targets and people, read back
    people      recipients and who an escalation step names
    reports     the 落实情况报告 form after 收到
    answers     ack (收到) and its follow-up
    board       the office's live board
    timeline    tick: re-calls, escalations, nudges
    issuing     issue, preview, attachments
    lifting     lift (解除) and the closing summary
    records     the 叫应记录 as data (export, `dutybot callout status`)
    warn_flow   the /warn guided flow

Every text is in bot/texts/callouts.py. This package re-exports the functions its callers use, so
`from bot.services import callouts; callouts.issue(...)` is the usual way in.
"""

from bot.services.callouts.answers import AckResult, ack, follow_up
from bot.services.callouts.attachments import attachment_from_file, attachment_payload
from bot.services.callouts.board import board_snapshot, delivered_first_calls, refresh_board
from bot.services.callouts.issuing import issue, preview
from bot.services.callouts.keys import ACTIVE_SENDS, BOARD_PRIORITY, CANCELLED, key, key_range, outbox_by_key
from bot.services.callouts.lifting import lift, summary_chats
from bot.services.callouts.lookup import active, get, header, people_of, targets_of, unit_names
from bot.services.callouts.policy import MAX_TEXT, CalloutError, parse_level, policy_snapshot
from bot.services.callouts.timeline import TickReport, tick

__all__ = [
    "ACTIVE_SENDS", "BOARD_PRIORITY", "CANCELLED", "MAX_TEXT", "AckResult", "CalloutError", "TickReport", "ack",
    "active", "attachment_from_file", "attachment_payload", "board_snapshot", "delivered_first_calls",
    "follow_up", "get", "header", "issue", "key", "key_range", "lift", "outbox_by_key", "parse_level",
    "people_of", "policy_snapshot", "preview", "refresh_board", "summary_chats", "targets_of", "tick",
    "unit_names",
]
