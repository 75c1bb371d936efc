"""From a list's layout to a draft catalogue: duties, tasks, holiday checks, roles, placeholders and
the review list. Every guess carries a note that the YAML writes as `# 待核: …`."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date

from ..catalog import DutyKind, Frequency, PeriodKind
from ..frequency import phrase_of
from . import cadence, deadlines, holiday_checks, layout
from .cadence import PERIOD_WORD, Found
from .roles import FALLBACK_ROLE, FALLBACK_SLUG, description_of, mentions, sentence_subject, slug_of

PLACEHOLDER_UNIT = "本单位"
MAX_SOURCE = 2000  # a clause longer than this is no clause (a page without numbering); quote its start only


@dataclass
class DraftDuty:
    id: str
    title: str
    kind: DutyKind
    roles: tuple[str, ...]
    document: str
    clause: str
    period: PeriodKind | None = None
    count: int | None = None
    at_least: bool = False
    notes: list[str] = field(default_factory=list)
    rule: Frequency | None = None  # the period's refinements (每两个月, 每周五, 汛前…); None: a plain period
    phrase: str = ""  # the frequency's words as the list writes them; "" when read from context (周巡查)

    @property
    def frequency(self) -> str | None:
        """The normalized phrase the loader parses: 每季度1次, 每月至少1次, 每两个月1次, 每年汛前1次."""
        if self.period is None or self.count is None:
            return None
        if self.rule is not None:
            return phrase_of(replace(self.rule, at_least=self.count), self.at_least)
        return f"每{PERIOD_WORD[self.period]}{'至少' if self.at_least else ''}{self.count}次"

    @property
    def every_years(self) -> bool:
        return self.rule is not None and self.rule.every is PeriodKind.YEAR and self.rule.n > 1


@dataclass
class DraftTask:
    id: str
    title: str
    due: date
    document: str
    clause: str
    roles: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


@dataclass
class DraftHolidayCheck:
    id: str
    title: str
    holidays: tuple[str, ...]
    roles: tuple[str, ...]
    document: str
    clause: str
    notes: list[str] = field(default_factory=list)


@dataclass
class DraftPerson:
    name: str
    roles: tuple[str, ...]
    note: str


@dataclass
class ReviewItem:
    ref: str  # a duty/task id, or "段落" for unnumbered text that was not drafted
    reason: str
    text: str


@dataclass
class Draft:
    title: str
    year: int
    year_known: bool
    roles: dict[str, str] = field(default_factory=dict)  # name → description
    role_notes: dict[str, str] = field(default_factory=dict)
    units: list[str] = field(default_factory=list)  # under the placeholder unit
    people: list[DraftPerson] = field(default_factory=list)
    duties: list[DraftDuty] = field(default_factory=list)
    tasks: list[DraftTask] = field(default_factory=list)
    holiday_checks: list[DraftHolidayCheck] = field(default_factory=list)
    review: list[ReviewItem] = field(default_factory=list)
    clauses_read: int = 0
    sections: list[tuple[str, int]] = field(default_factory=list)  # (heading, index of its first duty)

    def per_period(self) -> Counter:
        return Counter(d.period for d in self.duties if d.period is not None)

    @property
    def scheduled(self) -> list[DraftDuty]:
        return [d for d in self.duties if d.period is not None]

    @property
    def unscheduled(self) -> list[DraftDuty]:
        return [d for d in self.duties if d.period is None]


_TITLE_NOISE = re.compile(
    rf"{cadence._ANCHOR.pattern}|{cadence._COUNT.pattern}|至少|不少于|不低于|最少|应当|必须|原则上|"
    r"(?<![\u4e00-\u9fff])[应要须]|亲自"
)
_MAX_TITLE = 30


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", "", text).strip("，,、；;。.：: ")
    return text[:_MAX_TITLE].rstrip("，,、；;：:（(“")


def duty_title(found: Found, clause: str) -> str:
    text = _TITLE_NOISE.sub("", found.segment)
    text = re.sub(r"^[，,、\s的]+", "", text)
    before = clause[cadence._chunk_start(clause, found.start, max(0, found.start - 12)):found.start]
    lab = layout.label_of(before)
    before = before[lab[2].end():] if lab else before
    before = re.sub(r"^(?:一般|原则上|坚持|必须|应当|均)+", "", before)
    if 0 < len(before) <= 10 and not mentions(before) and not re.search(r"[在于对向从由]$", before):
        text = before + text  # "组织开展一年一度的…活动": the verb comes before the frequency
    if len(re.sub(r"开展|组织|进行|带队|带头|[，,、\s]", "", text)) < 2:
        # "主要负责人每年至少开展1次、其他领导每半年…调研": the object is at the end of the sentence
        rest = clause[found.end:found.end + 60]
        end = cadence._SENTENCE_END.search(rest)
        tail = _TITLE_NOISE.sub("", rest[:end.start() if end else len(rest)])
        tail = "".join(tail.split("、")[-1:])
        text = text + tail
    return _tidy(text) or _lead_title(clause)


def _lead_title(text: str) -> str:
    text = text[:200]
    lab = layout.label_of(text)
    body = text[lab[2].end():] if lab else text
    first = re.split(r"[。；;]", body, maxsplit=1)[0]
    if len(first) > _MAX_TITLE:
        first = re.split(r"[，,]", first, maxsplit=1)[0]
    return _tidy(first) or "（无标题）"


class _Builder:
    def __init__(self, lay: layout.Layout, current_year: int):
        self.lay = lay
        self.draft = Draft(title=lay.title, year=lay.year or current_year, year_known=lay.year is not None)
        self.ids: set[str] = set()
        self.next_suffix: dict[str, int] = {}
        self.slugs: dict[str, str] = {}

    # -- names and ids ----------------------------------------------------------------------
    def role(self, name: str, note: str = "") -> str:
        if name not in self.draft.roles:
            self.draft.roles[name] = description_of(name)
            if not note and name != FALLBACK_ROLE and not slug_of(name):
                note = "未登记的角色名称，取自条文主语，请核对"
            if note:
                self.draft.role_notes[name] = note
        return name

    def slug(self, role: str) -> str:
        if role not in self.slugs:
            known = FALLBACK_SLUG if role == FALLBACK_ROLE else slug_of(role)
            self.slugs[role] = known or f"r{sum(1 for r in self.slugs if not slug_of(r) and r != FALLBACK_ROLE) + 1}"
        return self.slugs[role]

    def unique(self, ident: str) -> str:
        ident = re.sub(r"[^\w\-.]", "-", ident)[:32]
        out, n = ident, self.next_suffix.get(ident, 2)
        while out in self.ids:
            out, n = f"{ident}-{n}", n + 1
        self.next_suffix[ident] = n
        self.ids.add(out)
        return out

    # -- sections ---------------------------------------------------------------------------
    def build(self) -> Draft:
        headings: dict[str, list[str]] = {}
        for section in self.lay.sections:
            self.draft.sections.append((section.heading or section.title, len(self.draft.duties)))
            if section.role:
                self.role(section.role, "" if slug_of(section.role) else "未登记的角色名称，取自标题")
                self.shared_role(section, headings)
            contexts: dict[int, str] = {}
            for clause in section.clauses:
                self.draft.clauses_read += 1
                self.clause(section, clause, contexts)
            for row in section.rows:
                self.draft.clauses_read += 1
                self.row(section, row)
            for text in section.paragraphs:
                self.draft.review.append(ReviewItem("段落", "未编号段落，未起草 / unnumbered paragraph, not drafted",
                                                    text))
        self.placeholders()
        return self.draft

    def shared_role(self, section: layout.Section, headings: dict[str, list[str]]) -> None:
        """Two headings drafted as one role ("常务副县长（…）" and "分管安全副县长") may be two people."""
        heading = section.heading or section.title
        seen = headings.setdefault(section.role or "", [])
        if heading in seen:
            return
        seen.append(heading)
        if len(seen) > 1:
            self.draft.role_notes[section.role or ""] = ("、".join(f"“{h}”" for h in seen)
                                                         + "均按此角色起草，如为不同人员请拆分角色")

    def resolve(self, subject: str | None, section: layout.Section, clause: layout.Clause,
                contexts: dict[int, str]) -> tuple[str, str]:
        """(role, note): the sentence's subject, else the section's role, else the item's subject."""
        if subject:
            if section.role and section.role != subject and section.role.endswith(subject):
                return section.role, ""  # "主要负责人…" under "县直有关部门主要负责人": that section's leader
            return self.role(subject), ""
        if section.role:
            return section.role, ""
        if clause.group in contexts:
            return self.role(contexts[clause.group]), f"责任主体由上文推断为“{contexts[clause.group]}”"
        if section.heading:  # a heading names the post, but not one we can map: never the previous role
            return (self.role(FALLBACK_ROLE, "未找到责任主体，请指定角色"),
                    f"未找到责任主体：标题“{section.heading}”未能识别为角色，请指定 / heading not recognized")
        return self.role(FALLBACK_ROLE, "未找到责任主体，请指定角色"), "未找到责任主体 / no subject found"

    def co_roles(self, role: str, co_subjects: tuple[str, ...], section: layout.Section) -> tuple[str, ...]:
        """All who share a duty: "镇党委书记、镇长每半年…共同…" names two; a heading "楼栋长、兼职网格员" two."""
        if co_subjects:
            return tuple(dict.fromkeys((role, *(self.role(r) for r in co_subjects))))
        if role == section.role and section.co_roles:
            return tuple(dict.fromkeys((role, *(self.role(r, "未登记的角色名称，取自标题") for r in section.co_roles))))
        return (role,)

    def clause(self, section: layout.Section, clause: layout.Clause, contexts: dict[int, str]) -> None:
        text = clause.text
        source = text if len(text) <= MAX_SOURCE else text[:MAX_SOURCE] + "…"
        long_note = [] if source is text else [f"条文过长（{len(text)}字），来源仅引用开头，请核对分条"]
        found, skipped = cadence.find(text, clause.body_start)
        dues = deadlines.find(text, self.draft.year, self.draft.year_known)
        checks = holiday_checks.find(text)
        own_subject = _first_subject(text, clause.body_start)
        document = section.title

        per_slug: Counter = Counter()
        planned = []
        for f in found:
            role, note = self.resolve(f.subject, section, clause, contexts)
            planned.append((f, role, note))
            per_slug[self.slug(role)] += 1
        letters: Counter = Counter()
        for f, role, note in planned:
            roles = self.co_roles(role, f.co_subjects, section)
            slug = self.slug(role)
            suffix = ""
            if per_slug[slug] > 1:
                suffix = "abcdefghijklmnopqrstuvwxyz"[min(letters[slug], 25)]
                letters[slug] += 1
            notes = list(f.notes) + ([note] if note else [])
            self.draft.duties.append(DraftDuty(
                id=self.unique(f"{slug}-{clause.number}{suffix}"), title=duty_title(f, text), kind=f.kind,
                roles=roles, document=document, clause=source, period=f.period, count=f.count,
                at_least=f.at_least, notes=notes + long_note, rule=f.rule, phrase=f.wording,
            ))
            if f.subject:
                contexts.setdefault(clause.group, f.subject)
        if own_subject:
            contexts[clause.group] = own_subject

        for n, d in enumerate(dues):
            role, note = self.resolve(own_subject, section, clause, contexts)
            slug = self.slug(role)
            suffix = f"-{n + 1}" if len(dues) > 1 else ""
            notes = ([note] if note else []) + ([d.note] if d.note else [])
            if d.year_guessed:
                notes.append(f"原文未写年份，按{d.due.year}年起草")
            segment = source if len(dues) == 1 else text[d.segment_start:d.segment_end][:MAX_SOURCE]
            self.draft.tasks.append(DraftTask(
                id=self.unique(f"{slug}-{clause.number}-due{suffix}"),
                title=_tidy(text[d.end:d.segment_end]) or _lead_title(text), due=d.due, document=document,
                clause=segment.strip(), roles=self.co_roles(role, (), section), notes=notes,
            ))

        for n, h in enumerate(checks):
            role, note = self.resolve(h.subject or own_subject, section, clause, contexts)
            slug = self.slug(role)
            suffix = f"-{n + 1}" if len(checks) > 1 else ""
            notes = ([note] if note else []) + ([h.note] if h.note else [])
            self.draft.holiday_checks.append(DraftHolidayCheck(
                id=self.unique(f"{slug}-{clause.number}-holiday{suffix}"),
                title=_tidy(_unlabelled(text[h.title_start:h.title_end])) or _lead_title(text),
                holidays=h.holidays, roles=self.co_roles(role, (), section), document=document, clause=source,
                notes=notes + long_note,
            ))

        if found or dues or checks:
            for s in skipped:
                self.draft.review.append(ReviewItem(self.draft.duties[-1].id if found else "条款", s.reason, text))
            return
        role, note = self.resolve(own_subject, section, clause, contexts)
        reason = skipped[0].reason if skipped else "无频次，未排期 / no frequency: kept without a schedule"
        duty = DraftDuty(
            id=self.unique(f"{self.slug(role)}-{clause.number}"), title=_lead_title(text), kind=DutyKind.OTHER,
            roles=self.co_roles(role, (), section), document=document, clause=source, notes=([note] if note else []) + long_note,
        )
        self.draft.duties.append(duty)
        self.draft.review.append(ReviewItem(duty.id, reason, text))

    def row(self, section: layout.Section, row: layout.Row) -> None:
        text = "".join(row.text) if row.text else row.title
        people = tuple(n for n in re.split(r"[、，,；;\s]+", row.leaders) if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", n)
                       and not mentions(n))
        units = _units(row.units)
        base = f"key-{row.number:02d}"
        notes = []
        if units == ("*",):
            units = ()
            notes.append(f"责任部室“{row.units}”指全部部门，请列出")
        who_roles: tuple[str, ...] = ()
        if not people:
            role = section.role or self.role(FALLBACK_ROLE, "未找到责任主体，请指定角色")
            who_roles = (role,)
            notes.append("未找到责任领导，请指定")
        if cadence._ANCHOR.search(text):
            notes.append("该行含频次，请核对是否应另列为定期职责")
        titled = re.search(r"(20\d\d)\s*年", section.title)  # "2022年园区…重点工作清单"
        year, year_known = (int(titled[1]), True) if titled else (self.draft.year, self.draft.year_known)
        dues = deadlines.find(text, year, year_known)
        if row.due:
            dues = deadlines.find(row.due, year, year_known) or dues
        year_note = [] if year_known else [f"文件未写年份，按{year}年起草"]
        title = _tidy(row.title) or _lead_title(text)
        if not dues:
            self.draft.tasks.append(DraftTask(
                id=self.unique(base), title=title, due=date(year, 12, 31), document=section.title,
                clause=text, roles=who_roles, people=people, units=units,
                notes=notes + ["未写完成时限，按年底起草"] + year_note,
            ))
            return
        spans = []
        for n, d in enumerate(dues):
            suffix = "abcdefghijklmnopqrstuvwxyz"[min(n, 25)] if len(dues) > 1 else ""
            clause = _deadline_clause(text, d)
            spans.append(clause)
            extra = ([d.note] if d.note else []) + ([f"原文未写年份，按{d.due.year}年起草"] if d.year_guessed else [])
            self.draft.tasks.append(DraftTask(
                id=self.unique(f"{base}{suffix}"), title=f"{title}（{d.due.month}月{d.due.day}日前）",
                due=d.due, document=section.title, clause=clause, roles=who_roles, people=people, units=units,
                notes=notes + extra,
            ))
        rest = text
        for s in spans:
            rest = rest.replace(s, "")
        if len(re.sub(r"[\W\d_]", "", rest)) > 10:
            self.draft.tasks.append(DraftTask(
                id=self.unique(f"{base}-rest"), title=title, due=date(year, 12, 31),
                document=section.title, clause=rest.strip("；;，, "), roles=who_roles, people=people, units=units,
                notes=notes + ["本行其余要求未写时限，按年底起草"] + year_note,
            ))

    def placeholders(self) -> None:
        for task in self.draft.tasks:
            for name in task.people:
                if not any(p.name == name for p in self.draft.people):
                    self.draft.people.append(DraftPerson(name, (), "取自“责任领导”列，请补全职务和角色"))
            for unit in task.units:
                if unit not in self.draft.units and unit != PLACEHOLDER_UNIT:
                    self.draft.units.append(unit)
        # A cell that lost its first characters on the web page ("全生产部" for 安全生产部)
        fixed = {u: v for u in self.draft.units for v in self.draft.units if len(u) >= 3 and u != v and v.endswith(u)}
        if fixed:
            self.draft.units = [u for u in self.draft.units if u not in fixed]
            for task in self.draft.tasks:
                if any(u in fixed for u in task.units):
                    task.notes.append("部室名称“" + "、".join(u for u in task.units if u in fixed) + "”按"
                                      + "、".join(fixed[u] for u in task.units if u in fixed) + "起草")
                    task.units = tuple(dict.fromkeys(fixed.get(u, u) for u in task.units))
        all_units = tuple(self.draft.units)
        for task in self.draft.tasks:
            if not task.units and any("全部部门" in n for n in task.notes):
                task.units = all_units
        taken = {p.name for p in self.draft.people}
        for role in self.draft.roles:
            name = f"示例{role}"
            while name in taken:
                name += "_"
            taken.add(name)
            self.draft.people.insert(len([p for p in self.draft.people if p.roles]),
                                     DraftPerson(name, (role,), "示例人员，请改为实际人员"))


def _unlabelled(text: str) -> str:
    lab = layout.label_of(text.strip())
    return text.strip()[lab[2].end():] if lab else text


def _first_subject(text: str, body_start: int) -> str | None:
    for sentence in re.split(r"[。；;！？!?\n]", text[body_start:]):
        role = sentence_subject(sentence.strip())
        if role:
            return role
    return None


def _units(cell: str) -> tuple[str, ...]:
    cell = cell.strip()
    if not cell or re.fullmatch(r"[—\-－_/无]*", cell):
        return ()
    if cell.startswith("各") or cell.startswith("全部") or cell.startswith("所有"):
        return ("*",)
    parts = [p.strip() for p in re.split(r"[、，,；;\s]+", cell)]
    return tuple(dict.fromkeys(p for p in parts if 2 <= len(p) <= 20))


def _deadline_clause(text: str, d: deadlines.Deadline) -> str:
    """From the label or sentence start before a deadline to the end of its sentence."""
    start = max(text.rfind(c, 0, d.start) for c in "。；;") + 1
    return text[start:d.segment_end].strip()


def build(lay: layout.Layout, current_year: int) -> Draft:
    return _Builder(lay, current_year).build()
