"""The picture at the top of a markdown plan: a Mermaid flowchart GitHub renders in the PR.

Segment source → Webhooks (Actions) destination → one node per mapping (its trigger in words,
enabled or not) → the Pendula flow it calls. With ``--against``, what the change adds,
changes, replaces or removes is marked in words (colour alone is not enough) and by class.

Every text that comes from a stack file goes through :func:`escape_label`: Mermaid is its own
medium (quotes end a label, ``#…;`` is an entity, labels are HTML), so markdown or terminal
escaping does not protect it. Node ids are generated, never taken from user text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from components.fql import ConditionError, parse_fql
from components.review.offline import DESTINATION_TYPE, SUBSCRIPTION_TYPE

_SAFE: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:/_-=@+()"
)
"""Characters that mean nothing to Mermaid's flowchart grammar, its entity syntax or HTML."""

_MAX_LABEL: Final = 120
"""Longer user texts are cut (a diagram is an overview; the tables below have everything)."""

_CHANGE_WORDS: Final[Mapping[str, str]] = {
    "create": "added",
    "update": "changed",
    "replace": "replaced",
    "delete": "removed",
}
_SEVERITY: Final = ("same", "update", "replace", "create", "delete")

_CLASS_STYLES: Final[Mapping[str, str]] = {
    "added": "fill:#dafbe1,stroke:#1a7f37,color:#1f2328",
    "changed": "fill:#fff8c5,stroke:#9a6700,color:#1f2328",
    "replaced": "fill:#ffebe9,stroke:#cf222e,color:#1f2328",
    "removed": "fill:#f6f8fa,stroke:#cf222e,color:#59636e,stroke-dasharray:5 5",
    "disabled": "fill:#f6f8fa,stroke:#8c959f,color:#59636e",
}

_FIELD_WORDS: Final[Mapping[str, str]] = {
    "event-type": "event type",
    "event": "event",
    "name": "page name",
    "userId": "user ID",
    "event-property": "property",
    "event-trait": "trait",
    "event-context": "context",
}
_OPERATOR_WORDS: Final[Mapping[str, str]] = {
    "=": "is",
    "!=": "is not",
    "number_equals": "=",
    "number_not_equals": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "not_starts_with": "does not start with",
    "ends_with": "ends with",
    "not_ends_with": "does not end with",
    "exists": "exists",
    "not_exists": "does not exist",
    "is_true": "is true",
    "is_false": "is false",
}


def escape_label(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` safe inside a double-quoted Mermaid label, showing exactly ``text``.

    Every character outside a small safe set becomes a numeric entity ``#<code>;``, which
    Mermaid turns back into that character when it draws the label: ``"`` cannot end the
    label, ``<`` cannot open HTML, ``#`` cannot start an entity, a backtick or newline cannot
    end the markdown code fence. Secret texts are replaced first, as a last line of defence
    (they would no longer be recognisable once encoded).
    """
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "[secret]")
    if len(text) > _MAX_LABEL:
        text = text[: _MAX_LABEL - 1] + "…"
    return "".join(c if c in _SAFE else f"#{ord(c)};" for c in text)


def trigger_in_words(fql: Any) -> str:
    """A mapping's FQL trigger as a reviewer reads it: ``event type is "track" and …``."""
    if not isinstance(fql, str) or not fql:
        return "no trigger"
    try:
        ast = parse_fql(fql)
    except ConditionError:
        # Kept verbatim (unsafeTrigger): show the text Segment will read, not a guess at it.
        return f"FQL {fql}"
    return _node_words(ast, top=True)


def _node_words(node: Mapping[str, Any], *, top: bool = False) -> str:
    if node.get("type") == "group":
        words = f" {node.get('operator', 'and')} ".join(
            _node_words(child) for child in node.get("children", [])
        )
        return words if top else f"({words})"
    field_words = _FIELD_WORDS.get(str(node.get("type")), str(node.get("type")))
    if "name" in node:
        field_words += f" {node['name']}"
    operator = str(node.get("operator"))
    words = f"{field_words} {_OPERATOR_WORDS.get(operator, operator)}"
    if "value" in node and operator not in ("exists", "not_exists", "is_true", "is_false"):
        value = node["value"]
        words += f' "{value}"' if isinstance(value, str) else f" {value}"
    return words


# --- which elements the change touches -----------------------------------------------------


@dataclass
class _Changes:
    """Per resource name, the action of ``--against`` (``same`` when not listed)."""

    actions: dict[str, str] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> _Changes:
        changes = cls()
        against = document.get("against") or {}
        for entry in against.get("changes", []):
            changes.actions[entry["name"]] = entry["action"]
            changes.keys[entry["name"]] = [row["key"] for row in entry.get("changes", [])]
        return changes

    def action(self, *names: str) -> str:
        """The most telling action among the resources that make up one drawn element."""
        found = [self.actions.get(name, "same") for name in names]
        return max(found, key=_SEVERITY.index)

    def changed_keys(self, *names: str) -> list[str]:
        keys: list[str] = []
        for name in names:
            for key in self.keys.get(name, []):
                short = key.removeprefix("settings.").split(".")[0]
                if short not in keys:
                    keys.append(short)
        return keys

    def removed(self, resource_type: str) -> list[str]:
        return [
            entry_name
            for entry_name, action in self.actions.items()
            if action == "delete" and entry_name.endswith(_SUFFIX[resource_type])
        ]


_SUFFIX: Final[Mapping[str, str]] = {
    DESTINATION_TYPE: "-destination",
    SUBSCRIPTION_TYPE: "-subscription",
}


# --- drawing ---------------------------------------------------------------------------------


@dataclass
class _Drawing:
    secrets: frozenset[str]
    lines: list[str] = field(default_factory=lambda: ["flowchart LR"])
    classes: dict[str, list[str]] = field(default_factory=dict)

    def node(self, ident: str, parts: Sequence[str], shape: str = "box", css: str = "") -> None:
        """A node whose label is fixed words and escaped user texts, one part per line."""
        label = "<br/>".join(parts)
        opening, closing = {"box": ('["', '"]'), "round": ('("', '")'), "db": ('[("', '")]')}[shape]
        self.lines.append(f"  {ident}{opening}{label}{closing}")
        if css:
            self.classes.setdefault(css, []).append(ident)

    def text(self, value: Any) -> str:
        return escape_label(str(value), self.secrets)

    def edge(self, start: str, end: str, dashed: bool = False) -> None:
        self.lines.append(f"  {start} {'-.->' if dashed else '-->'} {end}")

    def finish(self) -> list[str]:
        for css, idents in self.classes.items():
            self.lines.append(f"  classDef {css} {_CLASS_STYLES[css]}")
            self.lines.append(f"  class {','.join(idents)} {css}")
        return self.lines


def _marker(action: str, keys: Sequence[str], drawing: _Drawing) -> tuple[list[str], str]:
    """The label line and class for a change (nothing when the element is unchanged)."""
    if action == "same":
        return [], ""
    word = _CHANGE_WORDS[action]
    if action == "update" and keys:
        return [f"{word.upper()}: {drawing.text(', '.join(keys[:4]))}"], word
    return [word.upper()], word


def mermaid_lines(document: Mapping[str, Any]) -> list[str]:
    """The flowchart's source lines; empty when the plan has nothing to draw."""
    changes = _Changes.of(document)
    destinations: Sequence[Mapping[str, Any]] = document.get("destinations") or []
    removed_destinations = [
        name.removesuffix("-destination") for name in changes.removed(DESTINATION_TYPE)
    ]
    removed_mappings = changes.removed(SUBSCRIPTION_TYPE)
    if not destinations and not removed_destinations and not removed_mappings:
        return []
    drawing = _Drawing(frozenset(document.get("_secrets", ())))
    sources: dict[str, str] = {}
    destination_ids: dict[str, str] = {}
    for d_index, destination in enumerate(destinations):
        source = str(destination.get("sourceId"))
        if source not in sources:
            sources[source] = f"src{len(sources)}"
            drawing.node(sources[source], ["Segment source", drawing.text(source)], shape="db")
        dest_id = f"dst{d_index}"
        destination_ids[str(destination["name"])] = dest_id
        resource = str(destination.get("resource") or f"{destination['name']}-destination")
        marker, css = _marker(changes.action(resource), changes.changed_keys(resource), drawing)
        state = "enabled" if destination.get("enabled") else "disabled"
        drawing.node(
            dest_id,
            [
                "Webhooks (Actions) destination",
                drawing.text(f"{destination['name']}: {destination.get('displayName')}"),
                state,
                *marker,
            ],
            css=css or ("" if destination.get("enabled") else "disabled"),
        )
        drawing.edge(sources[source], dest_id)
        for f_index, flow in enumerate(destination.get("flows", [])):
            _draw_flow(drawing, changes, dest_id, f"{dest_id}m{f_index}", flow)
    for r_index, name in enumerate(removed_destinations):
        dest_id = f"rdst{r_index}"
        destination_ids[name] = dest_id
        drawing.node(
            dest_id,
            ["Webhooks (Actions) destination", drawing.text(name), "REMOVED"],
            css="removed",
        )
    for r_index, resource in enumerate(removed_mappings):
        owner = _owner(resource, destination_ids)
        flow_name = resource.removesuffix("-subscription")
        if owner is not None:
            flow_name = flow_name.removeprefix(owner + "-")
        ident = f"rmap{r_index}"
        drawing.node(
            ident,
            ["mapping", drawing.text(flow_name), "REMOVED"],
            shape="round",
            css="removed",
        )
        if owner is not None:
            drawing.edge(destination_ids[owner], ident, dashed=True)
    return drawing.finish()


def _draw_flow(
    drawing: _Drawing, changes: _Changes, dest_id: str, ident: str, flow: Mapping[str, Any]
) -> None:
    names = [n for n in (flow.get("subscription"), flow["token"].get("resource")) if n]
    marker, css = _marker(changes.action(*names), changes.changed_keys(*names), drawing)
    enabled = bool(flow.get("enabled"))
    title = drawing.text(flow["name"])
    if flow.get("displayName") and flow.get("displayName") != flow["name"]:
        title += f": {drawing.text(flow['displayName'])}"
    drawing.node(
        ident,
        [
            f"mapping {title}",
            f"when {drawing.text(trigger_in_words(flow.get('trigger')))}",
            "enabled" if enabled else "disabled: sends nothing",
            *marker,
        ],
        shape="round",
        css=css or ("" if enabled else "disabled"),
    )
    drawing.edge(dest_id, ident)
    target = f"{ident}p"
    drawing.node(target, ["Pendula flow", drawing.text(f"{flow.get('method')} {flow.get('url')}")])
    drawing.edge(ident, target, dashed=not enabled)


def _owner(resource: str, destination_ids: Mapping[str, str]) -> str | None:
    """The destination a removed mapping belonged to: the longest name that prefixes it."""
    owners = [name for name in destination_ids if resource.startswith(name + "-")]
    return max(owners, key=len) if owners else None


def mermaid_block(document: Mapping[str, Any]) -> list[str]:
    """Markdown lines: the fenced ``mermaid`` block GitHub renders (empty: nothing to draw)."""
    lines = mermaid_lines(document)
    return ["```mermaid", *lines, "```"] if lines else []
