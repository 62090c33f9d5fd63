"""Synthetic Segment events, shaped like a web/mobile source's archive (no real data).

track / identify / page / screen / group mixed, nested ``properties`` / ``traits`` /
``context``, about 1 KB each as JSON, spread over seven days, with documentation-range IPs
(203.0.113.0/24), ``example.com`` addresses and invented names. Deterministic for a seed.

The backtest benchmark writes 1,000,000 of them; the bundled sample (examples/events) is
300 of them plus one truncated line, as a real archive sometimes has:

    venv/bin/python bench/event_generator.py --count 300 --bad-line 150 \\
        --out examples/events/2026-11-30/sample.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

START = datetime(2026, 11, 30, tzinfo=UTC)
TRACK_EVENTS = [
    ("Product Viewed", 30),
    ("Product Added", 12),
    ("Checkout Started", 6),
    ("Order Completed", 4),
    ("Signed Up", 3),
    ("Cart Abandoned", 3),
    ("Subscription Cancelled", 1),
    ("Coupon Applied", 2),
]
PAGES = ["/", "/pricing", "/products/sku-0001", "/blog/launch", "/account", "/checkout"]
PLANS = ["free", "free", "free", "pro", "team", "enterprise"]
FIRST = ["Sam", "Alex", "Jo", "Kim", "Lee", "Max", "Noor", "Ari", "Rin", "Pat"]
LAST = ["Placeholder", "Example", "Sample", "Tester", "Demo"]
BROWSERS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148",
]


class Generator:
    """Events for ``people`` synthetic people; call :meth:`event` for each next one."""

    def __init__(self, seed: int, people: int = 5000) -> None:
        self.rng = random.Random(seed)
        self.people = people
        self.sequence = 0
        names, weights = zip(*TRACK_EVENTS, strict=True)
        self.track_names = list(names)
        self.track_weights = list(weights)

    def _person(self) -> tuple[str | None, str]:
        number = self.rng.randrange(self.people)
        prefix = "SA" if number % 10 == 0 else "U"
        user_id = None if self.rng.random() < 0.25 else f"{prefix}-{number:05d}"
        return user_id, f"anon-{number:05d}-{number * 7919 % 100000:05d}"

    def _context(self, number: int, when: datetime) -> dict[str, Any]:
        rng = self.rng
        path = rng.choice(PAGES)
        return {
            "ip": f"203.0.113.{number % 250 + 1}",
            "locale": rng.choice(["en-AU", "en-NZ", "en-GB", "en-US"]),
            "timezone": "Australia/Sydney",
            "userAgent": rng.choice(BROWSERS),
            "library": {"name": "analytics.js", "version": "next-1.70.0"},
            "page": {
                "path": path,
                "url": f"https://shop.example.com{path}",
                "referrer": rng.choice(
                    ["", "https://search.example.org/", "https://news.example.net/"]
                ),
                "title": f"Example Shop - {path.strip('/') or 'home'}",
            },
            "campaign": {
                "source": rng.choice(["newsletter", "search", "social"]),
                "medium": "email",
            }
            if rng.random() < 0.3
            else {},
            "traits": {
                "email": f"person{number}@example.com",
                "phone": f"0491 570 {number % 1000:03d}",
            },
            "sessionId": int(when.timestamp() * 1000) // 1800000,
        }

    def event(self) -> dict[str, Any]:
        rng = self.rng
        self.sequence += 1
        user_id, anonymous_id = self._person()
        number = int(anonymous_id[5:10])
        when = START + timedelta(
            seconds=rng.randrange(7 * 24 * 3600), milliseconds=rng.randrange(1000)
        )
        stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        received = (
            (when + timedelta(milliseconds=rng.randrange(50, 900)))
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
        kind = rng.choices(["track", "page", "identify", "screen", "group"], [55, 25, 10, 7, 3])[0]
        event: dict[str, Any] = {
            "messageId": f"msg-{self.sequence:08d}-{rng.getrandbits(32):08x}",
            "type": kind,
            "userId": user_id,
            "anonymousId": anonymous_id,
            "timestamp": stamp,
            "originalTimestamp": stamp,
            "receivedAt": received,
            "sentAt": stamp,
            "channel": "client",
            "version": 2,
            "context": self._context(number, when),
            "integrations": {"All": True},
        }
        if kind == "track":
            event["event"] = rng.choices(self.track_names, self.track_weights)[0]
            event["properties"] = self._properties(event["event"])
        elif kind in ("page", "screen"):
            event["name"] = event["context"]["page"]["title"].split(" - ")[-1].title()
            event["properties"] = {
                "path": event["context"]["page"]["path"],
                "url": event["context"]["page"]["url"],
                "title": event["context"]["page"]["title"],
            }
        elif kind == "identify":
            event["traits"] = {
                "plan": rng.choice(PLANS),
                "first_name": rng.choice(FIRST),
                "last_name": rng.choice(LAST),
                "email": f"person{number}@example.com",
                "created_at": "2025-03-01T00:00:00.000Z",
                "address": {"city": rng.choice(["Sydney", "Auckland", "Perth"]), "country": "AU"},
                "logins": rng.randrange(1, 200),
            }
        else:
            event["groupId"] = f"org-{number % 300:03d}"
            event["traits"] = {
                "name": f"Example Org {number % 300}",
                "employees": rng.randrange(1, 5000),
                "plan": rng.choice(PLANS),
            }
        return event

    def _properties(self, name: str) -> dict[str, Any]:
        rng = self.rng
        products = [
            {
                "product_id": f"SKU-{rng.randrange(1, 400):04d}",
                "name": f"Sample Widget {rng.randrange(1, 60)}",
                "price": round(rng.uniform(5, 250), 2),
                "quantity": rng.randrange(1, 4),
                "category": rng.choice(["widgets", "gifts", "spares"]),
            }
            for _ in range(rng.randrange(1, 4))
        ]
        total = round(sum(p["price"] * p["quantity"] for p in products), 2)
        properties: dict[str, Any] = {"currency": "AUD", "total": total, "products": products}
        if name == "Order Completed":
            properties["order_id"] = f"ORD-{rng.randrange(10**6):06d}"
            properties["coupon"] = rng.choice([None, "WELCOME10", "VIP20"])
        if name == "Signed Up":
            properties = {"method": rng.choice(["email", "google"]), "plan": "free"}
        return properties


def generate(count: int, seed: int) -> Iterator[dict[str, Any]]:
    generator = Generator(seed)
    for _ in range(count):
        yield generator.event()


def write(path: Path, count: int, seed: int, bad_line: int | None = None) -> None:
    """``count`` events as gzip JSON lines, with no name or time in the gzip header (the same
    bytes every run); ``bad_line`` (1-based) is written truncated, like a torn final write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0, compresslevel=6) as out,
    ):
        for number, event in enumerate(generate(count, seed), start=1):
            line = orjson.dumps(event)
            out.write((line[: len(line) // 2] if number == bad_line else line) + b"\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--bad-line", type=int, default=None)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write(args.out, args.count, args.seed, args.bad_line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
