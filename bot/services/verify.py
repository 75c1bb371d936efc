"""`dutybot verify`: prove that the record was not altered since it was written.

Three passes, each streaming (a server-side cursor on PostgreSQL, an incremental cursor on SQLite),
stopping at the first problem:

1. The chain, in seq order: each entry's prev_hash is the previous entry's hash, its hash is
   chain_hash(prev, kind, ref_id, content_hash), and the row it points to still exists and still
   hashes to content_hash (ledger.CONTENT recomputed from the row). Finds altered rows, deleted
   rows and edited or removed ledger entries.
2. Every append-only row has its entry: a row without one was inserted behind the bot's back.
3. Every evidence file on disk still hashes to its row's sha256.

What it cannot see alone: the chain rewritten from some point on with fresh hashes, or cut at the
end together with the rows. The chain head printed by verify and shown in every export is the
anchor for that: `--head HASH` checks that an earlier head is still part of the chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection, Engine

from bot.services import ledger
from bot.store.models import (
    CalloutTarget,
    CheckIn,
    CheckInCorrection,
    Evidence,
    Exemption,
    ExemptionRevocation,
    LedgerEntry,
)

BATCH = 5000
DECIDED = ("approved", "refused", "revoked")

NAMES = {"checkin": "报送记录 check-in", "evidence": "证据 evidence", "ack": "叫应应答 callout ack",
         "report": "叫应报告 callout report", "exemption": "免考核决定 exemption decision",
         "revocation": "免考核撤销 exemption revocation", "correction": "报送更正 check-in correction",
         "ledger": "账本 ledger"}


@dataclass(frozen=True)
class Problem:
    kind: str  # checkin | evidence | ack | report | exemption | ledger
    ref_id: int | None
    what: str  # altered | missing | inserted | broken | file-missing | file-altered | head-unknown
    detail: str
    seq: int | None = None

    def describe(self) -> str:
        where = f"{NAMES.get(self.kind, self.kind)} #{self.ref_id}" if self.ref_id is not None else NAMES[self.kind]
        at = f"（账本 seq {self.seq}）" if self.seq is not None else ""
        return f"{where}{at}: {self.detail}"


@dataclass
class Result:
    count: int = 0  # ledger entries walked
    head: str = ledger.GENESIS
    head_seq: int | None = None
    files: int = 0  # distinct evidence files hashed
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _stream(conn: Connection, query: Any) -> Iterator[Any]:
    # Options on the statement, not the connection: a caller's connection must not stay streaming.
    result = conn.execute(query.execution_options(stream_results=True, yield_per=BATCH))
    for part in result.partitions(BATCH):
        yield from part


TABLE_OF = {"checkin": CheckIn, "evidence": Evidence, "ack": CalloutTarget, "exemption": Exemption,
            "revocation": ExemptionRevocation, "correction": CheckInCorrection}
# "report" rows are CalloutTarget rows, as "ack"
JOINED = ("checkin", "evidence", "ack", "exemption", "revocation", "correction")


def _chain_query() -> tuple[Any, dict[str, tuple[int, list[str]]]]:
    """Ledger entries in seq order, each with its row (outer-joined: a deleted row comes back empty),
    and per kind where its row's columns start in the result and their names."""
    le = LedgerEntry.__table__
    conditions = {"checkin": le.c.kind == "checkin", "evidence": le.c.kind == "evidence",
                  "ack": le.c.kind.in_(("ack", "report")), "exemption": le.c.kind == "exemption",
                  "revocation": le.c.kind == "revocation", "correction": le.c.kind == "correction"}
    cols = [le.c.seq, le.c.kind, le.c.ref_id, le.c.content_hash, le.c.prev_hash, le.c.hash]
    layout: dict[str, tuple[int, list[str]]] = {}
    joined = le
    for kind in JOINED:
        table = TABLE_OF[kind].__table__
        layout[kind] = (len(cols), [c.name for c in table.c])
        cols.extend(table.c)
        joined = joined.outerjoin(table, and_(conditions[kind], table.c.id == le.c.ref_id))
    layout["report"] = layout["ack"]
    return select(*cols).select_from(joined).order_by(le.c.seq), layout


def walk_chain(conn: Connection, result: Result, expect_head: str | None = None,
               progress: Callable[[int], None] | None = None) -> None:
    prev = ledger.GENESIS
    seen_head = expect_head is None or expect_head == ledger.GENESIS
    query, layout = _chain_query()
    for row in _stream(conn, query):
        seq, kind, ref, c_hash, prev_hash, this_hash = row[:6]
        if prev_hash != prev:
            result.problem = Problem("ledger", None, "broken", seq=seq, detail=(
                f"链断开：seq {seq} 的 prev_hash 不是前一条的 hash（中间的账本记录被删或被改） / chain broken: "
                f"prev_hash of seq {seq} is not the previous entry's hash (an entry before it was deleted or edited)"))
            return
        if ledger.chain_hash(prev_hash, kind, ref, c_hash) != this_hash:
            result.problem = Problem(kind, ref, "broken", seq=seq, detail=(
                "账本记录本身被改动 / the ledger entry itself was edited"))
            return
        if kind not in ledger.CONTENT:
            result.problem = Problem("ledger", None, "broken", seq=seq, detail=f"未知类型 / unknown kind {kind!r}")
            return
        start, names = layout[kind]
        values = row[start:start + len(names)]
        if values[names.index("id")] is None:
            result.problem = Problem(kind, ref, "missing", seq=seq, detail=(
                "记录已被删除 / the record was deleted"))
            return
        record = SimpleNamespace(**dict(zip(names, values, strict=True)))
        if ledger.content_hash(ledger.CONTENT[kind](record)) != c_hash:
            result.problem = Problem(kind, ref, "altered", seq=seq, detail=(
                "内容与记账时不一致（被修改） / content differs from what was recorded (altered)"))
            return
        prev = this_hash
        result.count += 1
        result.head, result.head_seq = prev, seq
        if not seen_head and prev == expect_head:
            seen_head = True
        if progress and result.count % 100_000 == 0:
            progress(result.count)
    if not seen_head:
        result.problem = Problem("ledger", None, "head-unknown", detail=(
            f"链中找不到此前记下的链头 {expect_head}（链被截断或重写） / the earlier head {expect_head} is not in "
            "the chain (it was cut or rewritten)"))


def _unchained() -> list[tuple[str, Any]]:
    """Per kind, a query for the first append-only row that has no ledger entry."""
    le = LedgerEntry.__table__
    out = []
    for kind, table, condition in (
        ("checkin", CheckIn.__table__, None),
        ("evidence", Evidence.__table__, None),
        ("ack", CalloutTarget.__table__, CalloutTarget.__table__.c.acked_at.is_not(None)),
        ("report", CalloutTarget.__table__, CalloutTarget.__table__.c.report_at.is_not(None)),
        ("exemption", Exemption.__table__, Exemption.__table__.c.state.in_(DECIDED)),
        ("revocation", ExemptionRevocation.__table__, None),
        ("correction", CheckInCorrection.__table__, None),
    ):
        q = (select(table.c.id).select_from(table.outerjoin(le, and_(le.c.kind == kind, le.c.ref_id == table.c.id)))
             .where(le.c.seq.is_(None)))
        if condition is not None:
            q = q.where(condition)
        out.append((kind, q.order_by(table.c.id).limit(1)))
    return out


def _revocation_mismatch() -> tuple[Any, Any]:
    """An exemption marked revoked without a revocation record, and a revocation whose exemption is
    not marked revoked (its state edited back): the state is the one field a revocation changes."""
    ex, rv = Exemption.__table__, ExemptionRevocation.__table__
    unrecorded = (select(ex.c.id).select_from(ex.outerjoin(rv, rv.c.exemption_id == ex.c.id))
                  .where(ex.c.state == "revoked", rv.c.id.is_(None)).order_by(ex.c.id).limit(1))
    undone = (select(rv.c.id).select_from(rv.outerjoin(ex, ex.c.id == rv.c.exemption_id))
              .where(or_(ex.c.state.is_(None), ex.c.state != "revoked")).order_by(rv.c.id).limit(1))
    return unrecorded, undone


def find_inserted(conn: Connection, result: Result) -> None:
    for kind, query in _unchained():
        ref = conn.execute(query).scalar()
        if ref is not None:
            result.problem = Problem(kind, ref, "inserted", detail=(
                "没有账本记录（被插入） / has no ledger entry (inserted)"))
            return
    unrecorded, undone = _revocation_mismatch()
    ref = conn.execute(unrecorded).scalar()
    if ref is not None:
        result.problem = Problem("exemption", ref, "altered", detail=(
            "标为已撤销但没有撤销记录（被修改） / marked revoked without a revocation record (altered)"))
        return
    ref = conn.execute(undone).scalar()
    if ref is not None:
        result.problem = Problem("revocation", ref, "altered", detail=(
            "撤销记录对应的免考核未标为已撤销（被修改） / its exemption is no longer marked revoked (altered)"))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_files(conn: Connection, data_dir: Path, result: Result) -> None:
    ev = Evidence.__table__
    good: set[bytes] = set()  # content-addressed: a photo sent twice is one file, hashed once
    for row in _stream(conn, select(ev.c.id, ev.c.sha256, ev.c.path).order_by(ev.c.id)):
        key = bytes.fromhex(row.sha256) if len(row.sha256) == 64 else row.sha256.encode()
        if key in good:
            continue
        path = data_dir / row.path
        if not path.is_file():
            result.problem = Problem("evidence", row.id, "file-missing", detail=(
                f"文件缺失 / file missing: {path}"))
            return
        if sha256_file(path) != row.sha256:
            result.problem = Problem("evidence", row.id, "file-altered", detail=(
                f"文件内容与 sha256 不符（被修改） / file does not match its sha256 (altered): {path}"))
            return
        good.add(key)
        result.files += 1


def verify(db: Engine | Connection, data_dir: Path | str, *, files: bool = True, expect_head: str | None = None,
           progress: Callable[[int], None] | None = None) -> Result:
    """Walk the chain, look for unchained rows, hash the files. The first problem stops it.

    `db` is usually the store's engine; a connection lets a caller check what its own open
    transaction would commit."""
    result = Result()
    with db.connect() if isinstance(db, Engine) else nullcontext(db) as conn:
        walk_chain(conn, result, expect_head, progress)
        if result.ok:
            find_inserted(conn, result)
        if result.ok and files:
            check_files(conn, Path(data_dir), result)
    return result
