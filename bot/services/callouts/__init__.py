"""叫应: emergency-warning broadcasts that every responsible leader must answer (有叫有应有记录),
and that must wake them (必须保证叫醒): by Telegram, then by phone and SMS, then up the chain.

Everything lives in the store, and one function, `tick(session, now)`, moves every callout on from
there, so a restart in the middle of a broadcast resumes it and two workers cannot double a step.

A recipient's timeline (`CalloutTarget`; `next_call_at` is when it needs looking at next):

    call 1 ──ack_within──▶ call 2 ──recall_every──▶ … call 1+recalls ──recall_every──▶ chain step 1
        chain step: voice/sms only ──redial_every──▶ next step   (the silent person phoned/texted)
                    people(+channels) ─▶ escalation targets, the chain continues from them

- a chain step of channels only (`voice`, `sms`) phones or texts the silent person themselves
  (a `CalloutContact`, placed by the phone worker, bot/phone/) and waits redial_every; a call the
  provider never placed (5xx, timeout) makes the target due at once, so the chain falls back to
  its next step and the failed attempt stays in the record (contacts.py);
- a step naming people adds them as escalation targets (reason "escalation", escalated_from_id):
  Telegram calls of their own that name who is silent, plus the step's channels (`sms+superior`:
  an SMS too); their chain continues from the next step if they are silent in turn;
- 收到 at any point and by any channel (the Telegram button, pressing 1 on the call, the SMS
  link): `ack` records acked_at and acked_channel (once) and makes the target due now; every
  escalation target still being called about this person is released at once (released_at, its
  queued calls and texts dropped, one notice "XX 已于 HH:MM 应答"); the worker's next step
  (`follow_up`) drops queued calls, edits the sent ones to 已收到 HH:MM and sends the report form;
  the report is due report_within after the answer and nudged once when overdue (reports.py);
- 解除 (`lift`): queued calls and texts dropped, everyone told, the office gets the closing summary;
  the issuer's own summary (总结) is due summary_within later and reminded once at the deadline
  (summary.py).

The waits count from when the previous call was *delivered* (the outbox row's sent_at), not
queued: after downtime or behind a slow Telegram nobody is re-called for a message they could not
have seen. A call that cannot be delivered (no Telegram binding, blocked bot) goes to the chain at
once, whose first step is usually the phone.

Escalation walks the policy's chain relative to the silent recipient who started it (the target's
chain_step is the next step). A step naming someone not yet a target adds them, and the chain
stops there until that person is silent too. A step naming someone who already answered sends
them a notice instead (a person is a target once per callout); a step reaching nobody (no phone,
no superior, only people silent themselves) is skipped.

Dedupe keys: callout:<id>:<target>:call<n> | :file | :form | :form<n> (its edits) | :nudge | :lift |
:ack<n> (the edit of call n), callout:<id>:<target>:escalate:<silent target> (notices),
:released:<answered target> (the release notice), callout:<id>:board:<n>,
callout:<id>:summary:<chat>:<n>, callout:<id>:summary-due:<chat>; phone and SMS contacts have keys
of their own (contacts.py). Calls, re-calls, escalations, answers and 解除 use priority
outbox.CALLOUT and ignore quiet hours; a red warning's calls are marked `broadcast` (Telegram's
paid broadcast when TELEGRAM_PAID_BROADCAST=1, bot/telegram/sender.py); board edits go one notch
ahead (BOARD_PRIORITY) so the office sees the board move while a large broadcast drains,
coalesced (`refresh_board`): one edit in flight, one waiting and rewritten in place. A call made
pointless (answered, released, lifted) while still queued gets the outbox state "cancelled", which
the sender never claims.

The board is the office's one live message (who is silent, who was woken by phone or SMS, the
summary's state); `records.callout_status` / `records.callout_records` are the record (CLI,
export), with every phone call and SMS per target.

The modules, bottom up (each imports only those above it; `summary` and `contacts` reach up
lazily for `lift`'s chats and `ack`):

    policy       the policy snapshot a callout keeps, CalloutError
    keys         outbox dedupe keys, states and the call payload
    render       every message's words (pure)
    lookup       the callout, its targets and people, read back
    reach        recipients and who an escalation step names
    attachments  a warning's photo or document
    contacts     phone and SMS: the channels, their receipts, the SMS 收到 link
    reports      the 落实情况报告 form after 收到
    answers      ack (收到) by any channel, its follow-up, the release of escalations
    summary      the 总结 due after 解除
    board        the office's live board
    timeline     tick: re-calls, the escalation chain, nudges, summary reminders
    issuing      issue, preview
    lifting      lift (解除) and the closing summary
    records      the 叫应记录 as data (export, `dutybot callout status`)
    warn_flow    the /warn guided flow

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
