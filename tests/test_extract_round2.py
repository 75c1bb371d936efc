"""import-list: the failure classes of blind round 2 (tests/fixtures/holdout_blind2), as general rules.

Every sentence here is made up for the rule it tests; none is taken from a fixture list.
"""

from __future__ import annotations

from datetime import date

import pytest

from schedules import Schedule, compile_jobs, load_catalog_text
from schedules.extract import cadence, draft_yaml, holiday_checks, layout
from schedules.extract.holiday_checks import ALL_HOLIDAYS
from schedules.extract.roles import heading_post, heading_roles

YEAR = 2026


def found(text: str) -> list[tuple]:
    lab = layout.label_of(text)
    hits, _ = cadence.find(text, lab[2].end() if lab else 0)
    return [(f.period.value, f.count, f.subject, f.kind.value) for f in hits]


def skipped(text: str) -> list[str]:
    lab = layout.label_of(text)
    return [s.reason for s in cadence.find(text, lab[2].end() if lab else 0)[1]]


def loads_and_schedules(text_yaml: str):
    catalog = load_catalog_text(text_yaml, "<draft>")
    list(Schedule(catalog).expand(date(YEAR, 1, 1), date(YEAR + 1, 1, 1)))
    compile_jobs(catalog)
    return catalog


# -- 1. a frequency the supervised party keeps is not the role's duty -----------------------------

@pytest.mark.parametrize("text", [
    "督促物业服务企业每周开展一次消防通道巡查。",
    "2.指导各村落实防溺水教育，即每天放学前提醒一次、每周五集中讲解一次。",
    "要求各施工企业每月自查一次脚手架。",
    "监督燃气经营单位每季度开展1次入户安检。",
    "负责推动辖区商场每半年组织一次疏散演练。",
])
def test_a_frequency_inside_the_object_of_a_supervising_verb_is_not_scheduled(text):
    assert found(text) == []
    assert skipped(text) and all("被督促/指导的一方" in r for r in skipped(text))


@pytest.mark.parametrize(("text", "expected"), [
    ("每月至少带队检查1次，督促企业整改。", [("month", 1, None, "inspection")]),
    ("督促企业落实整改，每季度至少带队检查1次。", [("quarter", 1, None, "inspection")]),
    ("每季度督促检查一次重点企业。", [("quarter", 1, None, "inspection")]),
    ("每年组织各学校开展不少于2次疏散演练。", [("year", 2, None, "drill")]),  # 组织: the role's own act
])
def test_the_roles_own_frequency_beside_supervision_still_counts(text, expected):
    assert found(text) == expected


def test_a_clause_with_both_keeps_the_own_duty_and_lists_the_other_for_review():
    draft, text_yaml = draft_yaml("某局职责清单\n局长安全生产职责\n"
                                  "1. 每月至少检查1次在建项目，监督施工企业每天开展班前讲话。\n", YEAR)
    assert [(d.frequency, d.roles) for d in draft.scheduled] == [("每月至少1次", ("局长",))]
    assert any("被督促/指导的一方" in r.reason for r in draft.review)
    loads_and_schedules(text_yaml)


# -- 2. quotas of things and funding are not occurrences --------------------------------------------

@pytest.mark.parametrize("text", [
    "入户发放防火宣传单每年不少于500份。",
    "志愿者服务每月不少于20人次。",
    "每年安排消防经费不低于上年度财政支出的0.5%。",
    "区财政每年拨付应急物资储备资金不少于80万元。",
    "安全宣传手册每年不少于1000册。",
])
def test_a_quota_of_things_or_money_under_a_period_is_not_a_duty(text):
    assert found(text) == []
    assert any("不是次数" in r for r in skipped(text))


@pytest.mark.parametrize(("text", "expected"), [
    ("每月走访企业不少于3家。", [("month", 1, None, "other")]),  # a visit; 3家 counts firms
    ("每周至少抽查三个村的巡查记录。", [("week", 1, None, "inspection")]),
    ("每年组织开展专项检查，检查企业不少于10家。", [("year", 1, None, "inspection")]),
])
def test_an_act_that_counts_things_stays_a_duty(text, expected):
    assert found(text) == expected


# -- 3. distributive counts: "…各一次" ------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("每年春季、秋季各开展一次森林防火检查。", [("year", 2, None, "inspection")]),
    ("每月月初、月中、月末各巡查一次危化品仓库。", [("month", 3, None, "inspection")]),
])
def test_the_same_act_at_several_times_of_the_period_is_one_duty_counted_that_often(text, expected):
    assert found(text) == expected
    [hit], _ = cadence.find(text)
    assert any("各" in n and "起草" in n for n in hit.notes)


@pytest.mark.parametrize(("text", "expected"), [
    ("每年至少开展防汛、地质灾害避险应急演练各1次。", [("year", 1, None, "drill"), ("year", 1, None, "drill")]),
    ("每季度对加油站和液化气站各检查一次。", [("quarter", 1, None, "inspection"), ("quarter", 1, None, "inspection")]),
])
def test_different_acts_each_once_are_one_duty_each(text, expected):
    assert found(text) == expected
    hits, _ = cadence.find(text)
    assert len({h.segment for h in hits}) == len(hits)


def test_distributive_duties_get_their_own_titles_and_load():
    draft, text_yaml = draft_yaml("某局职责清单\n局长安全生产职责\n"
                                  "1. 每年至少组织开展危化品泄漏、人员密集场所疏散应急演练各1次。\n", YEAR)
    titles = [d.title for d in draft.scheduled]
    assert len(titles) == 2 and "危化品泄漏" in titles[0] and "疏散应急演练" in titles[1]
    assert all(d.frequency == "每年至少1次" for d in draft.scheduled)
    loads_and_schedules(text_yaml)


def test_each_with_a_body_after_it_is_not_distributive():
    assert found("每月到各乡镇检查1次。") == [("month", 1, None, "inspection")]


# -- 4. holiday checks ------------------------------------------------------------------------------

def test_quoted_holiday_names_do_not_end_the_list():
    [hit] = holiday_checks.find("在元旦、“五一”、“十一”等节日前，带队开展安全检查。")
    assert hit.holidays == ("元旦", "劳动节", "国庆节")


def test_a_generic_holiday_inspection_covers_every_holiday_and_is_marked():
    [hit] = holiday_checks.find("节假日前对辖区商场超市开展专项巡查。")
    assert hit.holidays == ALL_HOLIDAYS and "按全部法定节日起草" in hit.note


def test_a_short_holiday_clause_before_the_next_heading_is_drafted_not_dropped():
    text = ("某县成员单位职责\n一、县某某大队\n1.每周开展一次消防抽查。\n2.春节、国庆等重要节日前，组织开展专项检查。\n"
            "\n二、县某某局\n1.每月检查一次。\n")
    draft, text_yaml = draft_yaml(text, YEAR)
    assert [(h.holidays, h.roles) for h in draft.holiday_checks] == [(("春节", "国庆节"), ("县某某大队",))]
    loads_and_schedules(text_yaml)


# -- 5. roles ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("heading", "role", "names_post"), [
    ("县自然资源和规划局", "县自然资源和规划局", True),  # a body's part of a member-units list
    ("市委政法委", "市委政法委", True),
    ("质量安全部安全生产职责：", "质量安全部", True),
    ("局党委书记、局长", "主要负责人", True),  # one person holding both posts
    ("分管交通运输的副县长", "分管交通运输的副县长", True),  # a deputy with a remit of its own, as written
    ("分管安全生产的社区居委会副主任", "分管负责人", True),
    ("村党支部书记（村级网格长）", "村级网格长", True),
    ("乡党委书记（全乡安全生产第一责任人）", "党委主要负责人", True),  # a known post keeps its role
    ("挂职干部", None, True),
])
def test_round2_headings(heading, role, names_post):
    assert heading_post(heading) == (role, names_post)


@pytest.mark.parametrize(("heading", "roles"), [
    ("单元长、楼道志愿者安全员", ("单元长", "楼道志愿者安全员")),
    ("乡党委书记、乡长", ("党委主要负责人", "政府主要负责人")),
    ("局党委书记、局长", ("主要负责人",)),
    ("局长", ("局长",)),
])
def test_a_heading_naming_several_posts_gives_them_all(heading, roles):
    assert heading_roles(heading) == roles


def test_duties_under_a_heading_of_several_posts_go_to_all_of_them():
    draft, text_yaml = draft_yaml("某社区网格职责\n（一）单元长、楼道志愿者安全员\n(1)每月参加一次社区安全培训。\n"
                                  "(2)发现隐患及时报告。\n", YEAR)
    assert [d.roles for d in draft.duties] == [("单元长", "楼道志愿者安全员")] * 2
    loads_and_schedules(text_yaml)


def test_every_named_subject_of_a_shared_duty_gets_it():
    assert [(f.subject, f.co_subjects) for f in cadence.find("乡党委书记、乡长每季度至少共同带队督查一次。")[0]] == [
        ("党委主要负责人", ("政府主要负责人",))]
    draft, text_yaml = draft_yaml("某乡职责清单\n一、乡领导班子\n1. 乡党委书记和乡长每季度至少共同带队督查一次。\n", YEAR)
    assert [d.roles for d in draft.scheduled] == [("党委主要负责人", "政府主要负责人")]
    loads_and_schedules(text_yaml)


def test_a_member_body_heading_and_an_unnumbered_lead_paragraph_get_the_body():
    text = ("某县安委会成员单位职责\n一、县应急管理局\n1.每月开展一次执法检查。\n\n二、县文化广电和旅游局\n"
            "    每年5月组织开展一次景区安全大检查。\n")
    draft, text_yaml = draft_yaml(text, YEAR)
    assert [d.roles for d in draft.scheduled] == [("县应急管理局",), ("县文化广电和旅游局",)]
    loads_and_schedules(text_yaml)
