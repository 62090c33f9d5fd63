"""A backtest run: which flows, which events, which tallies, in one or more processes.

:func:`run_backtest` returns one JSON-able document (rendered by ``components.backtest.report``):

* ``events``: files, lines, events, bad lines (count and the first ones with file and line);
* ``flows``: per flow of the stack, its trigger, whether it is enabled, why a trigger was
  refused, and the ``matched`` tally (events, distinct people, per day, three examples);
  with ``--against`` also ``against``: the trigger at the ref, its tally, and the
  ``newlyMatched`` / ``noLongerMatched`` tallies (events matched by one trigger and not the
  other). Flows that exist only at the ref are listed as removed.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.backtest.events import EventFile, find_event_files
from components.backtest.flows import (
    FlowTrigger,
    read_flows,
    read_flows_at_ref,
    stack_path,
)
from components.backtest.progress import Progress
from components.backtest.scan import FileTally, Scan, Scanner, Series, SeriesSpec


@dataclass(frozen=True)
class BacktestRequest:
    stack: str
    stacks_dir: Path
    events: tuple[str, ...]
    against: str | None = None
    jobs: int = 1


@dataclass(frozen=True)
class _Row:
    """One reported flow: the flow now and at the ref, and its tallies' series indices."""

    head: FlowTrigger | None
    base: FlowTrigger | None
    series: dict[str, int]


def _plan(head: list[FlowTrigger], base: list[FlowTrigger] | None) -> tuple[Scan, list[_Row]]:
    """The distinct triggers (one bit each) and, per flow, what to tally."""
    bits: dict[str, int] = {}
    triggers: list[dict[str, Any]] = []
    specs: list[SeriesSpec] = []

    def bit(ast: dict[str, Any]) -> int:
        text = json.dumps(ast, sort_keys=True)
        if text not in bits:
            bits[text] = 1 << len(triggers)
            triggers.append(ast)
        return bits[text]

    def add(row: int, kind: str, required: int, excluded: int, ast: dict[str, Any]) -> int:
        specs.append(SeriesSpec(row, kind, required, excluded, ast))
        return len(specs) - 1

    base_by_key = {flow.key: flow for flow in base or []}
    head_keys = {flow.key for flow in head}
    pairs: list[tuple[FlowTrigger | None, FlowTrigger | None]]
    pairs = [(flow, base_by_key.get(flow.key)) for flow in head]
    pairs += [(None, flow) for flow in base or [] if flow.key not in head_keys]
    rows: list[_Row] = []
    for index, (now, then) in enumerate(pairs):
        now_ast = now.ast if now is not None else None
        then_ast = then.ast if then is not None else None
        series: dict[str, int] = {}
        if now_ast is not None:
            series["matched"] = add(index, "matched", bit(now_ast), 0, now_ast)
        if base is not None:
            if then_ast is not None:
                series["base"] = add(index, "base", bit(then_ast), 0, then_ast)
            if now_ast is not None and then is None:  # a new flow: all it matches is new
                series["newlyMatched"] = series["matched"]
            elif then_ast is not None and now is None:  # a removed flow
                series["noLongerMatched"] = series["base"]
            elif now_ast is not None and then_ast is not None:
                now_bit, then_bit = bit(now_ast), bit(then_ast)
                if now_bit != then_bit:  # same trigger: nothing new, nothing lost
                    series["newlyMatched"] = add(index, "newly", now_bit, then_bit, now_ast)
                    series["noLongerMatched"] = add(index, "gone", then_bit, now_bit, then_ast)
        rows.append(_Row(now, then, series))
    return Scan(tuple(triggers), tuple(specs)), rows


# --- running: one process, or files spread over worker processes -------------------------------

_WORKER: Scanner | None = None


def _start_worker(scan: Scan) -> None:
    global _WORKER  # noqa: PLW0603 - one compiled scanner per worker process
    _WORKER = Scanner(scan)


def _scan_in_worker(path: Path) -> FileTally:
    assert _WORKER is not None
    return _WORKER.scan_file(path)


def _tallies(scan: Scan, files: list[EventFile], jobs: int, progress: Progress) -> FileTally:
    total = FileTally(series=[Series() for _ in scan.series])
    paths = [file.path for file in files]
    if jobs <= 1 or len(files) <= 1:
        scanner = Scanner(scan)
        for file in files:
            done = total.events

            def report(count: int, done: int = done) -> None:
                progress.events(done + count)

            total.merge(scanner.scan_file(file.path, report))
            progress.file_done(file.size, total.events)
        return total
    # fork: workers start in milliseconds and inherit the imported modules.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with context.Pool(min(jobs, len(files)), _start_worker, (scan,)) as pool:
        for file, tally in zip(files, pool.imap(_scan_in_worker, paths), strict=True):
            total.merge(tally)
            progress.file_done(file.size, total.events)
    return total


def run_backtest(
    request: BacktestRequest, progress_factory: Callable[[int, int], Progress] | None = None
) -> dict[str, Any]:
    """Read the stack (and the ref), scan every event file, and return the report document."""
    path = stack_path(request.stacks_dir, request.stack)
    head = read_flows(path)
    base: list[FlowTrigger] | None = None
    found_at_ref: bool | None = None
    if request.against is not None:
        at_ref = read_flows_at_ref(path, request.against)
        found_at_ref = at_ref is not None
        base = at_ref or []  # no stack file at the ref: every flow is new
    files = find_event_files(request.events)
    scan, rows = _plan(head, base)
    make_progress = progress_factory or Progress.for_stderr
    progress = make_progress(len(files), sum(file.size for file in files))
    try:
        total = _tallies(scan, files, max(1, request.jobs), progress)
    finally:
        progress.close()
    return {
        "stack": request.stack,
        "stackFile": str(path),
        "against": request.against,
        "againstFound": found_at_ref,
        "events": {
            "files": len(files),
            "lines": total.lines,
            "events": total.events,
            "badLines": total.bad_lines,
            "badLineSamples": [
                {"file": file, "line": line, "problem": problem}
                for file, line, problem in total.bad_samples
            ],
        },
        "flows": [_flow_entry(row, total.series, request.against) for row in rows],
    }


def _series(series: Series | None) -> dict[str, Any] | None:
    if series is None:
        return None
    return {
        "events": series.events,
        "people": len(series.people),
        "perDay": dict(sorted(series.days.items())),
        "examples": series.examples,
    }


_EMPTY = Series()


def _flow_entry(row: _Row, tallies: list[Series], against: str | None) -> dict[str, Any]:
    def tally(kind: str, *, zero: bool = False) -> dict[str, Any] | None:
        index = row.series.get(kind)
        return _series(tallies[index] if index is not None else _EMPTY if zero else None)

    shown = row.head or row.base
    assert shown is not None
    entry: dict[str, Any] = {
        "destination": shown.destination,
        "flow": shown.name,
        "enabled": row.head.enabled if row.head else None,
        "trigger": row.head.fql if row.head else None,
        "refused": row.head.refused if row.head else None,
        "note": row.head.note if row.head else None,
        "matched": tally("matched"),
    }
    if against is None:
        return entry
    comparable = (row.head is None or row.head.ast is not None) and (
        row.base is None or row.base.ast is not None
    )
    status = "new" if row.base is None else "removed" if row.head is None else None
    if status is None:
        assert row.head is not None and row.base is not None
        same = row.head.fql == row.base.fql and row.head.ast == row.base.ast
        status = "unchanged" if same else "changed"
    entry["against"] = {
        "status": status,
        "enabled": row.base.enabled if row.base else None,
        "trigger": row.base.fql if row.base else None,
        "refused": row.base.refused if row.base else None,
        "matched": tally("base"),
        "newlyMatched": tally("newlyMatched", zero=True) if comparable else None,
        "noLongerMatched": tally("noLongerMatched", zero=True) if comparable else None,
    }
    return entry
