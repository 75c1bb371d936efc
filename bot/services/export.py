"""The assessment workbook (履职记录.xlsx) and one leader's archive (履职档案.zip).

Sheets: 汇总 (per unit, person and duty kind: counted, done, late, missed, excused, rate; below it
the range, the scoring rule and the ledger chain head), 明细 (one row per instance and check-in,
with times, text, photo count and paths), 叫应记录 (one row per callout recipient), 排名 (the
quarterly ranking of every quarter the range touches).

Big ranges stream: rows are read with a server-side cursor and written as XML straight into the
file (bot/services/xlsx.py), so memory stays flat at a year of 10,000 people. 明细 continues on
明细2, 明细3… past Excel's 1,048,576 rows. Times are Asia/Shanghai wall times in real Excel date cells.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from bot.services import assessment, checkins, ledger, xlsx
from bot.services.assessment import RankingPolicy, Summary, Tally, Weights
from bot.services.exemptions import local_dates, revocations_of
from bot.store import Store
from bot.store.models import (
    CheckIn,
    CheckInCorrection,
    Duty,
    DutyInstance,
    Evidence,
    Exemption,
    LedgerEntry,
    Person,
    Unit,
)
from bot.texts import assessment as t
from bot.texts import fmt

SHANGHAI = ZoneInfo("Asia/Shanghai")
EXCEL_ROWS = xlsx.EXCEL_ROWS
WIDTH_SAMPLE = 2000  # rows looked at to size the columns of a long sheet
MAX_WIDTH = 60


# ---------------------------------------------------------------------------------------------
# Sheets with sized columns
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Col:
    header: str
    kind: str = "text"  # text | int | num | pct | date
    max_width: int = MAX_WIDTH


STYLE = {"pct": xlsx.PCT, "num": xlsx.NUM, "date": xlsx.DATE}
text_width = xlsx.width


class SheetWriter:
    """Rows of one table: header frozen, columns sized to the first rows (all of a short table),
    continued on <title>2, <title>3… past Excel's row limit."""

    def __init__(self, wb: xlsx.Workbook, title: str, cols: list[Col]):
        self.wb, self.title, self.cols = wb, title, cols
        self.sheet: xlsx.Sheet | None = None
        self.written = 0  # data rows on the current sheet
        self.total = 0
        self.sheets = 0
        self._widths: list[float] = []
        self._buffer: list[list[Any]] | None = []

    def _open(self) -> None:
        self.sheets += 1
        name = self.title if self.sheets == 1 else f"{self.title}{self.sheets}"
        self.sheet = self.wb.sheet(name, self._widths, [STYLE.get(c.kind, xlsx.PLAIN) for c in self.cols],
                                   header=[c.header for c in self.cols])
        self.written = 0

    def _size(self, rows: list[list[Any]]) -> None:
        widths = []
        for i, c in enumerate(self.cols):
            w = max([text_width(c.header)] + [text_width(r[i]) for r in rows])
            if c.kind == "date":
                w = max(w, 16)
            widths.append(min(w + 2, c.max_width))
        self._widths = widths

    def _write(self, row: list[Any]) -> None:
        if self.sheet is None or self.written >= EXCEL_ROWS - 1:
            self._open()
        self.sheet.append(row)
        self.written += 1
        self.total += 1

    def add(self, row: list[Any]) -> None:
        if self._buffer is not None:
            self._buffer.append(row)
            if len(self._buffer) >= WIDTH_SAMPLE:
                self._flush_buffer()
            return
        self._write(row)

    def _flush_buffer(self) -> None:
        rows, self._buffer = self._buffer or [], None
        self._size(rows)
        self._open()
        for r in rows:
            self._write(r)

    def close(self) -> None:
        """Finish the table (also when empty); `extra` may still add rows below it."""
        if self._buffer is not None:
            self._flush_buffer()

    def extra(self, rows: Iterable[list[Any]]) -> None:
        """Plain rows after the table (the notes below 汇总)."""
        for row in rows:
            self.sheet.append(row)


def local(dt: datetime | None, tz: ZoneInfo) -> datetime | None:
    """An aware UTC time as the naive local wall time Excel shows."""
    return None if dt is None else dt.astimezone(tz).replace(tzinfo=None)


# ---------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------
SUMMARY_COLS = [Col("维度"), Col("单位"), Col("姓名"), Col("职责类别"), Col("应考核", "int"), Col("按时完成", "int"),
                Col("逾期完成", "int"), Col("未完成", "int"), Col("免考核", "int"), Col("未截止（不计）", "int"),
                Col("得分", "num"), Col("完成率", "pct")]
DETAIL_COLS = [Col("单位"), Col("姓名"), Col("职责编号"), Col("职责", max_width=40), Col("类别"), Col("周期"),
               Col("开始", "date"), Col("截止", "date"), Col("应报次数", "int"), Col("已报次数", "int"), Col("状态"),
               Col("完成时间", "date"), Col("报送时间", "date"), Col("报送内容", max_width=50), Col("照片数", "int"),
               Col("照片路径", max_width=80), Col("免考核说明", max_width=50), Col("实例编号", "int"),
               Col("报送编号", "int")]
CALLOUT_COLS = [Col("叫应编号", "int"), Col("等级"), Col("灾种"), Col("发布时间", "date"), Col("发布人"),
                Col("预警内容", max_width=50), Col("单位"), Col("姓名"), Col("方式"), Col("呼叫次数", "int"),
                Col("首次发送", "date"), Col("应答时间", "date"), Col("应答用时（分钟）", "num"), Col("升级时间", "date"),
                Col("升级至", max_width=30), Col("报告时间", "date"), Col("报告超时"), Col("措施", max_width=40),
                Col("报告内容", max_width=50), Col("照片数", "int"), Col("解除时间", "date"), Col("应答方式"),
                Col("电话次数", "int"), Col("短信次数", "int"), Col("停止叫应时间", "date"), Col("总结时间", "date"),
                Col("总结", max_width=50)]
CHANNEL_WORDS = {"telegram": "Telegram", "voice": "电话按1", "sms": "短信链接"}
CORRECTION_COLS = [Col("更正时间", "date"), Col("姓名"), Col("更正"), Col("原报送编号", "int"), Col("原报送时间", "date"),
                   Col("原职责", max_width=40), Col("原周期"), Col("改为职责", max_width=40), Col("改为周期"),
                   Col("新报送编号", "int")]
UNFILED_COLS = [Col("单位"), Col("姓名"), Col("发送时间", "date"), Col("说明", max_width=40), Col("状态"),
                Col("文件", max_width=80), Col("SHA-256", max_width=20), Col("大小（字节）", "int")]
RANK_COLS = [Col("季度"), Col("名次", "int"), Col("单位"), Col("应考核", "int"), Col("按时完成", "int"),
             Col("逾期完成", "int"), Col("未完成", "int"), Col("免考核", "int"), Col("得分率", "pct"), Col("标记"),
             Col("连续后两位次数", "int"), Col("处理"), Col("约谈人")]


# ---------------------------------------------------------------------------------------------
# The workbook
# ---------------------------------------------------------------------------------------------
@dataclass
class Photo:
    source: Path  # on disk
    name: str  # as written in 明细: absolute path, or the path inside the archive
    exists: bool


@dataclass
class ExportResult:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    head_seq: int | None = None
    head_hash: str = ledger.GENESIS
    ledger_count: int = 0
    photos: list[Photo] = field(default_factory=list)
    not_counted: int = 0


PhotoNamer = Callable[[dict, Evidence], str]
Progress = Callable[[int], None]  # rows of 明细 written so far
PROGRESS_EVERY = 1000


def write_xlsx(store: Store, out: Path | str, start: date, end: date, now: datetime, *, data_dir: Path | str,
               tz: ZoneInfo = SHANGHAI, weights: Weights | None = None, policy: RankingPolicy | None = None,
               person_id: str | None = None, photo_name: PhotoNamer | None = None,
               progress: Progress | None = None) -> ExportResult:
    """Write the workbook for instances due in [start, end] (local days, inclusive). `progress`
    is called with the number of 明细 rows written so far, every PROGRESS_EVERY rows and at the end."""
    out, data_dir = Path(out), Path(data_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _finished(out) as tmp:  # only a finished file gets the name: a failed export leaves nothing behind
        result = _write_workbook(store, tmp, start, end, now, data_dir, tz, weights, policy, person_id, photo_name,
                                 progress)
    result.path = out
    return result


@contextlib.contextmanager
def _finished(out: Path) -> Iterator[Path]:
    """A temporary name next to `out`, renamed to `out` when the block succeeds, removed when it fails."""
    tmp = out.with_name(f".{out.name}.part")
    try:
        yield tmp
        tmp.replace(out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def _write_workbook(store: Store, path: Path, start: date, end: date, now: datetime, data_dir: Path, tz: ZoneInfo,
                    weights: Weights | None, policy: RankingPolicy | None, person_id: str | None,
                    photo_name: PhotoNamer | None, progress: Progress | None = None) -> ExportResult:
    result = ExportResult(path)
    _fill(xlsx.Workbook(path), store, result, start, end, now, data_dir, tz, weights, policy, person_id, photo_name,
          progress)
    return result


def _fill(wb: xlsx.Workbook, store: Store, result: ExportResult, start: date, end: date, now: datetime,
          data_dir: Path, tz: ZoneInfo, weights: Weights | None, policy: RankingPolicy | None,
          person_id: str | None, photo_name: PhotoNamer | None, progress: Progress | None = None) -> None:
    with wb, store.session() as s:
        summary = assessment.summarize(s, start, end, now, tz=tz, weights=weights, person_id=person_id)
        head = ledger.head(s)
        result.ledger_count = s.execute(select(func.count(LedgerEntry.seq))).scalar() or 0
        if head is not None:
            result.head_seq, result.head_hash = head.seq, head.hash
        result.not_counted = summary.total.open
        summary_writer = SheetWriter(wb, "汇总", SUMMARY_COLS)
        for row in _summary_rows(summary, person_id):
            summary_writer.add(row)
        summary_writer.close()
        summary_writer.extra(_notes(summary, now, tz, result, person_id))
        result.rows["汇总"] = summary_writer.total

        detail = SheetWriter(wb, "明细", DETAIL_COLS)
        exemptions = _exemptions(s, tz, person_id)
        namer = photo_name or (lambda _inst, ev: str((data_dir / ev.path).resolve()))
        marks = _correction_marks(s, tz)
        for n, row in enumerate(_detail_rows(store, summary, start, end, now, tz, person_id, exemptions, namer,
                                             data_dir, result.photos, marks), start=1):
            detail.add(row)
            if progress is not None and n % PROGRESS_EVERY == 0:
                progress(n)
        detail.close()
        if progress is not None:
            progress(detail.total)
        result.rows["明细"] = detail.total

        callouts = SheetWriter(wb, "叫应记录", CALLOUT_COLS)
        for row in _callout_rows(s, start, end, tz, person_id):
            callouts.add(row)
        callouts.close()
        result.rows["叫应记录"] = callouts.total

        ranks = SheetWriter(wb, "排名", RANK_COLS)
        for row in _rank_rows(s, start, end, now, tz, weights, policy):
            ranks.add(row)
        ranks.close()
        result.rows["排名"] = ranks.total

        fixes = list(_correction_rows(s, tz, person_id))
        if fixes:  # withdrawn and moved check-ins: the original stays in 明细, marked; here both sides
            writer = SheetWriter(wb, "更正记录", CORRECTION_COLS)
            for row in fixes:
                writer.add(row)
            writer.close()
            result.rows["更正记录"] = writer.total

        unfiled_rows = list(_unfiled_rows(s, now, tz, person_id, data_dir))
        if unfiled_rows:  # a sheet only when there is something to file
            unfiled = SheetWriter(wb, "未归档佐证", UNFILED_COLS)
            for row in unfiled_rows:
                unfiled.add(row)
            unfiled.close()
            result.rows["未归档佐证"] = unfiled.total


def _rate(summary: Summary, tally: Tally) -> tuple[float, float | None]:
    return tally.score(summary.weights), summary.rate(tally)


def _tally_cells(summary: Summary, tally: Tally) -> list[Any]:
    score, rate = _rate(summary, tally)
    return [tally.required, tally.done, tally.late, tally.missed, tally.excused, tally.open, score, rate]


def _summary_rows(summary: Summary, person_id: str | None) -> Iterator[list[Any]]:
    def unit_name(uid: str) -> str:
        return summary.unit_name.get(uid, uid)

    if person_id is None:
        for uid in sorted(summary.by_unit, key=lambda u: (unit_name(u) == "", u)):
            yield ["单位", unit_name(uid), None, None, *_tally_cells(summary, summary.by_unit[uid])]
    people = sorted(summary.by_person, key=lambda p: (summary.person_unit.get(p, ""), p))
    for pid in people:
        yield ["个人", unit_name(summary.person_unit.get(pid, "")), summary.person_name.get(pid, pid), None,
               *_tally_cells(summary, summary.by_person[pid])]
    for kind in sorted(summary.by_kind):
        yield ["类别", None, None, t.KIND.get(kind, kind), *_tally_cells(summary, summary.by_kind[kind])]
    yield ["合计", None, None, None, *_tally_cells(summary, summary.total)]


def _notes(summary: Summary, now: datetime, tz: ZoneInfo, result: ExportResult,
           person_id: str | None) -> list[list[Any]]:
    w = summary.weights
    rows: list[list[Any]] = [
        [],
        ["考核区间", f"{summary.start.isoformat()} 至 {summary.end.isoformat()}（按截止日期）"],
        ["导出时间", local(now, tz)],
        ["计分规则", f"按时完成 {w.done:g} 分，逾期完成 {w.late:g} 分，未完成 {w.missed:g} 分；免考核不计；"
                     "完成率 = 得分 ÷ 应考核"],
        ["未截止", f"{summary.total.open} 项尚未截止，不计入"],
        ["账本链头", result.head_hash],
        ["账本序号", result.head_seq if result.head_seq is not None else 0],
        ["账本记录数", result.ledger_count],
        ["核验方法", f"dutybot verify --head {result.head_hash}"],
    ]
    if person_id is not None:
        rows.insert(1, ["履职档案", summary.person_name.get(person_id, person_id)])
    return rows


def _exemptions(session: Session, tz: ZoneInfo, person_id: str | None) -> dict[str, list[tuple]]:
    """Approved and revoked exemptions per person: (first day, last day, instance id, revoked, text
    for 明细). A revoked one is shown on the rows it no longer excuses, with who revoked it and why."""
    q = select(Exemption).where(Exemption.state.in_(("approved", "revoked")))  # type: ignore[attr-defined]
    if person_id is not None:
        q = q.where(Exemption.person_id == person_id)
    names = dict(session.execute(select(Person.id, Person.name)).all())
    out: dict[str, list[tuple]] = defaultdict(list)
    rows = [ex for (ex,) in session.execute(q.order_by(Exemption.decided_at))]
    revocations = revocations_of(session, [ex.id for ex in rows if ex.state == "revoked"])
    for ex in rows:
        first, last = local_dates(ex, tz)
        text = (f"{ex.reason_kind}：{ex.reason}（{names.get(ex.decided_by, ex.decided_by)} "
                f"{fmt.full(ex.decided_at, tz)} 批准）")
        revoked = ex.state == "revoked"
        if revoked and ex.id in revocations:
            v = revocations[ex.id]
            text = f"已撤销免考核 {text}；{names.get(v.revoked_by, v.revoked_by)} {fmt.full(v.revoked_at, tz)} 撤销：{v.reason}"
        out[ex.person_id].append((first, last, ex.instance_id, revoked, text))
    return out


def _excuse_text(exemptions: dict[str, list[tuple]], person_id: str, instance_id: int, due_day: date,
                 excused: bool) -> str | None:
    """For an excused row the approval that excuses it; for any other row a revoked one that covered it."""
    for first, last, iid, revoked, text in exemptions.get(person_id, ()):
        if revoked != excused and (iid == instance_id or first <= due_day <= last):
            return text
    return None


def _detail_rows(store: Store, summary: Summary, start: date, end: date, now: datetime, tz: ZoneInfo,
                 person_id: str | None, exemptions: dict[str, list[tuple]], namer: PhotoNamer, data_dir: Path,
                 photos: list[Photo], marks: dict[int, str] | None = None) -> Iterator[list[Any]]:
    marks = marks or {}
    lo, hi = assessment.utc_bounds(start, end, tz)
    i, p, d, c = DutyInstance.__table__, Person.__table__, Duty.__table__, CheckIn.__table__
    eff = assessment.status_expr(now).label("eff")
    q = (select(i.c.id, i.c.person_id, i.c.duty_id, i.c.period_key, i.c.opens_at, i.c.due_at, i.c.required,
                i.c.done_count, i.c.done_at, eff, p.c.unit_id, p.c.name, d.c.title, d.c.kind,
                c.c.id.label("checkin_id"), c.c.at.label("checkin_at"), c.c.text.label("checkin_text"))
         .select_from(i.join(p, p.c.id == i.c.person_id).outerjoin(d, d.c.id == i.c.duty_id)
                      .outerjoin(c, c.c.instance_id == i.c.id))
         .where(i.c.due_at >= lo, i.c.due_at < hi)
         .order_by(p.c.unit_id, i.c.person_id, i.c.due_at, i.c.id, c.c.at, c.c.id))
    if person_id is not None:
        q = q.where(i.c.person_id == person_id)
    with store.engine.connect() as conn, store.engine.connect() as side:
        result = conn.execute(q.execution_options(stream_results=True, yield_per=5000))
        for part in result.partitions(5000):
            evidence = _evidence_of(side, [r.checkin_id for r in part if r.checkin_id is not None])
            for r in part:
                files = evidence.get(r.checkin_id, []) if r.checkin_id is not None else []
                names = []
                for ev in files:
                    name = namer(r._asdict(), ev)
                    source = data_dir / ev.path
                    exists = source.is_file()
                    photos.append(Photo(source, name, exists))
                    names.append(name if exists else f"{name}（文件缺失）")
                excuse = _excuse_text(exemptions, r.person_id, r.id, r.due_at.astimezone(tz).date(),
                                      r.eff == "excused")
                yield [summary.unit_name.get(r.unit_id, r.unit_id), r.name, r.duty_id, r.title or r.duty_id,
                       t.KIND.get(r.kind, r.kind), r.period_key, local(r.opens_at, tz), local(r.due_at, tz),
                       r.required, r.done_count, t.STATUS.get(r.eff, r.eff), local(r.done_at, tz),
                       local(r.checkin_at, tz), _marked(r.checkin_text, marks.get(r.checkin_id)),
                       len(files) if r.checkin_id is not None else None,
                       "\n".join(names) or None, excuse, r.id, r.checkin_id]


def _evidence_of(conn: Any, checkin_ids: list[int]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = defaultdict(list)
    for n in range(0, len(checkin_ids), 1000):
        chunk = checkin_ids[n:n + 1000]
        ev = Evidence.__table__
        rows = conn.execute(select(ev).where(ev.c.checkin_id.in_(chunk)).order_by(ev.c.checkin_id, ev.c.at, ev.c.id))
        for row in rows:  # Row objects: attribute access like the model
            out[row.checkin_id].append(row)
    return out


def _callout_rows(session: Session, start: date, end: date, tz: ZoneInfo, person_id: str | None) -> Iterator[list[Any]]:
    """One row per callout recipient, from the callouts service's own reading of its tables."""
    from bot.services.callouts.records import callout_records

    lo, hi = assessment.utc_bounds(start, end, tz)
    names = dict(session.execute(select(Person.id, Person.name)).all())
    units = dict(session.execute(select(Unit.id, Unit.name)).all())
    for r in callout_records(session, lo, hi):
        if person_id is not None and r["person_id"] != person_id:
            continue
        issuer = names.get(r["issued_by"], r["issued_by"]) if r["issued_by"] else "命令行"
        how = "通知"
        if r["reason"] == "escalation":
            how = f"升级（{names.get(r['escalated_from'], r['escalated_from'])}未应答）" if r["escalated_from"] else "升级"
        seconds = r["ack_seconds"]
        yield [r["callout_id"], r["level_name"], r["hazard"] or None, local(r["issued_at"], tz), issuer,
               r["text"] or None, units.get(r["unit"], r["unit"]) or None, r["person_name"], how, r["calls_made"],
               local(r["first_sent_at"], tz), local(r["acked_at"], tz),
               None if seconds is None else round(seconds / 60, 1), local(r["escalated_at"], tz),
               "、".join(r["escalated_to"]) or None, local(r["report_at"], tz),
               ("是" if r["report_late"] else "否") if r["report_at"] else None,
               "、".join(r["measures"]) or None, r["report_text"] or None, r["photos"] or None,
               local(r["lifted_at"], tz), CHANNEL_WORDS.get(r["channel_acked"] or ""),
               r["phone_calls"] or None, r["sms_sent"] or None, local(r["released_at"], tz),
               local(r["summary_at"], tz), r["summary_text"] or None]


CORRECTION_ACTIONS = {"withdraw": "撤回", "move": "改为其他职责"}


def _correction_marks(session: Session, tz: ZoneInfo) -> dict[int, str]:
    """Check-in id → how it was corrected, for 明细's 报送内容."""
    titles = dict(session.execute(select(Duty.id, Duty.title)).all())
    out = {}
    for fix, target in session.execute(
            select(CheckInCorrection, DutyInstance).outerjoin(
                DutyInstance, DutyInstance.id == CheckInCorrection.to_instance_id)):
        when = fmt.full(fix.at, tz)
        if fix.action == "move" and target is not None:
            out[fix.checkin_id] = f"【已于 {when} 改为「{titles.get(target.duty_id, target.duty_id)}」{target.period_key}】"
        else:
            out[fix.checkin_id] = f"【已于 {when} 撤回，不计入】"
    return out


def _marked(text: str | None, mark: str | None) -> str | None:
    if not mark:
        return text
    return f"{mark}{text or ''}"


def _correction_rows(session: Session, tz: ZoneInfo, person_id: str | None) -> Iterator[list[Any]]:
    """更正记录: every correction with the check-in it corrects and, for a move, the new one."""
    names = dict(session.execute(select(Person.id, Person.name)).all())
    titles = dict(session.execute(select(Duty.id, Duty.title)).all())
    q = select(CheckInCorrection).order_by(CheckInCorrection.at, CheckInCorrection.id)
    if person_id is not None:
        q = q.where(CheckInCorrection.person_id == person_id)
    for (fix,) in session.execute(q):
        original = session.get(CheckIn, fix.checkin_id)
        was = session.get(DutyInstance, original.instance_id) if original and original.instance_id else None
        to = session.get(DutyInstance, fix.to_instance_id) if fix.to_instance_id else None
        yield [local(fix.at, tz), names.get(fix.person_id, fix.person_id), CORRECTION_ACTIONS.get(fix.action, fix.action),
               fix.checkin_id, local(original.at, tz) if original else None,
               titles.get(was.duty_id, was.duty_id) if was else None, was.period_key if was else None,
               titles.get(to.duty_id, to.duty_id) if to else None, to.period_key if to else None,
               fix.new_checkin_id]


UNFILED_STATES = {"asking": "待选择职责", "kept": "当时无待办职责", "unfiled": "已提醒，未选择", "dropped": "领导已取消",
                  "collecting": "接收中"}


def _unfiled_rows(session: Session, now: datetime, tz: ZoneInfo, person_id: str | None,
                  data_dir: Path) -> Iterator[list[Any]]:
    """未归档佐证: files sent more than 24 h ago that no check-in took (kept, never lost)."""
    people = {p.id: p for p in session.execute(select(Person)).scalars()}
    units = {u.id: u.name for u in session.execute(select(Unit)).scalars()}
    for f in checkins.unfiled_files(session, now, person_id):
        person = people.get(f.person_id)
        yield [units.get(person.unit_id, person.unit_id) if person else None, person.name if person else f.person_id,
               local(f.at, tz), f.text or None, UNFILED_STATES.get(f.draft_state, f.draft_state),
               str((data_dir / f.path).resolve()), f.sha256, f.size]


def _rank_rows(session: Session, start: date, end: date, now: datetime, tz: ZoneInfo, weights: Weights | None,
               policy: RankingPolicy | None) -> Iterator[list[Any]]:
    cache: dict = {}
    for quarter in assessment.quarters_between(start, end):
        r = assessment.rank_quarter(session, quarter, now, tz=tz, weights=weights, policy=policy, cache=cache)
        label = fmt.period(quarter)
        for u in r.units:
            mark = "通报表扬" if u.top else (f"后{r.policy.bottom}位" if u.bottom else None)
            yield [label, u.rank, u.name, u.tally.required, u.tally.done, u.tally.late, u.tally.missed, u.tally.excused,
                   u.rate, mark, u.streak or None, u.step.describe() if u.step else None,
                   "、".join(u.interviewers) or None]
        for _, name in r.unranked:
            yield [label, None, name, 0, 0, 0, 0, None, None, "无可考核事项", None, None, None]


# ---------------------------------------------------------------------------------------------
# One leader's archive
# ---------------------------------------------------------------------------------------------
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_name(text: str, limit: int = 60) -> str:
    """A folder name that works on Windows, macOS and Linux."""
    name = _UNSAFE.sub("_", text).strip(" .") or "_"
    return name[:limit]


def _extension(ev: Evidence, source: Path) -> str:
    mime = (ev.mime or "").lower()
    known = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/heic": ".heic",
             "application/pdf": ".pdf", "video/mp4": ".mp4"}
    if mime in known:
        return known[mime]
    try:
        with source.open("rb") as f:
            magic = f.read(8)
    except OSError:
        return ".jpg" if not mime else ".bin"
    if magic.startswith(b"\xff\xd8"):
        return ".jpg"
    if magic.startswith(b"\x89PNG"):
        return ".png"
    if magic.startswith(b"%PDF"):
        return ".pdf"
    return ".bin"


def write_archive(store: Store, out: Path | str, person_id: str, start: date, end: date, now: datetime, *,
                  data_dir: Path | str, tz: ZoneInfo = SHANGHAI, weights: Weights | None = None,
                  policy: RankingPolicy | None = None, progress: Progress | None = None) -> ExportResult:
    """履职档案: the person's workbook plus their original photos as <duty title>/<period>/<n>.<ext>."""
    out, data_dir = Path(out), Path(data_dir)
    counters: dict[str, int] = defaultdict(int)
    given: dict[int, str] = {}  # evidence id -> name (a row is visited once, but be safe)

    def name(row: dict, ev: Evidence) -> str:
        if ev.id in given:
            return given[ev.id]
        folder = f"{safe_name(row['title'] or row['duty_id'])}/{safe_name(row['period_key'])}"
        counters[folder] += 1
        given[ev.id] = f"{folder}/{counters[folder]}{_extension(ev, data_dir / ev.path)}"
        return given[ev.id]

    with store.session() as s:
        person = s.get(Person, person_id)
    label = safe_name(person.name if person else person_id)
    xlsx_name = f"履职档案_{label}_{start.isoformat()}_{end.isoformat()}.xlsx"
    out.parent.mkdir(parents=True, exist_ok=True)
    book = out.with_name(f".{out.stem}.xlsx.part")  # the workbook, only until it is in the archive
    try:
        with _finished(out) as tmp:
            result = _write_workbook(store, book, start, end, now, data_dir, tz, weights, policy, person_id, name,
                                     progress)
            # Photos are JPEG already: stored, not deflated, so building the archive costs only copying.
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
                z.write(book, xlsx_name)
                for photo in result.photos:
                    if photo.exists:
                        z.write(photo.source, photo.name)
    finally:
        with contextlib.suppress(OSError):
            book.unlink(missing_ok=True)
    result.path = out
    return result
