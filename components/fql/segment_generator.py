"""Segment's ``generateFql``: a faithful port of @segment/destination-subscriptions
generate-fql.ts, without safety checks (``components.fql.checks.generate_fql`` adds them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.fql.js import (
    UNDEFINED,
    js_number_to_string,
    js_to_number,
    js_to_string,
    utf16_units,
)
from components.fql.segment_parser import NAMED_PREFIX
from components.fql.vocabulary import LEAF_TYPES, ConditionError


def _stringify_value(value: Any) -> str:
    if isinstance(value, bool | int | float):
        return js_to_string(value)
    return f'"{js_to_string(value)}"'


def _fql_expression(name: str, operator: Any, value: Any) -> str:
    text = {
        "contains": lambda: f"contains({name}, {_stringify_value(value)})",
        "not_contains": lambda: f"!contains({name}, {_stringify_value(value)})",
        "exists": lambda: f"{name} != null",
        "not_exists": lambda: f"{name} = null",
        "is_true": lambda: f"{name} = true",
        "is_false": lambda: f"{name} = false",
        "starts_with": lambda: f'match({name}, "{js_to_string(value)}*")',
        "not_starts_with": lambda: f'!match({name}, "{js_to_string(value)}*")',
        "ends_with": lambda: f'match({name}, "*{js_to_string(value)}")',
        "not_ends_with": lambda: f'!match({name}, "*{js_to_string(value)}")',
        "number_equals": lambda: f"{name} = {js_number_to_string(js_to_number(value))}",
        "number_not_equals": lambda: f"{name} != {js_number_to_string(js_to_number(value))}",
    }
    if isinstance(operator, str) and operator in ("<", ">", "<=", ">="):
        return f"{name} {operator} {js_number_to_string(js_to_number(value))}"
    if isinstance(operator, str) and operator in text:
        return text[operator]()
    return f"{name} {js_to_string(operator)} {_stringify_value(value)}"


def _escape_field_path(name: Any) -> str:
    if not isinstance(name, str):
        return js_to_string(name)
    return "".join(
        unit if re.fullmatch(r"[a-zA-Z0-9._-]", unit) else "\\" + unit for unit in utf16_units(name)
    )


def leaf_fql(node: Mapping[str, Any]) -> str:
    """Segment's ``stringifyChildNode`` for one leaf."""
    leaf_type = str(node.get("type"))
    value = node.get("value", UNDEFINED)
    if leaf_type in ("name", "userId", "event"):
        return _fql_expression(leaf_type, node.get("operator"), value)
    if leaf_type == "event-type":
        return _fql_expression("type", node.get("operator"), value)
    if leaf_type in NAMED_PREFIX:
        field = f"{NAMED_PREFIX[leaf_type]}.{_escape_field_path(node.get('name', UNDEFINED))}"
        return _fql_expression(field, node.get("operator"), value)
    raise ConditionError(f"unknown condition type {leaf_type!r}; allowed: {', '.join(LEAF_TYPES)}")


def _group_fql(node: Mapping[str, Any]) -> str:
    parts = [
        f"({_group_fql(child)})" if child.get("type") == "group" else leaf_fql(child)
        for child in node["children"]
    ]
    return f" {js_to_string(node['operator'])} ".join(parts)


def segment_generate(ast: Mapping[str, Any]) -> str:
    """Segment's ``generateFql``, without any safety checks."""
    fql = _group_fql(ast)
    if fql.startswith("(") and fql.endswith(")") and fql.count("(") + fql.count(")") == 2:
        return fql[1:-1]
    return fql
