"""dutybot sync: load the catalogue into the store."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.store.sync import sync_catalog

ORDER = 30


def register(sub) -> None:
    p = sub.add_parser("sync", help="把职责目录载入数据库 / load duties.yaml into the store")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    with ctx.store.session() as session:
        report = sync_catalog(session, ctx.catalog, datetime.now(UTC))
    for label in report.added:
        print(f"+ {label}")
    for label in report.updated:
        print(f"~ {label}")
    for label in report.retired:
        print(f"- {label}")
    print(f"新增 added {len(report.added)}, 更新 updated {len(report.updated)}, 停用 retired {len(report.retired)}")
    return 0
