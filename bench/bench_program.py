"""Benchmark: the stack program under Pulumi's mock runtime with 50, 200 and 400 flows.

Each size runs in a fresh Python process (so peak memory is that run's own) and is
repeated; the script prints the best wall time, the peak RSS and the time ratio 400/200.
Targets (issue "The project"): 200 flows in ≤ 3 s on a 2-core machine, ratio ≤ 2.2.

    venv/bin/python bench/bench_program.py [--sizes 50 200 400] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from components.offline import run_program
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 400])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    best: dict[int, float] = {}
    print(f"{'flows':>6} {'resources':>9} {'best s':>8} {'runs s':>24} {'peak RSS MiB':>13}")
    for flows in sorted(args.sizes):
        runs = []
        peak = 0.0
        count = 0
        for _ in range(args.repeat):
            seconds, count, peak = run_once(flows)
            runs.append(seconds)
        best[flows] = min(runs)
        spread = " ".join(f"{s:.2f}" for s in runs)
        print(f"{flows:>6} {count:>9} {best[flows]:>8.2f} {spread:>24} {peak:>13.1f}")
    if 200 in best and 400 in best:
        ratio = best[400] / best[200]
        print(f"time(400)/time(200) = {ratio:.2f} (target ≤ 2.2)")
        print(f"200 flows: {best[200]:.2f} s (target ≤ 3 s)")


if __name__ == "__main__":
    main()
