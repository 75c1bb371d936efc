"""Fuzz sweep over the web console's routes (tests/support/fuzz_web.py).

Every route with generated path and query values, forms without a CSRF token, with a wrong one and
with the right one and junk fields, from nobody, a leader and the office: never a 5xx or a logged
error, 4xx pages carry a message, refusals are audited and change nothing. FUZZ_REQUESTS (default
40) is the number of generated requests; bench/fuzz.py runs longer.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from support.fuzz_updates import LoopThread
from support.fuzz_web import OTHER_LEADER, Request, WebWorld, requests

EXAMPLES = int(os.environ.get("FUZZ_REQUESTS", "40"))
SWEEP = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not os.environ.get("FUZZ_SEED"),
                 phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with LoopThread() as loop:
        w = WebWorld.start(loop, tmp_path_factory.mktemp("fuzz-web"))
        try:
            yield w
        finally:
            w.stop()


def check(world: WebWorld, req: Request) -> None:
    before = world.snapshot()
    res = world.call(world.send(req))
    problem = world.problem(req, res, before, world.snapshot())
    assert problem is None, f"{req}\n{problem}"


def test_generated_requests(world):
    @SWEEP
    @given(requests(world))
    def sweep(req):
        check(world, req)

    sweep()


def _concrete(route: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", route)


def test_every_post_without_or_with_a_wrong_csrf_token_is_refused_and_audited(world):
    posts = [r for m, r in world.routes if m == "POST" and not r.startswith("/login/")]
    assert posts
    for route in posts:
        for client in ("leader", "office"):
            for csrf in ("none", "wrong"):
                check(world, Request(client, "POST", _concrete(route), csrf=csrf, form={"text": "x"}, route=route))


def test_a_leader_on_office_pages_and_other_peoples_pages_is_refused(world):
    other = world.harness.catalog.find_person(OTHER_LEADER).id
    for path in ["/", "/overdue", "/exports", "/rank", f"/people/{other}", f"/people/{other}/archive.zip"]:
        req = Request("leader", "GET", path, route=path)
        before = world.snapshot()
        res = world.call(world.send(req))
        assert world.problem(req, res, before, world.snapshot()) is None
        assert res.status == 403 and res.body.strip(), (path, res.status)
        assert world.snapshot()["_refusals"] == before["_refusals"] + 1, path


# Numbers no row can have: past PostgreSQL's INTEGER ids (2**31 - 1), past SQLite's 64 bits, and digits
# str.isdigit() takes but int() does not ("²") or does ("３"). Each was a 500 on some backend.
PAST_ROW_IDS = [str(2**31), str(10**30), "²", "３"]


@pytest.mark.parametrize("value", PAST_ROW_IDS)
def test_ids_no_row_can_have_are_not_found_or_refused(world, value):
    for req in [Request("office", "GET", f"/exports/{quote(value)}/download", route="/exports/{id}/download"),
                Request("office", "GET", f"/evidence/{quote(value)}", route="/evidence/{id}"),
                Request("office", "GET", "/overdue", query={"page": value}, route="/overdue"),
                Request("office", "POST", "/overdue/nudge", csrf="right", form={"instance": value},
                        route="/overdue/nudge")]:
        check(world, req)
