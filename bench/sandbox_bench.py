"""What the sandbox benches (bench/callout.py, bench/fanout.py) share: the sandbox in its own process,
the bot token they run under, and percentiles of their latencies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "1000000001:BENCH-token"


class SandboxProcess:
    """The sandbox in its own process, so the bot's figures are the bot's alone."""

    def __init__(self, limits: bool = True):
        args = [sys.executable, "-m", "bot.sandbox.telegram", "--port", "0", "--allow-unknown-chats"]
        if not limits:
            args.append("--no-limits")
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.urls = json.loads(self.proc.stdout.readline())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)
