"""What the sandbox benches (bench/callout.py, bench/fanout.py) share: the sandbox in its own process,
the bot token they run under, and percentiles of their latencies."""

from __future__ import annotations

import json
import os
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

    def cpu_seconds(self) -> float:
        """CPU time the sandbox process has used (user + system), from /proc: the bot's figures
        leave it out, and on a shared machine it competes with the bot for the same cores."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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
