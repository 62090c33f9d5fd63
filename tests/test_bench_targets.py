"""bench/targets.py: figures beside targets, a miss confirmed by measuring again."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.targets import ATTEMPTS, Figure, Target, exit_code, machine, measure, summary

ROOT = Path(__file__).resolve().parent.parent


def sequence(*values: float) -> Iterator[float]:
    yield from values
    raise AssertionError("measured more often than allowed")


def test_a_figure_that_meets_its_target_is_measured_once() -> None:
    runs = sequence(0.9)
    figure = measure("200 flows", "s", Target(3.0), lambda: next(runs))
    assert figure.values == [0.9]
    assert figure.verdict == "PASS"
    assert figure.line().split() == ["200", "flows", "0.9", "s", "target", "≤", "3", "s", "PASS"]


def test_a_noisy_miss_is_measured_again_and_the_retry_is_shown() -> None:
    runs = sequence(2.01)
    figure = measure("ratio", "×", Target(2.2), lambda: next(runs), first=2.22)
    assert figure.values == [2.22, 2.01]
    assert figure.verdict == "PASS"
    assert figure.line().endswith(f"PASS (attempt 2 of {ATTEMPTS}; earlier: 2.22)")


def test_a_miss_on_every_attempt_is_a_miss_and_fails_the_run() -> None:
    runs = sequence(*[5.0] * ATTEMPTS)
    figure = measure("200 flows", "s", Target(3.0), lambda: next(runs))
    assert figure.values == [5.0] * ATTEMPTS
    assert figure.verdict == "MISS"
    info = measure("peak RSS", "MiB", None, lambda: 141.0)
    assert info.verdict == "info"
    assert exit_code([figure, info]) == 1
    assert exit_code([info]) == 0
    assert summary([figure, info]) == ("MISS: 1 of 1 targets missed on every attempt: 200 flows")


def test_higher_is_better_targets() -> None:
    target = Target(250_000, higher_is_better=True)
    assert target.met(250_000) and not target.met(249_999)
    assert target.text("events/s") == "≥ 250,000 events/s"
    figure = Figure("python", "events/s", target, [900_000.0])
    assert figure.verdict == "PASS"


def test_the_machine_line_names_cores_and_versions() -> None:
    text = machine()
    assert " cores" in text and "Python 3." in text


def test_make_bench_runs_the_runner_that_exits_non_zero_on_a_miss() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nbench: setup\n", 1)[1].split("\n\n", 1)[0]
    assert recipe.strip() == "$(PY) bench/run.py"
    script = (
        "import sys; sys.argv = ['run.py']; from bench import run; "
        "from bench.targets import Figure, Target; "
        "run.bench_program.figures = lambda s, r: [Figure('slow', 's', Target(1.0), [9.0])]; "
        "run.bench_conditions.figures = lambda: []; run.bench_backtest.figures = lambda: []; "
        "sys.exit(run.main())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.rstrip().endswith("MISS: 1 of 1 targets missed on every attempt: slow")


@pytest.mark.parametrize(("value", "text"), [(0.95, "0.95"), (2.0, "2"), (1719400.4, "1,719,400")])
def test_numbers(value: float, text: str) -> None:
    from bench.targets import number

    assert number(value) == text
