"""The assessment workbook and the 履职档案 archive, opened and checked cell by cell."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from conftest import BACKENDS
from sqlmodel import select
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
from bot.services import export, ledger, xlsx
from bot.store.models import Callout, CalloutTarget, Evidence, Exemption

NOW = at(2026, 7, 1, 12, 0)
START, END = datetime(2026, 4, 1).date(), datetime(2026, 6, 30).date()
RED, BLUE, GREEN = jpeg((255, 0, 0)), jpeg((0, 0, 255)), jpeg((0, 255, 0))


def build(store, data_dir) -> dict:
    """王五 (甲单位): May inspection done with two photos; June inspection late with one;
    April meeting excused (出差, approved by 孙丽). 赵六 (乙单位): May inspection missed.
    A red callout on 1 June: 王五 acked after 2.5 minutes and reported; 赵六 silent, escalated to 孙丽."""
    with store.session() as s:
        add_units(s, ("A", "甲单位"), ("B", "乙单位"))
        add_person(s, "p", "A", name="王五")
        add_person(s, "q", "B", name="赵六")
        add_person(s, "o", "A", name="孙丽", office=True)
        add_duty(s, "insp", "安全生产检查（仓库）", "inspection")
        add_duty(s, "meet", "安全会议", "meeting")
        s.flush()
        may = add_instance(s, "p", "insp", at(2026, 5, 29), "done", period="2026-05")
        jun = add_instance(s, "p", "insp", at(2026, 6, 30), "late", period="2026-06")
        apr = add_instance(s, "p", "meet", at(2026, 4, 30), "excused", period="2026-04")
        add_instance(s, "q", "insp", at(2026, 5, 29), "missed", period="2026-05")
        add_instance(s, "p", "insp", at(2026, 3, 31), "done", period="2026-03")  # outside the range
        c1 = add_checkin(s, may, "p", at(2026, 5, 20, 9, 30), "检查了仓库消防通道\n第二行", (RED, BLUE), data_dir)
        c2 = add_checkin(s, jun, "p", at(2026, 7, 1, 10, 0), "补报：检查了车间", (GREEN,), data_dir)
        ex = Exemption(person_id="p", instance_id=apr.id, reason_kind="出差", reason="省厅培训",
                       date_from=at(2026, 4, 29, 0), date_to=at(2026, 4, 30, 0), state="approved", decided_by="o",
                       decided_at=at(2026, 4, 28, 10))
        s.add(ex)
        s.flush()
        ledger.record(s, "exemption", ex, ex.decided_at)
        callout = Callout(level="red", hazard="暴雨", text="红色暴雨预警", issued_at=at(2026, 6, 1, 8), issued_by="o",
                          policy={"report_within": 1800})
        s.add(callout)
        s.flush()
        t1 = CalloutTarget(callout_id=callout.id, person_id="p", calls_made=1, first_sent_at=at(2026, 6, 1, 8),
                           acked_at=at(2026, 6, 1, 8) + timedelta(seconds=150), report_at=at(2026, 6, 1, 8, 20),
                           report_measures=["已停工", "已巡查"], report_text="已停工")
        t2 = CalloutTarget(callout_id=callout.id, person_id="q", calls_made=4, first_sent_at=at(2026, 6, 1, 8),
                           escalated_at=at(2026, 6, 1, 8, 6), escalated_to=["o"])
        s.add_all([t1, t2])
        s.flush()
        t3 = CalloutTarget(callout_id=callout.id, person_id="o", reason="escalation", escalated_from_id=t2.id,
                           calls_made=1, first_sent_at=at(2026, 6, 1, 8, 6), acked_at=at(2026, 6, 1, 8, 7))
        s.add(t3)
        s.flush()
        ledger.record(s, "ack", t3, t3.acked_at)
        ledger.record(s, "ack", t1, t1.acked_at)
        ledger.record(s, "report", t1, t1.report_at)
        return {"c1": c1.id, "c2": c2.id, "may": may.id, "jun": jun.id, "apr": apr.id,
                "evidence": [e.id for e in s.exec(select(Evidence).order_by(Evidence.id))],
                "head": ledger.head(s).hash}


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    yield from built_world(request.param, tmp_path_factory.mktemp(f"export-{request.param}"), build)


def rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def table(ws) -> list[dict]:
    """Data rows as dicts keyed by header, up to the first empty row."""
    data = rows(ws)
    out = []
    for r in data[1:]:
        if all(v is None for v in r):
            break
        out.append(dict(zip(data[0], r, strict=False)))
    return out


def test_workbook_cell_by_cell(world, tmp_path):
    store, data_dir, ids = world
    out = tmp_path / "out.xlsx"
    result = export.write_xlsx(store, out, START, END, NOW, data_dir=data_dir)
    assert result.rows == {"汇总": 7, "明细": 4, "叫应记录": 3, "排名": 2}  # 2 units + 2 people + 2 kinds + total
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["汇总", "明细", "叫应记录", "排名"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(c.font.bold for c in ws[1])

    # 汇总: headers, per-unit/person/kind numbers, the chain head below the table.
    ws = wb["汇总"]
    assert [c.value for c in ws[1]] == [c.header for c in export.SUMMARY_COLS]
    summary = table(ws)
    unit_a = summary[0]
    assert (unit_a["维度"], unit_a["单位"]) == ("单位", "甲单位")
    # 王五: done 1, late 1 (0.5), excused 1 → counted 2, score 1.5, rate 0.75
    assert [unit_a[k] for k in ("应考核", "按时完成", "逾期完成", "未完成", "免考核", "未截止（不计）", "得分", "完成率")] == [
        2, 1, 1, 0, 1, 0, 1.5, 0.75]
    assert ws.cell(row=2, column=12).number_format == "0.0%"
    unit_b = summary[1]
    assert (unit_b["单位"], unit_b["应考核"], unit_b["未完成"], unit_b["完成率"]) == ("乙单位", 1, 1, 0)
    person = next(r for r in summary if r["维度"] == "个人" and r["姓名"] == "王五")
    assert (person["应考核"], person["完成率"]) == (2, 0.75)
    kinds = {r["职责类别"]: r for r in summary if r["维度"] == "类别"}
    assert (kinds["检查"]["应考核"], kinds["检查"]["得分"]) == (3, 1.5) and kinds["会议"]["免考核"] == 1
    total = summary[-1]
    assert (total["维度"], total["应考核"], total["得分"]) == ("合计", 3, 1.5)
    assert total["完成率"] == pytest.approx(0.5)
    notes = {r[0]: r[1] for r in rows(ws)[len(summary) + 2:] if r[0]}
    assert notes["账本链头"] == ids["head"] == result.head_hash
    assert notes["考核区间"].startswith("2026-04-01 至 2026-06-30")
    assert notes["导出时间"] == datetime(2026, 7, 1, 12, 0)

    # 明细: one row per instance and check-in, dates as real Excel dates in Shanghai time.
    ws = wb["明细"]
    assert [c.value for c in ws[1]] == [c.header for c in export.DETAIL_COLS]
    detail = table(ws)
    by_checkin = {r["报送编号"]: r for r in detail if r["报送编号"]}
    may = by_checkin[ids["c1"]]
    assert (may["单位"], may["姓名"], may["职责"], may["类别"], may["周期"], may["状态"]) == (
        "甲单位", "王五", "安全生产检查（仓库）", "检查", "2026-05", "按时完成")
    assert may["报送时间"] == datetime(2026, 5, 20, 9, 30)
    assert may["截止"] == datetime(2026, 5, 29, 18, 0)
    assert may["报送内容"] == "检查了仓库消防通道\n第二行"
    assert may["照片数"] == 2
    paths = may["照片路径"].split("\n")
    assert [Path(p).read_bytes() for p in paths] == [RED, BLUE]
    date_cell = next(c for c in ws[2 + detail.index(may)] if c.column == 13)
    assert date_cell.is_date and isinstance(date_cell.value, datetime) and date_cell.number_format == "yyyy-mm-dd hh:mm"
    june = by_checkin[ids["c2"]]
    assert (june["状态"], june["照片数"], june["报送时间"]) == ("逾期完成", 1, datetime(2026, 7, 1, 10, 0))
    excused = next(r for r in detail if r["实例编号"] == ids["apr"])
    assert excused["状态"] == "免考核" and excused["报送编号"] is None
    assert excused["免考核说明"] == "出差：省厅培训（孙丽 2026-04-28 10:00 批准）"
    missed = next(r for r in detail if r["姓名"] == "赵六")
    assert (missed["状态"], missed["报送时间"], missed["照片数"]) == ("未完成", None, None)
    assert all(r["周期"] != "2026-03" for r in detail)
    # Widths fit: "安全生产检查（仓库）" is 10 wide characters → 20 + 2.
    assert ws.column_dimensions["D"].width == 22

    # 叫应记录: per recipient.
    ws = wb["叫应记录"]
    calls = {r["姓名"]: r for r in table(ws)}
    assert calls["王五"]["应答时间"] == datetime(2026, 6, 1, 8, 2, 30)
    assert calls["王五"]["应答用时（分钟）"] == 2.5
    assert calls["王五"]["措施"] == "已停工、已巡查" and calls["王五"]["报告内容"] == "已停工"
    assert (calls["王五"]["等级"], calls["王五"]["发布人"]) == ("红色", "孙丽")
    assert calls["赵六"]["应答时间"] is None and calls["赵六"]["升级时间"] == datetime(2026, 6, 1, 8, 6)
    assert calls["赵六"]["呼叫次数"] == 4 and calls["赵六"]["升级至"] == "孙丽"
    assert (calls["王五"]["方式"], calls["孙丽"]["方式"]) == ("通知", "升级（赵六未应答）")
    assert calls["王五"]["报告超时"] == "否"  # 17.5 minutes after the ack, within the 30 of the policy


    # 排名: Q2 with two units: too few to name anybody.
    ranking = table(wb["排名"])
    assert [(r["季度"], r["名次"], r["单位"], r["得分率"]) for r in ranking] == [
        ("2026年第二季度", 1, "甲单位", 0.75), ("2026年第二季度", 2, "乙单位", 0)]
    assert all(r["标记"] is None for r in ranking)


def test_archive_of_one_leader(world, tmp_path):
    store, data_dir, ids = world
    out = tmp_path / "王五.zip"
    export.write_archive(store, out, "p", START, END, NOW, data_dir=data_dir)
    with zipfile.ZipFile(out) as z:
        names = sorted(z.namelist())
        assert names == sorted([
            "履职档案_王五_2026-04-01_2026-06-30.xlsx",
            "安全生产检查（仓库）/2026-05/1.jpg", "安全生产检查（仓库）/2026-05/2.jpg",
            "安全生产检查（仓库）/2026-06/1.jpg"])
        assert z.read("安全生产检查（仓库）/2026-05/1.jpg") == RED
        assert z.read("安全生产检查（仓库）/2026-05/2.jpg") == BLUE
        assert z.read("安全生产检查（仓库）/2026-06/1.jpg") == GREEN
        wb = openpyxl.load_workbook(io.BytesIO(z.read("履职档案_王五_2026-04-01_2026-06-30.xlsx")))
    detail = table(wb["明细"])
    assert {r["姓名"] for r in detail} == {"王五"}
    may = next(r for r in detail if r["报送编号"] == ids["c1"])
    assert may["照片路径"] == "安全生产检查（仓库）/2026-05/1.jpg\n安全生产检查（仓库）/2026-05/2.jpg"
    summary = table(wb["汇总"])
    assert [r["维度"] for r in summary] == ["个人", "类别", "类别", "合计"]
    assert [r["姓名"] for r in table(wb["叫应记录"])] == ["王五"]
    assert not list(tmp_path.glob(".*part"))  # temporary files are gone


def test_missing_photo_is_marked_not_fatal(world, tmp_path):
    store, data_dir, ids = world
    with store.session() as s:
        path = data_dir / s.get(Evidence, ids["evidence"][2]).path
    hidden = path.with_name("hidden")
    path.rename(hidden)
    try:
        out = tmp_path / "a.zip"
        result = export.write_archive(store, out, "p", START, END, NOW, data_dir=data_dir)
    finally:
        hidden.rename(path)
    assert [p.exists for p in result.photos] == [True, True, False]
    with zipfile.ZipFile(out) as z:
        assert "安全生产检查（仓库）/2026-06/1.jpg" not in z.namelist()


def test_export_command(world, tmp_path, monkeypatch, capsys):
    store, data_dir, ids = world
    monkeypatch.setenv("DATABASE_URL", store.url)
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)
    assert cli(["export", "--from", "2026-04-01", "--to", "2026-06-30", "--out", "x.xlsx",
                "--at", "2026-07-01T12:00"]) == 0
    out = capsys.readouterr().out
    assert ids["head"] in out and "明细 4" in out
    assert openpyxl.load_workbook(tmp_path / "x.xlsx").sheetnames == ["汇总", "明细", "叫应记录", "排名"]
    assert cli(["export", "--from", "2026-04-01", "--to", "2026-06-30", "--person", "王五", "--format", "zip"]) == 0
    assert (tmp_path / "履职档案_王五_2026-04-01_2026-06-30.zip").is_file()
    capsys.readouterr()
    assert cli(["export", "--person", "无名氏", "--format", "zip"]) == 1
    assert "未知人员" in capsys.readouterr().err
    assert cli(["export", "--format", "zip"]) == 1
    assert cli(["export", "--from", "2026-06-30", "--to", "2026-04-01"]) == 1


def test_long_sheets_split_and_size(tmp_path, monkeypatch):
    """Past Excel's row limit 明细 goes on in 明细2 (the limit shrunk here to keep it fast)."""
    monkeypatch.setattr(export, "EXCEL_ROWS", 4)
    monkeypatch.setattr(export, "WIDTH_SAMPLE", 2)
    with xlsx.Workbook(tmp_path / "s.xlsx") as wb:
        w = export.SheetWriter(wb, "明细", [export.Col("名称"), export.Col("时间", "date")])
        for n in range(7):
            w.add([f"第{n}行" * (3 if n == 5 else 1), datetime(2026, 1, 1, n)])
        w.close()
    book = openpyxl.load_workbook(tmp_path / "s.xlsx")
    assert book.sheetnames == ["明细", "明细2", "明细3"]
    assert [len(rows(s)) - 1 for s in book.worksheets] == [3, 3, 1]
    assert rows(book["明细2"])[0] == ["名称", "时间"]
    assert book["明细3"].freeze_panes == "A2"
    assert book["明细"].column_dimensions["A"].width == 5 + 2  # sized on the first two rows: "第0行" is 2+1+2 wide


def test_cells_survive_the_round_trip(tmp_path):
    """What leaders type goes into the XML as text: markup, control characters, spaces, emoji."""
    values = ["a<b>&c\"d'", "bell\x07gone", "  leading and trailing  ", "表情 😀", "two\nlines", 3, 2.5, True,
              datetime(2026, 2, 28, 23, 59)]
    with xlsx.Workbook(tmp_path / "v.xlsx") as wb:
        sheet = wb.sheet("表", [10] * len(values), [xlsx.PLAIN] * len(values), header=[f"h{n}" for n in range(9)])
        sheet.append(values)
        wb.sheet("二", [], [], header=["only"])
    book = openpyxl.load_workbook(tmp_path / "v.xlsx")
    assert book.sheetnames == ["表", "二"]
    row = [c.value for c in book["表"][2]]
    assert row == ["a<b>&c\"d'", "bellgone", "  leading and trailing  ", "表情 😀", "two\nlines", 3, 2.5, True,
                   datetime(2026, 2, 28, 23, 59)]
    assert book["表"]["E2"].alignment.wrap_text
    assert [c.value for c in book["二"][1]] == ["only"]


def test_text_width_counts_cjk_double():
    assert export.text_width("abc") == 3
    assert export.text_width("安全abc") == 7
    assert export.text_width("第一行\n更长的第二行") == 12
    assert export.safe_name('a/b:c*?"<>|') == "a_b_c_"
