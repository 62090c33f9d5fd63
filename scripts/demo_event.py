"""Track one sample event with analytics-python against the sandbox; print the experience it made.

The demo's last step: what an app instrumented with Segment does, and what Pendula then sees.
The write key is looked up through the Segment Public API stand-in (as a user would copy it
from the source's settings); the event gets a fresh messageId, because Segment deduplicates.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from segment.analytics.client import Client

from components.config.stack_config import resolve_stack_file

TIMEOUT = 10
PROJECT = "segment-pendula"


def _config(stack_file: Path) -> dict[str, Any]:
    """The stack's config as the engine resolves it (full keys): the one reading of config."""
    return resolve_stack_file(stack_file).values()


def write_key(base_url: str, segment_token: str, source_id: str) -> str:
    """The source's write key, read through the Public API."""
    response = requests.get(
        f"{base_url}/sources/{source_id}",
        headers={"Authorization": f"Bearer {segment_token}"},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    key: str = response.json()["data"]["source"]["writeKeys"][0]
    return key


def track(client: Client, event: dict[str, Any], message_id: str) -> None:
    """Send the event as the app would, with the matching analytics-python call."""
    common = {
        "user_id": event.get("userId"),
        "context": event.get("context"),
        "anonymous_id": event.get("anonymousId"),
        "message_id": message_id,
    }
    if event.get("type") == "identify":
        client.identify(traits=event.get("traits"), **common)
    else:
        client.track(event=event["event"], properties=event.get("properties"), **common)


def find_experience(
    base_url: str, admin_token: str, flows: dict[str, str], message_id: str, wait: float
) -> tuple[str, dict[str, Any]] | None:
    """The (flow name, experience) whose body carries `message_id`, polling up to `wait` s."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    deadline = time.monotonic() + wait
    while True:
        for name, flow_id in flows.items():
            response = requests.get(
                f"{base_url}/api/v1/flows/{flow_id}/experiences", headers=headers, timeout=TIMEOUT
            )
            response.raise_for_status()
            for item in response.json()["items"]:
                if item["body"].get("messageId") == message_id:
                    return name, item
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack-file", type=Path, default=Path("stacks/Pulumi.local.yaml"))
    parser.add_argument("--event", type=Path, default=Path("tests/fixtures/events/signed-up.json"))
    parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for delivery")
    args = parser.parse_args(argv)

    config = _config(args.stack_file)
    base_url = str(config["segment:url"]).rstrip("/")
    destination = config[f"{PROJECT}:destinations"][0]
    flows = {
        flow["name"]: urlsplit(flow["url"]).path.rsplit("/", 1)[-1]
        for d in config[f"{PROJECT}:destinations"]
        for flow in d["flows"]
    }
    event = json.loads(args.event.read_text(encoding="utf-8"))
    message_id = f"demo-{uuid.uuid4()}"

    key = write_key(base_url, config["segment:token"], destination["sourceId"])
    client = Client(key, host=base_url, sync_mode=True)
    track(client, event, message_id)
    print(f"tracked {event.get('type')} '{event.get('event', '')}' as messageId {message_id}")

    found = find_experience(
        base_url, config[f"{PROJECT}:pendulaApiToken"], flows, message_id, args.wait
    )
    if found is None:
        print(
            f"error: no Pendula flow received {message_id} within {args.wait:.0f} s; see "
            f"{base_url}/_sandbox/segment/events?message_id={message_id}",
            file=sys.stderr,
        )
        return 1
    name, experience = found
    print(f"Pendula flow '{name}' started experience {experience['id']}")
    print(f"  auth scheme: {experience['auth_scheme']} (token {experience['token_id']})")
    print(f"  X-PENDULA-CUSTOM-CONTEXT: {json.dumps(experience['custom_context'])}")
    print("  body:")
    for line in json.dumps(experience["body"], indent=2).splitlines():
        print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
