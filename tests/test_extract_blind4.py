"""import-list on blind round 4 (issue 12): six lists with the new periods, written by someone who had not
read the extractor, scored in the refined notation (halfmonth, n, days, weekday, due, which, season).

The lists and their expected tables (tests/fixtures/holdout_blind4/) were written, and their sha256 recorded
in SHA256SUMS there, before the importer was first run on them. bench/RESULTS.md ("blind round 4") records
that first run: 99/110 found, 7 false duties among 106 drafted, one trap hit, tasks 1/1, holiday checks 2/3.
The importer was then fixed on these lists' failure classes (halves named separately, 每隔两个月, 周例会 inside
an explicit 每周五, the 其中 breakdown; the scorer reads 每年年底前 = due 12-31 as the plain year), so they are
no longer blind: the floors below are the second run (110/110, 0 false), so that any regression fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import support.extract_blind_support as blind  # noqa: E402

BLIND4 = blind.FIXTURES / "holdout_blind4"
TABLES = blind.tables(BLIND4)

# The tables are only evidence while nobody edits them to follow the importer: a change to a list or a
# table must come with a new first run recorded in bench/RESULTS.md and new checksums here.
SHA256 = {
    "l1_county_water.txt": "e38366e710820df337d71b197975f6090be40a249c28b349545d7e78c670abe4",
    "l2_town.txt": "1e0e5525322238729ce80474797aa75dc22728354c027d8cca6a37548282add2",
    "l3_chem_articles.txt": "4ded1404892cc0d49649e7e1022b5b39ec60ea8df515d8141e830f194b43d667",
    "l4_school.html": "09938417c19150de8c95e78ce88359987000b2d8876a1a30323769761925fabd",
    "l5_hospital.txt": "0d88fccbf74777c8ea9bbd46567a4296b0f237a4e57d1bfe33a069815efacb36",
    "l6_transport.txt": "eb9aa1ff19da867bdf5661f8b1e2ba6abbf99be34c87bbed01d63335de7e0bf0",
    "expected/l1_county_water.yaml": "169d6a1bfbbf291edcc715343870496725c919dcbbd696594a2c7cbb9405096d",
    "expected/l2_town.yaml": "9838dfcb01bb7bb2ba9734290c7cc85f3ab455e1031679ff7206937f69f0c224",
    "expected/l3_chem_articles.yaml": "f1c6542174b0a05d2d43d79c414582dd53ff92597e69d2949463d7d71d30368a",
    "expected/l4_school.yaml": "e0f5bb573447dad59e73b85e3de03dd017765589bf872b269ba5557d80fa072d",
    "expected/l5_hospital.yaml": "adc75a75ba925328826af4d0d929f4ef597feca15351813c227f1cad725fcad3",
    "expected/l6_transport.yaml": "7b07272eb86b763747d0e66ff4b396acd04f520e05ddde52a52c56c1929072fd",
}

# Second run, after the fixes (bench/RESULTS.md): per list (expected rows, matched, false duties, role ok by
# the tables' names). First run: l1 (18, 16, 2), l2 (19, 15, 2), l3 (19, 19, 1), l4 (16, 14, 1), l5 (19, 18, 0),
# l6 (19, 17, 1).
FLOORS = {
    "l1_county_water": (18, 18, 0, 0),
    "l2_town": (19, 19, 0, 0),
    "l3_chem_articles": (19, 19, 0, 11),
    "l4_school": (16, 16, 0, 8),
    "l5_hospital": (19, 19, 0, 18),
    "l6_transport": (19, 19, 0, 0),
}
TASKS = 1  # of 1
HOLIDAY_CHECKS = 3  # of 3 (寒暑假前 since school breaks are holidays)


def test_blind4_lists_and_tables_are_unchanged_since_the_first_run():
    assert [t.stem for t in TABLES] == sorted(FLOORS)
    blind.assert_unchanged(BLIND4, SHA256)


@pytest.mark.parametrize("table", TABLES, ids=lambda p: p.stem)
def test_import_list_draft_of_a_blind4_list_loads(table: Path, tmp_path: Path):
    blind.assert_draft_loads(table, tmp_path)


@pytest.mark.parametrize("table", TABLES, ids=lambda p: p.stem)
def test_blind4_recall_false_duties_and_roles_are_no_worse_than_after_the_fixes(table: Path):
    rows, matched, false, role_ok = FLOORS[table.stem]
    s = blind.score_table(table)
    blind.assert_recall_and_false_duties(s, rows, matched, false)
    blind.assert_roles(s, role_ok)


def test_blind4_totals_tasks_and_holiday_checks_are_no_worse_than_after_the_fixes():
    total = blind.total_score(TABLES)
    assert (total.expected, total.tasks_expected, total.checks_expected) == (110, 1, 3)
    assert total.matched >= 110 and len(total.false) <= 0
    blind.assert_tasks_and_holiday_checks(total, TASKS, HOLIDAY_CHECKS)
