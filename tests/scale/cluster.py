"""Two Rasa servers and two action servers behind HAProxy, on PostgreSQL and Redis.

Every process is the real one, started the way `make run` starts it (bot.stack), on
free loopback ports. HAProxy (Debian's `haproxy`, installed by scripts/test-services)
balances both hops: callers -> Rasa, and Rasa -> action servers. A caller can pin a
message to one Rasa server with the `X-Mijnstem-Route` header; every answer says which
server gave it in `X-Served-By`.
"""

from __future__ import annotations

import csv
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bot.model import ensure_model
from bot.settings import load_settings
from bot.stack import services
from tests.e2e.stack import Stack, free_port, stack_env
from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer

RASA_SERVERS = ("rasa1", "rasa2")
ACTION_SERVERS = ("actions1", "actions2")
CHECK = "check inter 2s fastinter 500ms downinter 500ms fall 3 rise 1"

HAPROXY_CFG = """\
global
    maxconn 2000
    stats socket {socket} mode 600 level user

defaults
    mode http
    timeout connect 3s
    timeout client 300s
    timeout server 300s
    # A Rasa server busy with a burst answers its health check late; that is not down.
    timeout check 30s
    option redispatch
    retries 2

frontend rasa_in
    bind 127.0.0.1:{rasa_port}
    default_backend rasa

backend rasa
    balance roundrobin
    option httpchk GET /webhooks/rest/
{routes}
    http-response set-header X-Served-By %[srv_name]
{rasa_servers}

frontend actions_in
    bind 127.0.0.1:{action_port}
    default_backend actions

backend actions
    balance roundrobin
    option httpchk GET /health
{action_servers}
"""


class HaproxyUnavailable(RuntimeError):
    pass


@dataclass
class Cluster:
    stack: Stack
    haproxy: subprocess.Popen[bytes]
    rasa_url: str
    action_url: str

    @property
    def stats_socket(self) -> Path:
        return self.stack.var_dir / "haproxy.sock"

    def served(self) -> dict[str, int]:
        """Requests each server answered so far, from HAProxy's own statistics."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.stats_socket))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        lines = data.decode().lstrip("# ").splitlines()
        rows = list(csv.DictReader(lines))
        return {r["svname"]: int(r["stot"]) for r in rows
                if r["svname"] in (*RASA_SERVERS, *ACTION_SERVERS)}

    def stop(self) -> None:
        if self.haproxy.poll() is None:
            self.haproxy.terminate()
            self.haproxy.wait(timeout=10)
        self.stack.stop()


def _wait_http(url: str, process: subprocess.Popen[bytes], route: str | None = None,
               timeout: float = 30) -> None:
    """Until `url` answers through HAProxy (from server `route`, when given)."""
    deadline = time.monotonic() + timeout
    headers = {"X-Mijnstem-Route": route} if route else {}
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"exited early while waiting for {url}")
        try:
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, timeout=2) as response:
                if route is None or response.headers.get("X-Served-By") == route:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not ready (route {route})")
        time.sleep(0.2)


def start_cluster(var_dir: Path, postgres: PostgresServer, redis: RedisServer,
                  size: int = 2) -> Cluster:
    """`size` Rasa servers and as many action servers (1 or 2) behind HAProxy."""
    rasa_names, action_names = RASA_SERVERS[:size], ACTION_SERVERS[:size]
    haproxy_bin = shutil.which("haproxy")
    if haproxy_bin is None:
        raise HaproxyUnavailable("haproxy is not installed (run scripts/test-services)")
    var_dir.mkdir(parents=True, exist_ok=True)
    tag = var_dir.name.replace("-", "_").lower()
    app_db = postgres.create_database(f"app_{tag}")
    tracker_db = postgres.create_database(f"tracker_{tag}")
    lb_rasa, lb_actions = free_port(), free_port()
    env = stack_env(var_dir, {
        "DATABASE_URL": app_db,
        "TRACKER_DB_URL": tracker_db,
        "REDIS_URL": redis.url,
        "RASA_PORT": str(lb_rasa),
        "ACTION_PORT": str(lb_actions),
    })
    settings = load_settings(env)
    model = ensure_model()
    stack = Stack(env=env, settings=settings, var_dir=var_dir)
    stack.cli("migrate")

    ports = {name: free_port() for name in (*rasa_names, *action_names)}
    cfg = HAPROXY_CFG.format(
        socket=var_dir / "haproxy.sock",
        rasa_port=lb_rasa,
        routes="\n".join(
            f"    use-server {n} if {{ req.hdr(x-mijnstem-route) -m str {n} }}"
            for n in rasa_names),
        action_port=lb_actions,
        rasa_servers="\n".join(
            f"    server {n} 127.0.0.1:{ports[n]} {CHECK}" for n in rasa_names),
        action_servers="\n".join(
            f"    server {n} 127.0.0.1:{ports[n]} {CHECK}" for n in action_names),
    )
    cfg_path = var_dir / "haproxy.cfg"
    cfg_path.write_text(cfg)
    checked = subprocess.run([haproxy_bin, "-c", "-q", "-f", str(cfg_path)],
                             capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError(f"haproxy config rejected: {checked.stderr}")
    with open(var_dir / "haproxy.log", "ab") as log:
        haproxy = subprocess.Popen([haproxy_bin, "-db", "-f", str(cfg_path)],
                                   stdout=log, stderr=subprocess.STDOUT)
    cluster = Cluster(stack=stack, haproxy=haproxy,
                      rasa_url=f"http://127.0.0.1:{lb_rasa}/webhooks/rest/webhook",
                      action_url=f"http://127.0.0.1:{lb_actions}/webhook")
    try:
        for rasa_name, action_name in zip(rasa_names, action_names, strict=True):
            own = settings.model_copy(update={"rasa_port": ports[rasa_name],
                                              "action_port": ports[action_name]})
            parts = {p.name: p for p in services(own, model)}
            actions, rasa = parts["action server"], parts["rasa"]
            actions.name, rasa.name = action_name, rasa_name
            # Rasa reaches the action servers only through the load balancer.
            rasa.env = {**rasa.env, "ACTION_ENDPOINT_URL": cluster.action_url}
            stack.launch(actions, {"ACTION_PORT": str(ports[action_name])})
            stack.launch(rasa)
        stack.wait_ready(timeout=300)
        # Both hops through HAProxy answer once its health checks see the servers.
        _wait_http(f"http://127.0.0.1:{lb_actions}/health", haproxy)
        for name in rasa_names:
            _wait_http(f"http://127.0.0.1:{lb_rasa}/webhooks/rest/", haproxy, route=name)
    except BaseException:
        cluster.stop()
        raise
    return cluster
