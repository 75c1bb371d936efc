"""Frequencies in a clause: "每季度听1次…汇报,研究1次…" → two quarterly duties, and so on.

A *period anchor* (每月, 每半年, 一年两次…) opens a scope that runs to the next anchor or the end of
the sentence. The first count in the scope (1次, 两次, 不少于2次) belongs to the anchor; each later
count in the same scope is another duty with the same period ("研究1次安全生产工作" inherits 每季度).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .. import frequency as grammar
from ..catalog import DEFAULT_SEASONS, DutyKind, Frequency, PeriodKind, Season
from .numbers import number
from .roles import qualify, role_end, sentence_subject, subject_before, subjects_before

_N = grammar.N
_AT_LEAST = grammar.AT_LEAST

# Period anchors: the grammar's (schedules.frequency: 每月, 一年两次, 每两年, 每周五, 每年汛前…), then the
# forms only running text uses, which the importer reads from context and drafts for review.
# Seasons lists name besides 汛期, with the dates a draft proposes (each place sets its own: to review).
SEASONS: dict[str, Season] = {
    **DEFAULT_SEASONS,
    "森林防火期": Season("森林防火期", (10, 1), (5, 31)),
    "供暖期": Season("供暖期", (11, 15), (3, 15)),
}
_SEASON_NAMES = tuple(SEASONS)
_ANCHOR = re.compile(
    grammar.anchor_regex(_SEASON_NAMES).pattern
    + r"|每(?:一|个)?(?:(?P<smult>[两二三四五六\d]{1,2})个?)?(?P<sunit>班(?![子长前后次]|组(?!织))|学期|学年)"
    r"|按(?P<unit5>月|季度|季|周|旬)(?:度)?(?=[\u4e00-\u9fff])"
    r"|(?P<unit6>月度|季度|周)(?:安全生产|安全|工作|调度|形势分析|联席|党委|党工委)?"
    r"(?=例会|调度会|分析会|讲评会|联席会|工作会议|安全会议)"
    r"|(?P<unit7>年度)(?=述职|安全述职|履职报告)"
    # 实行周巡查、月报告制度 / 坚持日调度、周通报: a period word fused with the action
    r"|(?<=[行持立实、，,])(?P<unit8>日|周|旬|月|季)(?=巡查|检查|排查|督查|调度|通报|报告|例会|研判|会商|报送|讲评)"
)
# Occurrences are counted in 次/回/轮/遍 ("两轮排查"); 轮训, 轮岗, 轮换… are no count.
# "带班下井不得少于5个班次": shifts are occasions too.
_COUNT = re.compile(
    rf"(?P<mod>{_AT_LEAST})?(?P<num>{_N})(?:\s*[-~～至到]\s*{_N})?\s*(?:次|回|遍|轮(?![训岗值换班流])|个?班次)"
    r"(?P<plus>以上|及以上)?"
)
# A count is not a frequency after these: 第一次, 连续两次, 每次, 多次, 再次, 新一轮…
_NOT_COUNT_BEFORE = re.compile(r"(?:第|连续|连|每|多|首|再|又|屡|累计|超过|达到|满|前|后|近|上|下|本|该|这|那|某|几|逾|新)$")
_NOT_COUNT_AFTER = re.compile(r"^(?:性|日|数|序|要|生灾害|生事故|生衍生)")
_SENTENCE_END = re.compile(r"[。；;！？!?\n]")
# "1．主持召开…会议。" then "频次：每季度不少于1次" on the next line: the frequency (or deadline) of that item.
# The layout joins such a line to its item; the duty's words are then the item's, before it.
FREQUENCY_LINE = re.compile(r"^(?:履职|工作|检查|落实)?(?:频次|频率|时限|完成时限|时间要求|完成时间)(?:要求)?\s*[：:]")
_SEPARATORS = "，,；;。、：:"
_UNIT_PERIOD = {
    "年": PeriodKind.YEAR, "年度": PeriodKind.YEAR, "全年": PeriodKind.YEAR,
    "半年": PeriodKind.HALF, "半年度": PeriodKind.HALF,
    "季度": PeriodKind.QUARTER, "季": PeriodKind.QUARTER,
    "月": PeriodKind.MONTH, "月度": PeriodKind.MONTH, "个月": PeriodKind.MONTH,
    "旬": PeriodKind.XUN, "周": PeriodKind.WEEK, "星期": PeriodKind.WEEK,
    "天": PeriodKind.DAY, "日": PeriodKind.DAY,
}

_SCHOOL_TERMS = {"学期": PeriodKind.HALF, "学年": PeriodKind.YEAR}

PERIOD_WORD = grammar.PERIOD_WORD
PERIOD_LABEL = {k: f"每{w}" for k, w in PERIOD_WORD.items()}

_KINDS: tuple[tuple[DutyKind, str], ...] = (
    (DutyKind.DRILL, r"演练|演习"),
    (DutyKind.TRAINING, r"培训|警示教育|安全教育|教育活动|授课|轮训"),
    (DutyKind.STUDY, r"学习|党课|中心组"),
    (DutyKind.INSPECTION, r"检查|排查|巡查|督查|巡检|暗访|抽查|巡视|巡逻|查看|自查|查房"),
    (DutyKind.REPORT, r"汇报|报告|报送|上报|述职|通报|报备"),
    (DutyKind.MEETING, r"会议|例会|召开|研究|分析会|座谈|听取|听(?=\d|[一两二三]次)|专题会|调度会|碰头会|全会|常委会|"
                       r"办公会"),
)
_KIND_RE = [(k, re.compile(p)) for k, p in _KINDS]
# "将上月隐患排查情况报告主要负责人": what is reported is the situation, the duty is the report.
_REPORTED = re.compile(r"(?:情况|总结|信息|结果|数据|工作)(?:向[^，,。；;]{0,15})?(?:报告|汇报|报送|上报)")


@dataclass
class Found:
    """One scheduled duty found in a clause."""

    period: PeriodKind
    count: int
    at_least: bool
    start: int  # where its words start in the clause
    end: int
    phrase: str  # the words of the list: "每季度…1次"
    segment: str  # the part of the clause the duty's title and kind come from
    kind: DutyKind
    subject: str | None  # a role written in the sentence, if any
    notes: list[str] = field(default_factory=list)
    co_subjects: tuple[str, ...] = ()  # further roles named with it ("镇党委书记、镇长每半年…"): the duty is theirs too
    rule: Frequency | None = None  # the refinements of the period (每两个月, 每周五, 汛前…), count aside
    wording: str = ""  # the frequency as the list writes it ("每季度…研究1次"); "" for a period read from context
    both_halves: bool = False  # 上半年、下半年各一次: half-yearly, and the draft names each half as its own duty


@dataclass
class Unschedulable:
    """A frequency the catalogue cannot express (每两年…): kept for review, not scheduled."""

    phrase: str
    reason: str


@dataclass
class _Anchor:
    start: int
    end: int
    period: PeriodKind | None
    factor: int  # the count is multiplied by this (每两周 → ×2 a month)
    count: int | None  # a count written inside the anchor itself (一年两次)
    at_least: bool
    note: str
    unschedulable: str = ""
    needs_count: bool = False  # "全年" is a period only with a count after it ("全年带队检查不少于6次")
    rule: Frequency | None = None
    by_context: bool = False  # a form running text uses (月度例会, 实行周巡查, 每学期), not the grammar's
    both_halves: bool = False  # 上半年、下半年各…: one duty per half


# "本细则所称汛期为每年5月1日至9月30日": a span of days, not a deadline.
_SPAN_AFTER = re.compile(r"\s*(?:至|到|—|－|-|～|~)\s*(?:次年|翌年)?(?:\d{1,2}|[一二三四五六七八九十]{1,3})月")
# "每年4月底前…，10月底前…": a second deadline of the same year, without its own 每年.
_NEXT_DUE = re.compile(r"(?<=[，,；;、])\s*(?:(?:1[0-2]|0?[1-9]|[一二三四五六七八九十]{1,2})月"
                       r"(?:(?:[12]\d|3[01]|0?[1-9]|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])[日号]|底|末)?"
                       r"(?:前|之前|以前))")
# "每年上半年、下半年各召开1次": each half named, as 上半年、下半年各一次 alone.
_YEAR_HALVES = re.compile(r"(?:上半年\s*[、和及与]\s*下半年|上\s*[、和及与]?\s*下半年)各")


def _sentence_anchors(clause: str, start: int, end: int) -> list[_Anchor]:
    anchors = []
    for m in _ANCHOR.finditer(clause, start, end):
        a = _anchor(m)
        if a.rule is not None and a.rule.due is not None and _SPAN_AFTER.match(clause, a.end):
            continue
        if a.period is PeriodKind.YEAR and a.rule is None and a.count is None and not a.by_context:
            halves = _YEAR_HALVES.match(clause, a.end)
            if halves:
                a = replace(a, end=halves.end(), period=PeriodKind.HALF, both_halves=True)
        anchors.append(a)
    return sorted(anchors + _next_dues(clause, anchors, end), key=lambda a: a.start)


def _next_dues(clause: str, anchors: list[_Anchor], end: int) -> list[_Anchor]:
    """"…，10月底前…" after a yearly deadline in the same sentence: one more yearly deadline."""
    yearly = [a for a in anchors if a.rule is not None and a.rule.every is PeriodKind.YEAR and a.rule.due]
    if not yearly:
        return []
    taken = [(a.start, a.end) for a in anchors]
    out = []
    for m in _NEXT_DUE.finditer(clause, yearly[0].end, end):
        if any(s <= m.start() < e for s, e in taken):
            continue
        read = grammar.read_anchor(grammar.ANCHOR.match("每年" + m.group(0).strip()))
        if read.frequency is not None and read.frequency.due:
            start = m.end() - len(m.group(0).lstrip())
            out.append(_Anchor(start, m.end(), PeriodKind.YEAR, 1, None, False,
                               f"原文“{m.group(0).strip()}”承接上文的“每年”，按每年起草", rule=read.frequency))
    return out


def _anchor(m: re.Match) -> _Anchor:
    s, e = m.start(), m.end()
    text = m.group(0)
    if m["sunit"]:
        if m["sunit"] == "班":
            return _Anchor(s, e, PeriodKind.DAY, 1, None, False, "原文“每班”，按每日起草", by_context=True)
        mult = number(m["smult"]) if m["smult"] else 1
        if mult is not None and mult > 1:
            return _Anchor(s, e, None, 1, None, False, "", unschedulable=f"原文“{text}”，超出可排期的周期，未排期")
        period = _SCHOOL_TERMS[m["sunit"]]  # a school year has two semesters
        return _Anchor(s, e, period, 1, None, False, f"原文“{text}”，按{PERIOD_LABEL[period]}起草", by_context=True)
    if m["unit5"]:
        return _Anchor(s, e, _UNIT_PERIOD[m["unit5"]], 1, None, False, "", by_context=True)
    if m["unit6"]:
        return _Anchor(s, e, _UNIT_PERIOD[m["unit6"]], 1, None, False,
                       f"原文“{text}”，按{PERIOD_LABEL[_UNIT_PERIOD[m['unit6']]]}起草", by_context=True)
    if m["unit7"]:
        return _Anchor(s, e, PeriodKind.YEAR, 1, None, False, f"原文“{text}”，按每年起草", by_context=True)
    if m["unit8"]:
        return _Anchor(s, e, _UNIT_PERIOD[m["unit8"]], 1, None, False, "", by_context=True)
    read = grammar.read_anchor(m, _SEASON_NAMES)
    if read.frequency is None and read.approx is not None:
        approx, note = read.approx
        return _Anchor(s, e, approx.every, approx.at_least, None, False, note)
    if read.frequency is None:
        return _Anchor(s, e, None, 1, None, False, "", unschedulable=read.reason)
    f = read.frequency
    return _Anchor(s, e, f.every, 1, read.count, read.at_least, "", needs_count=read.needs_count,
                   rule=None if f.plain else f, both_halves=read.both_halves)


def _counts(text: str, start: int, end: int) -> list[re.Match]:
    out = []
    for m in _COUNT.finditer(text, start, end):
        before = text[max(0, m.start() - 2):m.start()]
        # right after the period words a count is theirs: "汛后1次" (后 before a count is otherwise 后2次…)
        if not m["mod"] and m.start() != start and _NOT_COUNT_BEFORE.search(before):
            continue
        if _NOT_COUNT_AFTER.match(text[m.end():m.end() + 4]):
            continue
        if number(m["num"]) in (None, 0):
            continue
        out.append(m)
    return out


_LISTED = re.compile(r"\s*[、和及与]\s*")
_SUBSET = re.compile(r"其中|^\s*(?:含|包括|包含)")

# Amounts a period can govern instead of occurrences: money and shares ("每年不低于300万元"), and time
# quotas ("每年再培训时间不少于12学时"). "不少于16学时的培训" (one event of that length), "每次不少于2小时"
# (per occurrence) and "24小时内" (a deadline) are not quotas.
_AMOUNT_NUM = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千]+)"
_MONEY = re.compile(rf"(?:{_AT_LEAST}|达到)?{_AMOUNT_NUM}\s*(?:亿元|万元|千元|元(?![化件素])|%|％|个百分点)")
_TIME = re.compile(rf"(?:{_AT_LEAST}|达到|累计|共计|合计|总计|满|时间|时长|时数|为)\s*(?P<n>{_AMOUNT_NUM})\s*"
                   r"(?:学时|课时|个?小时|分钟|天|个?工作日|周|个月)(?![的之内后前起])")
# Acts that make an amount the object of a recurring event: "每季度抽检样品不少于20万元". Spending verbs
# (安排, 拨付, 投入…) are no such act: "每年安排专项资金不少于300万元" is a funding quota, not an occurrence.
_SPENDING = re.compile(r"组织|开展|进行|抽查|检查|抽检|排查|督查")
# Things counted instead of occurrences: "每年不少于300份", "每月不少于20人次". Only when the period governs
# the number directly (nothing but 至少/达到… between them): "每季度检查企业不少于5家" is a check.
_THINGS = re.compile(rf"^\s*(?:{_AT_LEAST}|达到|累计|共计|合计|总计|共)?\s*{_AMOUNT_NUM}\s*"
                     r"(?:份|册|本|张|条|幅|块|篇|名|人次|人|家|户|个|处|台|套|件|万|千|百)(?![次回遍轮])")
_PER_OCCURRENCE = re.compile(r"每(?:次|人|名|个|期|场|批|位|课|节|家|户)|单次|人均")
_QUOTA_HEAD = re.compile(r"^(?:培训|学习|教育|活动)?(?:时间|时长|时数|学时|课时)|^(?:累计|合计|共计|总计|全年)")


def quota(clause: str, start: int, end: int) -> str | None:
    """The amount an anchor ending at `start` governs, if it governs one, within its scope (to `end`):
    money or a share in its own part of the clause with no act but spending before it, things counted
    right after the period ("每年不少于300份"), or a time quota in its own part or in the next part when
    that part is about the time ("…再培训，时间不少于12学时")."""
    parts, pos = [], start
    for m in re.finditer(r"[，,；;：:]", clause[start:end]):
        parts.append((pos, start + m.start()))
        pos = start + m.end()
    parts.append((pos, end))
    for n, (p_start, p_end) in enumerate(parts[:2]):
        part = clause[p_start:p_end]
        if n == 1 and not _QUOTA_HEAD.match(part.strip()):
            break
        time = _TIME.search(part)
        if time and not _PER_OCCURRENCE.search(part[:time.start("n")]):
            return part[time.start():time.end()]
        if n == 0 and _THINGS.match(part):
            return _THINGS.match(part).group(0).strip()
        money = _MONEY.search(part) if n == 0 else None
        if money and not _PER_OCCURRENCE.search(part[:money.start()]) and not _SPENDING.search(part[:money.start()]):
            return part[money.start():money.end()]
    return None


# -- frequencies another party keeps ------------------------------------------------------------
# "督促施工单位每天开展班前安全教育", "指导学校落实…，即每天放学前1分钟…": the frequency belongs to the party
# the role supervises, not to the role. Only when the supervising verb opens the part of the clause the
# frequency is in (or the part before, continued by 即/包括…): "每月至少带队检查1次，督促企业整改" is the
# role's own monthly check.
_SUPERVISE = re.compile(r"^(?:并|同时|负责|要|应|应当|须|还要|积极|加强|切实|及时|定期)*"
                        r"(?P<verb>(?:督促|指导|监督|要求|推动|责令|引导|帮助)(?:[、和及与]?(?:督促|指导|监督|检查|推动))*)"
                        r"(?P<party>[^，,；;：:]{2,})$")
_CONTINUES = re.compile(r"^(?:即|也就是|包括|含|如|比如|例如)")
_PART_SEP = "，,；;：:|｜"  # a table row flattened to "序号 | 职责 | 频次" has its cells as parts


def supervised(clause: str, floor: int, pos: int) -> str | None:
    """The supervising words ("督促施工单位") when the frequency at `pos` is kept by another party.

    The role may open the part ("安全副总经理督促各工区每班…")."""
    part_start = _part_start(clause, floor, pos)
    pre = clause[part_start:pos].strip()
    if _CONTINUES.match(pre) and part_start - 1 > floor:
        pre = clause[_part_start(clause, floor, part_start - 1):part_start - 1].strip()
    m = _SUPERVISE.match(_without_post(pre))
    if not m or mentions_only_role(m["party"]):
        return None
    return m["verb"] + m["party"]


# A post the role vocabulary does not know, opening the part: "安全副总经理督促…", "总工程师指导…".
_POST_LEAD = re.compile(r"^[\u4e00-\u9fff]{0,10}(?:经理|长|书记|主任|负责人|成员|委员|工程师|领导)"
                        r"(?=(?:并|同时|负责|要|应|应当|须)*(?:督促|指导|监督|要求|推动|责令|引导|帮助))")


def _without_post(pre: str) -> str:
    """A part's words after the post that opens it, if one does ("安全副总经理督促…" → "督促…")."""
    m = _POST_LEAD.match(pre)
    lead = role_end(pre) or (m.end() if m else None)
    return pre[lead:] if lead else pre


_PARTY = re.compile(r"对?[\u4e00-\u9fff、和及与]{1,12}")
# "确保对每户居民用户至少每两年入户安检1次": how often each customer, site or pupil is reached, a coverage the
# role organises in rolling rounds, not occurrences the role keeps each period.
_PER_ENTITY = re.compile(r"^(?:确保|保证|做到|实现)?(?:对|将)?(?:全[县市区镇乡]|辖区(?:内)?|本单位)?"
                         r"(?:每|各|所有|全部)(?:一)?(?:户|家|个|名|位|处|座|台|辆|所|栋|条)"
                         r"[\u4e00-\u9fff、和及与（）()]{0,15}$")


# The role's own acts: after "督促商场每日巡查，" a part with one of them is the role's again.
_ROLE_ACT = re.compile(r"带队|带领|主持|听取|亲自|参加|召开|组织|向[^，,；;。]{0,12}(?:报告|汇报)")


def _same_party_goes_on(clause: str, floor: int, a: _Anchor, scope_end: int) -> bool:
    """"督促大型商场每日开展防火巡查，每月开展防火检查": a part that opens with its period right after a supervised
    frequency, with no act of the role's own in it, is the same party's next frequency."""
    part = _part_start(clause, floor, a.start)
    return (part > floor and clause[part - 1] in "，," and not clause[part:a.start].strip()  # not a new table cell
            and not _ROLE_ACT.search(clause[a.end:_chunk_end(clause, a.end, scope_end)]))


def per_entity(clause: str, floor: int, pos: int) -> str | None:
    """"确保对每户居民用户至少": the words of a coverage per customer or site opening the frequency's part."""
    pre = clause[_part_start(clause, floor, pos):pos].strip()
    pre = re.sub(rf"{_AT_LEAST}$", "", _without_post(pre))
    return pre if _PER_ENTITY.match(pre) else None


def another_party(clause: str, floor: int, pos: int) -> bool:
    """"督促中小学每学期…演练两次，幼儿园每月…一次": after a supervised part, a part that opens with a bare
    party name before its period still speaks of the supervised — no verb of the role, no role named."""
    pre = clause[_part_start(clause, floor, pos):pos].strip()
    return bool(_PARTY.fullmatch(pre)) and role_end(pre) is None and subject_before(pre) is None \
        and kind_of(pre) is None and not re.search(r"组织|开展|召开|带队|参加|听取|主持|负责", pre)


_CELL_GAP = re.compile(r"(?<=[\u4e00-\u9fff）)”])\s+(?=[\u4e00-\u9fff（(“])")


def _part_start(clause: str, floor: int, pos: int) -> int:
    """Where the part of the clause holding `pos` starts: after a separator, or a table cell's gap (a Word
    table saved as text keeps its cells apart by tabs or spaces, which running Chinese text never has)."""
    gaps = [m.end() - 1 for m in _CELL_GAP.finditer(clause, floor, pos)]
    return max([clause.rfind(c, floor, pos) for c in _PART_SEP] + gaps + [floor - 1]) + 1


def mentions_only_role(text: str) -> bool:
    """"督促…" followed by the role's own modal words only: no other party named."""
    return not re.sub(r"[“”\"'「」\d\s]", "", text)


# -- distributive counts: "上旬、下旬各召开一次", "公路抢险、水上搜救应急演练各1次" ---------------------------
# Times within the period: the same act that many times. Anything else: one act each.
_TIME_POINT = re.compile(r"^(?:上旬|中旬|下旬|上半月|下半月|月初|月中|月末|月底|年初|年中|年末|年底|上半年|下半年|"
                         r"[春夏秋冬]季|[春夏秋冬]节|汛前|汛后|汛中|节前|节后|季初|季末|开学前|开学后|放假前|放假后|"
                         r"假期前|假期后|年前|年后|第[一二三四\d]季度)(?:期间|前后)?$")
_EACH = re.compile(r"各(?:至少|不少于)?(?:召开|组织|开展|进行|举行|举办|检查|排查|巡查|督查|演练|培训|研究|听取|"
                   r"组织开展|组织召开|安排)?(?:至少|不少于)?$")
_KIND_TAIL = re.compile(r"(?:应急|专项|安全|综合|消防|联合)?(?:演练|演习|培训|检查|排查|巡查|督查|会议|例会|学习)")


@dataclass
class Distributive:
    times: int  # how many times the act happens ("上旬、下旬各一次" → 2), 1 when it is one act each
    items: list[tuple[int, int, str]]  # (start, end, words) of each act when one act each
    phrase: str


def distributive(clause: str, lo: int, count_start: int) -> Distributive | None:
    """"A、B各1次" before a count: the listed items and whether they are times or acts."""
    each = _EACH.search(clause, lo, count_start)
    if not each:
        return None
    start = max([clause.rfind(c, lo, each.start()) for c in _PART_SEP] + [lo - 1]) + 1
    listing = clause[start:each.start()]
    pieces = [(m.start(), m.end()) for m in re.finditer(r"[^、和及与]+", listing)]
    if len(pieces) < 2:
        return None
    words = [listing[a:b].strip() for a, b in pieces]
    phrase = clause[start:count_start] + "…"
    if all(_TIME_POINT.match(w) for w in words[1:]) and _TIME_POINT.search(_strip_lead(words[0])):
        return Distributive(len(words), [], clause[start:each.end()])
    tail = _KIND_TAIL.search(words[-1])
    verb = re.sub(r"^各|至少|不少于", "", each.group(0))  # "对加油站和液化气站各检查一次": the act after 各
    items = []
    for (a, b), w in zip(pieces, words, strict=True):
        if tail and kind_of(w) is None:
            w += words[-1][tail.start():]
        items.append((start + a, start + b, w + verb))
    return Distributive(1, items, phrase)


def _strip_lead(word: str) -> str:
    """"每月上旬" → "上旬": the first item may carry the period and verbs before the time word."""
    m = _TIME_POINT.pattern[1:]
    found = re.search(m, word)
    return word[found.start():] if found else word


@dataclass
class _Item:
    """One duty of an anchor's scope before its kind and title are worked out."""

    start: int
    end: int
    count: int
    at_least: bool
    seg_start: int
    segment: str = ""  # the words of one act of a distributive list ("公路抢险应急演练"), else from seg_start
    note: str = ""


def _each(clause: str, lo: int, c: re.Match, item: _Item, period: PeriodKind) -> list[_Item]:
    """The item for a count, or its share-out: "上旬、下旬各一次" → twice; "A、B演练各1次" → one each."""
    d = distributive(clause, lo, c.start())
    if d is None:
        return [item]
    if d.times > 1:
        item.count *= d.times
        item.note = f"原文“{d.phrase}…”，按{PERIOD_LABEL[period]}{item.count}次起草"
        return [item]
    return [_Item(item.start, item.end, item.count, item.at_least, item.seg_start, segment=words,
                  note=f"原文“{d.phrase}”各计一项，此为“{words}”") for _, _, words in d.items]


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if e > s]


def _chunk_end(text: str, pos: int, limit: int) -> int:
    """The next separator at or after pos (the end of a clause part), not beyond limit. "、" ends a
    part only before another subject ("…1次、其他领导每半年…"), not inside a list ("到企业、工地")."""
    for i in range(pos, limit):
        if text[i] in _SEPARATORS and (text[i] != "、" or _next_subject(text[i + 1:min(limit, i + 40)])):
            return i
    return limit


def _next_subject(text: str) -> bool:
    """"其他领导每半年…": a role that is the subject of the next frequency."""
    end = role_end(text)
    return end is not None and bool(_ANCHOR.match(text, end))


def _chunk_start(text: str, pos: int, floor: int) -> int:
    for i in range(pos - 1, floor - 1, -1):
        if text[i] in _SEPARATORS:
            return i + 1
    return floor


def kind_of(text: str) -> DutyKind | None:
    reported = _REPORTED.search(text)
    if reported and "听" not in text[:reported.start()]:  # 听取…情况汇报 is a meeting
        return DutyKind.REPORT
    best: tuple[int, int, DutyKind] | None = None
    for rank, (kind, rx) in enumerate(_KIND_RE):
        m = rx.search(text)
        if m and (best is None or (m.start(), rank) < best[:2]):
            best = (m.start(), rank, kind)
    return best[2] if best else None


def find(clause: str, body_start: int = 0) -> tuple[list[Found], list[Unschedulable]]:
    """Every scheduled duty in a clause, in order; plus frequencies that cannot be scheduled.

    `body_start` skips the clause label ("(六)", "1.") when looking for a sentence's subject.
    """
    found: list[Found] = []
    skipped: list[Unschedulable] = []
    context: str | None = None  # the last subject seen in this clause, for "主要负责人" after "企业…"
    for s_start, s_end in _sentences(clause):
        s_start = max(s_start, body_start)
        if s_end <= s_start:
            continue
        sentence = clause[s_start:s_end]
        sentence_role = sentence_subject(sentence.lstrip())
        own_item = _item_words(clause[body_start:s_start]) if FREQUENCY_LINE.match(sentence.lstrip()) else ""
        anchors = _sentence_anchors(clause, s_start, s_end)
        if not anchors:
            context = sentence_role or context
            continue
        explicit = {a.period for a in anchors if not a.by_context}
        supervising: str | None = None  # the supervised party of the sentence's last frequency, if any
        covering: str | None = None  # the coverage ("确保对每户…") of the sentence's last frequency, if any
        for i, a in enumerate(anchors):
            scope_end = anchors[i + 1].start if i + 1 < len(anchors) else s_end
            if a.by_context and a.period in explicit:
                continue  # "每周五…召开周例会": the 周 of 周例会 names the same weekly duty again
            if a.period is None:
                skipped.append(Unschedulable(clause[a.start:_chunk_end(clause, a.end, scope_end)], a.unschedulable))
                continue
            if a.by_context and _quoted(clause, s_start, a.start):
                continue  # "落实“日管控、周排查、月调度”机制": the name of a mechanism, not a period
            who = supervised(clause, s_start, a.start) or (
                supervising and (another_party(clause, s_start, a.start)
                                 or _same_party_goes_on(clause, s_start, a, scope_end)) and supervising)
            if who:  # "督促施工单位每天开展班前教育": the contractor's frequency, not the role's
                supervising, covering = who, None
                skipped.append(Unschedulable(clause[a.start:_chunk_end(clause, a.end, scope_end)],
                                             f"频次属于“{who}”中被督促/指导的一方，不是本角色的定期职责，未排期 / "
                                             "a frequency the supervised party keeps: not scheduled"))
                continue
            reach = per_entity(clause, s_start, a.start) or (
                covering and another_party(clause, s_start, a.start) and covering)
            if reach:  # "确保对每户居民用户每两年入户安检1次，对非居民用户每年…": rounds the role organises
                supervising, covering = None, reach
                skipped.append(Unschedulable(clause[a.start:_chunk_end(clause, a.end, scope_end)],
                                             f"“{reach}”是按每户/每处计的覆盖要求，不是本角色每期的次数，未排期 / "
                                             "a coverage per customer or site, not a count per period: not scheduled"))
                continue
            supervising = covering = None
            subject = subject_before(clause[s_start:a.start]) or sentence_role
            co = subjects_before(clause[s_start:a.start])
            if len(co) > 1:  # "镇党委书记、镇长每半年…": never only one of several named subjects
                subject, co_subjects = co[0], tuple(qualify(r, context) for r in co[1:])
            else:
                co_subjects = ()
            if subject:
                subject = qualify(subject, context if context != subject else None)
                context = context or subject
            counts = [] if a.count is not None else _counts(clause, a.end, scope_end)
            if not counts and a.count is None and i + 1 < len(anchors) and _LISTED.fullmatch(
                    clause[a.end:anchors[i + 1].start]):
                # "每年汛前、汛后各开展一次检查": the periods share the count written after the last one
                nxt = anchors[i + 1]
                later = anchors[i + 2].start if i + 2 < len(anchors) else s_end
                counts = _counts(clause, nxt.end, later)[:1]
            if not counts and a.count is None and i + 1 < len(anchors) and not clause[a.end:anchors[i + 1].start].strip():
                continue  # "每年上半年组织一次", "汛期内每月…": the next period words say when; this one only frames them
            if a.needs_count and not counts:
                continue
            if a.count is None and not counts and _COVERAGE.match(clause, a.end, scope_end):
                skipped.append(Unschedulable(clause[a.start:_chunk_end(clause, a.end, scope_end)],
                                             "覆盖目标（实现…全覆盖、覆盖所有…），不是次数，未排期 / a coverage goal, not a count: "
                                             "not scheduled"))
                continue
            if a.count is None and not counts:
                amount = quota(clause, a.end, scope_end)
                if amount:  # "每年不低于300万元": the period governs an amount, nothing happens N times
                    skipped.append(Unschedulable(clause[a.start:_chunk_end(clause, a.end, scope_end)],
                                                 f"“{amount}”是金额/时长等数量要求，不是次数，未排期 / "
                                                 "an amount or a duration, not a count: not scheduled"))
                    continue
            items: list[_Item] = []
            if a.count is not None:
                items.append(_Item(a.start, a.end, a.count, a.at_least, a.start))
            elif counts:
                c = counts[0]
                items += _each(clause, a.end, c, _Item(
                    a.start, c.end(), number(c["num"]) or 1,
                    bool(c["mod"] or c["plus"] or re.search(_AT_LEAST, clause[a.end:c.start()])), a.start), a.period)
            else:
                items.append(_Item(a.start, a.end, 1, bool(re.search(_AT_LEAST, clause[a.end:a.end + 4])), a.start))
            subsets: list[str] = []
            for c in counts[1:]:
                seg_start = _chunk_start(clause, c.start(), a.end)
                if subsets or _SUBSET.search(clause[seg_start:c.start()]):
                    # "…其中综合演练一次、现场处置方案演练一次": everything after 其中 breaks the count down
                    # "演练不少于2次，其中夜间演练1次": part of the count before it, not another duty
                    subsets.append(clause[seg_start:c.end()].strip())
                    continue
                items += _each(clause, seg_start, c, _Item(seg_start, c.end(), number(c["num"]) or 1,
                                                            bool(c["mod"] or c["plus"]), seg_start), a.period)
            for n, item in enumerate(items):
                start, end, count, at_least, seg_start = item.start, item.end, item.count, item.at_least, item.seg_start
                seg_end = _chunk_end(clause, end, scope_end)
                segment = item.segment or own_item or clause[seg_start:seg_end]
                notes = [a.note] if a.note else []
                if item.note:
                    notes.append(item.note)
                if n == 0:
                    notes += [f"“{sub}”是上述次数的一部分，未另列" for sub in subsets]
                if n == 0 and a.count is None and not counts and not _implies_once(a.rule):
                    notes.append("原文未写次数，按1次起草")
                kind = kind_of(segment) or (kind_of(clause[body_start:s_start]) if own_item else _kind_nearby(
                    clause, seg_end, scope_end, s_start, seg_start, anchors, i))
                if kind is None:
                    kind = DutyKind.OTHER
                    notes.append("类型未能识别，按 other 起草")
                found.append(Found(
                    period=a.period, count=count * a.factor, at_least=at_least, start=start, end=end,
                    phrase=clause[start:end], segment=segment, kind=kind, subject=subject, notes=notes,
                    co_subjects=co_subjects, rule=a.rule,
                    wording="" if a.by_context else _wording(clause, a, start, end), both_halves=a.both_halves,
                ))
        context = sentence_role or context
    return found, skipped


# "每年实现一级、二级重大危险源企业检查全覆盖": a goal for the period, not an occurrence.
_COVERAGE = re.compile(r"(?:要|应|须|力争|确保)?(?:(?:实现|达到|做到)[^，,；;。]{0,30}全覆盖"
                       r"|[^，,；;。]{0,20}?覆盖(?:所有|全部|各|到))")
_QUOTES = {"“": "”", "「": "」", "『": "』", "\"": "\""}


def _quoted(clause: str, floor: int, pos: int) -> bool:
    """Whether `pos` is inside quotation marks opened in this sentence."""
    depth: list[str] = []
    for ch in clause[floor:pos]:
        if depth and ch == _QUOTES[depth[-1]]:
            depth.pop()
        elif ch in _QUOTES:
            depth.append(ch)
    return bool(depth)


def _item_words(item: str) -> str:
    """What an item above its 频次 line is about: its first sentence, or that sentence's first part when long."""
    first = re.split(r"[。；;\n]", item.strip(), maxsplit=1)[0]
    return re.split(r"[，,]", first, maxsplit=1)[0] if len(first) > _ITEM_WORDS else first


_ITEM_WORDS = 30


def _implies_once(rule: Frequency | None) -> bool:
    """每月10日、24日, 每月5日前, 每年11月底前, 每周五 name the day of one occurrence: the count is 1."""
    return rule is not None and bool(rule.days or rule.due or rule.weekday is not None)


def _wording(clause: str, a: _Anchor, start: int, end: int) -> str:
    """The frequency as written: from the period to the count; a later count of the same period
    ("每季度听1次汇报、研究1次") gets the period's words before its own ("每季度研究1次")."""
    if start == a.start:
        return clause[start:end]
    own = clause[max(start, a.end):end]
    counts = list(_COUNT.finditer(own))
    if len(counts) > 1:  # "不少于1次综合应急演练和2次": only the last count is this duty's
        own = own[counts[-2].end():].lstrip("和及与、，, ")
    return clause[a.start:a.end] + own


_GENERIC = re.compile(rf"每\S{{0,3}}?(?:年度|半年|季度|年|季|月|旬|周|日|天)|{_AT_LEAST}|{_N}(?:次|回)|以上|开展|组织|进行|"
                      r"举办|实施|带队|带头|亲自|应当|应|要|须|至少|[，,、\s]")


def _has_own_action(segment: str) -> bool:
    """"每日调度" names its action; "每年至少开展1次" leaves it to the rest of the sentence."""
    return len(_GENERIC.sub("", segment)) >= 2


_NEARBY = 60  # how far a bare frequency looks for its action, in characters


def _kind_nearby(clause: str, seg_end: int, scope_end: int, s_start: int, seg_start: int,
                 anchors: list[_Anchor], i: int) -> DutyKind | None:
    """The kind of a bare frequency ("…演练，每年不少于2次"; "主要负责人每年至少开展1次、其他领导…调研"):
    the rest of its scope, then the words before it in the sentence, then the rest of the sentence.
    A segment that names its own action ("每月组织一次车间安全活动") borrows nothing."""
    if _has_own_action(clause[seg_start:seg_end]):
        return None
    after = kind_of(clause[seg_end:min(scope_end, seg_end + _NEARBY)])
    if after:
        return after
    floor = max(anchors[i - 1].end if i > 0 else s_start, seg_start - _NEARBY)
    before = kind_of(clause[floor:seg_start])
    if before:
        return before
    s_end = _SENTENCE_END.search(clause, scope_end, scope_end + _NEARBY)
    return kind_of(clause[scope_end:s_end.start() if s_end else min(len(clause), scope_end + _NEARBY)])
