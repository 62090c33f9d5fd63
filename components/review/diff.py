"""The difference between two runs of the program: every input leaf compared, replacements
marked, and the cascade of a replaced resource to what depends on it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi.output import Unknown

from components.review.document import KNOWN_AFTER_APPLY, REPLACING_KEYS, SECRET, SECRET_LEAVES
from components.review.offline import (
    DESTINATION_TYPE,
    FLOW_TOKEN_TYPE,
    SUBSCRIPTION_TYPE,
    RecordedResource,
    Secret,
    unwrap,
)
from components.review.stack_run import ProgramRun, ordered_resources, settings_fallback

# --- comparing two runs -------------------------------------------------------------------


@dataclass(frozen=True)
class _Leaf:
    """One flattened input value; secret and unknown values are compared, never shown."""

    value: Any
    secret: bool = False
    unknown: bool = False

    def shown(self) -> Any:
        if self.unknown:
            return KNOWN_AFTER_APPLY
        return SECRET if self.secret else self.value


def flatten_inputs(resource: RecordedResource, fallback_settings: str | None) -> dict[str, _Leaf]:
    """Inputs as dotted paths; JSON ``settings`` strings are opened so changes are precise."""
    leaves: dict[str, _Leaf] = {}
    for key, value in resource.inputs.items():
        secret = isinstance(value, Secret)
        plain = unwrap(value)
        if key == "settings" and isinstance(plain, Unknown) and fallback_settings is not None:
            plain, secret = fallback_settings, True
        if key == "settings" and isinstance(plain, str) and _json_object(plain) is not None:
            _flatten_into(leaves, "settings", _json_object(plain), secret)
        else:
            _flatten_into(leaves, key, plain, secret)
    return leaves


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _flatten_into(leaves: dict[str, _Leaf], path: str, value: Any, secret: bool) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten_into(leaves, f"{path}.{key}", item, secret)
        return
    if isinstance(value, Unknown) or value == KNOWN_AFTER_APPLY:
        leaves[path] = _Leaf(None, secret, unknown=True)
        return
    # Only the credential leaves of a secret settings object stay hidden; a whole secret
    # value (a token) is hidden entirely.
    hidden = secret and (not path.startswith("settings.") or path in SECRET_LEAVES)
    leaves[path] = _Leaf(value, hidden)


def _replaces(resource_type: str, path: str) -> bool:
    return any(path == k or path.startswith(k + ".") for k in REPLACING_KEYS.get(resource_type, ()))


def _change_row(path: str, old: _Leaf | None, new: _Leaf | None, replace: bool) -> dict[str, Any]:
    secret = (old is not None and old.secret) or (new is not None and new.secret)
    row: dict[str, Any] = {"key": path, "action": "replace" if replace else "update"}
    if secret:
        row.update(old=SECRET if old else None, new=SECRET if new else None, note="changed")
    else:
        row.update(old=old.shown() if old else None, new=new.shown() if new else None)
    return row


def diff_runs(base: ProgramRun, head: ProgramRun) -> list[dict[str, Any]]:
    """Per resource: create / delete / replace / update / same, with the changed keys."""
    base_by_key = {(r.type, r.name): r for r in base.resources}
    head_by_key = {(r.type, r.name): r for r in head.resources}
    base_fallbacks, head_fallbacks = _fallbacks(base), _fallbacks(head)
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for resource in ordered_resources(head):
        key = (resource.type, resource.name)
        old = base_by_key.get(key)
        if old is None:
            entries[key] = _entry(resource, "create", [])
            continue
        old_leaves = flatten_inputs(old, base_fallbacks.get(old.name))
        new_leaves = flatten_inputs(resource, head_fallbacks.get(resource.name))
        rows = []
        for path in sorted(set(old_leaves) | set(new_leaves)):
            before, after = old_leaves.get(path), new_leaves.get(path)
            if before == after:
                continue
            rows.append(_change_row(path, before, after, _replaces(resource.type, path)))
        entries[key] = _entry(resource, _action(rows), rows)
    for resource in ordered_resources(base):
        if (resource.type, resource.name) not in head_by_key:
            entries[(resource.type, resource.name)] = _entry(resource, "delete", [])
    _cascade(entries, head)
    order = [(r.type, r.name) for r in ordered_resources(head)]
    order += [k for k in entries if k not in set(order)]
    return [entries[k] for k in order]


def _fallbacks(run: ProgramRun) -> dict[str, str]:
    if run.config is None:
        return {}
    return {f"{d.name}-{f.name}-subscription": settings_fallback(f) for d, f in run.config.flows()}


def _entry(resource: RecordedResource, action: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": resource.type, "name": resource.name, "action": action, "changes": rows}


def _action(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "same"
    return "replace" if any(r["action"] == "replace" for r in rows) else "update"


def _cascade(entries: dict[tuple[str, str], dict[str, Any]], head: ProgramRun) -> None:
    """Changes that follow from a replacement although no input of the dependant changed.

    A replaced destination gets a new id, so its subscriptions (``destinationId``,
    RequiresReplace) are replaced too; a replaced managed token gets a new credential, so its
    subscription's Authorization header changes. At preview both are unknown on each side,
    which is why they are added here rather than found by comparing inputs.
    """
    parent_of = {r.name: r.parent for r in head.resources}
    replaced_destinations = {
        parent_of[e["name"]]
        for e in entries.values()
        if e["type"] == DESTINATION_TYPE and e["action"] == "replace"
    }
    for entry in entries.values():
        if entry["type"] != SUBSCRIPTION_TYPE or entry["action"] in ("create", "delete"):
            continue
        if parent_of.get(entry["name"]) in replaced_destinations:
            entry["changes"].append(
                {
                    "key": "destinationId",
                    "action": "replace",
                    "old": "(current destination id)",
                    "new": KNOWN_AFTER_APPLY,
                    "note": "the destination is replaced",
                }
            )
            entry["action"] = "replace"
        token = entries.get(
            (FLOW_TOKEN_TYPE, entry["name"].removesuffix("-subscription") + "-token")
        )
        if token is not None and token["action"] == "replace":
            entry["changes"].append(
                {
                    "key": "settings.headers.Authorization",
                    "action": "update",
                    "old": SECRET,
                    "new": SECRET,
                    "note": "changed (new token)",
                }
            )
            entry["action"] = _action(entry["changes"])
        entry["changes"].sort(key=lambda row: row["key"])
