"""`dutybot verify` on a real store: clean passes; every kind of tampering is found and named."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import BACKENDS
from sqlalchemy import text
from sqlmodel import Session, select
from support.assessment_world import (
    add_checkin,
    add_duty,
    add_instance,
    add_person,
    add_units,
    at,
    built_world,
    jpeg,
)

from bot.cli import main as cli
from bot.services import ledger, verify
from bot.store.models import Callout, CalloutTarget, CheckIn, Evidence, Exemption, LedgerEntry


def build(store, data_dir: Path) -> dict:
    """Two check-ins (the first with two photos), a callout ack and report, an exemption decision."""
    ids: dict = {}
    with store.session() as s:
        add_units(s, ("A", "甲单位"))
        add_person(s, "p", "A", name="王五")
        add_person(s, "o", "A", name="孙丽", office=True)
        add_duty(s, "insp", "安全检查")
        s.flush()
        i1 = add_instance(s, "p", "insp", at(2026, 5, 29), "done")
        i2 = add_instance(s, "p", "insp", at(2026, 6, 30), "done")
        c1 = add_checkin(s, i1, "p", at(2026, 5, 20, 10), "检查了仓库", (jpeg((255, 0, 0)), jpeg((0, 0, 255))), data_dir)
        c2 = add_checkin(s, i2, "p", at(2026, 6, 20, 10), "检查了车间")
        callout = Callout(level="red", hazard="暴雨", text="红色预警", issued_at=at(2026, 6, 1, 8))
        s.add(callout)
        s.flush()
        target = CalloutTarget(callout_id=callout.id, person_id="p", first_sent_at=at(2026, 6, 1, 8),
                               acked_at=at(2026, 6, 1, 8, 2))
        s.add(target)
        s.flush()
        ledger.record(s, "ack", target, target.acked_at)
        target.report_at, target.report_measures, target.report_text = at(2026, 6, 1, 8, 10), ["stop"], "已停工"
        s.flush()
        ledger.record(s, "report", target, target.report_at)
        ex = Exemption(person_id="p", reason_kind="出差", reason="培训", date_from=at(2026, 6, 2, 0),
                       date_to=at(2026, 6, 3, 0), state="approved", decided_by="o", decided_at=at(2026, 6, 1, 9))
        s.add(ex)
        s.flush()
        ledger.record(s, "exemption", ex, ex.decided_at)
        evidence = list(s.exec(select(Evidence).order_by(Evidence.id)))
        ids.update(c1=c1.id, c2=c2.id, target=target.id, exemption=ex.id, evidence=[e.id for e in evidence],
                   photo=data_dir / evidence[0].path)
    return ids


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    """One built store per backend, shared by the tests that only read it or roll back."""
    yield from built_world(request.param, tmp_path_factory.mktemp(f"verify-{request.param}"), build)


@contextmanager
def scratch(store):
    """A connection in a transaction that is rolled back, and a session writing inside it."""
    with store.engine.connect() as conn:
        tx = conn.begin()
        # pysqlite only emits BEGIN before a write: make one, or the session's SAVEPOINT would
        # run outside any transaction and its RELEASE would commit.
        conn.execute(text("DELETE FROM keyvalue WHERE key = '-'"))
        with Session(bind=conn, join_transaction_mode="create_savepoint") as s:
            yield conn, s
        tx.rollback()


def run_sql(store, sql: str, **params) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(sql), params)


def check(store, data_dir, **kw) -> verify.Result:
    return verify.verify(store.engine, data_dir, **kw)


def test_clean_store_verifies(world):
    store, data_dir, _ = world
    result = check(store, data_dir)
    with store.session() as s:
        head = ledger.head(s)
    # 2 check-ins + 2 evidence + ack + report + exemption
    assert result.ok and result.count == 7 and result.head == head.hash and result.head_seq == head.seq
    assert result.files == 2


def test_empty_store_verifies(world):
    store, data_dir, _ = world
    with store.engine.connect() as conn:
        tx = conn.begin()
        for table in ("ledgerentry", "evidence", "checkin", "callouttarget", "exemption"):
            conn.execute(text(f"DELETE FROM {table}"))
        result = verify.verify(conn, data_dir)
        tx.rollback()
    assert result.ok and result.count == 0 and result.head == ledger.GENESIS


def test_times_written_in_another_zone_still_verify(world):
    """A service that stamps a check-in with a Shanghai-aware time must not make verify cry wolf."""
    store, data_dir, _ = world
    with scratch(store) as (conn, s):
        row = CheckIn(person_id="p", text="x", at=at(2026, 6, 1, 9).astimezone(ZoneInfo("Asia/Shanghai")))
        s.add(row)
        s.flush()
        ledger.record(s, "checkin", row, row.at)
        s.commit()  # releases the savepoint only: the transaction is rolled back afterwards
        result = verify.verify(conn, data_dir)
    assert result.ok and result.count == 8


TAMPERING = {
    # name: (SQL or action, expected kind, id key, what)
    "checkin text updated": ("UPDATE checkin SET text = '检查了仓库（补）' WHERE id = :c1", "checkin", "c1", "altered"),
    "checkin time moved": ("UPDATE checkin SET at = at - INTERVAL '1 day' WHERE id = :c2", "checkin", "c2",
                           "altered"),
    "checkin deleted": ("DELETE FROM checkin WHERE id = :c1", "checkin", "c1", "missing"),
    "evidence hash replaced": ("UPDATE evidence SET sha256 = :fake WHERE id = :e0", "evidence", "e0", "altered"),
    "ack time changed": ("UPDATE callouttarget SET acked_at = NULL WHERE id = :target", "ack", "target",
                         "altered"),
    "report text changed": ("UPDATE callouttarget SET report_text = '未停工' WHERE id = :target", "report", "target",
                            "altered"),
    "exemption reversed": ("UPDATE exemption SET state = 'refused' WHERE id = :exemption", "exemption", "exemption",
                           "altered"),
    "ledger entry and row deleted": (
        "DELETE FROM ledgerentry WHERE kind = 'checkin' AND ref_id = :c2; DELETE FROM checkin WHERE id = :c2",
        "ledger", None, "broken"),
    "ledger content hash edited": ("UPDATE ledgerentry SET content_hash = :fake WHERE kind = 'checkin' AND ref_id = :c1",
                                   "checkin", "c1", "broken"),
    "checkin inserted": ("INSERT INTO checkin (person_id, text, at, attachments) "
                         "VALUES ('p', '补录', '2026-05-01 00:00:00', '[]')", "checkin", "new", "inserted"),
    "exemption decided behind the bot": (
        "INSERT INTO exemption (person_id, reason_kind, reason, requested_at, state, decided_by) "
        "VALUES ('p', '请假', 'x', '2026-05-01 00:00:00', 'approved', 'o')", "exemption", "new", "inserted"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_found_and_named(world, case):
    """Each tampering runs in a transaction that verify reads through, then is rolled back."""
    store, data_dir, ids = world
    sql, kind, key, what = TAMPERING[case]
    if "INTERVAL" in sql and store.engine.dialect.name == "sqlite":
        sql = "UPDATE checkin SET at = datetime(at, '-1 day') WHERE id = :c2"
    params = {"c1": ids["c1"], "c2": ids["c2"], "target": ids["target"], "exemption": ids["exemption"],
              "e0": ids["evidence"][0], "fake": "f" * 64}
    with store.engine.connect() as conn:
        tx = conn.begin()
        inserted = None
        for statement in sql.split("; "):
            conn.execute(text(statement), {k: v for k, v in params.items() if f":{k}" in statement})
        if key == "new":
            table = "checkin" if kind == "checkin" else "exemption"
            inserted = conn.execute(text(f"SELECT max(id) FROM {table}")).scalar()
        result = verify.verify(conn, data_dir)
        tx.rollback()
    assert not result.ok
    p = result.problem
    assert (p.kind, p.what) == (kind, what), p
    if key == "new":
        assert p.ref_id == inserted
    elif key is not None:
        assert p.ref_id == (ids["evidence"][0] if key == "e0" else ids[key])
    assert str(p.ref_id if p.ref_id is not None else "") in p.describe()


def test_first_problem_in_chain_order_is_reported(world):
    store, data_dir, ids = world
    with store.engine.connect() as conn:
        tx = conn.begin()
        conn.execute(text("UPDATE checkin SET text = 'b' WHERE id = :id"), {"id": ids["c2"]})
        conn.execute(text("UPDATE checkin SET text = 'a' WHERE id = :id"), {"id": ids["c1"]})
        result = verify.verify(conn, data_dir)
        tx.rollback()
    assert result.problem.ref_id == ids["c1"]
    assert check(store, data_dir).ok  # rolled back


def test_changed_photo_byte_on_disk(world):
    store, data_dir, ids = world
    original = ids["photo"].read_bytes()
    data = bytearray(original)
    data[len(data) // 2] ^= 0x01
    ids["photo"].write_bytes(bytes(data))
    try:
        result = check(store, data_dir)
        assert check(store, data_dir, files=False).ok  # the database alone is intact
    finally:
        ids["photo"].write_bytes(original)
    assert (result.problem.kind, result.problem.ref_id, result.problem.what) == (
        "evidence", ids["evidence"][0], "file-altered")


def test_missing_photo_file(world):
    store, data_dir, ids = world
    with store.session() as s:
        path = data_dir / s.get(Evidence, ids["evidence"][1]).path
    hidden = path.with_name("hidden")
    path.rename(hidden)
    try:
        result = check(store, data_dir)
    finally:
        hidden.rename(path)
    assert (result.problem.ref_id, result.problem.what) == (ids["evidence"][1], "file-missing")


def test_earlier_head_must_stay_in_the_chain(world):
    store, data_dir, ids = world
    with store.session() as s:
        entries = list(s.exec(select(LedgerEntry).order_by(LedgerEntry.seq)))
    old_head = entries[-1].hash  # e.g. written on an export
    assert check(store, data_dir, expect_head=entries[3].hash).ok  # an older head is part of the chain
    assert check(store, data_dir, expect_head=old_head).ok
    # Cut the chain's end together with its rows: the chain alone still looks fine, the anchor does not.
    with store.engine.connect() as conn:
        tx = conn.begin()
        for sql, value in (("DELETE FROM ledgerentry WHERE seq >= :v", entries[3].seq),
                           ("DELETE FROM checkin WHERE id = :v", ids["c2"]),
                           ("UPDATE callouttarget SET acked_at = NULL, report_at = NULL WHERE id = :v", ids["target"]),
                           ("DELETE FROM exemption WHERE id = :v", ids["exemption"])):
            conn.execute(text(sql), {"v": value})
        cut = verify.verify(conn, data_dir)
        anchored = verify.verify(conn, data_dir, expect_head=old_head)
        tx.rollback()
    assert cut.ok and cut.head == entries[2].hash
    assert anchored.problem.what == "head-unknown"


def test_verify_command(world, tmp_path, monkeypatch, capsys):
    store, data_dir, ids = world
    monkeypatch.setenv("DATABASE_URL", store.url)
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)
    assert cli(["verify"]) == 0
    out = capsys.readouterr().out
    with store.session() as s:
        head = ledger.head(s).hash
    assert out.startswith("OK") and head in out
    assert cli(["verify", "--head", head, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == 7
    run_sql(store, "UPDATE checkin SET text = '改' WHERE id = :id", id=ids["c1"])
    try:
        assert cli(["verify"]) == 1
    finally:
        run_sql(store, "UPDATE checkin SET text = '检查了仓库' WHERE id = :id", id=ids["c1"])
    out = capsys.readouterr().out
    assert out.startswith("FAILED") and f"check-in #{ids['c1']}" in out
    assert cli(["verify"]) == 0


def test_chain_streams_in_batches(world, monkeypatch):
    """More entries than a fetch batch: the walk must carry the link across batches."""
    store, data_dir, _ = world
    monkeypatch.setattr(verify, "BATCH", 3)
    with scratch(store) as (conn, s):
        for n in range(11):
            row = CheckIn(person_id="p", text=f"n{n}", at=at(2026, 1, 1) + timedelta(minutes=n))
            s.add(row)
            s.flush()
            ledger.record(s, "checkin", row, row.at)
        s.commit()
        whole = verify.verify(conn, data_dir)
        conn.execute(text("UPDATE checkin SET text = 'x' WHERE text = 'n9'"))
        broken = verify.verify(conn, data_dir)
    assert whole.ok and whole.count == 7 + 11
    assert broken.problem.seq == whole.head_seq - 1
