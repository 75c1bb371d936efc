"""``python -m bot.sandbox.telegram``: serve the sandbox until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from .limits import Limits
from .server import Sandbox


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox.telegram", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", default=None, help="accept only this bot token (default: any)")
    parser.add_argument("--bot-username", default="dutybot_sandbox_bot")
    parser.add_argument("--no-limits", action="store_true", help="switch Telegram's flood limits off")
    parser.add_argument("--allow-unknown-chats", action="store_true",
                        help="let the bot send to chats no user opened")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    sandbox = Sandbox(
        limits=Limits.unlimited() if args.no_limits else Limits(),
        bot_username=args.bot_username,
        token=args.token,
        allow_unknown_chats=args.allow_unknown_chats,
    )
    await sandbox.start(args.host, args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(json.dumps(sandbox.urls()), flush=True)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> int:
    asyncio.run(_serve(_parse(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
