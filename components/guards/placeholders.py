"""Secrets not set yet: the `PLACEHOLDER` value and the commands that replace it.

A new flow (or a new stack) usually exists before its credentials do. Writing

    segment-pendula:pendulaTokens:
      big-order: PLACEHOLDER

lets the offline review (`check`, `plan`) pass and show what is still missing, while the
program refuses to run until the real secret is set (`pulumi config set --secret …`).

Why a plain value and not a `secure:` one: the engine decrypts every `secure:` value before
the program starts, so a ciphertext the stack's secrets provider cannot open stops `pulumi
preview` with the engine's own `validating stack config: bad value`, naming no key
(tests/engine/test_placeholders.py). A plain `PLACEHOLDER` reaches the program, which names
each key and the command that sets it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

PLACEHOLDER = "PLACEHOLDER"
"""The value of a secret that is not set yet (exactly this text, case-sensitive)."""

_WHAT = {
    "segment:token": "<Segment Public API token>",
    "segment-pendula:pendulaTokens": "<Pendula API token>",
    "segment-pendula:sharedSecrets": "<shared secret>",
    "segment-pendula:pendulaApiToken": "<Pendula token API credential>",
}


def is_placeholder(value: object) -> bool:
    return value == PLACEHOLDER


def placeholder_paths(key: str, value: Any) -> Iterator[str]:
    """The config paths under `key` whose value is the placeholder (`key` or `key.<name>`)."""
    if is_placeholder(value):
        yield key
    elif isinstance(value, Mapping):
        for name, item in value.items():
            if is_placeholder(item):
                yield f"{key}.{name}"


def secure_or_placeholder(value: Any) -> bool:
    """Whether every leaf of a stack file value is `{secure: …}` or the placeholder, and at
    least one is the placeholder (a key that is all `secure:` is secret anyway)."""
    if is_placeholder(value):
        return True
    if not isinstance(value, Mapping) or not value:
        return False
    leaves = list(value.values())
    secure = [isinstance(v, Mapping) and set(v) == {"secure"} for v in leaves]
    return any(map(is_placeholder, leaves)) and all(
        s or is_placeholder(v) for s, v in zip(secure, leaves, strict=True)
    )


def without_placeholders(value: Any) -> Any:
    """`value` with placeholder entries removed (None when it is the placeholder itself)."""
    if is_placeholder(value):
        return None
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if not is_placeholder(v)}
    return value


def set_secret_command(path: str) -> str:
    """The exact command that replaces the placeholder at `path` with the real secret."""
    key, _, name = path.partition(".")
    what = _WHAT.get(key, "<value>")
    if name:
        return f"pulumi config set --secret --path '{path}' {what}"
    return f"pulumi config set --secret {path} {what}"


def placeholder_problems(paths: list[str]) -> list[str]:
    """One line per placeholder for the program's error: the key and the command to run."""
    return [
        f"{path}: is still the placeholder {PLACEHOLDER}; set the real secret first: "
        f"{set_secret_command(path)}  (docs/configuration.md#secrets-not-set-yet)"
        for path in paths
    ]


def how_to_declare(flow: str) -> str:
    """What `check`/`plan` suggest for a flow whose token is missing."""
    path = f"segment-pendula:pendulaTokens.{flow}"
    return (
        f"set it with `{set_secret_command(path)}`, or until you have the token declare "
        f"`{flow}: {PLACEHOLDER}` under segment-pendula:pendulaTokens (the offline review "
        "passes; pulumi preview refuses it until the real token is set)"
    )
