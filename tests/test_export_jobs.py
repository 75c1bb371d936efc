"""Export jobs (the web console's /exports): started, claimed once, run with progress, re-claimed
when their process died, expired after 7 days; `dutybot export` prints progress."""

from __future__ import annotations

from datetime import date, timedelta

import openpyxl
import pytest
from sqlmodel import select
from support.assessment_world import add_duty, add_instance, add_person, add_units, at

from bot.config import Settings
from bot.services import export_jobs
from bot.services.export_jobs import JobError
from bot.store.models import ExportJob

NOW = at(2026, 7, 1, 12, 0)


def build(store) -> None:
    with store.session() as s:
        add_units(s, ("A", "甲单位"))
        add_person(s, "p", "A", name="王五")
        add_person(s, "o", "A", name="孙丽", office=True)
        add_duty(s, "insp", "安全检查", "inspection")
        s.flush()
        for month in range(1, 7):
            add_instance(s, "p", "insp", at(2026, month, 28), "done" if month % 2 else "missed", period=f"2026-{month:02d}")


def test_start_claim_run_expire(store, tmp_path, catalog):
    build(store)
    now = NOW
    settings = Settings(database_url=store.url, data_dir=tmp_path)
    with store.session() as s:
        with pytest.raises(JobError):
            export_jobs.start(s, kind="assessment", start=date(2026, 6, 1), end=date(2026, 5, 1), now=now, by="o")
        with pytest.raises(JobError):
            export_jobs.start(s, kind="person", start=date(2026, 1, 1), end=date(2026, 6, 30), now=now, by="o",
                              person_id="nobody")
        job = export_jobs.start(s, kind="assessment", start=date(2026, 1, 1), end=date(2026, 6, 30), now=now, by="o")
    with store.session() as s:
        first = export_jobs.claim(s, now)
    with store.session() as s:
        assert export_jobs.claim(s, now) is None, "a running job is not claimed twice"
    assert first.id == job.id and first.state == "running"
    # its process died: after STALE it is claimed again
    with store.session() as s:
        again = export_jobs.claim(s, now + export_jobs.STALE + timedelta(seconds=1))
    assert again.id == job.id
    export_jobs.run(store, settings, catalog, again)
    with store.session() as s:
        done = s.get(ExportJob, job.id)
        assert done.state == "done" and done.total > 0 and done.done >= done.total and done.size > 0
        assert done.expires_at == done.finished_at + export_jobs.KEEP
        found, path = export_jobs.file_of(s, tmp_path, job.id)
    assert openpyxl.load_workbook(path, read_only=True).sheetnames[0] == "汇总"
    with store.session() as s:
        assert export_jobs.expire(s, tmp_path, done.finished_at + timedelta(days=6)) == 0
        assert export_jobs.expire(s, tmp_path, done.finished_at + timedelta(days=7, seconds=1)) == 1
        assert s.exec(select(ExportJob)).all() == []
    assert not path.exists()


def test_cli_export_prints_progress(store, tmp_path, monkeypatch, capsys):
    from bot.cli import main

    build(store)
    monkeypatch.setenv("DATABASE_URL", store.url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("bot.cli.export.Progress.EVERY", 0.0)
    assert main(["export", "--from", "2026-01-01", "--to", "2026-06-30", "--at", "2026-07-01T12:00+08:00",
                 "--out", str(tmp_path / "a.xlsx")]) == 0
    err = capsys.readouterr().err
    assert "导出中 / exporting: 明细" in err


def test_a_stopping_process_puts_the_job_back(store, tmp_path, catalog):
    import threading

    build(store)
    settings = Settings(database_url=store.url, data_dir=tmp_path)
    with store.session() as s:
        job = export_jobs.start(s, kind="assessment", start=date(2026, 1, 1), end=date(2026, 6, 30), now=NOW, by="o")
    with store.session() as s:
        claimed = export_jobs.claim(s, NOW)
    stopping = threading.Event()
    stopping.set()
    export_jobs.run(store, settings, catalog, claimed, stopping)  # stops at its first progress step
    with store.session() as s:
        again = s.get(ExportJob, job.id)
        assert again.state == "queued" and again.done == 0
    assert not export_jobs.folder(tmp_path, job.id).exists()
