"""dutybot warn: issue a 叫应 warning (or lift one) without Telegram.

    dutybot warn --level red --units 规划建设部 经济运行部 --text "…" [--hazard 暴雨] [--file F] [--by 孙丽]
    dutybot warn --lift ID [--by 孙丽]

It writes the callout, its recipients and their first calls to the store; the running bot's
worker and sender deliver them, re-call and escalate. The board goes to --by (an office member),
else to the first office member bound to Telegram.
"""

from __future__ import annotations

import sys

from bot import clock
from bot.services import callouts
from bot.store.models import Person
from bot.texts import callouts as T

from .args import record_id
from .context import CommandError
from .output import print_table
from .paths import reading

ORDER = 50


def register(sub) -> None:
    p = sub.add_parser("warn", help="发布/解除预警叫应 / issue or lift a 叫应 warning")
    p.add_argument("--level", help="red/orange/yellow/blue 或 红/橙/黄/蓝")
    p.add_argument("--units", nargs="*", default=[], metavar="UNIT",
                   help="影响单位（id 或名称，可多个或逗号分隔；不填或“全部”为全园区）/ units (default: all)")
    p.add_argument("--text", help="预警内容 / the warning text ('-' reads standard input)")
    p.add_argument("--hazard", default="", help="灾害类型，如 暴雨、台风 / hazard type")
    p.add_argument("--file", metavar="F", help="附带的图片或文件 / a photo or document to send with it")
    p.add_argument("--by", metavar="PERSON", help="发布人（安委办人员）/ issuing office member (gets the board)")
    p.add_argument("--lift", type=record_id, metavar="ID", help="解除第 ID 号预警 / lift warning ID")
    p.set_defaults(func=run)


def _office_member(session, key: str | None, catalog) -> Person | None:
    if key is None:
        return None
    found = catalog.find_person(key)
    person = session.get(Person, found.id) if found else session.get(Person, key)
    if person is None:
        raise CommandError(T.ERR_PERSON.format(value=key))
    if not person.is_office:
        raise CommandError(T.ERR_NOT_OFFICE.format(value=person.name))
    return person


def _board_chat(session, issuer: Person | None, catalog) -> int | None:
    if issuer is not None:
        return issuer.telegram_id
    for p in catalog.office:
        row = session.get(Person, p.id)
        if row is not None and row.retired_at is None and row.telegram_id is not None:
            return row.telegram_id
    return None


def run(args, ctx) -> int:
    now = clock.now()
    if args.lift is not None:
        with ctx.store.session() as s:
            issuer = _office_member(s, args.by, ctx.catalog)
            try:
                callout = callouts.lift(s, args.lift, now=now, lifted_by=issuer.id if issuer else None)
            except callouts.CalloutError as e:
                raise CommandError(str(e)) from None
            n = len(callouts.targets_of(s, callout.id))
        print(f"已解除第 {args.lift} 号预警，通知 {n} 人 / lifted callout {args.lift}, {n} people notified")
        return 0
    if not args.level:
        raise CommandError("请用 --level 指定预警级别，或用 --lift ID 解除 / give --level (or --lift ID)")
    text = sys.stdin.read() if args.text == "-" else args.text
    if not text or not text.strip():
        raise CommandError(T.ERR_TEXT)
    units = [u.strip() for item in args.units for u in item.replace("，", ",").split(",") if u.strip()]
    with ctx.store.session() as s:
        issuer = _office_member(s, args.by, ctx.catalog)
        try:
            with reading(args.file):
                attachment = callouts.attachment_from_file(args.file, ctx.settings.data_dir) if args.file else None
            callout = callouts.issue(s, ctx.catalog, level=args.level, text=text, units=units, hazard=args.hazard,
                                     issued_by=issuer.id if issuer else None, attachment=attachment, now=now,
                                     board_chat_id=_board_chat(s, issuer, ctx.catalog))
        except callouts.CalloutError as e:
            raise CommandError(str(e)) from None
        targets = callouts.targets_of(s, callout.id)
        people = callouts.people_of(s, targets)
        rows = [(people[t.person_id].name, people[t.person_id].unit_id,
                 "已发出 queued" if t.calls_made else "未绑定，已升级 unbound, escalated",
                 "升级 escalation" if t.reason == "escalation" else "") for t in targets]
        cid, level = callout.id, T.LEVEL_NAMES[callout.level]
    print(f"已发布叫应第 {cid} 号：{level}预警 {args.hazard}，叫应 {len(rows)} 人 / "
          f"callout {cid} issued to {len(rows)} people")
    print_table(["人员 person", "单位 unit", "状态 state", "原因 reason"], rows, out=sys.stdout)
    print(f"进度 / progress: dutybot callout status {cid}")
    return 0
