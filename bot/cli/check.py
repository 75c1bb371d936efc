"""dutybot check [FILE]: validate a catalogue and summarize it."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date

from schedules import CatalogError, Schedule, compile_jobs, load_catalog

from .args import MAX_DATE, MIN_DATE, bounded_int

ORDER = 10


def register(sub) -> None:
    p = sub.add_parser("check", help="校验职责目录 / validate duties.yaml and summarize it")
    p.add_argument("file", nargs="?", help="目录文件 / catalogue file (default: --duties, $DUTIES_FILE, ./duties.yaml)")
    p.add_argument("--year", type=bounded_int(MIN_DATE.year, MAX_DATE.year - 1), help="统计实例的年份 / year to count instances for (default: this year)")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    path = args.file or ctx.duties_file
    try:
        catalog = load_catalog(path)
    except CatalogError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        print(f"{len(e.problems)} 个问题 / problem(s) in {path}", file=sys.stderr)
        return 1
    year = args.year or date.today().year
    schedule = Schedule(catalog)
    instances = Counter(i.window.duty_id for i in schedule.expand(date(year, 1, 1), date(year + 1, 1, 1)))
    scheduled = [d for d in catalog.duties if d.scheduled]
    print(f"{path}: OK")
    print(f"  单位 units: {len(catalog.units)}   角色 roles: {len(catalog.roles)}   人员 people: {len(catalog.people)}"
          f" (安委办 office: {len(catalog.office)})")
    print(f"  职责 duties: {len(catalog.duties)} (定期 scheduled: {len(scheduled)}, "
          f"无频次 unscheduled: {len(catalog.duties) - len(scheduled)})")
    unscheduled = [d.id for d in catalog.duties if not d.scheduled]
    if unscheduled:  # listed, so a clause without a frequency is visibly kept, not dropped
        print(f"  无频次条款（不排期）unscheduled clauses: {', '.join(unscheduled)}")
    print(f"  任务 tasks: {len(catalog.tasks)}   节前检查 holiday checks: {len(catalog.holiday_checks)}"
          f"   叫应级别 callout levels: {', '.join(level.value for level in catalog.callouts) or '-'}")
    print(f"  {year} 年实例 instances: {sum(instances.values())}   调度任务 scheduler jobs: {len(compile_jobs(catalog))}")
    for warning in schedule.calendar.warnings:
        print(f"  注意 warning: {warning}", file=sys.stderr)
    return 0
