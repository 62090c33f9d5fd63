"""``make bench``: every benchmark figure beside its target, PASS or MISS, and the machine.

Exit status 1 when a target is missed on every attempt (bench/targets.py). The last lines
(machine, figures, verdict) are what the README quotes; ``--record FILE`` also writes them
there (the README's figures come from bench/results.txt, which a test compares).

    venv/bin/python bench/run.py [--record bench/results.txt]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bench_backtest, bench_conditions, bench_program  # noqa: E402
from bench.targets import exit_code, machine, summary  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path, help="also write the summary to this file")
    args = parser.parse_args()
    print("== stack program under the mock runtime (bench/bench_program.py)", flush=True)
    figures = bench_program.figures([50, 200, 400], 3)
    print("\n== trigger evaluation (bench/bench_conditions.py)", flush=True)
    figures += bench_conditions.figures()
    print("\n== backtest, 1,000,000 events (bench/bench_backtest.py)", flush=True)
    figures += bench_backtest.figures()
    lines = [f"machine: {machine()}", *(f.line() for f in figures), summary(figures)]
    print("\n== figures and targets")
    print("\n".join(lines))
    if args.record is not None:
        args.record.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return exit_code(figures)


if __name__ == "__main__":
    sys.exit(main())
