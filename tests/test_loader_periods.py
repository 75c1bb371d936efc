"""The loader and the refined periods: structured forms, seasons, start_year, each mistake reported with
its position, and every frequency phrasing of the seeds and fixture lists accepted as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.importer import read_list
from schedules import CatalogError, load_catalog_text
from schedules.catalog import PeriodKind, Season
from schedules.extract import extract

ROOT = Path(__file__).resolve().parent.parent
BASE = "roles: {r: r}\npeople: [{name: 甲, roles: [r]}]\n"
# The seasons import-list drafts besides 汛期 come with a `seasons:` entry in the draft; so here.
SEASONS = "seasons: {森林防火期: {from: 10-01, to: 05-31}, 供暖期: {from: 11-15, to: 03-15}}\n"


def duty(frequency: str) -> str:
    return BASE + f"duties:\n  - {{id: d, title: t, who: [r], frequency: {frequency}}}\n"


def problems(text: str) -> list[str]:
    with pytest.raises(CatalogError) as e:
        load_catalog_text(text, "t.yaml")
    return [str(p) for p in e.value.problems]


@pytest.mark.parametrize(("frequency", "fragment"), [
    # n: only the months that tile a year, only sensible year cycles
    ("{every: month, n: 5}", "`n` must be 2, 3, 4, 6 or 12 with `every: month`"),
    ("{every: week, n: 2}", "`n` must be 2, 3, 4, 6 or 12"),
    ("{every: year, n: 20}", "or 2–10 with `every: year`"),
    # anchor: only with every n years, and a plausible year
    ("{every: month, anchor: 2026}", "`anchor` needs `every: year, n: N`"),
    ("{every: year, n: 2, anchor: 26}", "anchor 应为不小于 2000 的整数"),
    # days
    ("{days: [10, 32]}", "`days` is a list of days of the month (1–31)"),
    ("{every: week, days: [10]}", "`days` is a list of days of the month"),
    ("{days: []}", "`days` is a list of days of the month"),
    # weekday
    ("{weekday: friyay}", "`weekday` is one of mon, tue, wed, thu, fri, sat, sun"),
    ("{every: month, weekday: fri}", "with `every: week`"),
    # due
    ("{every: month, due: \"11-30\"}", "`due` is \"DD\" with `every: month`"),
    ("{every: year, due: \"02-30\"}", "\"MM-DD\" with `every: year`"),
    # which
    ("{which: H3}", "`which` is H1 (上半年) or H2 (下半年)"),
    # season and when
    ("{season: 台风季}", "未知时段 “台风季” / unknown season"),
    ("{season: 汛期, when: soon}", "`when` is before, during or after"),
    ("{every: month, when: before}", "`when` needs `season`"),
    # one refinement at a time
    ("{every: month, days: [10], due: \"05\"}", "use only one of days, due"),
])
def test_each_structured_form_reports_its_mistake_with_the_position(frequency, fragment):
    found = problems(duty(frequency))
    assert any(fragment in p and re.match(r"t\.yaml:4:\d+: ", p) for p in found), found


def test_seasons_and_start_year_are_read_and_checked():
    catalog = load_catalog_text("start_year: 2025\nseasons:\n  供暖期: {from: 11-15, to: 03-15}\n"
                                + duty("每年供暖期前1次"))
    assert catalog.start_year == 2025
    assert catalog.seasons["供暖期"] == Season("供暖期", (11, 15), (3, 15))
    assert catalog.seasons["汛期"] == Season("汛期", (5, 1), (9, 30))  # the default stays
    f = catalog.duties[0].frequency
    assert (f.season, f.when) == ("供暖期", "before")
    assert any("must be MM-DD" in p for p in problems("seasons:\n  汛期: {from: 05-41, to: 09-30}\n" + duty("每月")))
    assert any("unknown field" in p for p in problems("seasons:\n  汛期: {from: 05-01, to: 09-30, at: x}\n"
                                                      + duty("每月")))
    assert any("start_year" in p for p in problems("start_year: 1999\n" + duty("每月")))
    assert any("start_year" in p for p in problems("start_year: 3000\n" + duty("每月")))


def test_an_overridden_flood_season_moves_its_windows():
    catalog = load_catalog_text("seasons: {汛期: {from: 04-15, to: 10-15}}\n" + duty("每年汛前1次"))
    from datetime import date

    from schedules import Schedule

    (w,) = Schedule(catalog).item_windows("d", date(2026, 1, 1), date(2027, 1, 1))
    assert (w.period_key, w.due_at.date()) == ("2026-汛期前", date(2026, 4, 14))


@pytest.mark.parametrize(("phrase", "nearest"), [
    ("每两周1次", "每月2次"), ("每三天1次", "每周2次"), ("每月若干次", "每月至少1次"), ("每季度一回", "每季度至少1次"),
])
def test_an_unparseable_phrase_is_quoted_with_the_nearest_known_form(phrase, nearest):
    (p,) = problems(duty(phrase))
    assert f"无法识别的频次 “{phrase}”" in p and f"nearest known form: {nearest};" in p


def test_spread_is_refused_for_a_frequency_with_a_fixed_day():
    assert any("spread cannot cut" in p for p in problems(
        BASE + "duties:\n  - {id: d, title: t, who: [r], frequency: 每周五2次, spread: true}\n"))
    catalog = load_catalog_text(BASE + "duties:\n  - {id: d, title: t, who: [r], frequency: 每两个月2次, spread: true}\n")
    assert catalog.duties[0].frequency.n == 2


# -- every frequency phrasing of the seeds and the fixture lists, as written ----------------------------
LISTS = sorted(
    [*ROOT.joinpath("tests", "fixtures", "seeds").glob("*.txt"),
     *(p for d in ROOT.joinpath("tests", "fixtures").glob("holdout*") for p in d.iterdir()
       if p.suffix in (".txt", ".html", ".docx", ".pdf", ".doc"))]
    + sorted(Path("/work/shared/seeds").glob("*.txt")))


def phrasings(path: Path) -> list[tuple[str, str]]:
    """(phrase as the list writes it, what the importer drafted) for each scheduled duty the importer
    reads without converting it (a converted one, 每两周 → 每月2次, carries a 待核 note saying so)."""
    draft = extract(read_list(str(path)), 2026)
    return [(d.phrase, d.frequency) for d in draft.scheduled
            if d.phrase and not any(n.startswith("原文“") and "起草" in n for n in d.notes)]


def test_the_lists_are_collected():
    assert len(LISTS) >= 25
    assert sum(len(phrasings(p)) for p in LISTS[:4]) > 10


@pytest.mark.parametrize("path", LISTS, ids=lambda p: p.name)
def test_dutybot_check_accepts_every_frequency_phrasing_of_the_lists_as_written(path, tmp_path):
    from bot.cli import main

    found = phrasings(path)
    text = BASE + SEASONS + "duties:\n" + "".join(
        f"  - {{id: d{i}, title: t, who: [r], frequency: \"{phrase}\"}}\n" for i, (phrase, _) in enumerate(found))
    catalog_file = tmp_path / "duties.yaml"
    catalog_file.write_text(text if found else BASE, encoding="utf-8")
    assert main(["check", str(catalog_file)]) == 0, [p for p, _ in found]
    catalog = load_catalog_text(text if found else BASE)
    for d, (phrase, drafted) in zip(catalog.duties, found, strict=True):
        # as written, the phrase means what the importer drafted from it
        from schedules.frequency import parse_frequency

        assert d.frequency.every in PeriodKind
        again = parse_frequency(drafted, tuple(catalog.seasons))
        if d.frequency.every is PeriodKind.HALF and d.frequency.which is None and again.which:
            continue  # 上半年、下半年各一次: every half, drafted as the two halves named separately
        assert (d.frequency.every, d.frequency.n, d.frequency.days, d.frequency.weekday, d.frequency.due,
                d.frequency.which, d.frequency.season) == (again.every, again.n, again.days, again.weekday,
                                                           again.due, again.which, again.season), phrase
