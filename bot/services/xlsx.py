"""A small streaming .xlsx writer: rows go straight into the zip as XML, nothing is kept.

Why not openpyxl's write-only mode: on a year of 10,000 people (1.5 M rows) it spends minutes
building a cell object per value; writing the XML text directly is an order of magnitude faster
and flat in memory. What the assessment workbook needs and no more: several sheets written one
after another, a frozen bold header row, column widths, inline strings, numbers, dates (naive
local datetimes, Excel serial numbers with a date format), percentages, wrapped multi-line text.
The result opens in Excel, WPS, LibreOffice and openpyxl.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

EXCEL_ROWS = 1_048_576
EPOCH = datetime(1899, 12, 30)

# Style ids of cellXfs in STYLES.
PLAIN, DATE, PCT, NUM, HEADER, WRAP = 0, 1, 2, 3, 4, 5
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/><numFmt numFmtId="165" formatCode="0.##"/>
<numFmt numFmtId="166" formatCode="0.0%"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>
<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="6">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def width(value: Any) -> int:
    """Display width in Excel columns: a CJK character counts double (it is 3 bytes in UTF-8,
    so (bytes + characters) / 2 gives 2 for it and 1 for ASCII, without a per-character loop)."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, float):
        return len(f"{value:.2f}")
    s = value if isinstance(value, str) else str(value)
    if "\n" in s:
        return max(width(line) for line in s.split("\n"))
    return (len(s.encode()) + len(s)) // 2


def serial(value: datetime | date) -> float:
    """Excel's day number of a naive (wall-clock) datetime or a date."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    elif value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    return (value - EPOCH).total_seconds() / 86400


def _text(s: str) -> str:
    if not s.isprintable():
        s = _ILLEGAL.sub("", s)
    return escape(s)


class Workbook:
    """Sheets are written one at a time (a zip entry is streamed while it is open)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.zip = zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.sheets: list[str] = []
        self._open: Sheet | None = None

    def sheet(self, title: str, widths: list[float], styles: list[int], header: list[str] | None = None,
              freeze: bool = True) -> Sheet:
        if self._open is not None:
            self._open.close()
        if len(title) > 31 or any(c in title for c in "[]:*?/\\"):
            raise ValueError(f"bad sheet title {title!r}")
        self.sheets.append(title)
        self._open = Sheet(self, len(self.sheets), widths, styles, header, freeze)
        return self._open

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None
        sheets = "".join(f'<sheet name="{escape(t, {chr(34): "&quot;"})}" sheetId="{n}" r:id="rId{n}"/>'
                         for n, t in enumerate(self.sheets, 1))
        z = self.zip
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                                      f'<workbook {_NS} xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>')
        rels = "".join(f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
                       for n in range(1, len(self.sheets) + 1))
        rels += f'<Relationship Id="rId{len(self.sheets) + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
                   "</Relationships>")
        z.writestr("xl/styles.xml", STYLES)
        sheet_types = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for n in range(1, len(self.sheets) + 1))
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/styles.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                   f"{sheet_types}</Types>")
        z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
                   "</Relationships>")
        z.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
            return
        # Failing half-way: close the open sheet's entry first, or zipfile refuses to close and
        # its ValueError would hide the error that stopped the export.
        if self._open is not None and self._open._out is not None:
            with contextlib.suppress(Exception):
                self._open._out.close()
            self._open._out = None  # type: ignore[assignment]
        with contextlib.suppress(Exception):
            self.zip.close()


class Sheet:
    def __init__(self, book: Workbook, number: int, widths: list[float], styles: list[int],
                 header: list[str] | None, freeze: bool):
        self.styles = styles  # per column: PLAIN, DATE, PCT or NUM
        self.letters = [get_column_letter(i + 1) for i in range(max(len(widths), len(styles)))]
        self.row = 0
        self._buf: list[str] = []
        self._out: IO[bytes] = book.zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True)
        view = ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
                ' state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>') if freeze else ""
        cols = "".join(f'<col min="{n}" max="{n}" width="{w:g}" customWidth="1"/>' for n, w in enumerate(widths, 1))
        self._write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}>{view}'
                    f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>")
        if header is not None:
            self.append(header, style=HEADER)

    def _write(self, text: str) -> None:
        self._out.write(text.encode())

    def append(self, values: Iterable[Any], style: int | None = None) -> None:
        """One row; `style` overrides the column styles (the header)."""
        self.row += 1
        r = str(self.row)
        letters, styles = self.letters, self.styles
        cells = []
        add = cells.append
        for i, v in enumerate(values):
            if v is None or v == "":
                continue
            ref = (letters[i] if i < len(letters) else get_column_letter(i + 1)) + r
            t = type(v)
            if t is str:
                s = style if style is not None else (styles[i] if i < len(styles) else PLAIN)
                if not v.isprintable():  # newlines, tabs, control characters
                    if "\n" in v and style is None:
                        s = WRAP
                    v = _ILLEGAL.sub("", v)
                if "&" in v or "<" in v or ">" in v:
                    v = escape(v)
                attr = f' s="{s}"' if s else ""
                if v[0].isspace() or v[-1].isspace():
                    add(f'<c r="{ref}"{attr} t="inlineStr"><is><t xml:space="preserve">{v}</t></is></c>')
                else:
                    add(f'<c r="{ref}"{attr} t="inlineStr"><is><t>{v}</t></is></c>')
            elif t is datetime:
                if v.tzinfo is not None:
                    v = v.replace(tzinfo=None)
                add(f'<c r="{ref}" s="{DATE}"><v>{(v - EPOCH).total_seconds() / 86400!r}</v></c>')
            elif t is int or t is float:
                s = style if style is not None else (styles[i] if i < len(styles) else PLAIN)
                attr = f' s="{s}"' if s in (PCT, NUM, HEADER) else ""
                add(f'<c r="{ref}"{attr}><v>{v!r}</v></c>')
            elif t is bool:
                add(f'<c r="{ref}" t="b"><v>{int(v)}</v></c>')
            elif t is date:
                add(f'<c r="{ref}" s="{DATE}"><v>{serial(v)!r}</v></c>')
            else:
                add(f'<c r="{ref}" t="inlineStr"><is><t>{_text(str(v))}</t></is></c>')
        self._buf.append(f'<row r="{r}">{"".join(cells)}</row>')
        if len(self._buf) >= 500:
            self._write("".join(self._buf))
            self._buf.clear()

    def close(self) -> None:
        if self._out is None:
            return
        self._buf.append("</sheetData></worksheet>")
        self._write("".join(self._buf))
        self._buf.clear()
        self._out.close()
        self._out = None  # type: ignore[assignment]
