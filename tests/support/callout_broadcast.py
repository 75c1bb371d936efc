"""A 叫应 broadcast to many leaders, for tests that kill bot processes in the middle of one
(tests/test_callout_restart.py, tests/test_cluster.py).

    duties.write_text(catalog_yaml(leaders=40, first_tg=7_000_001, ack_within="2s"))
    callouts.issue(s, catalog, level="orange", text=TEXT, ..., issued_by=OFFICE, board_chat_id=first_tg + 999)
    calls(sandbox, first_tg)     # (chat, call number) -> how many times Telegram got it
"""

from __future__ import annotations

from collections import Counter

TEXT = "红色暴雨预警：今夜有特大暴雨"
OFFICE = "孙安"


def catalog_yaml(leaders: int, first_tg: int, ack_within: str = "2s") -> str:
    """`leaders` 部门负责人 (telegram ids from first_tg), the office at first_tg + 999, an orange
    callout for all of them: one re-call after `ack_within`, then escalation to the office."""
    people = "\n".join(f"  - {{name: 部长{n:02d}, unit: 甲部, roles: [部门负责人], telegram_id: {first_tg + n}}}"
                       for n in range(leaders))
    return f"""\
timezone: Asia/Shanghai
units:
  - id: 园区管委会
    children: [甲部]
roles:
  部门负责人: 部门负责人
  安委办: 安委办
people:
{people}
  - {{name: {OFFICE}, unit: 园区管委会, roles: [安委办], office: true, telegram_id: {first_tg + 999}}}
duties: []
callouts:
  orange:
    who: [部门负责人]
    ack_within: {ack_within}
    recall_every: 60s
    recalls: 1
    escalate: [office]
    report_within: 60s
"""


def calls(sandbox, first_tg: int) -> Counter:
    """(chat, call number) → how many times Telegram got it (the office's board left out)."""
    seen: Counter = Counter()
    for m in sandbox.world.bot_messages:
        text = m.data.get("text") or ""
        if "特大暴雨" in text and m.chat_id != first_tg + 999:
            seen[(m.chat_id, 2 if "第2次叫应" in text else 1)] += 1
    return seen
