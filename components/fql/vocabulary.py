"""The FQL vocabulary shared by every part of the package: condition types, operators, errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple


class ConditionError(ValueError):
    """A trigger condition (AST, FQL text or YAML form) that Segment cannot read as meant."""


class LeafVerdict(NamedTuple):
    """One leaf condition of a trigger and whether an event satisfied it."""

    fql: str
    matched: bool


Ast = dict[str, Any]
Predicate = Callable[[Mapping[str, Any]], bool]

# --- vocabulary --------------------------------------------------------------------------------

GROUP_OPERATORS: Final = ("and", "or")
LEAF_TYPES: Final = (
    "event-type",
    "event",
    "name",
    "userId",
    "event-property",
    "event-trait",
    "event-context",
)
NAMED_TYPES: Final = frozenset({"event-property", "event-trait", "event-context"})
OPERATORS: Final = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "number_equals",
    "number_not_equals",
    "contains",
    "not_contains",
    "starts_with",
    "not_starts_with",
    "ends_with",
    "not_ends_with",
    "exists",
    "not_exists",
    "is_true",
    "is_false",
)
NUMERIC_OPERATORS: Final = frozenset({"<", "<=", ">", ">=", "number_equals", "number_not_equals"})
TEXT_OPERATORS: Final = frozenset(
    {
        "contains",
        "not_contains",
        "starts_with",
        "not_starts_with",
        "ends_with",
        "not_ends_with",
    }
)
GLOB_OPERATORS: Final = frozenset({"starts_with", "not_starts_with", "ends_with", "not_ends_with"})
VALUELESS_OPERATORS: Final = frozenset({"exists", "not_exists", "is_true", "is_false"})

# Which operators Segment's parser reads back for each leaf type (parse-fql.ts branches).
COMPARISONS: Final = ("=", "!=", "<", "<=", ">", ">=")
_TEXT: Final = (
    "contains",
    "not_contains",
    "starts_with",
    "not_starts_with",
    "ends_with",
    "not_ends_with",
)
ALLOWED_OPERATORS: Final[Mapping[str, tuple[str, ...]]] = {
    "event-type": COMPARISONS,
    "event": COMPARISONS + _TEXT,
    "name": COMPARISONS + _TEXT + ("exists", "not_exists"),
    "userId": COMPARISONS + _TEXT + ("exists", "not_exists", "is_true", "is_false"),
    "event-property": OPERATORS,
    "event-trait": OPERATORS,
    "event-context": OPERATORS,
}
FIELD_OF_TYPE: Final[Mapping[str, str]] = {
    "event-type": "type",
    "event": "event",
    "name": "name",
    "userId": "userId",
    "event-property": "properties",
    "event-trait": "traits",
    "event-context": "context",
}
EVENT_TYPES: Final = ("track", "identify", "page", "screen", "group", "alias")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def describe(value: Any) -> str:
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}.get(
        type(value), "null" if value is None else type(value).__name__
    )
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return f"{shown} ({kind})"
