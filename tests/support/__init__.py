"""Test support: the fixtures and small worlds the tests share.

- `harness`: the whole bot (in-process or as a subprocess) against the Bot API sandbox.
- `sandbox_fixtures`: the sandbox alone, a PTB Bot pointed at it, `eventually`.
- `checkin_world`, `checkin_fixtures`, `checkin_e2e_fixtures`: the check-in and office tests' world.
- `callout_fixtures`: a small 叫应 catalogue and outbox helpers.
- `assessment_world`: builders for assessment, export and verify tests.
- `extract_blind_support`: scoring of the import-list blind rounds.
- `cluster`: several real bot processes on one PostgreSQL database; `deploy`: docker-compose.yml's
  nginx config run by a real nginx in front of them.

Fixture modules are loaded per test module with `pytest_plugins = ["support.harness", ...]`;
assertions in all of them are rewritten (tests/conftest.py registers the package).
"""
