"""dutybot rank: the quarterly ranking of units (seed 003: 季度考核排名, bottom two named)."""

from __future__ import annotations

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import clock
from bot.services import assessment
from bot.texts import fmt

from .args import moment
from .context import CommandError
from .output import print_json, print_table

ORDER = 60


def zone(ctx) -> ZoneInfo:
    return ZoneInfo(ctx.catalog.timezone) if Path(ctx.duties_file).is_file() else fmt.SHANGHAI


def catalog_or_none(ctx):
    return ctx.catalog if Path(ctx.duties_file).is_file() else None


def register(sub) -> None:
    p = sub.add_parser("rank", help="季度考核排名 / quarterly ranking of units")
    p.add_argument("--quarter", metavar="YYYY-QN",
                   help="季度，如 2026-Q3（默认：上一季度） / quarter (default: the last finished one)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--at", type=moment, metavar="DATETIME", help="按此时刻计算 / as of this moment (default: now)")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    tz = zone(ctx)
    now = args.at or clock.now()
    quarter = args.quarter or assessment.last_closed_quarter(now.astimezone(tz).date())
    try:
        assessment.parse_quarter(quarter)
    except ValueError as e:
        raise CommandError(str(e)) from None
    catalog = catalog_or_none(ctx)
    weights = assessment.weights_of(catalog)
    policy = assessment.policy_from(catalog)
    with ctx.store.session() as s:
        r = assessment.rank_quarter(s, quarter.upper(), now, tz=tz, weights=weights, policy=policy)
    if args.format == "json":
        print_json(assessment.ranking_json(r), sys.stdout)
        return 0
    print(f"{fmt.period(r.quarter)}（{r.start} 至 {r.end}）单位履职排名")
    rows = []
    for u in r.units:
        mark = "通报表扬" if u.top else (f"后{policy.bottom}位" if u.bottom else "")
        rows.append((u.rank, u.name, f"{u.rate:.1%}", u.tally.required, u.tally.done, u.tally.late, u.tally.missed,
                     u.tally.excused, mark, u.streak or "", u.step.describe() if u.step else "",
                     "、".join(u.interviewers)))
    print_table(["名次", "单位", "得分率", "应考核", "按时", "逾期", "未完成", "免考核", "标记", "连续", "处理", "约谈人"],
                rows, sys.stdout)
    if r.unranked:
        print("无可考核事项 / nothing to count: " + "、".join(name for _, name in r.unranked))
    if r.open_count:
        print(f"另有 {r.open_count} 项尚未截止，不计入 / {r.open_count} instances still open are not counted")
    return 0
