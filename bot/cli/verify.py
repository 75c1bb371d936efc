"""dutybot verify: walk the ledger and the evidence files; exit 1 at the first altered, missing or
inserted record, 0 with the chain head when the record is intact."""

from __future__ import annotations

import sys

from bot import clock
from bot.services import verify, verify_runs

from .output import print_json

ORDER = 72


def register(sub) -> None:
    p = sub.add_parser("verify", help="核验履职记录未被篡改 / check the tamper-evident record")
    p.add_argument("--head", metavar="HASH",
                   help="此前记下的链头（如导出文件中的），须仍在链中 / an earlier chain head that must still be in the chain")
    p.add_argument("--no-files", action="store_true", help="不核对证据文件 / skip hashing the evidence files")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    def progress(n: int) -> None:
        if sys.stderr.isatty():
            print(f"… {n:,}", file=sys.stderr)

    started = clock.now()
    result = verify.verify(ctx.store.engine, ctx.settings.data_dir, files=not args.no_files,
                           expect_head=args.head, progress=progress)
    with ctx.store.session() as s:  # the web console's 校验 page shows the latest run, whoever ran it
        verify_runs.save(s, result, started, clock.now(), None, "cli")
    if args.format == "json":
        p = result.problem
        print_json({"ok": result.ok, "records": result.count, "head": result.head, "head_seq": result.head_seq,
                    "files": result.files,
                    "problem": None if p is None else {"kind": p.kind, "id": p.ref_id, "what": p.what,
                                                       "seq": p.seq, "detail": p.detail}}, sys.stdout)
    elif result.ok:
        print(f"OK 记录完整：账本 {result.count} 条，链头 {result.head}（seq {result.head_seq or 0}），"
              f"证据文件 {result.files} 个 / intact: {result.count} records, head {result.head}, "
              f"{result.files} files")
    else:
        print(f"FAILED 发现篡改：{result.problem.describe()}")
        print(f"（此前 {result.count} 条记录完好 / {result.count} records before it are intact）")
    return 0 if result.ok else 1
