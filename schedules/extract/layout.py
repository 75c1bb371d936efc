"""A list's layout: its title and year, the sections (one per role heading), their numbered clauses,
and the rows of a key-work table ("序号 / 重点任务 / 责任部室 / 责任领导 / 工作要求")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .cadence import _ANCHOR, FREQUENCY_LINE
from .deadlines import _DEADLINE
from .holiday_checks import _GENERIC as _HOLIDAY_GENERIC
from .holiday_checks import _NAMES as _HOLIDAY_NAMES
from .numbers import number
from .roles import heading_post, heading_role, heading_roles, is_enterprise, role_named
from .text import clean_lines, metadata_lines

# Clause labels, by style; the same style is the same level.
_LABELS: tuple[tuple[str, re.Pattern], ...] = (
    ("cn", re.compile(r"^(?P<n>[一二三四五六七八九十百零〇]{1,4})\s*[、．.]\s*")),
    ("cn-paren", re.compile(r"^[（(]\s*(?P<n>[一二三四五六七八九十百零〇]{1,4})\s*[）)]\s*")),
    ("ar-paren", re.compile(r"^[（(]\s*(?P<n>\d{1,3})\s*[）)]\s*")),
    ("circled", re.compile(r"^(?P<n>[①-⑳])\s*")),
    ("ar", re.compile(r"^(?P<n>\d{1,3})\s*(?:[.．、](?!\d)|[)）])\s*")),
    ("article", re.compile(r"^第(?P<n>[一二三四五六七八九十百零〇\d]{1,5})条\s*")),
)
_INLINE_SUB = re.compile(r"[（(](\d{1,2})[）)]")
_TITLE_WORDS = re.compile(r"(?:清单|职责|责任|责任制|细则|办法|规定|方案|要点|制度|意见|规则|守则|任务表|分工表)$")
_TASK_TITLE = re.compile(r"重点工作|重点任务|任务清单|任务分工|工作任务|任务表")
_SENTENCE_PUNCT = re.compile(r"[。，,；;：:！？!?]")
_DATE_LINE = re.compile(r"^\s*20\d\d\s*[年\-/.]\s*\d{1,2}\s*[月\-/.]\s*\d{1,2}\s*日?\s*$")
_ATTACHMENT = re.compile(r"^附\s*件\s*[0-9一二三四五六七八九十]*\s*[:：]?$")
_BARE_NUMBER = re.compile(r"^\d{1,3}$")
_NOTE = re.compile(r"^(?:说明|备注|注|附注|填表说明)\s*[：:]")

_COLUMN_KINDS = (
    ("text", re.compile(r"工作要求|具体措施|工作内容|主要内容|具体内容|工作措施|目标要求|任务内容|工作目标|措施")),
    ("co_units", re.compile(r"配合")),
    ("units", re.compile(r"责任(?:部室|单位|部门|科室)|牵头(?:单位|部门|部室)|主责")),
    ("leaders", re.compile(r"责任领导|分管领导|牵头领导|责任人|包保领导")),
    ("due", re.compile(r"时限|完成时间|时间节点|截止")),
    ("title", re.compile(r"任务|事项|项目|工作")),
)


@dataclass
class Clause:
    label: str  # "(六)", "1.", "（1）"; "" for an unnumbered paragraph
    number: str  # the id part: "06", "08.1", "p3"
    text: str  # as cleaned, label included
    body_start: int  # where the text after the label starts
    group: int  # top-level item, so that sub-clauses can share a subject


@dataclass
class Row:
    number: int
    title: str = ""
    units: str = ""
    co_units: str = ""
    leaders: str = ""
    due: str = ""
    text: list[str] = field(default_factory=list)
    category: str = ""


@dataclass
class Section:
    title: str  # the heading: the source document of its clauses
    role: str | None  # the role of a role heading ("园区主要负责人安全生产职责清单" → 主要负责人)
    kind: str  # "duties" (a role's list), "tasks" (a key-work list) or "general"
    heading: str = ""  # a numbered role heading inside a list ("一、街道党工委书记"), else the title
    heading_style: str = ""  # the label style of that heading ("cn"), "bare" for an unnumbered one
    co_roles: tuple[str, ...] = ()  # further posts the heading names ("楼栋长、兼职网格员"): they share its duties
    clauses: list[Clause] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)  # unnumbered text with nothing to draft


@dataclass
class Layout:
    title: str
    year: int | None
    sections: list[Section]
    preamble_lines: int


def label_of(line: str) -> tuple[str, int, re.Match] | None:
    """(style, value, match) of a clause label at the start of a line."""
    for style, rx in _LABELS:
        m = rx.match(line)
        if m:
            value = number(m["n"])
            if value:
                return style, value, m
    return None


def _balanced(line: str) -> bool:
    return line.count("《") == line.count("》") and line.count("<") == line.count(">")


def is_title(line: str) -> bool:
    return (len(line) <= 45 and not _SENTENCE_PUNCT.search(line) and _balanced(line)
            and bool(_TITLE_WORDS.search(line)) and label_of(line) is None
            and "印发" not in line and not line.endswith("通知") and not _ATTACHMENT.match(line))


def _fragment(line: str) -> bool:
    """A title broken over two lines: "西溪南镇安全生产“三个狠抓”专项" + "行动实施方案"."""
    return (len(line) <= 30 and not _SENTENCE_PUNCT.search(line) and label_of(line) is None and _balanced(line)
            and not _DATE_LINE.match(line) and not _ATTACHMENT.match(line) and not is_title(line)
            and not re.search(r"\d{4}", line) and "印发" not in line and not line.endswith("通知"))


def _join_titles(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if out and is_title(line) and _fragment(out[-1]) and is_title(out[-1] + line):
            out[-1] = out[-1] + line
        else:
            out.append(line)
    return out


def _year(meta: list[str], title: str) -> int | None:
    for rx in (r"成文日期\s*[:：]?\s*(20\d\d)", r"^\s*(20\d\d)\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*$",
               r"^[（(]\s*(20\d\d)\s*年(?:度)?\s*(?:修订|修正|版|印发)?\s*[）)]$",
               r"发布日期\s*[:：]?\s*(20\d\d)"):
        for line in meta:
            m = re.search(rx, line)
            if m:
                return int(m[1])
    m = re.search(r"(20\d\d)\s*年", title)
    return int(m[1]) if m else None


def _document_title(meta: list[str], lines: list[str]) -> str:
    head = "".join(meta[:40])
    m = re.search(r"印发\s*《([^《》]{4,60})》", head)
    if m:
        return m[1].strip()
    first = next((ln for ln in lines if is_title(ln)), None)
    if first:
        return first
    return next((ln for ln in lines if len(ln) <= 45), "未命名清单")


def _is_heading_clause(body: str, next_line: str | None, style: str) -> bool:
    """A numbered topic heading ("一、总体要求", "（一）狠抓主体责任落实。") rather than a duty."""
    core = body.rstrip("。.")
    if len(core) > 24 or re.search(r"[。；;！？]", core) or _ANCHOR.search(core) or _DEADLINE.search(core):
        return False
    if _HOLIDAY_NAMES.search(core) or _HOLIDAY_GENERIC.search(core):
        return False  # "2.元旦、春节等重要节日前，组织开展…检查。" as a part's last line is a holiday check
    if next_line is None or is_title(next_line) or _ATTACHMENT.match(next_line) or FREQUENCY_LINE.match(next_line):
        return False  # "5．讲授安全生产专题课。" + "频次：每年1次": a duty with its frequency below it
    nxt = label_of(next_line)
    if nxt is None and (_post_heading(next_line) or (len(next_line) <= 16 and not _SENTENCE_PUNCT.search(next_line)
                                                     and role_named(next_line))):
        return False  # "（六）定期开展安全生产宣传。" before the next role's heading is that part's last duty
    return nxt is None or nxt[0] != style


def _bare_heading_shape(line: str, next_line: str | None) -> bool:
    """A short unnumbered line with numbered clauses after it: "村（社区）党组织书记"."""
    return (len(line) <= 16 and not _SENTENCE_PUNCT.search(line) and next_line is not None
            and label_of(next_line) is not None and label_of(line) is None)


def _post_heading(line: str) -> bool:
    """"董事长安全生产职责：" on a line of its own: a post announcing its duties, with a colon."""
    return (len(line) <= 40 and line.endswith(("：", ":")) and not _SENTENCE_PUNCT.search(line[:-1])
            and label_of(line) is None)


def _has_something(text: str) -> bool:
    return bool(_ANCHOR.search(text) or _DEADLINE.search(text) or _HOLIDAY_NAMES.search(text)
                or _HOLIDAY_GENERIC.search(text))


class _Builder:
    def __init__(self, doc_title: str):
        self.doc_title = doc_title
        self.enterprise = is_enterprise(doc_title)
        self.sections: list[Section] = []
        self.group = 0
        self.paragraph_no = 0

    @property
    def section(self) -> Section:
        if not self.sections:
            self.sections.append(Section(self.doc_title, None, "general"))
        return self.sections[-1]

    def open(self, title: str) -> None:
        role = heading_role(title) or heading_post(title, self.enterprise)[0]
        kind = "duties" if role else ("tasks" if _TASK_TITLE.search(title) else "general")
        self.sections.append(Section(title, role, kind))
        self.paragraph_no = 0

    def clause(self, line: str, style: str, value: int, m: re.Match, next_line: str | None) -> None:
        if _is_heading_clause(line[m.end():], next_line, style):
            role, names_post = heading_post(line[m.end():], self.enterprise)
            # "一、街道党工委书记": a role's part of the list. A heading that names a post we cannot map, or
            # stands where the role headings stand (same numbering), starts a part without a role: its
            # clauses must not go to the person of the part before.
            if role or names_post or self.section.heading_style == style:
                self.role_part(line, role, style)
            return
        self.group += 1
        subs = self._inline_subs(line)
        if len(subs) < 2:
            self.section.clauses.append(Clause(line[:m.end()].strip(), f"{value:02d}", line, m.end(), self.group))
            return
        for i, start in enumerate(subs):
            end = subs[i + 1] if i + 1 < len(subs) else len(line)
            text = line[start:end].strip()
            sm = label_of(text)
            sub_value = sm[1] if sm else i + 1
            self.section.clauses.append(Clause(sm[2].group(0).strip() if sm else "", f"{value:02d}.{sub_value}", text,
                                               sm[2].end() if sm else 0, self.group))

    def role_part(self, heading: str, role: str | None, style: str) -> None:
        lab = label_of(heading)
        roles = heading_roles(heading[lab[2].end():] if lab else heading, self.enterprise) if role else ()
        co_roles = tuple(r for r in roles if r != role)
        self.sections.append(Section(self.section.title, role, "duties", heading=heading, heading_style=style,
                                     co_roles=co_roles))
        self.paragraph_no = 0

    @staticmethod
    def _inline_subs(line: str) -> list[int]:
        """Where inline sub-clauses (1)(2)(3)… start, when they count up from 1."""
        starts, expect = [], 1
        for m in _INLINE_SUB.finditer(line):
            if int(m[1]) == expect and m.start() > 0:
                starts.append(m.start())
                expect += 1
        return starts

    def item_ends_with(self, line: str) -> bool:
        clauses = self.section.clauses
        return bool(clauses) and clauses[-1].text.endswith(line)

    def extend_item(self, line: str) -> None:
        """The item's own 频次 line joins it, as a sentence of its own (the source keeps the line break)."""
        self.section.clauses[-1].text += "\n" + line

    def paragraph(self, line: str) -> None:
        if _NOTE.match(line):  # "说明：1.本清单所称…2.履职记录由…每月汇总归档": about the list, no one's duty
            self.section.paragraphs.append(line)
        elif _has_something(line):
            self.paragraph_no += 1
            self.group += 1
            self.section.clauses.append(Clause("", f"p{self.paragraph_no}", line, 0, self.group))
        elif not line.endswith((":", "：")):
            self.section.paragraphs.append(line)


def _table_header(lines: list[str], i: int) -> list[str] | None:
    if lines[i] != "序号":
        return None
    cells = []
    for line in lines[i + 1:i + 12]:
        if _BARE_NUMBER.match(line) or len(line) > 10 or _SENTENCE_PUNCT.search(line):
            break
        cells.append(line)
    return cells if len(cells) >= 3 else None


def _column_kind(name: str) -> str:
    for kind, rx in _COLUMN_KINDS:
        if rx.search(name):
            return kind
    return "other"


def _read_table(lines: list[str], i: int, header: list[str], section: Section) -> int:
    """Rows of a flattened table, from the line after the header; returns the next unread line."""
    kinds = [_column_kind(h) for h in header]
    text_at = kinds.index("text") if "text" in kinds else len(kinds)
    i += 1 + len(header)
    expect, category = 1, ""
    row: Row | None = None
    col = 0
    while i < len(lines):
        line = lines[i]
        if _ATTACHMENT.match(line) or (is_title(line) and (row is None or col >= text_at)):
            break
        if _BARE_NUMBER.match(line) and int(line) == expect:
            row = Row(expect, category=category)
            section.rows.append(row)
            expect, col = expect + 1, 0
        elif row is None or (label_of(line) and label_of(line)[0] == "cn"):
            category = line  # "一、抓“十五条硬措施”…" groups the rows that follow
        elif col < text_at:
            kind = kinds[col]
            if kind in ("title", "units", "co_units", "leaders", "due"):
                setattr(row, kind, line)
            col += 1
        else:
            row.text.append(line)
        i += 1
    if "due" in kinds and kinds.index("due") > text_at:
        for r in section.rows:  # a deadline column after the text: its last line when it is a date
            if r.text and (_DEADLINE.fullmatch(r.text[-1].strip()) or _DATE_LINE.match(r.text[-1])):
                r.due = r.text.pop()
    return i


def read(text: str) -> Layout:
    meta = metadata_lines(text)
    lines = _join_titles(clean_lines(text))
    doc_title = _document_title(meta, lines)
    builder = _Builder(doc_title)
    body_start = next((i for i, ln in enumerate(lines)
                       if is_title(ln) or _ATTACHMENT.match(ln) or label_of(ln) or ln == "序号"), 0)
    i = body_start
    while i < len(lines):
        line = lines[i]
        next_line = lines[i + 1] if i + 1 < len(lines) else None
        header = _table_header(lines, i)
        if header:
            if builder.section.kind != "tasks":
                builder.open(builder.section.title if builder.sections else doc_title)
                builder.section.kind = "tasks"
            i = _read_table(lines, i, header, builder.section)
            continue
        if _ATTACHMENT.match(line):
            builder.open(doc_title)
            builder.section.role, builder.section.kind = None, "general"
        elif is_title(line):
            builder.open(line)
        elif _bare_heading_shape(line, next_line) and (role_named(line) or builder.section.heading_style == "bare"):
            # "村（社区）党组织书记" on a line of its own; after one, a line like it starts the next part
            builder.role_part(line, heading_post(line, builder.enterprise)[0], "bare")
        elif _post_heading(line) and heading_post(line, builder.enterprise)[1]:
            builder.role_part(line, heading_post(line, builder.enterprise)[0], "colon")
        elif FREQUENCY_LINE.match(line) and builder.item_ends_with(lines[i - 1]):
            builder.extend_item(line)
        else:
            lab = label_of(line)
            if lab:
                builder.clause(line, lab[0], lab[1], lab[2], next_line)
            else:
                builder.paragraph(line)
        i += 1
    sections = [s for s in builder.sections if s.clauses or s.rows or s.paragraphs]
    return Layout(doc_title, _year(meta, doc_title), sections, body_start)
