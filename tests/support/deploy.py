"""The deployment of docker-compose.yml without Docker: its nginx config (deploy/nginx.conf, the
same file) run by a real nginx in front of replicas started as the compose file says.

    compose = load_compose()
    ports = compose_ports(compose)                      # {"hook": 8443, "web": 8080, "proxy": 80}
    args = replica_args(compose, webhook_url=..., listen="127.0.0.1:PORT")   # after `dutybot run`
    env = replica_env(compose, data_dir=shared)         # what the harness does not set itself
    async with Nginx(tmp_path, compose, {"bot1": (hook1, web1), "bot2": (hook2, web2)}) as nginx:
        nginx.url                                       # http://127.0.0.1:PORT
        nginx.requests()                                # the access log: method, uri, status, upstreams
        nginx.request_waiting(port)                     # a request it sent to `port` lies unread there

The port numbers live in docker-compose.yml (the replicas' `--listen` and WEB_LISTEN, the proxy's
published port); deploy/nginx.conf must name the same (tests/test_deploy.py checks it) and is
rendered here by replacing exactly `botN:PORT` with 127.0.0.1 and a free port, and `listen PORT`
with a free port. Everything else an unprivileged nginx needs (pid file, logs, temp directories)
goes into the main config written around it, as the nginx image's /etc/nginx/nginx.conf includes
conf.d/default.conf.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from support.cluster import free_port
from support.sandbox_fixtures import eventually

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
REPLICAS = ("bot1", "bot2")
# The replicas' environment in the compose file, and who provides each here: tests/support/harness.py
# sets DATABASE_URL, DUTIES_FILE and WEB_LISTEN (a free port); replica_env sets DATA_DIR.
KNOWN_ENV = {"DATABASE_URL", "DATA_DIR", "DUTIES_FILE", "WEB_LISTEN", "WEB_TRUSTED_PROXIES"}


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _shell_words(bot: dict) -> list[str]:
    command = bot["command"]
    assert command[:2] == ["sh", "-c"] and len(command) == 3, command
    words = shlex.split(command[2])
    return words[1:] if words[0] == "exec" else words


def compose_ports(compose: dict) -> dict[str, int]:
    """The port numbers of the deployment, read from the compose file alone."""
    bot = compose["services"][REPLICAS[0]]
    words = _shell_words(bot)
    listen = words[words.index("--listen") + 1]
    published = [str(p) for p in compose["services"]["proxy"]["ports"]]
    assert len(published) == 1, published
    return {"hook": int(listen.rpartition(":")[2]), "web": int(bot["environment"]["WEB_LISTEN"].rpartition(":")[2]),
            "proxy": int(published[0].rpartition(":")[2])}


def replica_args(compose: dict, *, webhook_url: str, listen: str) -> list[str]:
    """The replicas' arguments after `dutybot run`, from the compose file's command, with the shell's
    $WEBHOOK_URL (from .env) and the container's listen address replaced."""
    words = _shell_words(compose["services"][REPLICAS[0]])
    assert words[:2] == ["dutybot", "run"], words
    container_listen = words[words.index("--listen") + 1]
    replace = {"${WEBHOOK_URL}": webhook_url, "$${WEBHOOK_URL}": webhook_url, container_listen: listen}
    args = [replace.get(w, w) for w in words[2:]]
    assert not any("$" in a for a in args), f"compose's command uses a variable the test does not set: {args}"
    return args


def replica_env(compose: dict, *, data_dir: Path) -> dict[str, str]:
    """The part of the replicas' compose environment the harness does not set itself: one DATA_DIR
    for both, as the compose file's shared `botdata` volume, and nginx's address (here 127.0.0.1) as
    the one trusted proxy, as the compose file names its nginx."""
    env = compose["services"][REPLICAS[0]]["environment"]
    assert set(env) == KNOWN_ENV, f"docker-compose.yml's replica environment changed: teach tests/support/deploy.py {set(env) ^ KNOWN_ENV}"
    return {"DATA_DIR": str(data_dir), "WEB_TRUSTED_PROXIES": "127.0.0.1"}


def render(conf: str, compose: dict, upstreams: dict[str, tuple[int, int]], listen: int) -> str:
    """deploy/nginx.conf with each `botN:PORT` → 127.0.0.1:(its local port) and `listen PORT` → `listen`."""
    ports = compose_ports(compose)
    out, n = re.subn(rf"^(\s*)listen {ports['proxy']};", rf"\g<1>listen 127.0.0.1:{listen};", conf, flags=re.M)
    assert n == 1, "deploy/nginx.conf: expected one `listen` of the port docker-compose.yml publishes"
    for host, (hook, web) in upstreams.items():
        for compose_port, local in ((ports["hook"], hook), (ports["web"], web)):
            out, n = re.subn(rf"\bserver {host}:{compose_port}\b", f"server 127.0.0.1:{local}", out)
            assert n == 1, f"deploy/nginx.conf: expected one `server {host}:{compose_port}`"
    assert not re.search(r"\bserver bot\d", out), "deploy/nginx.conf names a replica the compose file has not"
    return out


MAIN = """\
# As the nginx image's /etc/nginx/nginx.conf, for an unprivileged run in {dir}; one worker so the
# round robin is one sequence.
{user}worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
    log_format upstreams '$request_method|$request_uri|$status|$upstream_addr|$upstream_status';
    access_log {dir}/access.log upstreams;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/default.conf;
}}
"""


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


@dataclass
class Logged:
    method: str
    uri: str
    status: int
    upstreams: list[str]  # each server tried, in order ("127.0.0.1:PORT")
    upstream_statuses: list[str]


class Nginx:
    """A real nginx running deploy/nginx.conf (rendered for this machine) in the foreground."""

    def __init__(self, tmp_path: Path, compose: dict, upstreams: dict[str, tuple[int, int]]):
        self.dir = Path(tmp_path) / "nginx"
        self.port = free_port()
        self.compose = compose
        self.upstreams = upstreams
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write(self) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        rendered = render(NGINX_CONF.read_text(encoding="utf-8"), self.compose, self.upstreams, self.port)
        (self.dir / "default.conf").write_text(rendered, encoding="utf-8")
        user = "user root;\n" if os.geteuid() == 0 else ""  # as root, workers would run as nobody
        main = self.dir / "nginx.conf"
        main.write_text(MAIN.format(dir=self.dir, user=user), encoding="utf-8")
        return main

    async def __aenter__(self) -> Nginx:
        binary = nginx_binary()
        if binary is None:
            pytest.skip("needs nginx (apt-get install nginx; .ci/run installs it)")
        main = self.write()
        log = open(self.dir / "stderr.log", "wb")  # noqa: SIM115 - kept for the process's life
        self.proc = subprocess.Popen([binary, "-p", str(self.dir), "-e", str(self.dir / "error.log"), "-c", str(main),
                                      "-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

        def listening() -> bool:
            if self.proc.poll() is not None:
                pytest.fail(f"nginx exited with {self.proc.returncode}:\n{self.errors()}")
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        await eventually(listening, 15, "nginx listening", interval=0.02)
        return self

    async def __aexit__(self, *exc) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # fast shutdown: the master stops its workers
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: nginx's processes only
            self.proc.wait(timeout=10)

    def errors(self) -> str:
        return "\n".join((self.dir / name).read_text(errors="replace")[-4000:]
                         for name in ("stderr.log", "error.log") if (self.dir / name).exists())

    def requests(self) -> list[Logged]:
        path = self.dir / "access.log"
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
            method, uri, status, addrs, statuses = line.split("|")
            rows.append(Logged(method, uri, int(status), re.split(r"[,:]\s+", addrs) if addrs != "-" else [],
                               re.split(r"[,:]\s+", statuses) if statuses != "-" else []))
        return rows

    def request_waiting(self, port: int) -> bool:
        """nginx has connected to `port` and its request lies there unread (as at a frozen replica)."""
        mine = _socket_inodes({self.proc.pid} | _children(self.proc.pid))
        sockets = _tcp_sockets()
        nginx_ends = {local for local, remote, state, _, inode in sockets
                      if inode in mine and remote == port and state == _ESTABLISHED}
        return any(local == port and remote in nginx_ends and state == _ESTABLISHED and unread > 0
                   for local, remote, state, unread, _ in sockets)


_ESTABLISHED = "01"


def _tcp_sockets() -> list[tuple[int, int, str, int, str]]:
    """(local port, remote port, state, bytes received and unread, inode) of the IPv4 TCP sockets."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        rows.append((int(f[1].rpartition(":")[2], 16), int(f[2].rpartition(":")[2], 16), f[3],
                     int(f[4].partition(":")[2], 16), f[9]))
    return rows


def _socket_inodes(pids: set[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.add(int(entry))
    return found


__all__ = ["COMPOSE", "NGINX_CONF", "Logged", "Nginx", "compose_ports", "load_compose", "nginx_binary",
           "render", "replica_args", "replica_env"]
