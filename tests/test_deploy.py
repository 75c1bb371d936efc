"""docker-compose.yml and deploy/nginx.conf checked against each other and against the bot's own
settings (Docker cannot run here). tests/test_deploy_proxy.py runs the topology itself: a real
nginx with deploy/nginx.conf in front of two real replicas on PostgreSQL."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import yaml
from support import deploy

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
    compose = deploy.load_compose()
    conf = deploy.NGINX_CONF.read_text(encoding="utf-8")
    ports = deploy.compose_ports(compose)  # the port numbers, from the compose file alone
    upstreams = dict(re.findall(r"upstream (\w+) \{(.*?)\}", conf, re.S))
    replicas = set(deploy.REPLICAS)
    assert set(compose["services"]) >= replicas
    assert set(re.findall(r"server (bot\d):(\d+)", upstreams["dutybot_webhook"])) == {(b, str(ports["hook"])) for b in replicas}
    assert set(re.findall(r"server (bot\d):(\d+)", upstreams["dutybot_web"])) == {(b, str(ports["web"])) for b in replicas}
    assert re.search(rf"^\s*listen {ports['proxy']};", conf, re.M)  # the port compose publishes
    webhook = re.search(r"location /telegram \{([^}]*)\}", conf).group(1)
    console = re.search(r"location / \{([^}]*)\}", conf).group(1)
    assert "proxy_pass http://dutybot_webhook;" in webhook and "proxy_pass http://dutybot_web;" in console
    # a delivery that reached a replica which died goes on to the other (the inbox drops repeats);
    # a console POST is not safe to repeat
    assert re.search(r"proxy_next_upstream [^;]*\bnon_idempotent;", webhook)
    assert "proxy_next_upstream" in console and "non_idempotent" not in console


def test_the_proxy_test_runs_the_compose_files_replicas():
    """tests/test_deploy_proxy.py starts the replicas from the compose file's command and
    environment and runs deploy/nginx.conf itself: both are readable the way it reads them."""
    compose = deploy.load_compose()
    args = deploy.replica_args(compose, webhook_url="http://127.0.0.1:1/telegram", listen="127.0.0.1:2")
    assert args == ["--webhook", "http://127.0.0.1:1/telegram", "--listen", "127.0.0.1:2"]
    assert deploy.replica_env(compose, data_dir=ROOT / "data") == {"DATA_DIR": str(ROOT / "data"),
                                                                    "WEB_TRUSTED_PROXIES": "127.0.0.1"}
    rendered = deploy.render(deploy.NGINX_CONF.read_text(encoding="utf-8"), compose, {"bot1": (11, 12), "bot2": (21, 22)}, 3)
    assert "server bot" not in rendered and re.search(r"^\s*listen 127\.0\.0\.1:3;", rendered, re.M)
    assert sorted(re.findall(r"server 127\.0\.0\.1:(\d+)", rendered)) == ["11", "12", "21", "22"]


def test_the_replicas_environment_is_what_the_bot_reads(monkeypatch):
    """The compose environment, with the .env the compose file asks for, gives the bot the settings
    the proxy and the health check expect."""
    from bot.config import Settings

    compose = deploy.load_compose()
    bot = compose["services"][deploy.REPLICAS[0]]
    dotenv = {"BOT_TOKEN": "1:x", "WEBHOOK_URL": "https://duty.example/telegram", "WEBHOOK_SECRET": "s" * 32,
              "WEB_BASE_URL": "https://duty.example"}
    header = deploy.COMPOSE.read_text(encoding="utf-8").split("\nx-bot")[0]
    assert all(name in header for name in dotenv)  # the compose file's header names what .env needs
    for name, value in {**dotenv, **bot["environment"]}.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env(env_file=None)
    ports = deploy.compose_ports(compose)
    assert settings.web_listen == f"0.0.0.0:{ports['web']}" and settings.webhook_secret == dotenv["WEBHOOK_SECRET"]
    assert settings.database_url == bot["environment"]["DATABASE_URL"] and str(settings.data_dir) == "/data"
    assert settings.web_url == dotenv["WEB_BASE_URL"]  # sign-in links point at nginx, not at a replica
    assert f"127.0.0.1:{ports['web']}/healthz" in " ".join(bot["healthcheck"]["test"])
    # the replicas trust X-Forwarded-For from the proxy's pinned address, and from nothing else
    proxy_ip = compose["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    assert [str(n) for n in settings.web_trusted_proxies] == [f"{proxy_ip}/32"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_ip) in ipaddress.ip_network(subnet)
