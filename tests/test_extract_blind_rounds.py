"""import-list on the blind rounds: lists written by someone who had not read the extractor.

Each round is a directory of tests/fixtures/ (holdout_blind, holdout_blind2, …): the lists, their expected
tables (`expected/*.yaml`, in the notation of tests/fixtures/extract_expected/README.md and, from round 4
on, the refined period notation) and SHA256SUMS, all written BEFORE the importer was first run on them.
Only that first run estimates accuracy on unseen lists; bench/RESULTS.md records it for every round.
Once the importer is tuned on a round's failure classes the round becomes a tuning fixture: its floors
are then the tuned figures, so that any regression fails, and bench/RESULTS.md says it is no longer blind.

A new round is a new directory plus one `Round` below; a changed list or table must come with a new first
run in bench/RESULTS.md and new checksums (the tables are evidence only while nobody edits them to follow
the importer).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import support.extract_blind_support as blind  # noqa: E402


@dataclass(frozen=True)
class Round:
    directory: str
    first_run: str  # the blind figure, for the record
    lists: dict[str, tuple[int, int, int, int]]  # floors per list: (expected rows, matched, false duties, role ok)
    tasks: tuple[int, int]  # (floor, of)
    checks: tuple[int, int]  # holiday checks: (floor, of)
    tuned: bool  # floors are figures after tuning on this round, not its first run

    @property
    def path(self) -> Path:
        return blind.FIXTURES / self.directory


ROUNDS = [
    # Role floors count the tables' own role names; the importer drafts its own (主要负责人…) where the list
    # names a post only in a heading, so they stay below the row counts.
    Round("holdout_blind", "76/78 found, 5 false duties among 81 drafted", {
        "blind_a_county": (20, 20, 0, 17),
        "blind_b_town": (15, 15, 0, 13),
        "blind_c_enterprise": (16, 16, 0, 8),
        "blind_d_school": (13, 13, 0, 8),
        "blind_e_hospital_trad": (14, 14, 0, 9),
    }, tasks=(3, 3), checks=(4, 4), tuned=True),
    Round("holdout_blind2", "77/80 found, 8 false among 85, holiday checks 0/4", {
        "bl2_a_county_members": (22, 22, 0, 18),
        "bl2_b_town_leaders_trad": (18, 18, 0, 18),
        "bl2_c_chem_enterprise": (16, 16, 0, 12),
        "bl2_d_transport_bureau": (13, 13, 0, 11),
        "bl2_e_street_grid": (11, 11, 0, 11),
    }, tasks=(6, 6), checks=(4, 4), tuned=True),
    Round("holdout_blind3", "85/86 found, 0 false among 85, tasks 2/2, holiday checks 4/4", {
        "l1_city_emergency": (14, 14, 0, 7),
        "l2_county_articles": (16, 16, 0, 0),
        "l3_school": (18, 18, 0, 13),
        "l4_construction": (13, 12, 0, 1),
        "l5_devzone": (13, 13, 0, 0),
        "l6_town_traditional": (12, 12, 0, 0),
    }, tasks=(2, 2), checks=(4, 4), tuned=False),
    # Tuned on: halves named separately, 每隔两个月, 周例会 inside an explicit 每周五, the 其中 breakdown, 寒暑假前.
    Round("holdout_blind4", "99/110 found, 7 false among 106, one trap hit, holiday checks 2/3", {
        "l1_county_water": (18, 18, 0, 0),
        "l2_town": (19, 19, 0, 0),
        "l3_chem_articles": (19, 19, 0, 11),
        "l4_school": (16, 16, 0, 8),
        "l5_hospital": (19, 19, 0, 18),
        "l6_transport": (19, 19, 0, 0),
    }, tasks=(1, 1), checks=(3, 3), tuned=True),
    # Tuned on: a post before 督促, the second party of one 督促, quoted mechanisms (“日管控、周排查”), coverage goals,
    # counts in 班次, table cells as clause parts (督促处置 | 每日; holidays in the 频次 cell).
    Round("holdout_blind5", "103/105 found, 6 false among 109, 5 traps hit, holiday checks 5/6", {
        "l1_city_emergency": (20, 20, 0, 0),
        "l2_street": (17, 17, 0, 0),
        "l3_chem_park": (17, 17, 0, 0),
        "l4_mine_articles": (17, 17, 0, 6),
        "l5_edu_bureau": (16, 16, 0, 0),
        "l6_market_table": (18, 18, 0, 0),
    }, tasks=(6, 6), checks=(6, 6), tuned=True),
    # Tuned on: a "频次：…" line under its item, seasons besides 汛期 (森林防火期), "汛前1次，汛后1次", holidays in a
    # row's last cell. Left: "督促农药经营者建立进销台账，每日登记…" (the party's act after a supervising part) stays false.
    Round("holdout_blind6", "91/112 found, 21 false among 112 (19 of them one layout), holiday checks 6/8", {
        "l1_county_housing": (20, 20, 0, 5),
        "l2_township": (19, 19, 0, 0),
        "l3_county_health": (19, 19, 0, 0),
        "l4_port_articles": (20, 20, 0, 5),
        "l5_forestry": (17, 17, 0, 0),
        "l6_agri_table": (17, 17, 1, 0),
    }, tasks=(6, 6), checks=(8, 8), tuned=True),
    # Tuned on: a coverage per customer ("确保对每户…每两年…，对非居民用户每年…"), 每班组织 (每班, not 每班组).
    Round("holdout_blind7", "103/104 found, 2 false among 105 (one clause), holiday checks 7/7", {
        "l1_county_gov": (19, 19, 0, 0),
        "l2_traffic_brigade": (16, 16, 0, 4),
        "l3_gas_articles": (19, 19, 0, 1),
        "l4_village": (16, 16, 0, 16),
        "l5_culture_tourism": (16, 16, 0, 0),
        "l6_school_table": (18, 18, 0, 0),
    }, tasks=(6, 6), checks=(7, 7), tuned=True),
    # Tuned on: coverage in new shapes (覆盖所有…, 全县每座…, 每户 in a table cell), the same supervised party's next
    # frequency, a span of days (所称汛期为…至…), "…，10月底前" after 每年4月底前, 每年上半年、下半年各 as two halves.
    Round("holdout_blind8", "101/104 found, 7 false among 108, holiday checks 6/6", {
        "l1_city_safety_committee": (20, 20, 0, 0),
        "l2_county_commerce": (17, 17, 0, 8),
        "l3_hydropower_articles": (18, 18, 0, 9),
        "l4_community_table": (16, 16, 0, 0),
        "l5_sports_bureau": (17, 17, 0, 8),
        "l6_construction_project": (16, 16, 0, 9),
    }, tasks=(6, 6), checks=(6, 6), tuned=True),
    # The first blind run within issue 12's goal. Tuned on: 汛前 opening an item with its count further on, 全年 with
    # the count after a long act, a 说明： paragraph (about the list, nobody's duty).
    Round("holdout_blind9", "105/107 found, 1 false among 106 (goal met), holiday checks 6/6", {
        "l1_prov_housing": (19, 19, 0, 0),
        "l2_county_towns": (19, 19, 0, 0),
        "l3_hazchem_warehouse": (17, 17, 0, 1),
        "l4_hospital": (17, 17, 0, 4),
        "l5_university": (17, 17, 0, 10),
        "l6_bus_company": (18, 18, 0, 0),
    }, tasks=(6, 6), checks=(6, 6), tuned=True),
]
TABLES = [pytest.param(r, t, id=f"{r.directory}/{t.stem}") for r in ROUNDS for t in blind.tables(r.path)]
BY_ROUND = pytest.mark.parametrize("rnd", ROUNDS, ids=lambda r: r.directory)
BY_TABLE = pytest.mark.parametrize(("rnd", "table"), TABLES)


@BY_ROUND
def test_lists_and_tables_are_unchanged_since_the_first_run(rnd: Round):
    assert [t.stem for t in blind.tables(rnd.path)] == sorted(rnd.lists)
    recorded = blind.recorded_digests(rnd.path)
    written = {p.relative_to(rnd.path).as_posix() for p in rnd.path.rglob("*")
               if p.is_file() and p.name != "SHA256SUMS" and p.name != "README.md"}
    assert written <= set(recorded), f"not in SHA256SUMS: {sorted(written - set(recorded))}"
    blind.assert_unchanged(rnd.path, recorded)


@BY_TABLE
def test_the_draft_of_each_list_loads(rnd: Round, table: Path, tmp_path: Path):
    blind.assert_draft_loads(table, tmp_path)


@BY_TABLE
def test_recall_false_duties_and_roles_keep_their_floors(rnd: Round, table: Path):
    rows, matched, false, role_ok = rnd.lists[table.stem]
    s = blind.score_table(table)
    blind.assert_recall_and_false_duties(s, rows, matched, false)
    blind.assert_roles(s, role_ok)


@BY_ROUND
def test_tasks_and_holiday_checks_keep_their_floors(rnd: Round):
    total = blind.total_score(blind.tables(rnd.path))
    assert (total.tasks_expected, total.checks_expected) == (rnd.tasks[1], rnd.checks[1])
    blind.assert_tasks_and_holiday_checks(total, rnd.tasks[0], rnd.checks[0])


def test_round_one_leaves_only_the_two_posts_clause_unassigned():
    """"第六条 各部门、车间负责人…" names two posts: the importer leaves those rows to 待定角色, no other."""
    total = blind.total_score(blind.tables(ROUNDS[0].path))
    unassigned = [r["at"] for r, d in total.wrong_role if d.roles == ("待定角色",)]
    assert len(unassigned) <= 2, unassigned
