"""dutybot import-list FILE: draft a catalogue from a published responsibility list."""

from __future__ import annotations

import sys

from .paths import output_file

ORDER = 90


def register(sub) -> None:
    p = sub.add_parser("import-list", help="从公开的职责清单起草 duties.yaml / draft duties.yaml from a published list")
    p.add_argument("file", help=".txt, .html, .docx, .doc, .wps 或 .pdf")
    p.add_argument("--out", metavar="FILE", help="写入文件（默认输出到屏幕）/ write the draft here (default: stdout)")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    from bot.importer import run_import_list

    if args.out is not None:
        output_file(args.out)
    return run_import_list(args.file, args.out, sys.stderr)
