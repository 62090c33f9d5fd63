"""The plan document's vocabulary, shared by building and rendering: the secret and unknown
markers, exit codes, how a value is shown, the status and the public form of the document."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from components.pendula.flow_token import REPLACING_FIELDS as TOKEN_REPLACING_FIELDS
from components.review.offline import (
    DESTINATION_TYPE,
    FLOW_TOKEN_TYPE,
    SUBSCRIPTION_TYPE,
)

SECRET = "[secret]"
KNOWN_AFTER_APPLY = "(known after apply)"

EXIT_OK = 0
EXIT_INVALID_CONFIG = 3
"""The stack file or the program rejected the configuration (or a sample event is unusable)."""
EXIT_POLICY = 4
"""The configuration is valid but a guard-rail policy fails."""
EXIT_UNREADABLE = 5
"""The stack file (or the git ref given with --against) cannot be read."""

REPLACING_KEYS: Mapping[str, tuple[str, ...]] = {
    # Terraform RequiresReplace attributes of segmentio/segment 1.6.1 (sdks/segment docstrings).
    DESTINATION_TYPE: ("sourceId", "metadata.id"),
    SUBSCRIPTION_TYPE: ("destinationId", "actionId", "modelId"),
    FLOW_TOKEN_TYPE: tuple(TOKEN_REPLACING_FIELDS),
}
"""Input keys whose change makes the provider delete and re-create the resource."""

SECRET_LEAVES = frozenset({"settings.headers.Authorization", "settings.sharedSecret"})
"""Inside a secret ``settings`` JSON, the leaves that hold credentials. The rest of it (URL,
method, body mapping, custom context) comes from plain stack config and is shown."""


class PlanError(Exception):
    """The plan cannot be made at all; ``exit_code`` says why (see the EXIT_ constants)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def environment_notice(environments: Sequence[str]) -> str:
    """The review line of a stack whose config comes partly from Pulumi ESC environments."""
    names = ", ".join(environments)
    return (
        f"this stack imports ESC environment(s) {names}: what they provide cannot be reviewed "
        "offline (their values can add or override config, including where credentials are "
        "sent); this plan shows only the stack file and Pulumi.yaml"
    )


def plan_status(document: Mapping[str, Any]) -> str:
    if document["problems"]:
        return "invalid-config"
    if document["violations"]:
        return "policy-violations"
    return "ok"


def exit_code(document: Mapping[str, Any]) -> int:
    return {
        "ok": EXIT_OK,
        "invalid-config": EXIT_INVALID_CONFIG,
        "policy-violations": EXIT_POLICY,
    }[document["status"]]


def public(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document without its private list of secret texts."""
    return {k: v for k, v in document.items() if not k.startswith("_")}


def shown_value(value: Any) -> str:
    if value is None:
        return "(none)"
    if value in (SECRET, KNOWN_AFTER_APPLY) or (
        isinstance(value, str) and value.startswith(SECRET)
    ):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
