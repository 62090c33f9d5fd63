"""The per-file work of a backtest: parse each line, evaluate every trigger at once, tally.

Every trigger of the run (each flow's, and each flow's as of ``--against``) is compiled into ONE
generated function returning a bit mask (``components.fql.compile_many``), so an event costs one
orjson parse and one call whatever the number of flows. A :class:`Scan` is picklable: with
``--jobs N`` each worker process compiles it once and scans whole files; the per-file
:class:`FileTally` objects are merged in file order, so the report is the same for any N.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from components.backtest.events import MAX_LINE_BYTES, read_lines
from components.fql import compile_many, field_values
from components.fql.js import JS_BUILTIN
from components.guards.redaction import CREDENTIAL_NAME, HIDDEN, redact_text, redact_value

EXAMPLES: Final = 3
BAD_LINE_SAMPLES: Final = 20
"""Bad lines are all counted; the first ones are listed with file and line number."""
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_FIELDS: Final = ("timestamp", "originalTimestamp", "receivedAt", "sentAt")
_SHOWN_TEXT: Final = 80


@dataclass(frozen=True)
class SeriesSpec:
    """What one tally counts: events where ``required`` bits are set and ``excluded`` are not.

    ``flow`` and ``kind`` name it in the report; ``example_ast`` is the trigger whose fields
    the examples show.
    """

    flow: int
    kind: str
    required: int
    excluded: int
    example_ast: dict[str, Any]


@dataclass(frozen=True)
class Scan:
    """Everything a worker needs: the distinct triggers (bit i = trigger i) and the tallies."""

    triggers: tuple[dict[str, Any], ...]
    series: tuple[SeriesSpec, ...]


@dataclass
class Series:
    """Matched events, distinct people, matches per day and the first examples."""

    events: int = 0
    people: set[str] = field(default_factory=set)
    days: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: Series) -> None:
        self.events += other.events
        self.people |= other.people
        self.days.update(other.days)
        self.examples += other.examples[: EXAMPLES - len(self.examples)]


@dataclass
class FileTally:
    """One file's counts: lines, events, bad lines (samples: file, line, problem), series."""

    lines: int = 0
    events: int = 0
    bad_lines: int = 0
    bad_samples: list[tuple[str, int, str]] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)

    def merge(self, other: FileTally) -> None:
        self.lines += other.lines
        self.events += other.events
        self.bad_lines += other.bad_lines
        self.bad_samples += other.bad_samples[: BAD_LINE_SAMPLES - len(self.bad_samples)]
        for mine, theirs in zip(self.series, other.series, strict=True):
            mine.merge(theirs)


def person(event: Mapping[str, Any]) -> str | None:
    """Who the event is about: ``userId``, else ``anonymousId`` (kept apart by a prefix)."""
    for key, prefix in (("userId", "u:"), ("anonymousId", "a:")):
        value = event.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
            return prefix + str(value)
    return None


def day(event: Mapping[str, Any]) -> str:
    """The UTC date of the event (its ``timestamp``, else the other Segment times)."""
    for key in _TIME_FIELDS:
        value = event.get(key)
        if type(value) is str and _is_date(value[:10]):
            return value[:10]
    return "unknown"


@functools.lru_cache(maxsize=4096)
def _is_date(prefix: str) -> bool:
    # A week of events has seven distinct prefixes: the pattern runs once for each.
    return _DAY.fullmatch(prefix) is not None


def _shown(value: Any) -> Any:
    """A field value as an example shows it: redacted, JSON-able, long text shortened."""
    if value is JS_BUILTIN:
        return "[JavaScript built-in]"
    if isinstance(value, dict | list):
        text = json.dumps(redact_value(value), ensure_ascii=False, sort_keys=True)
        return text if len(text) <= _SHOWN_TEXT else text[: _SHOWN_TEXT - 1] + "…"
    if isinstance(value, str):
        value = redact_text(value)
        return value if len(value) <= _SHOWN_TEXT else value[: _SHOWN_TEXT - 1] + "…"
    return value


def example(event: Mapping[str, Any], ast: Mapping[str, Any]) -> dict[str, Any]:
    """The messageId and the values the trigger looked at, credentials hidden."""
    values = {
        name: HIDDEN if CREDENTIAL_NAME.search(name.rsplit(".", 1)[-1]) else _shown(value)
        for name, value in field_values(ast, event).items()
    }
    message_id = event.get("messageId")
    shown_id = redact_text(str(message_id)) if message_id is not None else "(no messageId)"
    return {"messageId": shown_id, "values": values}


class Scanner:
    """A compiled :class:`Scan`; ``scan_file`` tallies one file."""

    def __init__(self, scan: Scan) -> None:
        self.scan = scan
        self.hits = compile_many(scan.triggers).hits

    def _series_for(self, mask: int) -> tuple[int, ...]:
        """The tallies an event with this bit mask counts in (cached: few masks occur)."""
        return tuple(
            index
            for index, spec in enumerate(self.scan.series)
            if mask & spec.required == spec.required and not mask & spec.excluded
        )

    def scan_file(self, path: Path, progress: Callable[[int], None] | None = None) -> FileTally:
        """Tally one file. The loop is the backtest's hot path: locals only, one parse and one
        generated call per event, and the per-match work only for the events that match."""
        tally = FileTally(series=[Series() for _ in self.scan.series])
        hits, loads, decode_error = self.hits, orjson.loads, orjson.JSONDecodeError
        targets: dict[int, tuple[int, ...]] = {}
        label = str(path)
        number = events = 0
        try:
            for number, line in read_lines(path):
                if progress is not None and not number & 0xFFFF:
                    progress(events)
                if line is None:
                    self._bad(tally, label, number, f"longer than {MAX_LINE_BYTES} bytes")
                    continue
                try:
                    event = loads(line)
                except decode_error as exc:
                    self._bad(tally, label, number, f"not JSON ({exc.msg} at position {exc.pos})")
                    continue
                if type(event) is not dict:
                    self._bad(tally, label, number, "not a JSON object")
                    continue
                events += 1
                mask = hits(event)
                if mask:
                    found = targets.get(mask)
                    if found is None:
                        found = targets[mask] = self._series_for(mask)
                    for index in found:
                        self._count(tally.series[index], index, event)
        except OSError as exc:  # a truncated or corrupt file, EventFileError: keep what was read
            self._bad(tally, label, number + 1, f"the file cannot be read further: {exc}")
        tally.lines = number
        tally.events = events
        return tally

    def _count(self, series: Series, index: int, event: dict[str, Any]) -> None:
        series.events += 1
        who = person(event)
        if who is not None:
            series.people.add(who)
        series.days[day(event)] += 1
        if len(series.examples) < EXAMPLES:
            series.examples.append(example(event, self.scan.series[index].example_ast))

    @staticmethod
    def _bad(tally: FileTally, label: str, number: int, problem: str) -> None:
        tally.bad_lines += 1
        if len(tally.bad_samples) < BAD_LINE_SAMPLES:
            tally.bad_samples.append((label, number, problem))
