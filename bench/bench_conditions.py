"""Benchmark: a compiled 3-condition trigger on 100,000 events vs Segment's validate in Node.

Target: the Python evaluator (used by the sandbox's delivery worker, send-test-event and the
fidelity tests) evaluates at least 250,000 events/s with all three conditions evaluated, so
it is never what limits a delivery (each delivery is an HTTP POST, thousands of times slower).
Node's speed and the ratio are shown for context: Segment's validate is the reference for
verdicts, not a bar for speed. ``compile_fast`` (the backtest's generated straight-line form,
bench/bench_backtest.py) is shown beside it.

    venv/bin/python bench/bench_conditions.py
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.targets import Figure, Target, exit_code, measure  # noqa: E402
from components.fql import compile_fast, compile_trigger, parse_fql  # noqa: E402

TRIGGER = 'type = "track" and match(userId, "SA*") and properties.price >= 100'
EVENTS = 100_000
ROUNDS = 5
TARGET_EVENTS_PER_SECOND = Target(250_000, higher_is_better=True)


def make_events(count: int, *, all_evaluated: bool) -> list[dict[str, Any]]:
    """Mixed events, or events that pass the first two conditions so all three are evaluated."""
    rng = random.Random(7)
    types = ["track"] if all_evaluated else ["track", "identify", "page"]
    users = ["SA-1"] if all_evaluated else ["SA-1", "SB-2", None]
    return [
        {
            "type": rng.choice(types),
            "event": rng.choice(["Signed Up", "Order Completed"]),
            "userId": rng.choice(users),
            "properties": {"price": rng.randint(0, 200), "currency": "AUD"},
            "context": {"page": {"path": "/pricing"}},
        }
        for _ in range(count)
    ]


def bench_python(
    ast: dict[str, Any], events: list[dict[str, Any]], *, fast: bool = False
) -> tuple[float, int]:
    matches = compile_fast(ast).matches if fast else compile_trigger(ast)
    best = float("inf")
    matched = 0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        matched = sum(1 for event in events if matches(event))
        best = min(best, time.perf_counter() - start)
    return len(events) / best, matched


def bench_node(ast: dict[str, Any], events: list[dict[str, Any]]) -> tuple[float, int]:
    # One warm-up round and ROUNDS timed rounds in one process; best round, like the Python side.
    best = float("inf")
    matched = 0
    cases = [{"op": "bench", "ast": ast, "events": events, "rounds": 1} for _ in range(ROUNDS + 1)]
    completed = subprocess.run(
        ["node", str(ROOT / "tests" / "node" / "oracle.js")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    for result in json.loads(completed.stdout)[1:]:
        best = min(best, result["ok"]["seconds"])
        matched = result["ok"]["matched"]
    return len(events) / best, matched


def figures() -> list[Figure]:
    ast = parse_fql(TRIGGER)
    print(f"trigger: {TRIGGER}; {EVENTS:,} events; best of {ROUNDS} rounds")
    results: list[Figure] = []
    for label, all_evaluated in (("mixed events", False), ("all 3 conditions evaluated", True)):
        events = make_events(EVENTS, all_evaluated=all_evaluated)
        ours, ours_matched = bench_python(ast, events)
        node, node_matched = bench_node(ast, events)
        assert ours_matched == node_matched, (ours_matched, node_matched)
        target = TARGET_EVENTS_PER_SECOND if all_evaluated else None
        python = measure(
            f"python compile_trigger, {label}",
            "events/s",
            target,
            lambda events=events: bench_python(ast, events)[0],
            first=ours,
        )
        fast, fast_matched = bench_python(ast, events, fast=True)
        assert fast_matched == node_matched, (fast_matched, node_matched)
        results += [
            python,
            measure(f"node validate, {label}", "events/s", None, lambda node=node: node),
            measure(f"python/node speed, {label}", "×", None, lambda r=python.values[-1] / node: r),
            measure(f"python compile_fast, {label}", "events/s", None, lambda fast=fast: fast),
            measure(f"compile_fast/node speed, {label}", "×", None, lambda r=fast / node: r),
        ]
    return results


def main() -> int:
    results = figures()
    for figure in results:
        print(figure.line())
    return exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
