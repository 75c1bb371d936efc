"""The frequency grammar: the phrases responsibility lists use, structured forms, and garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schedules.catalog import PeriodKind
from schedules.frequency import chinese_number, parse_frequency, parse_structured

D, W, X, M, Q, H, Y = (PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.XUN, PeriodKind.MONTH, PeriodKind.QUARTER,
                       PeriodKind.HALF, PeriodKind.YEAR)


@pytest.mark.parametrize(("phrase", "every", "count"), [
    # the wording of seed 004 and the issue
    ("每月至少1次", M, 1),
    ("每季度1次", Q, 1),
    ("每半年至少1次", H, 1),
    ("每年3次", Y, 3),
    ("每周1次", W, 1),
    ("每旬1次", X, 1),
    ("每日", D, 1),
    ("每天", D, 1),
    ("每年1次", Y, 1),
    # Chinese numerals
    ("每月至少一次", M, 1),
    ("每季度两次", Q, 2),
    ("每半年二次", H, 2),
    ("每年三次", Y, 3),
    ("每年十次", Y, 10),
    ("每年十二次", Y, 12),
    ("每年二十次", Y, 20),
    ("每年二十四次", Y, 24),
    # 不少于 / 最少 / 以上, optional 个, 季 and 年度, spaces as typed in documents
    ("每季度不少于1次", Q, 1),
    ("每月不少于两次", M, 2),
    ("每周最少3次", W, 3),
    ("每月1次以上", M, 1),
    ("每个月至少1次", M, 1),
    ("每季1次", Q, 1),
    ("每年度1次", Y, 1),
    ("每星期1次", W, 1),
    ("每半年", H, 1),
    ("每月", M, 1),
    (" 每月 至少 2 次 ", M, 2),
    ("每年12次", Y, 12),
])
def test_phrases_of_the_lists(phrase, every, count):
    f = parse_frequency(phrase)
    assert f is not None, phrase
    assert (f.every, f.at_least) == (every, count)
    assert f.phrase == phrase.strip()


def test_half_year_is_not_read_as_year():
    # "半年" must win over "年": a half-yearly duty read as yearly would halve the instances
    assert parse_frequency("每半年至少1次").every is PeriodKind.HALF


@pytest.mark.parametrize("phrase", [
    "", "每", "月1次", "一月一次", "每月0次", "每月零次", "每月至少次", "每月若干次", "每两周1次",
    "每月-1次", "每月1.5次", "经常", "每月至少1次，每季度1次", "每世纪1次", "每月十十次", "每年一二十次",
    "每年三十五六次", "every month", "1",
])
def test_garbage_is_rejected(phrase):
    assert parse_frequency(phrase) is None


@given(st.text(alphabet="每月季度半年周旬日天至少不于最以上个次一二两三十零0123456789 x", max_size=14))
def test_any_text_parses_or_is_rejected_without_raising(text):
    f = parse_frequency(text)
    assert f is None or f.at_least >= 1


@pytest.mark.parametrize(("text", "value"), [
    ("3", 3), ("12", 12), ("一", 1), ("两", 2), ("二", 2), ("三", 3), ("十", 10), ("十二", 12), ("二十", 20),
    ("九十九", 99), ("", None), ("十十", None), ("一二十", None), ("x", None), ("三十五六", None),
])
def test_chinese_number(text, value):
    assert chinese_number(text) == value


@pytest.mark.parametrize(("every", "at_least", "kind"), [
    ("quarter", 1, Q), ("month", 2, M), ("half", 1, H), ("year", 3, Y), ("week", 1, W), ("xun", 1, X),
    ("day", 1, D), ("Quarterly", 1, Q), ("monthly", 1, M), ("half-year", 1, H), ("annual", 1, Y),
])
def test_structured(every, at_least, kind):
    f = parse_structured(every, at_least)
    assert f is not None and (f.every, f.at_least) == (kind, at_least)


@pytest.mark.parametrize(("every", "at_least"), [
    ("fortnight", 1), ("", 1), ("month", 0), ("month", -1), ("month", "2"), ("month", 1.5), ("month", True),
])
def test_structured_garbage_is_rejected(every, at_least):
    assert parse_structured(every, at_least) is None


def test_structured_form_in_a_catalogue(tmp_path):
    from schedules import load_catalog_text

    catalog = load_catalog_text(
        "roles: {r: r}\npeople: [{name: 甲, roles: [r]}]\n"
        "duties:\n  - {id: d, title: t, who: [r], frequency: {every: quarter, at_least: 1}}\n"
        "  - {id: e, title: t, who: [r], frequency: {every: month}}\n"
    )
    assert [(d.frequency.every, d.frequency.at_least) for d in catalog.duties] == [(Q, 1), (M, 1)]


@pytest.mark.parametrize(("phrase", "every", "n", "count"), [
    ("每月带班下井不得少于5个班次", PeriodKind.MONTH, 1, 5),  # shifts are occasions
    ("每三年组织对专职护林员轮训一次", PeriodKind.YEAR, 3, 1),  # 轮训 is the act, not a count of 轮
    ("每周组织对网吧、KTV等场所开展一次", PeriodKind.WEEK, 1, 1),  # Latin letters in the act
    ("每年上半年、下半年各1次", PeriodKind.HALF, 1, 1),  # each half named, as without 每年
])
def test_phrases_the_blind_rounds_wrote(phrase, every, n, count):
    f = parse_frequency(phrase)
    assert (f.every, f.n, f.at_least) == (every, n, count)
