"""未归档佐证: files no check-in took, as `dutybot status` and the export show them to the office."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from conftest import EXAMPLE
from support.checkin_world import LEADER, LEADER_TG, NOW

from bot.cli import main
from bot.services import evidence, export
from bot.store.models import CheckInDraft

pytest_plugins = ["support.checkin_fixtures"]


def unfiled_photo(store, tmp_path, *, sent=NOW - timedelta(days=2), unique="uf1", data=b"\xff\xd8photo"):
    """A photo sent `sent`, stored on arrival, its question never answered."""
    attachment = {"kind": "photo", "file_id": f"F{unique}", "file_unique_id": unique, "mime": "image/jpeg"}
    with store.session() as s:
        s.add(CheckInDraft(key=f"u:{unique}", person_id=LEADER, chat_id=LEADER_TG, text="东区巡查", state="unfiled",
                           attachments=[attachment], update_ids=[1], created_at=sent, updated_at=sent))
        sha, rel = evidence.store_bytes(tmp_path, data)
        evidence.add_evidence(s, None, attachment, sha, rel, len(data), evidence.ImageInfo(), sent)
    return sha


def test_status_and_export_list_unfiled_evidence(world, tmp_path, monkeypatch, capsys):
    sha = unfiled_photo(world, tmp_path)
    unfiled_photo(world, tmp_path, sent=NOW - timedelta(hours=2), unique="uf2", data=b"fresh")  # not 24 h yet
    monkeypatch.setenv("DATABASE_URL", world.url)
    capsys.readouterr()
    with time_machine.travel(NOW, tick=False):
        assert main(["--duties", str(EXAMPLE), "status"]) == 0
    out = capsys.readouterr().out
    assert "未归档佐证 / unfiled evidence（发送超过 24 小时仍未归入任何职责，共 1 份）" in out
    [row] = [ln for ln in out.splitlines() if sha[:16] in ln]
    assert LEADER in row and "园区管委会" in row and "东区巡查" in row and "2026-11-18 10:00" in row

    result = export.write_xlsx(world, tmp_path / "out.xlsx", date(2026, 1, 1), date(2026, 12, 31), NOW,
                               data_dir=tmp_path)
    assert result.rows["未归档佐证"] == 1


def test_the_record_shows_unfiled_files_and_corrections(world, tmp_path):
    from datetime import timedelta as td

    from support.checkin_world import make_instance, person

    from bot.services import checkins, corrections, record
    from bot.store.models import DutyInstance

    sha = unfiled_photo(world, tmp_path)
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=NOW + td(days=10))
    with world.session() as s:
        done = checkins.record(s, instance=s.get(DutyInstance, iid), person_id=LEADER, chat_id=LEADER_TG,
                               text="东区", attachments=[], at=NOW, update_id=None)
    with world.session() as s:
        corrections.withdraw(s, person(s, LEADER), done.checkin.id, NOW + td(hours=1))
    with world.session() as s:
        r = record.record(s, LEADER, 2026, checkins.fmt.SHANGHAI)
    assert [f.sha256 for f in r.unfiled] == [sha] and r.unfiled[0].text == "东区巡查"
    assert r.corrected == {done.checkin.id: "withdraw"}
