"""Throughput of the Segment delivery path: track -> trigger -> render -> POST to the Pendula flow.

Starts a sandbox on a free loopback port in this process, wires one source -> Webhooks
(Actions) destination -> one mapping -> an active Pendula flow, sends `--events` track events
through `/v1/batch`, and times until every one is delivered (202 from the flow). Bounded by
`--events` (max 20 000) and `--timeout` (max 120 s); nothing leaves 127.0.0.1.

    venv/bin/python bench/load_delivery.py [--events 2000] [--batch 100] [--workers 4]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.server import SandboxServer  # noqa: E402
from sandbox.settings import SandboxSettings  # noqa: E402

MAX_EVENTS = 20_000
MAX_TIMEOUT = 120.0
TIMEOUT = 30


def _post(url: str, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = requests.post(url, json=body, headers=headers, timeout=TIMEOUT)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def wire(url: str) -> str:
    """Create the pipeline; returns the source's write key."""
    workspace = _post(f"{url}/_sandbox/segment/workspaces", {})
    api = {"Authorization": f"Bearer {workspace['token']}"}
    source = _post(
        f"{url}/sources", {"slug": "bench", "enabled": True, "metadataId": "iUM16Md8P2"}, api
    )["data"]["source"]
    destination = _post(
        f"{url}/destinations",
        {
            "sourceId": source["id"],
            "metadataId": "614a3c7d791c91c41bae7599",
            "enabled": True,
            "settings": {"sharedSecret": "bench-secret"},
        },
        api,
    )["data"]["destination"]
    tenant = _post(f"{url}/_sandbox/pendula/tenants", {})
    admin = {"Authorization": f"Bearer {tenant['admin_token']}"}
    token = _post(f"{url}/api/v1/tokens", {"name": "bench", "description": ""}, admin)["token"]
    flow = _post(f"{url}/api/v1/flows", {"name": "bench", "state": "active"}, admin)
    _post(
        f"{url}/destinations/{destination['id']}/subscriptions",
        {
            "name": "bench",
            "actionId": "nFPnRozhz1mh4Gbx4MLvT5",
            "trigger": 'type = "track" and event = "Bench"',
            "enabled": True,
            "settings": {
                "url": flow["webhook_url"],
                "method": "POST",
                "batch_size": 0,
                "headers": {"Authorization": f"Bearer {token}"},
                "data": {"@path": "$."},
                "enable_batching": False,
            },
        },
        api,
    )
    write_key: str = source["writeKeys"][0]
    return write_key


def run(events: int, batch: int, workers: int, timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = SandboxSettings(
            db_path=Path(tmp) / "bench.sqlite3",
            subscription_writes_per_minute=0,
            pendula_flow_rate_per_second=1_000_000,
            delivery_workers=workers,
        )
        with SandboxServer(settings) as server:
            write_key = wire(server.url)
            started = time.perf_counter()
            for first in range(0, events, batch):
                messages = [
                    {
                        "type": "track",
                        "event": "Bench",
                        "userId": f"user-{i}",
                        "messageId": f"bench-{i}",
                        "properties": {"i": i, "plan": "pro"},
                    }
                    for i in range(first, min(first + batch, events))
                ]
                requests.post(
                    f"{server.url}/v1/batch",
                    json={"batch": messages},
                    auth=(write_key, ""),
                    timeout=TIMEOUT,
                ).raise_for_status()
            accepted = time.perf_counter()
            drained = requests.post(
                f"{server.url}/_sandbox/segment/drain", params={"timeout": timeout}, timeout=150
            )
            finished = time.perf_counter()
            attempts = requests.get(
                f"{server.url}/_sandbox/segment/deliveries", timeout=TIMEOUT
            ).json()["items"]
    delivered = sum(1 for a in attempts if a["outcome"] == "delivered")
    latencies = sorted(a["latency_ms"] for a in attempts if a["outcome"] == "delivered")
    total = finished - started
    return {
        "events": events,
        "delivered": delivered,
        "attempts": len(attempts),
        "drained": drained.status_code == 200,
        "workers": workers,
        "intake_seconds": round(accepted - started, 3),
        "end_to_end_seconds": round(total, 3),
        "delivered_per_second": round(delivered / total, 1) if total else None,
        "webhook_latency_ms_p50": latencies[len(latencies) // 2] if latencies else None,
        "webhook_latency_ms_p99": latencies[int(len(latencies) * 0.99)] if latencies else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events to send (max 20000)")
    parser.add_argument("--batch", type=int, default=100, help="events per /v1/batch call")
    parser.add_argument("--workers", type=int, default=4, help="delivery worker threads")
    parser.add_argument("--timeout", type=float, default=60.0, help="drain timeout, s (max 120)")
    args = parser.parse_args(argv)
    if not 1 <= args.events <= MAX_EVENTS:
        parser.error(f"--events must be 1..{MAX_EVENTS}")
    if not 1 <= args.batch <= 500 or not 1 <= args.workers <= 32:
        parser.error("--batch must be 1..500 and --workers 1..32")
    result = run(args.events, args.batch, args.workers, min(args.timeout, MAX_TIMEOUT))
    print(json.dumps(result, indent=2))
    if not result["drained"] or result["delivered"] != args.events:
        raise SystemExit("not every event was delivered within the timeout")


if __name__ == "__main__":
    main()
