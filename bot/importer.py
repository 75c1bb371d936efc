"""`dutybot import-list FILE [--out F]`: read a published list and draft duties.yaml.

Lists come as web pages, text, Word (.docx; .doc and WPS's .wps through Debian's `antiword`) and PDF
(its text layer through pdfplumber; a scan without one needs OCR, which we say instead of guessing).
Reading files lives here; everything about the list's words is in the pure `schedules.extract`.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.texts import importer as T
from schedules.extract import Draft, draft_yaml

SUPPORTED = (".txt", ".text", ".htm", ".html", ".shtml", ".docx", ".doc", ".wps", ".pdf")
MAX_BYTES = 20 * 1024 * 1024  # a responsibility list is a few pages; refuse to swallow anything huge
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section",
               "article", "table", "ul", "ol", "dt", "dd", "blockquote", "pre", "center", "hr")
# Page furniture by element: navigation, breadcrumbs, footers, share bars, scripts.
_CHROME_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "select",
                "button", "head")
_CHROME_CLASS = re.compile(r"(?:^|[-_ ])(?:nav|navbar|menu|breadcrumb|crumbs?|position|location|header|footer|"
                           r"foot|share|bdshare|toolbar|copyright|sidebar|topbar|banner|search|related|relate|"
                           r"xglj|xgwz|xgxw|links|recommend|tuijian)(?:$|[-_ \d])", re.I)
# Blocks that are nothing but links (a "related articles" box, a list of other notices): what is left
# once the links, dates and punctuation are taken out.
_LINK_BLOCKS = ("li", "dd", "dt", "p", "tr", "ul", "ol", "dl", "table")
_NOT_TEXT = re.compile(r"[\s\W\d_]|20\d\d|[年月日]")


class ImportFailure(Exception):
    """A file we cannot read: the message is shown as is, exit code 1."""


def decode(data: bytes, path: str = "") -> str:
    for encoding in ("utf-8-sig", "gb18030", "big5"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFailure(T.ERR_ENCODING.format(path=path))


def html_to_text(data: bytes | str) -> str:
    """The readable text of a web page, one block per line, without navigation and footers."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for tag in soup.find_all(_CHROME_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed:
            continue
        names = " ".join(tag.get("class") or []) + " " + (tag.get("id") or "")
        if _CHROME_CLASS.search(names):
            tag.decompose()
    for tag in soup.find_all(_LINK_BLOCKS):
        if not tag.decomposed and _links_only(tag):
            tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _links_only(tag) -> bool:
    links = tag.find_all("a")
    if not links:
        return False
    rest = tag.get_text()
    for a in links:
        rest = rest.replace(a.get_text(), "", 1)
    return not _NOT_TEXT.sub("", rest)


def docx_to_text(data: bytes, path: str = "") -> str:
    """Paragraphs and table cells of a .docx, in document order, one per line."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises several unrelated types for a broken package
        raise ImportFailure(T.ERR_DOCX.format(path=path)) from e
    lines: list[str] = []

    def table_lines(table: Table) -> None:
        for row in table.rows:
            seen = set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # merged cells repeat
                    continue
                seen.add(id(cell._tc))
                for block in cell.iter_inner_content():
                    if isinstance(block, Paragraph):
                        lines.append(block.text)
                    else:
                        table_lines(block)

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        else:
            table_lines(block)
    return "\n".join(lines)


def pdf_to_text(data: bytes, path: str = "") -> str:
    """The text layer of a PDF, one line per printed line, with lines wrapped by the page width joined
    back into their paragraph and page numbers left out."""
    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [page.extract_text_lines(return_chars=False) for page in pdf.pages]
    except Exception as e:  # pdfminer raises many unrelated types for a broken file
        raise ImportFailure(T.ERR_PDF.format(path=path)) from e
    if not any(line["text"].strip() for lines in pages for line in lines):
        raise ImportFailure(T.ERR_PDF_SCANNED.format(path=path, pages=len(pages)))
    out: list[str] = []
    wrapped = False
    for lines in pages:
        lines = [ln for ln in lines if not _PAGE_NUMBER.fullmatch(ln["text"].strip())]
        if not lines:
            continue
        right = max(ln["x1"] for ln in lines)
        for ln in lines:
            text = ln["text"].strip()
            if wrapped and out and not _LABEL_START.match(text):
                out[-1] += text
            else:
                out.append(text)
            # A line that reaches the right margin without ending its sentence goes on in the next one.
            size = (ln["bottom"] - ln["top"]) or 10
            wrapped = ln["x1"] >= right - 1.5 * size and not text.endswith(_SENTENCE_ENDS)
    return "\n".join(out)


_PAGE_NUMBER = re.compile(r"[-—－\s]*\d{1,3}[-—－\s]*|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?")
_LABEL_START = re.compile(r"^(?:[（(]?[一二三四五六七八九十\d]{1,3}[）)、.．]|第[一二三四五六七八九十百\d]+条)")
_SENTENCE_ENDS = ("。", "；", ";", "：", ":", "！", "？", "!", "?")


def doc_to_text(data: bytes, path: str = "") -> str:
    """A Word 97-2003 (.doc) or WPS (.wps) file through antiword, one paragraph per line."""
    if data[:2] == b"PK":  # a .docx saved under the old name
        return docx_to_text(data, path)
    exe = shutil.which("antiword")
    if exe is None:
        raise ImportFailure(T.ERR_DOC_TOOL.format(path=path))
    with tempfile.NamedTemporaryFile(suffix=".doc") as f:
        f.write(data)
        f.flush()
        try:
            done = subprocess.run([exe, "-w", "0", "-m", "UTF-8.txt", f.name], capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            raise ImportFailure(T.ERR_DOC.format(path=path, reason="antiword 超时 / timed out")) from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ImportFailure(T.ERR_DOC.format(path=path, reason=(reason[-1] if reason else f"antiword {done.returncode}")
                                             .replace(f.name, os.path.basename(path))))
    # antiword draws table cells as "|a|b|"; the layout reader wants one cell per line like python-docx gives
    lines = []
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("|") and line.rstrip().endswith("|"):
            lines += [cell.strip() for cell in line.strip().strip("|").split("|")]
        else:
            lines.append(line)
    return "\n".join(lines)


def read_list(path: str) -> str:
    """The text of a list file; ImportFailure with a clear message when it cannot be read."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in SUPPORTED:
        raise ImportFailure(T.ERR_UNSUPPORTED.format(ext=ext or p.name))
    try:
        if p.stat().st_size > MAX_BYTES:
            raise ImportFailure(T.ERR_UNREADABLE.format(path=path, reason=f"大于 {MAX_BYTES // 1024 // 1024} MB"))
        data = p.read_bytes()
    except FileNotFoundError:
        raise ImportFailure(T.ERR_NOT_FOUND.format(path=path)) from None
    except IsADirectoryError:
        raise ImportFailure(T.ERR_UNREADABLE.format(path=path, reason="是目录 / is a directory")) from None
    except OSError as e:
        raise ImportFailure(T.ERR_UNREADABLE.format(path=path, reason=e.strerror or e)) from None
    if ext == ".docx":
        text = docx_to_text(data, path)
    elif ext in (".doc", ".wps"):
        text = doc_to_text(data, path)
    elif ext == ".pdf":
        text = pdf_to_text(data, path)
    elif ext in (".htm", ".html", ".shtml"):
        text = html_to_text(data)
    else:
        text = decode(data, path)
        if re.search(r"<(?:html|body|p|div)\b", text[:2000], re.I):  # a page saved as .txt
            text = html_to_text(text)
    if not text.strip():
        raise ImportFailure(T.ERR_EMPTY.format(path=path))
    return text


def summary(draft: Draft, out_name: str) -> list[str]:
    periods = draft.per_period()
    by_period = "，".join(f"{T.PERIOD_NAMES[p.value]} {n}" for p, n in sorted(periods.items(), key=_period_order))
    lines = [
        T.SUMMARY_HEADER.format(out=out_name),
        T.SUMMARY_LIST.format(title=draft.title, year=draft.year, year_note="" if draft.year_known else T.YEAR_GUESSED),
        T.SUMMARY_CLAUSES.format(n=draft.clauses_read),
        T.SUMMARY_SCHEDULED.format(n=len(draft.scheduled), by_period=f"（{by_period}）" if by_period else ""),
        T.SUMMARY_UNSCHEDULED.format(n=len(draft.unscheduled)),
        T.SUMMARY_TASKS.format(tasks=len(draft.tasks), checks=len(draft.holiday_checks)),
        T.SUMMARY_ROLES.format(roles="、".join(draft.roles) or "-"),
        T.SUMMARY_REVIEW.format(n=len(draft.review)),
    ]
    shown = draft.review[:30]
    for item in shown:
        text = re.sub(r"\s+", " ", item.text)
        lines.append(T.SUMMARY_REVIEW_ITEM.format(ref=item.ref, reason=item.reason,
                                                  text=text if len(text) <= 30 else text[:30] + "…"))
    if len(draft.review) > len(shown):
        lines.append(T.SUMMARY_REVIEW_MORE.format(n=len(draft.review) - len(shown)))
    if not draft.clauses_read:
        lines.append(T.WARN_NOTHING)
    if draft.clauses_read:
        lines.append(T.SUMMARY_NEXT.format(out=out_name if out_name != T.STDOUT else "draft.yaml"))
    return lines


def _period_order(item) -> int:
    return list(T.PERIOD_NAMES).index(item[0].value)


def run_import_list(path: str, out: str | None, stderr: TextIO, current_year: int | None = None) -> int:
    """Draft a catalogue from the list at `path` into `out` (stdout when None); summary on `stderr`.

    Returns the exit code: 0 on success, 1 when the file cannot be read or the draft cannot be written.
    """
    try:
        text = read_list(path)
    except ImportFailure as e:
        print(e, file=stderr)
        return 1
    year = current_year or datetime.now(ZoneInfo("Asia/Shanghai")).year
    draft, yaml_text = draft_yaml(text, year, source_name=os.path.basename(path))
    out_name = out or T.STDOUT
    if out:
        try:
            Path(out).write_text(yaml_text, encoding="utf-8")
        except OSError as e:
            print(T.ERR_WRITE.format(path=out, reason=e.strerror or e), file=stderr)
            return 1
    else:
        import sys

        sys.stdout.write(yaml_text)
        sys.stdout.flush()
    for line in summary(draft, out_name):
        print(line, file=stderr)
    return 0
