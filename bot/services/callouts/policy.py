"""A 叫应 level's policy as the callout keeps it (a snapshot taken at issue, durations in seconds),
and the user mistakes the callout services refuse."""

from __future__ import annotations

from bot.texts import callouts as T
from schedules.catalog import CalloutPolicy

MAX_TEXT = 3000


class CalloutError(ValueError):
    """A user mistake (unknown level or unit, empty text...): the message says what to fix."""


def policy_snapshot(policy: CalloutPolicy) -> dict:
    """The policy as it is now, durations in seconds, kept on the callout."""
    return {
        "level": policy.level.value,
        "who": {"roles": list(policy.who.roles), "people": list(policy.who.people), "units": list(policy.who.units)},
        "ack_within": policy.ack_within.total_seconds(),
        "recall_every": policy.recall_every.total_seconds(),
        "recalls": policy.recalls,
        "escalate": list(policy.escalate),
        "report_within": policy.report_within.total_seconds(),
        "summary_within": policy.summary_within.total_seconds(),
    }


def parse_level(value: str) -> str:
    level = T.LEVEL_WORDS.get(str(value).strip().lower())
    if level is None:
        raise CalloutError(T.ERR_LEVEL.format(value=value))
    return level
