"""dutybot export: the assessment workbook, or one leader's 履职档案 (workbook + original photos)."""

from __future__ import annotations

import sys
import time
from datetime import date

from sqlmodel import select

from bot import clock
from bot.services import assessment, export, export_jobs
from bot.store.models import Person

from .args import day, moment
from .context import CommandError
from .paths import output_file, writing
from .rank import catalog_or_none, zone

ORDER = 70


def register(sub) -> None:
    p = sub.add_parser("export", help="导出考核表（xlsx）或个人履职档案（zip） / export the assessment workbook")
    p.add_argument("--from", dest="start", type=day, metavar="DATE", help="起（按截止日期）/ from (default: 1 January)")
    p.add_argument("--to", dest="end", type=day, metavar="DATE", help="止，含当日 / to, inclusive (default: today)")
    p.add_argument("--out", metavar="FILE", help="输出文件 / output file (default: a name with the dates)")
    p.add_argument("--person", metavar="NAME", help="只导出某人 / one person (name or id)")
    p.add_argument("--format", choices=["xlsx", "zip"], help="zip = 履职档案 with photos (needs --person)")
    p.add_argument("--at", type=moment, metavar="DATETIME", help="按此时刻计算 / as of this moment (default: now)")
    p.set_defaults(func=run)


def find_person(session, key: str) -> Person:
    found = list(session.exec(select(Person).where((Person.id == key) | (Person.name == key))))
    exact = [p for p in found if p.id == key]
    if exact:
        return exact[0]
    if len(found) == 1:
        return found[0]
    if not found:
        raise CommandError(f"未知人员 “{key}” / unknown person (run `dutybot sync` first?)")
    raise CommandError(f"“{key}” 有重名，请用人员编号 / several people are called {key!r}; use the id: "
                       + ", ".join(p.id for p in found))


class Progress:
    """明细 rows written, on stderr: one line rewritten in place on a terminal, a line every
    EVERY seconds otherwise (a log file)."""

    EVERY = 5.0

    def __init__(self, expected: int, out=None):
        self.expected = expected
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, rows: int) -> None:
        now = time.monotonic()
        if not self.tty and now - self._last < self.EVERY:
            return
        self._last = now
        pct = f"{min(rows / self.expected, 0.99):.0%}" if self.expected else "…"
        line = f"导出中 / exporting: 明细 {rows:,} / ~{self.expected:,} 行 rows ({pct}, {now - self.started:.0f} s)"
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=self.out, flush=True)

    def finish(self) -> None:
        if self.tty:
            print(file=self.out)


def run(args, ctx) -> int:
    tz = zone(ctx)
    now = args.at or clock.now()
    today = now.astimezone(tz).date()
    start = args.start or date(today.year, 1, 1)
    end = args.end or today
    if end < start:
        raise CommandError("--to 早于 --from / --to is before --from")
    fmt = args.format or ("zip" if args.out and args.out.lower().endswith(".zip") else "xlsx")
    if fmt == "zip" and not args.person:
        raise CommandError("履职档案（zip）需要 --person / --format zip needs --person")
    if args.out is not None:
        output_file(args.out)  # refuse a bad place before the work
    person = None
    if args.person:
        with ctx.store.session() as s:
            person = find_person(s, args.person)
    catalog = catalog_or_none(ctx)
    with ctx.store.session() as s:
        expected = export_jobs.expected_rows(s, start, end, tz, person.id if person else None)
    common = dict(data_dir=ctx.settings.data_dir, tz=tz, weights=assessment.weights_of(catalog),
                  policy=assessment.policy_from(catalog), progress=Progress(expected))
    if fmt == "zip":
        out = output_file(args.out or f"履职档案_{export.safe_name(person.name)}_{start}_{end}.zip")
        with writing(out):
            result = export.write_archive(ctx.store, out, person.id, start, end, now, **common)
    else:
        name = f"履职记录_{export.safe_name(person.name)}" if person else "履职记录"
        out = output_file(args.out or f"{name}_{start}_{end}.xlsx")
        with writing(out):
            result = export.write_xlsx(ctx.store, out, start, end, now, person_id=person.id if person else None,
                                       **common)
    common["progress"].finish()
    rows = "，".join(f"{k} {v}" for k, v in result.rows.items())
    photos = sum(1 for p in result.photos if p.exists)
    missing = len(result.photos) - photos
    print(f"已导出 / written {out}（{rows}；照片 {photos}{f'，缺失 {missing}' if missing else ''}）")
    print(f"账本链头 / ledger head: #{result.head_seq or 0} {result.head_hash}")
    if result.not_counted:
        print(f"另有 {result.not_counted} 项尚未截止，不计入 / {result.not_counted} open instances not counted")
    if missing:
        print(f"注意：{missing} 个照片文件缺失，运行 dutybot verify 查看 / {missing} photo files are missing",
              file=sys.stderr)
    return 0
