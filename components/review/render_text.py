"""The plan document as terminal text (escaped, secrets shown as ``[secret]``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from components.config.models import (
    PROJECT,
)
from components.fql.caret import lay_out
from components.guards import placeholders
from components.guards.escaping import (
    escape_terminal,
)
from components.review.document import SECRET, environment_notice, shown_value


def _change_text(row: Mapping[str, Any]) -> str:
    if row.get("note", "").startswith("changed"):
        tail = f"{SECRET} {row['note']}"
    else:
        tail = f"{shown_value(row['old'])} → {shown_value(row['new'])}"
        if row.get("note"):
            tail += f" ({row['note']})"
    marker = " [REPLACE]" if row["action"] == "replace" else ""
    return f"{row['key']}: {tail}{marker}"


_ACTION_SIGN = {"create": "+", "delete": "-", "replace": "+-", "update": "~", "same": " "}


def _terminal_safe(value: Any) -> Any:
    """Every string of the document escaped for a terminal, dictionary keys included."""
    if isinstance(value, str):
        return escape_terminal(value)
    if isinstance(value, dict):
        return {escape_terminal(str(k)): _terminal_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_terminal_safe(v) for v in value]
    return value


def render_text(document: Mapping[str, Any]) -> str:
    """For terminals: every value escaped (``escape_terminal``) before it is laid out."""
    problems = [lay_out(p) for p in document["problems"]]  # caret blocks on their own lines
    document = _terminal_safe(dict(document)) | {"problems": problems}
    lines = [
        f"Stack {document['stack']} ({document['stackFile']}): offline plan, nothing is "
        "deployed; secure values are not decrypted.",
    ]
    provider = document["segmentProvider"]
    lines.append(
        f"Segment provider: url {provider['url'] or '(default)'}, "
        f"token {provider['token'] or '(not set)'}"
    )
    lines += _settings_text(document["settings"])
    if document["environment"]:
        lines += ["", f"NOT REVIEWABLE OFFLINE: {environment_notice(document['environment'])}"]
    if document["review"]:
        lines += ["", f"REVIEW: credential endpoints changed ({len(document['review'])}):"]
        lines += [f"  ! {message}" for message in document["review"]]
    if document["resources"]:
        lines += ["", f"Resources ({len(document['resources'])}):"]
        depth = _depths(document["resources"])
        for row in document["resources"]:
            indent = "  " * (depth[row["name"]] + 1)
            via = f"  (provider {row['provider']})" if row["provider"] else ""
            lines.append(f"{indent}{row['name']}  {row['type']}{via}")
    for destination in document["destinations"]:
        lines += [
            "",
            f"Destination {destination['name']}: "
            f"{shown_value(destination['displayName'])} on source "
            f"{destination['sourceId']}, {'enabled' if destination['enabled'] else 'disabled'}"
            + (", shared secret [secret]" if destination["sharedSecret"] else ""),
        ]
        for flow in destination["flows"]:
            lines += _flow_text(flow)
    lines += _against_text(document.get("against"))
    lines += _findings_text(document)
    return "\n".join(lines) + "\n"


def _settings_text(settings: Mapping[str, Any]) -> list[str]:
    if not settings:
        return []
    flags = [name for name in ("production", "sandbox") if settings.get(f"{PROJECT}:{name}")]
    return [
        f"Stack: {', '.join(flags) + ' stack' if flags else 'neither production nor sandbox'}; "
        f"production {shown_value(settings[f'{PROJECT}:production'])}, "
        f"sandbox {shown_value(settings[f'{PROJECT}:sandbox'])}",
        f"Credential endpoints: segment:url {settings['segment:url']}, pendulaApiUrl "
        f"{settings[f'{PROJECT}:pendulaApiUrl'] or '(none)'}; allowed Pendula hosts "
        f"{', '.join(settings[f'{PROJECT}:allowedPendulaHosts'])}; allowed Segment API hosts "
        f"{', '.join(settings[f'{PROJECT}:allowedSegmentApiHosts'])}",
    ]


def _depths(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    depth: dict[str, int] = {}
    for row in rows:
        parent = row["parent"]
        depth[row["name"]] = depth.get(parent, -1) + 1 if parent else 0
    return depth


def _flow_text(flow: Mapping[str, Any]) -> list[str]:
    token = flow["token"]
    lines = [
        f"  Flow {flow['name']} ({shown_value(flow['displayName'])}): mapping "
        f"{'enabled' if flow['enabled'] else 'disabled'}",
        f"    trigger:        {flow['trigger']}",
        f"    target:         {flow['method']} {flow['url']}",
        f"    batching:       enable_batching {shown_value(flow['enableBatching'])}, "
        f"batch_size {shown_value(flow['batchSize'])}",
        f"    custom context: {flow['customContext'] or '(none)'}",
        f"    token:          {token['mode']}, {token['scheme']}; "
        f"Authorization {flow['headers']['Authorization']}",
        f"    data:           {shown_value(flow['data'])}",
    ]
    if flow["sampleEvent"]:
        lines.append(f"    body preview for {flow['sampleEvent']}:")
        if flow["bodyPreview"] is None:
            lines.append("      (not available, see problems)")
        else:
            body = json.dumps(flow["bodyPreview"], indent=2, sort_keys=True, ensure_ascii=False)
            lines += [f"      {line}" for line in body.splitlines()]
    return lines


def _against_text(against: Mapping[str, Any] | None) -> list[str]:
    if against is None:
        return []
    lines = ["", f"Changes against {against['ref']}:"]
    if not against["existed"]:
        lines.append("  (the stack file does not exist there: everything is new)")
    if against["summary"]:
        lines.append("  " + summary_text(against["summary"]))
    for change in against.get("settingChanges", []):
        lines.append(
            f"  ~ setting {change['key']}: "
            f"{shown_value(change['old'])} → {shown_value(change['new'])}"
        )
    for entry in against["changes"]:
        lines.append(f"  {_ACTION_SIGN[entry['action']]} {entry['action']} {entry['name']}"
                     f"  {entry['type']}")  # fmt: skip
        lines += [f"      {_change_text(row)}" for row in entry["changes"]]
    return lines


def summary_text(summary: Mapping[str, int]) -> str:
    return ", ".join(f"{summary[a]} to {a}" for a in ("create", "update", "replace", "delete")) + (
        f", {summary['same']} unchanged"
    )


def _findings_text(document: Mapping[str, Any]) -> list[str]:
    lines = [""]
    if document["problems"]:
        lines.append(f"Configuration problems ({len(document['problems'])}):")
        lines += [f"  - {p}" for p in document["problems"]]
    if document["violations"]:
        lines.append(f"Policy violations ({len(document['violations'])}):")
        lines += [
            f"  - [{v['policy']}] {v['resource']}: {v['message']}" for v in document["violations"]
        ]
    if document["notSetYet"]:
        lines.append(
            f"Secrets not set yet ({len(document['notSetYet'])}, still {placeholders.PLACEHOLDER}):"
            " the offline review passes, `pulumi preview` refuses them until you run:"
        )
        lines += [f"  {entry['command']}" for entry in document["notSetYet"]]
    if document["status"] == "ok":
        lines.append("Configuration valid; all policies pass.")
    return lines
