"""Figures beside their targets: PASS or MISS, a miss confirmed by measuring again.

Timings on a shared machine are noisy: one slow run is not a regression. A figure that misses
its target is measured again (up to ``attempts`` times in all) and is a MISS only when every
attempt misses; every attempt is printed, so a pass on a retry is visible as such.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ATTEMPTS = 3


@dataclass(frozen=True)
class Target:
    """A bound a figure must meet: at most ``limit`` (``higher_is_better`` False) or at least."""

    limit: float
    higher_is_better: bool = False

    def met(self, value: float) -> bool:
        return value >= self.limit if self.higher_is_better else value <= self.limit

    def text(self, unit: str) -> str:
        return f"{'≥' if self.higher_is_better else '≤'} {number(self.limit)}{unit_text(unit)}"


@dataclass
class Figure:
    """One measured figure: every attempt's value, and its target (None: shown for context)."""

    name: str
    unit: str
    target: Target | None
    values: list[float] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "info"
        return "PASS" if self.target.met(self.values[-1]) else "MISS"

    def line(self, width: int = 50) -> str:
        value = f"{number(self.values[-1])}{unit_text(self.unit)}"
        target = f"target {self.target.text(self.unit)}" if self.target else "no target"
        line = f"{self.name:<{width}} {value:>20}   {target:<28} {self.verdict}"
        if len(self.values) > 1:
            earlier = ", ".join(number(v) for v in self.values[:-1])
            line += f" (attempt {len(self.values)} of {ATTEMPTS}; earlier: {earlier})"
        return line


def measure(
    name: str,
    unit: str,
    target: Target | None,
    attempt: Callable[[], float],
    *,
    first: float | None = None,
    attempts: int = ATTEMPTS,
) -> Figure:
    """Measure (or take ``first``), and measure again while the figure misses its target."""
    figure = Figure(name, unit, target, [attempt() if first is None else first])
    while (
        target is not None and not target.met(figure.values[-1]) and len(figure.values) < attempts
    ):
        figure.values.append(attempt())
    return figure


def number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"


def unit_text(unit: str) -> str:
    return f" {unit}" if unit and unit != "×" else unit


def exit_code(figures: Sequence[Figure]) -> int:
    """0 when no figure has a confirmed miss, else 1."""
    return 1 if any(f.verdict == "MISS" for f in figures) else 0


def summary(figures: Sequence[Figure]) -> str:
    misses = [f.name for f in figures if f.verdict == "MISS"]
    checked = sum(1 for f in figures if f.target is not None)
    if misses:
        return (
            f"MISS: {len(misses)} of {checked} targets missed on every attempt: {', '.join(misses)}"
        )
    return f"PASS: all {checked} targets met"


def machine() -> str:
    """Where the figures come from: CPU model, cores, memory, OS, Python and Node versions."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for row in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        memory = f", {gib:.0f} GiB RAM"
    node = "no node"
    if shutil.which("node"):
        node = "Node " + subprocess.run(
            ["node", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip().lstrip("v")
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {node}"
    )
