"""Rendering a backtest document (``components.backtest.run``) as text, Markdown or JSON.

Each medium has its one escaping function (``components.guards.escaping``): text goes to the
terminal through ``TerminalOutput`` (escape + redact), Markdown values through ``markdown_code`` /
``escape_markdown`` like the plan's PR comment, JSON through ``escape_json``. Example values
were redacted when they were collected (``components.backtest.scan.example``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from components.guards.escaping import escape_json, escape_markdown, escape_terminal, markdown_code

_DIFF_KINDS = (("newlyMatched", "newly matched"), ("noLongerMatched", "no longer matched"))
_STATUS = {
    "new": "new flow",
    "removed": "flow removed",
    "changed": "trigger changed",
    "unchanged": "trigger unchanged",
}


def render_json(document: Mapping[str, Any]) -> str:
    """Stable, machine-readable: sorted keys, two-space indent, ASCII only."""
    return escape_json(document, indent=2) + "\n"


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _days(per_day: Mapping[str, int]) -> str:
    return ", ".join(f"{day} {count:,}" for day, count in per_day.items()) or "none"


def _state(flow: Mapping[str, Any]) -> str:
    if flow["enabled"] is None:
        return "removed"
    return "enabled" if flow["enabled"] else "DISABLED (would fire once enabled)"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _summary(series: Mapping[str, Any]) -> str:
    people = f"{series['people']:,} " + ("person" if series["people"] == 1 else "people")
    return f"{_count(series['events'], 'event')}, {people}"


def _events_line(events: Mapping[str, Any]) -> str:
    return (
        f"{_count(events['events'], 'event')} in {_count(events['files'], 'file')}, "
        f"{_count(events['badLines'], 'bad line')}"
    )


# --- text -------------------------------------------------------------------------------------


def _terminal_safe(value: Any) -> Any:
    """Every string escaped whole (``escape_terminal``): a line break in an event value or a
    stack file cannot forge a line of the report."""
    if isinstance(value, str):
        return escape_terminal(value)
    if isinstance(value, Mapping):
        return {key: _terminal_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_terminal_safe(item) for item in value]
    return value


def render_text(document: Mapping[str, Any]) -> str:
    """For terminals: every value escaped before it is laid out (then printed through
    ``TerminalOutput``, which also redacts)."""
    document = _terminal_safe(document)
    lines = [f"Backtest of stack {document['stack']} ({document['stackFile']})"]
    if document["against"] is not None:
        lines.append(f"against {document['against']}" + _missing_at_ref(document))
    lines.append(_events_line(document["events"]))
    for sample in document["events"]["badLineSamples"]:
        lines.append(f"  bad line {sample['file']}:{sample['line']}: {sample['problem']}")
    for flow in document["flows"]:
        lines += ["", f"Flow {flow['destination']}/{flow['flow']} [{_state(flow)}]"]
        lines += _text_trigger(flow)
        against = flow.get("against")
        if against is not None:
            lines.append(f"  at {document['against']}: {_STATUS[against['status']]}")
            if against["status"] in ("changed", "removed"):
                lines += ["  " + line for line in _text_trigger(against)]
            for key, label in _DIFF_KINDS:
                if against[key] is not None:
                    lines += _text_series(label, against[key])
    return "\n".join(lines) + "\n"


def _missing_at_ref(document: Mapping[str, Any]) -> str:
    return "" if document["againstFound"] else " (no stack file there: every flow is new)"


def _text_trigger(flow: Mapping[str, Any]) -> list[str]:
    lines = [f"  trigger: {flow['trigger']}"] if flow["trigger"] else []
    if flow.get("note"):
        lines.append(f"  note: {flow['note']}")
    if flow["refused"]:
        lines.append(f"  REFUSED: {flow['refused']}")
    if flow["matched"] is not None:
        lines += _text_series("matched", flow["matched"])
    return lines


def _text_series(label: str, series: Mapping[str, Any]) -> list[str]:
    if not series["events"]:
        return [f"  {label}: none"]
    lines = [f"  {label}: {_summary(series)}", f"    per day: {_days(series['perDay'])}"]
    for example in series["examples"]:
        values = ", ".join(f"{k}={_value(v)}" for k, v in example["values"].items())
        lines.append(f"    e.g. {example['messageId']}: {values}")
    return lines


# --- Markdown ---------------------------------------------------------------------------------


def render_markdown(document: Mapping[str, Any]) -> str:
    """For the pull-request comment: one table of flows, then each flow's details.

    Every value from the stack file or an event goes through ``markdown_code`` or
    ``escape_markdown``, so none can add HTML, links or formatting to the comment.
    """
    lines = [f"## Backtest: stack {markdown_code(document['stack'])}", ""]
    summary = escape_markdown(_events_line(document["events"]))
    if document["against"] is not None:
        summary += f" · against {markdown_code(document['against'])}"
        summary += escape_markdown(_missing_at_ref(document))
    lines += [summary, ""]
    against = document["against"] is not None
    header = "| flow | state | matched | people |"
    rule = "|---|---|---|---|"
    if against:
        header += " at the ref | newly matched | no longer matched |"
        rule += "---|---|---|"
    lines += [header, rule]
    for flow in document["flows"]:
        lines.append(_md_row(flow, against))
    for flow in document["flows"]:
        lines += _md_details(flow, document["against"])
    samples = document["events"]["badLineSamples"]
    if samples:
        lines += ["", f"**Bad lines** ({document['events']['badLines']:,}, first shown):", ""]
        lines += [
            f"- {markdown_code(s['file'])} line {s['line']}: {escape_markdown(s['problem'])}"
            for s in samples
        ]
    return "\n".join(lines) + "\n"


def _md_count(series: Mapping[str, Any] | None, key: str) -> str:
    return f"{series[key]:,}" if series is not None else "—"


def _md_row(flow: Mapping[str, Any], against: bool) -> str:
    name = markdown_code(f"{flow['destination']}/{flow['flow']}")
    state = escape_markdown(_state(flow).split(" (")[0].lower())
    if flow["refused"]:
        state += " · ⚠️ refused"
    matched = flow["matched"]
    row = f"| {name} | {state} | {_md_count(matched, 'events')} | {_md_count(matched, 'people')} |"
    if against:
        ref = flow["against"]
        cells = [escape_markdown(_STATUS[ref["status"]])]
        for key, _ in _DIFF_KINDS:
            series = ref[key]
            if series is None:
                cells.append("—")
            else:
                cells.append(escape_markdown(_summary(series)) if series["events"] else "0")
        row += " " + " | ".join(cells) + " |"
    return row


def _md_details(flow: Mapping[str, Any], ref: str | None) -> list[str]:
    lines = ["", f"#### {markdown_code(flow['destination'] + '/' + flow['flow'])}", ""]
    if flow["trigger"]:
        lines.append(f"- trigger: {markdown_code(flow['trigger'])}")
    if flow.get("note"):
        lines.append(f"- note: {escape_markdown(flow['note'])}")
    if flow["refused"]:
        lines.append(f"- ⚠️ refused: {escape_markdown(flow['refused'])}")
    if flow["matched"] is not None:
        lines += _md_series("matched", flow["matched"])
    against = flow.get("against")
    if against is not None and ref is not None:
        if against["status"] in ("changed", "removed") and against["trigger"]:
            lines.append(f"- at {markdown_code(ref)}: {markdown_code(against['trigger'])}")
        if against["refused"]:
            lines.append(
                f"- ⚠️ refused at {markdown_code(ref)}: {escape_markdown(against['refused'])}"
            )
        for key, label in _DIFF_KINDS:
            if against[key] is not None and against[key]["events"]:
                lines += _md_series(label, against[key])
    return lines


def _md_series(label: str, series: Mapping[str, Any]) -> list[str]:
    days = escape_markdown(_days(series["perDay"]))
    lines = [f"- {escape_markdown(label)}: {escape_markdown(_summary(series))}; per day: {days}"]
    for example in series["examples"]:
        values = ", ".join(
            f"{markdown_code(k)} = {markdown_code(_value(v))}" for k, v in example["values"].items()
        )
        lines.append(f"  - {markdown_code(example['messageId'])}: {values}")
    return lines
