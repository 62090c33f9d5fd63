"""Benchmark: the stack program under Pulumi's mock runtime with 50, 200 and 400 flows.

Each size runs in a fresh Python process (so peak memory is that run's own) and is
repeated; the script prints the best wall time, the peak RSS and the time ratio 400/200.
Targets (issue "The project"): 200 flows in ≤ 3 s on a 2-core machine, ratio ≤ 2.2 (the
program scales linearly). A missed target is measured again before it counts (bench/targets.py);
the exit status is 1 on a confirmed miss.

    venv/bin/python bench/bench_program.py [--sizes 50 200 400] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.targets import Figure, Target, exit_code, measure  # noqa: E402

TARGET_200_FLOWS = Target(3.0)
TARGET_RATIO = Target(2.2)

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from components.review.offline import run_program
flows = int(sys.argv[1])
per_destination = 5
destinations = []
tokens = {{}}
for d in range((flows + per_destination - 1) // per_destination):
    batch = []
    for i in range(min(per_destination, flows - d * per_destination)):
        name = f"flow-{{d}}-{{i}}"
        tokens[name] = f"pdl_bench_token_{{d}}_{{i}}"
        batch.append({{
            "name": name,
            "url": f"https://pendula.app/webhook/inbound/00000000-0000-4000-8000-{{d:06d}}{{i:06d}}",
            "enabled": True,
            "conditions": {{"all": [
                {{"event_type": {{"is": "track"}}}},
                {{"event": {{"is": f"Event {{i}}"}}}},
                {{"user_id": {{"starts_with": "SA"}}}},
            ]}},
            "customContext": {{"flow": name}},
        }})
    destinations.append({{"name": f"dest-{{d}}", "sourceId": f"source{{d}}", "flows": batch}})
started = time.perf_counter()
values = {{"destinations": destinations, "pendulaTokens": tokens}}
resources = run_program(values, ["pendulaTokens"])
elapsed = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": elapsed, "resources": len(resources), "peak_kib": peak_kib}}))
"""


def run_once(flows: int) -> tuple[float, int, float]:
    """(wall seconds of the program run, resources registered, peak RSS MiB of the process)."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT)), str(flows)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["seconds"], report["resources"], report["peak_kib"] / 1024


def best_of(flows: int, repeat: int) -> tuple[float, list[float], int, float]:
    """(best seconds, every run's seconds, resources, peak RSS MiB) of ``repeat`` fresh runs."""
    runs: list[float] = []
    count, peak = 0, 0.0
    for _ in range(repeat):
        seconds, count, peak = run_once(flows)
        runs.append(seconds)
    return min(runs), runs, count, peak


def figures(sizes: list[int], repeat: int) -> list[Figure]:
    """The table of runs, then the two targets (re-measured while they miss)."""
    print(f"{'flows':>6} {'resources':>9} {'best s':>8} {'runs s':>24} {'peak RSS MiB':>13}")
    best: dict[int, float] = {}
    peaks: dict[int, float] = {}
    for flows in sorted(set(sizes) | {200, 400}):
        best[flows], runs, count, peaks[flows] = best_of(flows, repeat)
        spread = " ".join(f"{s:.2f}" for s in runs)
        print(f"{flows:>6} {count:>9} {best[flows]:>8.2f} {spread:>24} {peaks[flows]:>13.1f}")

    def ratio() -> float:
        return best_of(400, repeat)[0] / best_of(200, repeat)[0]

    return [
        measure(
            f"stack program, 200 flows (best of {repeat})",
            "s",
            TARGET_200_FLOWS,
            lambda: best_of(200, repeat)[0],
            first=best[200],
        ),
        measure(
            "time(400 flows) / time(200 flows)",
            "×",
            TARGET_RATIO,
            ratio,
            first=best[400] / best[200],
        ),
        measure("peak RSS, 400 flows", "MiB", None, lambda: peaks[400]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 400])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = figures(args.sizes, args.repeat)
    for figure in results:
        print(figure.line())
    return exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
