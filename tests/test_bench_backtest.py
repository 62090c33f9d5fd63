"""bench/bench_backtest.py's parts, cheaply: the event generator and the Node side agree with
the backtest on the bundled sample (the benchmark itself runs in ``make bench`` only)."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import orjson

from bench import bench_backtest
from bench.event_generator import generate, write
from components.backtest.run import BacktestRequest, run_backtest
from tests.node.oracle_client import require_oracle

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "events"


def test_generated_events_are_realistic_and_deterministic(tmp_path: Path) -> None:
    events = list(generate(400, seed=7))
    assert {e["type"] for e in events} == {"track", "page", "identify", "screen", "group"}
    sizes = [len(orjson.dumps(e)) for e in events]
    assert 800 <= sum(sizes) / len(sizes) <= 1300  # ~1 KB, like real events
    assert all(isinstance(e["context"]["page"], dict) for e in events)
    write(tmp_path / "a.jsonl.gz", 50, seed=1)
    write(tmp_path / "b.jsonl.gz", 50, seed=1)
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


def test_the_bundled_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    write(tmp_path / "sample.jsonl.gz", 300, seed=2026, bad_line=150)
    (bundled,) = SAMPLE.rglob("*.jsonl.gz")
    assert gzip.decompress(bundled.read_bytes()) == gzip.decompress(
        (tmp_path / "sample.jsonl.gz").read_bytes()
    )


def test_node_side_matches_the_backtest_on_the_sample(tmp_path: Path) -> None:
    require_oracle()
    triggers = tmp_path / "triggers.json"
    triggers.write_text(json.dumps(bench_backtest.triggers()))
    files = sorted(SAMPLE.rglob("*.gz"))
    done = subprocess.run(
        ["node", str(bench_backtest.NODE_SCRIPT), str(triggers), *map(str, files)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    node = json.loads(done.stdout)
    ours = run_backtest(
        BacktestRequest(bench_backtest.STACK, bench_backtest.STACKS_DIR, tuple(map(str, files)))
    )
    assert node["matched"] == [f["matched"]["events"] for f in ours["flows"]]
    assert node["people"] == [f["matched"]["people"] for f in ours["flows"]]
    assert (node["events"], node["bad"]) == (299, 1)
