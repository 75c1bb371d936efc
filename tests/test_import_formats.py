"""import-list on PDF and Word 97-2003 files, and the refined periods drafted as such.

tests/fixtures/lists/county_periods.{pdf,doc} were made once from county_periods.txt (python-docx →
LibreOffice 7.4 `soffice --convert-to pdf` / `doc:MS Word 97`) and are committed as they came out, so no
test needs LibreOffice. The PDF wraps clause 一.6 over two lines; the reader joins it back.
"""

from __future__ import annotations

import io
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.importer import read_list, run_import_list
from schedules import Schedule, compile_jobs, load_catalog_text
from schedules.extract import draft_yaml

LISTS = Path(__file__).resolve().parent / "fixtures" / "lists"
TXT = LISTS / "county_periods.txt"
YEAR = 2026


def drafted(path: Path, tmp_path: Path) -> str:
    out = tmp_path / f"{path.name}.yaml"
    err = io.StringIO()
    assert run_import_list(str(path), str(out), err, current_year=YEAR) == 0, err.getvalue()
    # the header names the source file; everything else must be the same
    return re.sub(r"^# 来源 / source: .*$", "", out.read_text(encoding="utf-8"), count=1, flags=re.M)


@pytest.mark.parametrize("name", ["county_periods.pdf", "county_periods.doc"])
def test_a_pdf_or_doc_version_of_a_list_gives_the_same_draft_as_its_text(name, tmp_path):
    assert drafted(LISTS / name, tmp_path) == drafted(TXT, tmp_path)


def test_a_wps_file_is_read_as_doc(tmp_path):
    wps = tmp_path / "county_periods.wps"
    shutil.copy(LISTS / "county_periods.doc", wps)
    assert drafted(wps, tmp_path) == drafted(TXT, tmp_path)


def test_a_docx_saved_as_doc_is_read_as_docx(tmp_path):
    import docx

    d = docx.Document()
    for line in TXT.read_text(encoding="utf-8").splitlines():
        d.add_paragraph(line)
    d.save(tmp_path / "named-wrong.doc")
    assert drafted(tmp_path / "named-wrong.doc", tmp_path) == drafted(TXT, tmp_path)


def test_a_wrapped_pdf_line_is_joined_back_into_its_clause():
    text = read_list(str(LISTS / "county_periods.pdf"))
    assert "并将检查情况在局党委会议上通报。" in next(line for line in text.splitlines() if line.startswith("6. 每季度"))


def test_a_scanned_pdf_without_text_says_ocr_is_needed(tmp_path):
    from PIL import Image

    scan = tmp_path / "scan.pdf"
    Image.new("RGB", (200, 280), "white").save(scan, "PDF")
    err = io.StringIO()
    assert run_import_list(str(scan), str(tmp_path / "d.yaml"), err) == 1
    assert "没有文字层" in err.getvalue() and "OCR" in err.getvalue() and "Traceback" not in err.getvalue()


def test_without_antiword_a_doc_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # antiword is not on it
    err = io.StringIO()
    assert run_import_list(str(LISTS / "county_periods.doc"), str(tmp_path / "d.yaml"), err) == 1
    assert "antiword" in err.getvalue() and "apt-get install antiword" in err.getvalue()
    assert not (tmp_path / "d.yaml").exists()


def test_the_refined_periods_are_drafted_as_such_without_review_marks():
    draft, text = draft_yaml(TXT.read_text(encoding="utf-8"), YEAR, "county_periods.txt")
    assert [(d.id, d.frequency) for d in draft.duties] == [
        ("r1-01", "每两个月1次"), ("r1-02", "每半月1次"), ("r1-03", "每两年1次"), ("r1-04", "每年11月30日前1次"),
        ("r1-05a", "上半年1次"), ("r1-05b", "下半年1次"), ("r1-06", "每季度至少1次"),
        ("r2-01", "每月10日、24日各1次"), ("r2-02", "每周五1次"), ("r2-03", "每月5日前1次"), ("r2-04", "每年汛前1次"),
        ("r2-05", "每三年1次"), ("r2-06", None),  # 督促企业每周…: the enterprise's frequency, not the role's
    ]
    assert not [line for line in text.splitlines() if line.strip().startswith("frequency:") and "待核" in line]
    assert "start_year: 2026" in text
    catalog = load_catalog_text(text, "<draft>")
    compile_jobs(catalog)
    windows = Schedule(catalog).windows(date(2026, 1, 1), date(2027, 1, 1))
    due = {w.duty_id: [] for w in windows}
    for w in windows:
        due[w.duty_id].append(w.due_at.date().isoformat())
    assert due["r1-01"] == ["2026-02-28", "2026-04-30", "2026-06-30", "2026-08-31", "2026-10-31", "2026-12-31"]
    assert len(due["r1-02"]) == 24 and due["r1-03"] == ["2026-12-31"] and due["r1-04"] == ["2026-11-30"]
    assert due["r2-01"][:2] == ["2026-01-10", "2026-01-24"] and due["r2-03"][0] == "2026-01-05"
    assert due["r2-02"][1] == "2026-01-09" and due["r2-04"] == ["2026-04-30"]
    assert due["r2-05"] == ["2026-12-31"]  # every three years from start_year 2026: 2026, 2029…
