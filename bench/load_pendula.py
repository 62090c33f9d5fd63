"""Load test: drive one Pendula flow's webhook trigger at a steady open-loop rate, loopback only.

By default the sandbox runs in its own process (so client and server do not share a GIL);
`--url` targets a sandbox that is already running on this machine. Every run is bounded by
`--seconds`, `--max-requests` and hard caps. Target: 200 req/s on one flow, p99 <= 50 ms.

    venv/bin/python bench/load_pendula.py [--rate 200] [--seconds 10] [--max-requests 3000]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import ipaddress
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
MAX_RATE = 1000.0
MAX_SECONDS = 60.0
MAX_REQUESTS = 20_000
MAX_CONNECTIONS = 64
TIMEOUT_SECONDS = 5.0

# The server process: started with the repository on sys.path, stopped when stdin closes.
SERVER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from sandbox.server import SandboxServer
from sandbox.settings import SandboxSettings
server = SandboxServer(SandboxSettings(db_path=Path(sys.argv[2])), port=int(sys.argv[3])).start()
print("ready", flush=True)
sys.stdin.read()
server.stop()
"""


def _loopback_only(url: str) -> str:
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"--url must point at this machine (127.0.0.1/localhost), got {url!r}")
    return url.rstrip("/")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used (Linux /proc), None where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def sandbox_process() -> Iterator[tuple[str, int | None]]:
    """A sandbox in a child process on a free loopback port and a throw-away database.

    Yields the base URL and the process id (to measure the server's CPU use).
    """
    with tempfile.TemporaryDirectory(prefix="load-pendula-") as tmp:
        port = _free_port()
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER,
                str(ROOT),
                str(Path(tmp) / "sandbox.sqlite3"),
                str(port),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None and child.stdin is not None
            if child.stdout.readline().strip() != "ready":
                raise SystemExit("the sandbox process did not start")
            yield f"http://127.0.0.1:{port}", child.pid
        finally:
            try:
                child.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def create_flow(base_url: str) -> tuple[str, str]:
    """A fresh tenant, API token and active flow; returns (webhook URL, API token)."""
    tenant = requests.post(f"{base_url}/_sandbox/pendula/tenants", json={}, timeout=10)
    tenant.raise_for_status()
    admin = {"Authorization": f"Bearer {tenant.json()['admin_token']}"}
    token = requests.post(
        f"{base_url}/api/v1/tokens", json={"name": "load test"}, headers=admin, timeout=10
    )
    token.raise_for_status()
    flow = requests.post(
        f"{base_url}/api/v1/flows", json={"name": "load test"}, headers=admin, timeout=10
    )
    flow.raise_for_status()
    return flow.json()["webhook_url"], token.json()["token"]


@dataclass
class Results:
    """What the load run observed."""

    started: float = 0.0
    finished: float = 0.0
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    service_ms: list[float] = field(default_factory=list)
    """Send to response: what the server costs."""
    scheduled_ms: list[float] = field(default_factory=list)
    """Scheduled send time to response: includes any client lag (no coordinated omission)."""
    lock: threading.Lock = field(default_factory=threading.Lock)


def drive(url: str, token: str, rate: float, total: int, connections: int) -> Results:
    """Send `total` requests, request i at start + i / rate, over `connections` sessions."""
    results = Results()
    next_index = iter(range(total))
    index_lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}", "X-PENDULA-CUSTOM-CONTEXT": '{"run":"load"}'}
    start = time.perf_counter() + 0.2  # let every worker get ready before the first slot

    def worker() -> None:
        with requests.Session() as session:
            while True:
                with index_lock:
                    i = next(next_index, None)
                if i is None:
                    return
                slot = start + i / rate
                delay = slot - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                sent = time.perf_counter()
                event: dict[str, Any] = {"type": "track", "event": "Load Test", "messageId": i}
                try:
                    status = str(
                        session.post(
                            url, json=event, headers=headers, timeout=TIMEOUT_SECONDS
                        ).status_code
                    )
                except requests.RequestException as exc:
                    status = type(exc).__name__
                done = time.perf_counter()
                with results.lock:
                    results.statuses[status] += 1
                    results.service_ms.append((done - sent) * 1000)
                    results.scheduled_ms.append((done - slot) * 1000)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    results.started = start
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.finished = time.perf_counter()
    return results


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def report(results: Results, rate: float, server_cpu: float | None) -> str:
    count = len(results.service_ms)
    elapsed = results.finished - results.started
    lines = [
        f"requests: {count} in {elapsed:.2f} s -> achieved {count / elapsed:.1f} req/s"
        f" (target {rate:g} req/s)",
        "statuses: " + ", ".join(f"{k}={v}" for k, v in sorted(results.statuses.items())),
    ]
    if server_cpu is not None:
        lines.append(
            f"server CPU: {server_cpu:.2f} s = {server_cpu / count * 1000:.2f} ms per request"
            f" ({server_cpu / elapsed:.0%} of one core)"
        )
    for label, values in (
        ("latency from send", results.service_ms),
        ("latency from schedule", results.scheduled_ms),
    ):
        lines.append(
            f"{label} (ms): p50={percentile(values, 0.50):.1f} p95={percentile(values, 0.95):.1f}"
            f" p99={percentile(values, 0.99):.1f} max={max(values):.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running sandbox on this machine (default: start one)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of the run")
    parser.add_argument("--max-requests", type=int, default=3000, help="cap on requests sent")
    parser.add_argument("--connections", type=int, default=8, help="client threads/connections")
    args = parser.parse_args(argv)
    for name, value, cap in (
        ("--rate", args.rate, MAX_RATE),
        ("--seconds", args.seconds, MAX_SECONDS),
        ("--max-requests", args.max_requests, MAX_REQUESTS),
        ("--connections", args.connections, MAX_CONNECTIONS),
    ):
        if not 0 < value <= cap:
            parser.error(f"{name} must be greater than 0 and at most {cap:g}, got {value:g}")
    total = min(args.max_requests, math.ceil(args.rate * args.seconds))

    target = (
        contextlib.nullcontext((_loopback_only(args.url), None)) if args.url else sandbox_process()
    )
    with target as (base_url, server_pid):
        webhook_url, token = create_flow(base_url)
        print(f"driving {webhook_url} with {total} requests at {args.rate:g} req/s")
        cpu_before = None if server_pid is None else cpu_seconds(server_pid)
        results = drive(webhook_url, token, args.rate, total, args.connections)
        cpu_after = None if server_pid is None else cpu_seconds(server_pid)
    server_cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    print(report(results, args.rate, server_cpu))
    return 0 if set(results.statuses) == {"202"} else 1


if __name__ == "__main__":
    sys.exit(main())
