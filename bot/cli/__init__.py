"""`dutybot` command line: a thin shell over the library.

Each command lives in its own module in this package and exposes `register(subparsers)`, which
adds a subparser with `func(args, ctx) -> int`. Modules are discovered, so adding a command
touches no shared file.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from bot.config import Settings
from bot.texts import cli as T

from .context import CommandError, Context
from .paths import reason


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dutybot",
        description="领导干部安全生产职责清单 Telegram 提醒与履职记录 / duty-list reminders and proof of performance",
    )
    parser.add_argument("--duties", metavar="FILE",
                        help="职责目录文件 / catalogue file (default: $DUTIES_FILE, else ./duties.yaml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = []
    for info in pkgutil.iter_modules(__path__):
        if info.name in ("args", "context", "output", "paths"):
            continue
        modules.append(importlib.import_module(f"{__name__}.{info.name}"))
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 50), m.__name__)):
        if hasattr(module, "register"):  # helpers of a command (sandbox_mode) have none
            module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    ctx = Context(Settings.from_env(), duties_override=args.duties)
    try:
        return int(args.func(args, ctx) or 0)
    except CommandError as e:
        print(e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `dutybot schedule ... | head` is fine
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except OSError as e:  # a path the command did not check itself: still a message, not a traceback
        print(T.OS_FAILED.format(path=e.filename or "-", reason=reason(e)), file=sys.stderr)
        return 1
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
