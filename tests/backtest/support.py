"""Helpers for the backtest tests: stack files and event files built in a temporary folder."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

URL = "https://pendula.app/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c1{}"


def flow(name: str, *, enabled: bool = True, **trigger: Any) -> dict[str, Any]:
    """A flow entry; ``trigger`` is ``conditions={...}`` or ``trigger="..."`` (+ unsafeTrigger)."""
    return {"name": name, "url": URL.format(len(name) % 10), "enabled": enabled, **trigger}


def write_stack(folder: Path, flows: list[dict[str, Any]], stack: str = "test") -> Path:
    """stacks-dir ``folder`` holding Pulumi.<stack>.yaml with one destination of ``flows``."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "config": {
            "segment-pendula:destinations": [
                {"name": "web", "sourceId": "qRTqz5cTyodBXJ4Ex2Ka1W", "flows": flows}
            ]
        }
    }
    path = folder / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def event(message_id: str, **fields: Any) -> dict[str, Any]:
    return {"messageId": message_id, "timestamp": "2026-11-30T10:00:00.000Z", **fields}


def write_events(path: Path, lines: Iterable[Mapping[str, Any] | str]) -> Path:
    """JSON lines (a str is written as is: a bad line); gzip when the name ends with .gz."""
    text = "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    else:
        path.write_text(text, encoding="utf-8")
    return path
