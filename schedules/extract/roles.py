"""Who a clause is about: the role vocabulary of responsibility lists and how to spot a subject."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class RoleSpec:
    name: str  # the canonical role name written in the draft's roles: section
    slug: str  # the id prefix of its duties
    description: str
    patterns: tuple[str, ...]


# A deputy post: 副县长, 副镇长, 副院长, 副校长, 副主任, 副书记, 副总经理, 副总.
_DEPUTY = r"副(?:[\u4e00-\u9fff]{0,2}?(?:长|书记|主任|经理|主席|总监)|总)"

# Order does not matter: mentions are matched longest pattern first.
ROLES: tuple[RoleSpec, ...] = (
    RoleSpec("主要负责人", "main", "主要负责人（党政主要负责同志）",
             ("党政主要负责人", "党政主要负责同志", "主要负责人", "主要负责同志", "主要领导", "第一责任人", "一把手")),
    RoleSpec("分管负责人", "charge", "分管安全生产工作的负责人",
             (r"分管安全生产(?:工作)?的?(?:负责人|负责同志|领导|副职|副书记|副镇长|副乡长|副县长|副区长|副市长|"
              r"副主任|副局长|副总经理|副总|副组长)",
              "分管负责人", "分管负责同志", "分管领导", "安全生产分管领导",
              # 常务副县长; 分管安全副校长, 分管后勤安全副院长, 分管安全生产副镇长
              rf"常务{_DEPUTY}", rf"分管[\u4e00-\u9fff]{{0,6}}?(?:安全|应急)[\u4e00-\u9fff]{{0,4}}?的?{_DEPUTY}",
              # 分管安全生产的街道办事处副主任: the body's name between 的 and the deputy post
              rf"分管安全生产(?:工作)?的(?:(?![和及与其的])[\u4e00-\u9fff]){{2,6}}?{_DEPUTY}")),
    RoleSpec("其他负责人", "other", "其他负责人（一岗双责）",
             ("其他负责人", "其他负责同志", "其他领导班子成员", "其他班子成员", "班子其他成员", "其他领导",
              "其他副职", "其他分管领导", "其他分管负责人", r"其他(?:市|州|县|区|乡|镇|街道)级?领导(?:同志)?",
              "领导班子其他成员", rf"其他{_DEPUTY}", r"其他(?!单位|部门|企业|地区|人员)[\u4e00-\u9fff]{1,2}?级?领导(?:同志)?")),
    RoleSpec("党委主要负责人", "party", "党委主要负责人（党委书记）",
             ("党委主要负责人", "党委主要负责同志", "党委主要领导", "党工委主要负责人", "党委书记", "党工委书记",
              "党组书记", r"(?<![副])(?:省|市|州|盟|县|区|旗)委书记")),
    RoleSpec("政府主要负责人", "gov", "政府主要负责人（乡镇长、县区长、街道办事处主任）",
             ("政府主要负责人", "政府主要负责同志", "政府主要领导", "乡镇长", r"(?<!副)镇长", r"(?<!副)乡长",
              r"(?<!副)县长", r"(?<!副)区长", r"(?<!副)市长", "街道办事处主任", "管委会主任")),
    RoleSpec("班子成员", "team", "领导班子成员", ("领导班子成员", "班子成员")),
    RoleSpec("部门负责人", "dept", "各部门负责同志",
             ("部门负责同志", "部门负责人", "部门主要负责人", "部门主要负责同志", "各部门", "科室负责人",
              "部室负责人", "各部、办、中心负责同志")),
    RoleSpec("企业主要负责人", "firm-main", "企业主要负责人（法定代表人、实际控制人）",
             ("企业主要负责人", "企业法定代表人", "生产经营单位主要负责人", "企业负责人")),
    RoleSpec("安全管理机构负责人", "safety", "安全生产管理机构负责人",
             ("安全管理机构负责人", "安全生产管理机构负责人", "安全管理部门负责人", "安全总监")),
    RoleSpec("安全管理人员", "safety-staff", "安全生产管理人员",
             ("安全生产管理人员", "安全管理人员", "专职安全员", "专职安全管理人员")),
    RoleSpec("班组长", "crew", "班组长", ("班组长",)),
    RoleSpec("安委办", "office", "安全生产委员会办公室",
             ("安委办", "安全生产委员会办公室", "安委会办公室")),
    RoleSpec("安委会", "committee", "安全生产委员会", ("安委会", "安全生产委员会")),
    RoleSpec("专委会", "subcommittee", "安全生产专业委员会", ("专业委员会", "专委会")),
    RoleSpec("成员单位", "member", "安委会成员单位", ("成员单位",)),
    RoleSpec("党委", "party-org", "党委（党工委）", ("党委", "党工委")),
    RoleSpec("乡镇", "town", "乡镇（街道）", ("乡镇（街道）", "乡镇(街道)", "乡镇")),
    RoleSpec("村（社区）", "village", "村（社区）", ("村（社区）", "村(社区)", "村委会", "村两委")),
    RoleSpec("网格员", "grid", "网格员", ("网格员", "安全信息员")),
    RoleSpec("企业", "firm", "企业（生产经营单位）", ("企业", "生产经营单位")),
)
BY_NAME = {r.name: r for r in ROLES}
FALLBACK_ROLE = "待定角色"  # clauses whose subject cannot be found
FALLBACK_SLUG = "tbd"
# Bare leader titles that, in a sentence about an enterprise, mean the enterprise's leader.
_ENTERPRISE_QUALIFIED = {"主要负责人": "企业主要负责人"}

_ALTERNATIVES = sorted(((p, r.name) for r in ROLES for p in r.patterns), key=lambda pr: -len(pr[0]))
ROLE_RE = re.compile("|".join(f"(?P<r{i}>{p})" for i, (p, _) in enumerate(_ALTERNATIVES)))
_GROUP_ROLE = {f"r{i}": name for i, (_, name) in enumerate(_ALTERNATIVES)}

# Administrative prefixes before a subject: 各地党委, 县安委会, 园区主要负责人.
PREFIX = r"(?:各地|各级|各|全|本级|本|县级|区级|市级|乡级|镇级|县|区|市|镇|乡|园区|街道|公司|企业(?=主要负责人))?"
# Words between a subject and its frequency: 各部门负责同志，每月应当…
FILLER = r"(?:要|应|应当|须|需|需要|必须|均|原则上|一般|负责|统一|分别|每人|也要|还要|同时)*"
OBJECT_MARKERS = ("对", "向", "由", "与", "和", "同", "协助", "委托", "督促", "指导", "会同", "联合", "听取", "陪同",
                  "配合", "组织", "要求", "请", "给", "为", "把", "将", "及", "经")
_CHUNK_SEP = "，,；;：:"
_SUB_SEP = _CHUNK_SEP + "、"


@dataclass(frozen=True)
class Mention:
    role: str
    start: int
    end: int


def mentions(text: str) -> list[Mention]:
    out = []
    for m in ROLE_RE.finditer(text):
        out.append(Mention(_GROUP_ROLE[m.lastgroup or ""], m.start(), m.end()))
    return out


def slug_of(role: str) -> str | None:
    spec = BY_NAME.get(role)
    return spec.slug if spec else None


def description_of(role: str) -> str:
    spec = BY_NAME.get(role)
    return spec.description if spec else role


_FULL = re.compile(rf"^{PREFIX}(?:{ROLE_RE.pattern}){FILLER}$")


def _whole_role(text: str) -> str | None:
    """The role when `text` is nothing but a (prefixed) role name with modal words."""
    m = _FULL.match(text)
    if not m:
        return None
    return next((_GROUP_ROLE[g] for g, v in m.groupdict().items() if v and g in _GROUP_ROLE), None)


def subject_before(pre: str) -> str | None:
    """The role written directly before a frequency ("各部门负责同志，每月…"), unless it is an object
    ("对各地、各专业委员会每季度…", "向主要负责人每月…")."""
    text = pre.rstrip(" ，,")
    cut = max(text.rfind(c) for c in _SUB_SEP) + 1
    role = _whole_role(text[cut:]) or _unknown(_UNKNOWN_WHOLE.match(text[cut:]))
    if role is None:
        return None
    chunk_start = max(text.rfind(c) for c in _CHUNK_SEP) + 1
    chunk = text[chunk_start:cut]
    if any(chunk.startswith(m) for m in OBJECT_MARKERS):
        return None
    return role


def subjects_before(pre: str) -> list[str]:
    """Every role of a subject list directly before a frequency: "镇党委书记、镇长每半年…" → both; [] when
    the words before it are not only roles joined by 、/和/与/及 (with modal words at the end)."""
    text = pre.rstrip(" ，,")
    chunk = text[max(text.rfind(c) for c in _CHUNK_SEP) + 1:]
    if any(chunk.startswith(m) for m in OBJECT_MARKERS):
        return []
    parts = re.split(r"[、和与及]", chunk)
    if len(parts) < 2:
        return []
    roles = [_whole_role(p) or _unknown(_UNKNOWN_WHOLE.match(p)) for p in parts]
    return list(dict.fromkeys(r for r in roles if r)) if all(roles) else []


_SENTENCE_SUBJECT = re.compile(rf"^{PREFIX}(?:{ROLE_RE.pattern})(?![的之])")
# A subject the vocabulary does not know: 技术负责人, 包保责任人, 县应急管理局, 各单位.
_UNKNOWN = (r"[\u4e00-\u9fff（）()]{0,10}?(?:负责人|责任人|管理局|局|委员会|办公室|中心|站|所|大队|部门|单位|主任|组长|"
            r"队长|站长|所长|校长|院长|厂长|局长|科长|处长|部长|董事长|经理|总监|书记|班长|安全员|网格员|信息员|管理员|专干|"
            r"网格长|楼栋长|楼长|栋长|单元长)")
_UNKNOWN_SUBJECT = re.compile(rf"^各?(?P<name>{_UNKNOWN})(?=应当|应|要|须|必须|需|每|负责|至少|原则上|按|[，,])")
_UNKNOWN_WHOLE = re.compile(rf"^各?(?P<name>{_UNKNOWN}){FILLER}$")
_NOT_A_NAME = re.compile(r"督促|指导|(?<!党)组织|协助|配合|要求|推动|落实|开展|加强|实行|建立|发现|发生|检查|完成|报告|"
                         r"[对向由与将把在按于为从和及是的了等]")


def _unknown(m: re.Match | None) -> str | None:
    if not m:
        return None
    name = m["name"]
    return None if _NOT_A_NAME.search(name) or len(name) < 2 else name


def sentence_subject(sentence: str) -> str | None:
    """The role a sentence starts with ("区安委会成立…", "企业要…", "技术负责人每月…")."""
    m = _SENTENCE_SUBJECT.match(sentence)
    if not m:
        return _unknown(_UNKNOWN_SUBJECT.match(sentence))
    return next((_GROUP_ROLE[g] for g, v in m.groupdict().items() if v and g in _GROUP_ROLE), None)


_SUBJECT_THEN_FILLER = re.compile(rf"^{PREFIX}(?:{ROLE_RE.pattern}){FILLER}")


def role_end(text: str) -> int | None:
    """Where the words after a leading role (and its 要/应当…) start; None when text starts otherwise."""
    m = _SUBJECT_THEN_FILLER.match(text)
    return m.end() if m else None


def role_named(text: str) -> str | None:
    """The role when a whole heading is a role: "街道党工委书记" → 党委主要负责人; "车间主任" → 车间主任."""
    text = text.strip().rstrip("：:。.")
    return _whole_role(text) or _unknown(_UNKNOWN_WHOLE.match(text))


def qualify(role: str, context: str | None) -> str:
    """"主要负责人" in a sentence about an enterprise is the enterprise's main leader."""
    if context == "企业" and role in _ENTERPRISE_QUALIFIED:
        return _ENTERPRISE_QUALIFIED[role]
    return role


_PERSON_SUFFIX = re.compile(r"(?:主任|组长|队长|站长|所长|校长|院长|厂长|局长|科长|处长|部长|董事长|经理|总监|书记|负责人|负责同志|主管|工程师|"
                            r"班长|安全员|管理员|信息员|网格员|干事|网格长|楼栋长)$")
_NOT_A_ROLE = re.compile(r"全员|干部|领导班子$|党政|有限公司|集团|委员会$|各级")


def heading_role(heading: str) -> str | None:
    """The role a list heading is about: the last known role before 职责/责任, or an unknown title
    such as 车间主任 (returned as written)."""
    m = re.match(r"^(?P<who>.+?)(?:安全生产|安全)?(?:工作)?(?:职责|责任)(?:清单|细则|规定)?$", heading)
    if not m:
        return None
    who = m["who"]
    if re.search(r"[及和与、]", who):  # "村（社区）及站所…职责清单" covers several bodies
        return None
    found = mentions(who)
    if found:
        return found[-1].role
    who = re.sub(rf"^{PREFIX}", "", who)
    if 2 <= len(who) <= 8 and _PERSON_SUFFIX.search(who) and not _NOT_A_ROLE.search(who):
        return who
    return None


_DUTY_SUFFIX = re.compile(r"(?:安全生产|安全)?(?:工作)?(?:职责|责任)(?:清单|细则|规定)?$")
_DESCRIBED = re.compile(r"^(?P<post>.+?)\s*[（(](?P<desc>[^（）()]+)[）)]$")
# The last word of a post: 县长, 党委书记, 办公室主任, 其他院领导, 班子成员, 车间负责人, 副总, 网格员.
_POST_WORD = re.compile(r"(?:长|书记|主任|领导|成员|负责人|负责同志|责任人|经理|总监|主管|干部|委员|主席|干事|员|副总|班子)$")
_NOT_POST = re.compile(r"(?:组织|加强|强化|统一|坚持)领导$")
_SAFETY_REMIT = re.compile(r"安全|应急|安委|消防")
_IS_DEPUTY = re.compile(rf"^[\u4e00-\u9fff]{{0,4}}?{_DEPUTY}$")
# The publisher is an enterprise (not a government writing about enterprises): 有限公司, 集团, 机械厂.
_ENTERPRISE = re.compile(r"公司|集团|厂")


# A body as a heading: 县住房和城乡建设局, 县委宣传部, 安全环保部 (its name may hold 和/及).
_ORGAN = re.compile(r"^[\u4e00-\u9fff（）()]{1,14}(?:局|委|办|(?<!干)部|厅|署|院|中心|大队|支队|站|所|室|处|科|股)$")
_ORGAN_NOT = re.compile(r"督促|指导|组织|协助|配合|要求|推动|落实|开展|加强|实行|建立|检查|完成|报告|[对向由将把在按于为从是的了等]")
# Posts held together by one person: "局党组书记、局长" is the body's main leader.
_SECRETARY = re.compile(r"书记$")
_CHIEF = re.compile(r"(?<!副)(?:[^副]长|主任|总经理|董事长)$")
# A deputy with another remit, kept as written: "分管工程建设的副局长".
_OTHER_DEPUTY = re.compile(rf"^分管[\u4e00-\u9fff]{{1,12}}?的?{_DEPUTY}$")


def heading_roles(heading: str, enterprise: bool = False) -> tuple[str, ...]:
    """Every role a heading names: ("楼栋长", "兼职网格员") for "（五）楼栋长、兼职网格员"; one role for a
    combined post ("局党组书记、局长" → 主要负责人) or a single post; () when it names none."""
    role, _ = heading_post(heading, enterprise)
    if role is None:
        return ()
    posts = _posts(heading)
    if len(posts) < 2 or role == "主要负责人" or _DESCRIBED.match(_who(heading)):
        return (role,)
    return tuple(dict.fromkeys(qualify(r, "企业") if enterprise else r for r in posts))


def _who(heading: str) -> str:
    return _DUTY_SUFFIX.sub("", heading.strip().rstrip("：:。. ")).strip()


def _posts(heading: str) -> list[str]:
    """The posts of "X、Y" when every part is a post (mapped or as written), else []."""
    parts = [p.strip() for p in re.split(r"[、]", _who(heading))]
    if len(parts) < 2:
        return []
    roles = [role_named(p) for p in parts]
    return [r for r in roles if r] if all(roles) else []


def _combined(posts_or_parts: list[str]) -> bool:
    return (any(_SECRETARY.search(p) or p == "党委主要负责人" for p in posts_or_parts)
            and any(_CHIEF.search(p) or p == "政府主要负责人" for p in posts_or_parts))


def heading_post(heading: str, enterprise: bool = False) -> tuple[str | None, bool]:
    """(role, names a post) for a numbered heading inside a list: "三、常务副县长（分管应急管理工作）",
    "第二条 董事长、总经理（主要负责人）安全生产职责：", "四、其他院领导".

    The role is a canonical one when the post maps to one, else the post as written, else None. The flag
    says whether the heading names a post at all (known or not): then its clauses must not inherit the
    role of the section before it. In an enterprise's own list `enterprise` makes 主要负责人 the
    enterprise's main leader.
    """
    text = heading.strip().rstrip("：:。. ")
    who = _DUTY_SUFFIX.sub("", text).strip()
    role: str | None = None
    post = who
    described = _DESCRIBED.match(who)
    if described:
        post, desc = described["post"].strip(), described["desc"].strip()
        desc_role = _whole_role(desc)  # "董事长、总经理（主要负责人）": the description names the role
        if desc_role:
            role = desc_role
        elif desc.startswith("分管") and _IS_DEPUTY.match(post):
            # 副县长（分管应急管理工作） is the safety deputy; 副县长（分管交通工作） is a post of its own
            role = "分管负责人" if _SAFETY_REMIT.search(desc) else who
        elif (len(desc) <= 8 and role_named(desc) and _POST_WORD.search(desc)
              and (role_named(post) or "") not in BY_NAME):
            # "社区党组织书记（二级网格长）": a post the vocabulary does not know, described by the post the
            # list is organized by; "镇党委书记（全镇…第一责任人）" keeps its known role
            role = role_named(desc)
        else:
            role = role_named(post) or heading_role(post)
    elif who:
        parts = [p.strip() for p in who.split("、")]
        named = [role_named(p) for p in parts]
        if len(parts) > 1 and all(named) and _combined(parts) and not all(n in BY_NAME for n in named):
            role = "主要负责人"  # 局党组书记、局长: one person, the body's main leader
        elif len(parts) > 1 and all(named):
            role = named[0]  # 镇党委书记、镇长 / 楼栋长、兼职网格员: several posts (heading_roles lists them)
        else:
            role = role_named(who) or heading_role(text)
        if role is None and _OTHER_DEPUTY.match(who):
            role = who  # 分管工程建设的副局长: a deputy with a remit of its own, as written
        if role is None and _ORGAN.match(who) and not _ORGAN_NOT.search(who) and len(who) >= 3:
            role = who  # 三、县住房和城乡建设局: a member body's part of the list
    if role and enterprise:
        role = qualify(role, "企业")
    names_post = bool(role) or bool(post and _POST_WORD.search(post) and not _NOT_POST.search(post))
    return role, names_post


def is_enterprise(title: str) -> bool:
    """A list an enterprise publishes for itself: its 主要负责人 is the enterprise's main leader."""
    return bool(_ENTERPRISE.search(title))
