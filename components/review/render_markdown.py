"""The plan document as markdown for a pull-request comment, opened by its Mermaid diagram."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.config.models import (
    PROJECT,
)
from components.fql.caret import without_caret
from components.guards import placeholders
from components.guards.escaping import (
    escape_json,
    escape_markdown,
    markdown_code,
    markdown_fence,
)
from components.review.diagram import mermaid_block
from components.review.document import SECRET, environment_notice, shown_value
from components.review.render_text import summary_text


def _md(value: Any) -> str:
    """A table cell holding a value: one inline code span (``markdown_code``)."""
    text = shown_value(value) if not isinstance(value, str) else value
    return markdown_code(text)


def render_markdown(document: Mapping[str, Any]) -> str:
    """For a pull-request comment: headings, tables, collapsed body previews.

    Every value from the stack file, an event or a server goes through ``markdown_code``
    (code spans), ``markdown_fence`` (code blocks) or ``escape_markdown`` (prose), so none
    can add HTML, links or formatting to the comment.
    """
    provider = document["segmentProvider"]
    lines = [
        f"## Offline plan: stack {markdown_code(document['stack'])}",
        "",
        f"Stack file {markdown_code(document['stackFile'])} · Segment API "
        f"{markdown_code(provider['url'] or '(default)')} "
        f"· token {markdown_code(provider['token'] or '(not set)')} · secure values are not "
        "decrypted.",
    ]
    status = {
        "ok": "✅ configuration valid, all policies pass",
        "invalid-config": "❌ invalid configuration",
        "policy-violations": "❌ policy violations",
    }[document["status"]]
    lines += ["", f"**Status:** {status}"]
    if document["environment"]:
        notice = escape_markdown(environment_notice(document["environment"]))
        lines += ["", "> [!CAUTION]", f"> **Not reviewable offline**: {notice}"]
    if document["notSetYet"]:
        lines += [
            "",
            "> [!NOTE]",
            f"> **Secrets not set yet** (still `{placeholders.PLACEHOLDER}`): `pulumi preview` "
            "refuses them until these commands have run:",
        ]
        lines += [f"> - {markdown_code(entry['command'])}" for entry in document["notSetYet"]]
    if document["review"]:
        lines += [
            "",
            "> [!WARNING]",
            "> **Credential endpoints changed**: these settings decide where the Segment and "
            "Pendula credentials are sent. Review each one:",
        ]
        lines += [f"> - {escape_markdown(message)}" for message in document["review"]]
    lines += _md_settings(document["settings"])
    against = document.get("against")
    if against is not None:
        lines += ["", f"### Changes against {markdown_code(against['ref'])}", ""]
        if not against["existed"]:
            lines += ["The stack file does not exist there: everything is new.", ""]
        if against["summary"]:
            lines += [summary_text(against["summary"]) + ".", ""]
        if against.get("settingChanges"):
            lines += ["| setting | before | after |", "|---|---|---|"]
            lines += [
                f"| {markdown_code(c['key'])} | {_md(c['old'])} | {_md(c['new'])} |"
                for c in against["settingChanges"]
            ]
            lines.append("")
        if against["changes"]:
            lines += [
                "| action | resource | type | key | before | after |",
                "|---|---|---|---|---|---|",
            ]
            for entry in against["changes"]:
                rows = entry["changes"] or [None]
                for row in rows:
                    lines.append(_md_change_row(entry, row))
    if document["resources"]:
        lines += ["", "### Resources", "", "| resource | type | parent |", "|---|---|---|"]
        for r in document["resources"]:
            parent = markdown_code(r["parent"]) if r["parent"] else "—"
            lines.append(f"| {markdown_code(r['name'])} | {markdown_code(r['type'])} | {parent} |")
    for destination in document["destinations"]:
        lines += _md_destination(destination)
    if document["problems"]:
        lines += ["", "### Configuration problems", ""]
        lines += [f"- {escape_markdown(without_caret(p))}" for p in document["problems"]]
    if document["violations"]:
        lines += [
            "",
            "### Policy violations",
            "",
            "| policy | resource | message |",
            "|---|---|---|",
        ]
        for v in document["violations"]:
            lines.append(
                f"| {markdown_code(v['policy'])} | {markdown_code(v['resource'])} "
                f"| {escape_markdown(v['message'])} |"
            )
    diagram = mermaid_block(document)  # the picture opens the comment, under its heading
    lines[1:1] = ["", *diagram] if diagram else []
    return "\n".join(lines) + "\n"


def _md_settings(settings: Mapping[str, Any]) -> list[str]:
    if not settings:
        return []
    production = settings[f"{PROJECT}:production"]
    sandbox = settings[f"{PROJECT}:sandbox"]
    pendula_hosts = settings[f"{PROJECT}:allowedPendulaHosts"]
    segment_hosts = settings[f"{PROJECT}:allowedSegmentApiHosts"]
    return [
        "",
        f"**Stack:** production {markdown_code(shown_value(production))}"
        f"{' (production stack)' if production else ''}, "
        f"sandbox {markdown_code(shown_value(sandbox))} · **credential endpoints:** "
        f"Segment {markdown_code(settings['segment:url'])}, Pendula token API "
        f"{markdown_code(settings[f'{PROJECT}:pendulaApiUrl'] or '(none)')}, allowed Pendula "
        f"hosts {markdown_code(', '.join(pendula_hosts))}, allowed "
        f"Segment API hosts {markdown_code(', '.join(segment_hosts))}",
    ]


def _md_change_row(entry: Mapping[str, Any], row: Mapping[str, Any] | None) -> str:
    action = entry["action"].upper() if entry["action"] == "replace" else entry["action"]
    head = f"| {action} | {markdown_code(entry['name'])} | {markdown_code(entry['type'])} |"
    if row is None:
        return head + " | | |"
    key = row["key"] + (" (replace)" if row["action"] == "replace" else "")
    if row.get("note", "").startswith("changed"):
        return (
            head + f" {_md(key)} | {markdown_code(SECRET)} | {markdown_code(SECRET)} "
            f"{escape_markdown(row['note'])} |"
        )
    note = f" ({escape_markdown(row['note'])})" if row.get("note") else ""
    return head + f" {_md(key)} | {_md(row['old'])} | {_md(row['new'])}{note} |"


def _md_destination(destination: Mapping[str, Any]) -> list[str]:
    lines = [
        "",
        f"### Destination {markdown_code(destination['name'])}",
        "",
        f"{_md(destination['displayName'])} on source {_md(destination['sourceId'])}, "
        f"{'enabled' if destination['enabled'] else 'disabled'}"
        + (", shared secret `[secret]`" if destination["sharedSecret"] else "")
        + ".",
        "",
        "| flow | enabled | trigger | target | batching | custom context | token |",
        "|---|---|---|---|---|---|---|",
    ]
    for flow in destination["flows"]:
        token = flow["token"]
        lines.append(
            f"| {markdown_code(flow['name'])} | {'yes' if flow['enabled'] else 'no'} "
            f"| {_md(flow['trigger'])} "
            f"| {_md(str(flow['method']) + ' ' + str(flow['url']))} "
            f"| {_md('off' if flow['enableBatching'] is False else 'ON')} "
            f"(batch_size {escape_markdown(str(flow['batchSize']))}) "
            f"| {_md(flow['customContext']) if flow['customContext'] else '—'} "
            f"| {escape_markdown(token['mode'])}, {escape_markdown(token['scheme'])}, "
            f"{markdown_code('Authorization: ' + str(flow['headers']['Authorization']))} |"
        )
    for flow in destination["flows"]:
        if not flow["sampleEvent"]:
            continue
        body = (
            escape_json(flow["bodyPreview"], indent=2)
            if flow["bodyPreview"] is not None
            else "(not available, see configuration problems)"
        )
        # Inside <details>/<summary> Markdown is not processed, so only the flow's name (a
        # validated slug, html-escaped all the same) goes there; the path follows as Markdown.
        lines += [
            "",
            "<details>",
            f"<summary>Body preview: <code>{escape_markdown(flow['name'])}</code></summary>",
            "",
            f"For the sample event {markdown_code(flow['sampleEvent'])}:",
            "",
            markdown_fence(body, "json"),
            "",
            "</details>",
        ]
    return lines
