"""`dutybot demo` end to end: a real process, its own sandbox, the example catalogue."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_demo_runs_the_whole_scenario(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "bot", "demo", "--lead", "1"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    # The scheduler's reminders, at their time: one message per leader, a digest when several
    # duties fall due that morning (24 December: eight for 王海涛).
    morning = out.split("👤", 1)[0]
    first = morning.split("🤖 → ", 1)[1].split(":", 1)[0]
    assert morning.count(f"🤖 → {first}:") == 1, morning
    assert "【职责提醒】" in morning or "📋 今日待办" in morning
    assert "👤" in out and "[相册 album: 3 张照片 photos]" in out
    assert "✅" in out  # the check-in confirmation
    assert "👤 孙丽: /overdue" in out
    assert "演示完成 / demo complete: 1 条履职记录 check-in(s), 3 份存证文件 evidence file(s)" in out
    assert "status: done" in out
