"""docker-compose.yml and deploy/nginx.conf (Docker cannot run here: the files are parsed and
checked against each other and against the bot's own settings)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_runs_postgres_two_replicas_and_a_proxy():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"db", "bot1", "bot2", "proxy"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    replicas = [services["bot1"], services["bot2"]]
    for bot in replicas:  # the YAML anchor gave both the same image, database, volume and command
        assert bot["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://") and "@db:" in bot["environment"]["DATABASE_URL"]
        assert bot["depends_on"]["db"]["condition"] == "service_healthy"
        assert "botdata:/data" in bot["volumes"]
        assert "--webhook" in " ".join(bot["command"]) and "/healthz" in " ".join(bot["healthcheck"]["test"])
    assert replicas[0]["environment"] == replicas[1]["environment"]
    assert replicas[0]["hostname"] != replicas[1]["hostname"]  # lease holders are told apart by host name
    assert services["proxy"]["image"].startswith("nginx")
    assert any("deploy/nginx.conf" in v for v in services["proxy"]["volumes"])
    assert set(compose["volumes"]) >= {"pgdata", "botdata"}


def test_nginx_sends_webhooks_and_the_console_to_both_replicas():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    conf = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    bot = compose["services"]["bot1"]
    hook_port = re.search(r"--listen \S+:(\d+)", " ".join(bot["command"])).group(1)
    web_port = bot["environment"]["WEB_LISTEN"].rpartition(":")[2]
    upstreams = dict(re.findall(r"upstream (\w+) \{(.*?)\}", conf, re.S))
    assert set(re.findall(r"server (bot\d):(\d+)", upstreams["dutybot_webhook"])) == {("bot1", hook_port), ("bot2", hook_port)}
    assert set(re.findall(r"server (bot\d):(\d+)", upstreams["dutybot_web"])) == {("bot1", web_port), ("bot2", web_port)}
    assert re.search(r"location /telegram \{[^}]*proxy_pass http://dutybot_webhook;[^}]*proxy_next_upstream", conf)
    assert re.search(r"location / \{[^}]*proxy_pass http://dutybot_web;", conf)
