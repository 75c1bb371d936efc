"""dutybot callout: follow 叫应 warnings from the command line.

    dutybot callout list [--all] [--format table|json]
    dutybot callout status ID [--format table|json]
    dutybot callout summary ID TEXT [--by PERSON]      record the summary due after 解除

status gives per recipient: person, first_sent_at, calls_made, acked_at, escalated_to, report_at
(ISO 8601, +08:00); see bot/services/callouts/records.py for every field of the JSON.
"""

from __future__ import annotations

import sys

from sqlmodel import select

from bot.services import callouts
from bot.services.callouts import render
from bot.services.callouts.records import callout_status
from bot.store.models import Callout
from bot.texts import callouts as T
from bot.texts import fmt

from .args import record_id
from .context import CommandError
from .output import print_json, print_table

ORDER = 51


def register(sub) -> None:
    p = sub.add_parser("callout", help="叫应进度与记录 / callout progress and records")
    inner = p.add_subparsers(dest="callout_command", metavar="ACTION")
    s = inner.add_parser("status", help="某次叫应的逐人情况 / per-recipient status of one callout")
    s.add_argument("id", type=record_id)
    s.add_argument("--format", choices=["table", "json"], default="table")
    s.set_defaults(func=status)
    sm = inner.add_parser("summary", help="记录解除后的叫应总结 / record the summary due after lifting")
    sm.add_argument("id", type=int)
    sm.add_argument("text")
    sm.add_argument("--by", default=None, help="总结人（人员 id 或姓名）/ who wrote it")
    sm.set_defaults(func=record_summary)
    ls = inner.add_parser("list", help="叫应列表（默认只列未解除的）/ active callouts (--all: every one)")
    ls.add_argument("--all", action="store_true")
    ls.add_argument("--format", choices=["table", "json"], default="table")
    ls.set_defaults(func=list_callouts)
    p.set_defaults(func=lambda args, ctx: (p.print_help(), 2)[1])


def _short(value: str | None) -> str:
    return value.replace("T", " ")[5:16] if value else ""


def status(args, ctx) -> int:
    with ctx.store.session() as s:
        try:
            data = callout_status(s, args.id)
        except callouts.CalloutError as e:
            raise CommandError(str(e)) from None
    if args.format == "json":
        print_json(data, out=sys.stdout)
        return 0
    c = data["counts"]
    print(f"第 {data['id']} 号 {T.LEVEL_NAMES.get(data['level'], data['level'])}预警 {data['hazard']} · "
          f"发布 {_short(data['issued_at'])}" + (f" · 解除 {_short(data['lifted_at'])}" if data["lifted_at"] else ""))
    print(f"应叫应 {c['total']} · 已发出 {c['sent']} · 已收到 {c['acked']} · 再叫应中 {c['recalling']} · "
          f"已升级 {c['escalated']} · 已报告 {c['reported']}")
    if data["summary_state"]:
        state = T.SUMMARY_STATES[data["summary_state"]].format(due=_short(data["summary_due_at"]),
                                                               at=_short(data["summary_at"]))
        print(f"总结 summary：{state}")
    print()
    print_table(
        ["人员 person", "首次发出 first_sent", "叫应次数 calls", "电话/短信 phone/sms", "收到 acked",
         "升级至 escalated_to", "停止 released", "报告 report", "措施 measures"],
        [(t["person"] + ("（升级）" if t["reason"] == "escalation" else ""), _short(t["first_sent_at"]),
          t["calls_made"], f"{t['phone_calls']}/{t['sms_sent']}",
          _short(t["acked_at"]) + (f"（{T.CHANNEL_NAMES[t['channel_acked']]}）"
                                   if t["channel_acked"] not in (None, "telegram") else ""),
          "、".join(t["escalated_to"]), _short(t["released_at"]),
          _short(t["report_at"]) + ("（逾期）" if t["report_late"] else ""), "、".join(t["measures"]))
         for t in data["targets"]],
        out=sys.stdout)
    return 0


def list_callouts(args, ctx) -> int:
    with ctx.store.session() as s:
        query = select(Callout).order_by(Callout.id)
        if not args.all:
            query = query.where(Callout.lifted_at.is_(None))  # type: ignore[union-attr]
        rows = []
        for c in s.exec(query):
            counts = render.counts(callouts.targets_of(s, c.id))
            rows.append({"id": c.id, "level": c.level, "hazard": c.hazard, "issued_at": fmt.local(c.issued_at).isoformat(timespec="seconds"),
                         "lifted_at": fmt.local(c.lifted_at).isoformat(timespec="seconds") if c.lifted_at else None,
                         **counts})
    if args.format == "json":
        print_json(rows, out=sys.stdout)
        return 0
    if not rows:
        print(T.LIST_NONE)
        return 0
    print_table(["号 id", "级别 level", "灾害 hazard", "发布 issued", "解除 lifted", "收到 acked", "报告 reported"],
                [(r["id"], T.LEVEL_NAMES.get(r["level"], r["level"]), r["hazard"], _short(r["issued_at"]),
                  _short(r["lifted_at"]), f"{r['acked']}/{r['total']}", r["reported"]) for r in rows],
                out=sys.stdout)
    return 0


def record_summary(args, ctx) -> int:
    from bot import clock
    from bot.services.callouts import summary

    with ctx.store.session() as s:
        by = None
        if args.by:
            person = ctx.catalog.find_person(args.by)
            if person is None:
                raise CommandError(f"未知人员 / unknown person: {args.by}")
            by = person.id
        try:
            c = summary.record(s, args.id, args.text, by=by, now=clock.now())
        except callouts.CalloutError as e:
            raise CommandError(str(e)) from None
        late = T.SUMMARY_LATE_MARK if summary.state(c, clock.now()) == "late" else ""
        print(T.SUMMARY_SAVED.format(cid=c.id, clock=fmt.clock(c.summary_at), late=late))
    return 0
