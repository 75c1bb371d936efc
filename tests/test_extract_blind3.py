"""import-list on blind round 3: six lists written by someone who had not read the extractor.

The lists and their expected tables (tests/fixtures/holdout_blind3/) were written, and their sha256
recorded in SHA256SUMS there, before the importer was first run on them. bench/RESULTS.md ("blind round
3") records that first run: 85/86 found, 0 false duties among 85 drafted, no trap hit, tasks 2/2, holiday
checks 4/4. The floors below are that first run, so that any regression fails; if the importer is later
tuned on these lists, raise the floors and say in bench/RESULTS.md that they are no longer blind.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import support.extract_blind_support as blind  # noqa: E402

BLIND3 = blind.FIXTURES / "holdout_blind3"
TABLES = blind.tables(BLIND3)

# The tables are only evidence while nobody edits them to follow the importer: a change to a list or a
# table must come with a new first run recorded in bench/RESULTS.md and new checksums here.
SHA256 = {
    "l1_city_emergency.txt": "3f6462ef04a9a43c2ba92e83e1a1f49d8c363ea589e72ba4eeab7dda5eac6b36",
    "l2_county_articles.txt": "797d2b94c67165acd2a2e45c594e1b4f14554d27a9ef59bb7477cc0f9c329ee9",
    "l3_school.txt": "d45df6dc374b4d09326e778812f8cb06d1a163d9b9286072a1e9bbeec285674a",
    "l4_construction.txt": "9dcf96953d17ff6ff510eb07fde3d061b145ac5eb13bf55233fb485c74be9ce3",
    "l5_devzone.html": "ad0ae55f7a0153516fc2ef5a0227928e162e88824fc2edba50705ec81ed9964e",
    "l6_town_traditional.txt": "201c1978f681106b883dc9c907c70782243a1bc87e3620e1173c8243f67722a9",
    "README.md": "ef0eb786b85fff4be752748c4d9f6ec2e77ecdb133cad41fb7d40600d2777b05",
    "expected/l1_city_emergency.yaml": "1ceb37c29d48ca12fa4dcc8de92e4b55eb08a011cf36de9db1125c507f7b9791",
    "expected/l2_county_articles.yaml": "496ef873855f4beabf77f643496f5284a9fda2a61b853530b62655494758474d",
    "expected/l3_school.yaml": "64386f6d2afa3bf9418edcd981585438b4970edae45244b29a4bab99e0320edd",
    "expected/l4_construction.yaml": "781bda07d4ae98f71a60af26f73580afc649b5bc156f7a7a10e015b9a6fdf2a9",
    "expected/l5_devzone.yaml": "18c332f7899b5ccfc03390d30682adcfe207f4611af7a3fed6674a4300e06089",
    "expected/l6_town_traditional.yaml": "d056af2e615b081c8e35fd74ac2c810f47a72de8b42a02511282c2c78d30b06f",
}

# First run (bench/RESULTS.md): per list (expected rows, matched, false duties, role ok by the tables' names).
FIRST_RUN = {
    "l1_city_emergency": (14, 14, 0, 7),
    "l2_county_articles": (16, 16, 0, 0),
    "l3_school": (18, 18, 0, 13),
    "l4_construction": (13, 12, 0, 1),
    "l5_devzone": (13, 13, 0, 0),
    "l6_town_traditional": (12, 12, 0, 0),
}
TASKS = 2  # of 2
HOLIDAY_CHECKS = 4  # of 4


def test_blind3_lists_and_tables_are_unchanged_since_the_first_run():
    assert [t.stem for t in TABLES] == sorted(FIRST_RUN)
    changed = blind.changed_files(BLIND3, SHA256)
    assert not changed, f"blind round 3 fixtures edited after their first run: {changed}"
    # SHA256SUMS (written before the first run) lists the same digests
    recorded = dict(reversed(line.split()) for line in (BLIND3 / "SHA256SUMS").read_text().splitlines() if line)
    assert recorded == SHA256


@pytest.mark.parametrize("table", TABLES, ids=lambda p: p.stem)
def test_import_list_draft_of_a_blind3_list_loads(table: Path, tmp_path: Path):
    blind.assert_draft_loads(table, tmp_path)


@pytest.mark.parametrize("table", TABLES, ids=lambda p: p.stem)
def test_blind3_recall_false_duties_and_roles_are_no_worse_than_the_first_run(table: Path):
    rows, matched, false, role_ok = FIRST_RUN[table.stem]
    s = blind.score_table(table)
    blind.assert_recall_and_false_duties(s, rows, matched, false)
    blind.assert_roles(s, role_ok)


def test_blind3_totals_tasks_and_holiday_checks_are_no_worse_than_the_first_run():
    total = blind.total_score(TABLES)
    assert (total.expected, total.tasks_expected, total.checks_expected) == (86, 2, 4)
    assert total.matched >= 85 and len(total.false) <= 0
    blind.assert_tasks_and_holiday_checks(total, TASKS, HOLIDAY_CHECKS)
