"""The stack-file YAML form of trigger conditions (``all:``/``any:`` lists), 1:1 with the AST."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, Final

from components.fql.checks import generate_fql, leaf_problem, nested_text_problem, numeric_problem
from components.fql.js import js_number_to_string, js_number_value, js_to_number, js_to_string
from components.fql.segment_generator import leaf_fql
from components.fql.vocabulary import (
    ALLOWED_OPERATORS,
    EVENT_TYPES,
    NAMED_TYPES,
    NUMERIC_OPERATORS,
    TEXT_OPERATORS,
    VALUELESS_OPERATORS,
    Ast,
    ConditionError,
    describe,
    is_number,
)

YAML_FIELDS: Final[Mapping[str, str]] = {
    "event_type": "event-type",
    "event": "event",
    "name": "name",
    "user_id": "userId",
    "property": "event-property",
    "trait": "event-trait",
    "context": "event-context",
}
YAML_OPERATORS: Final[Mapping[str, str]] = {
    "is": "=",
    "is_not": "!=",
    "equals": "number_equals",
    "not_equals": "number_not_equals",
    "lt": "<",
    "lte": "<=",
    "gt": ">",
    "gte": ">=",
    "contains": "contains",
    "not_contains": "not_contains",
    "starts_with": "starts_with",
    "not_starts_with": "not_starts_with",
    "ends_with": "ends_with",
    "not_ends_with": "not_ends_with",
    "exists": "exists",
    "not_exists": "not_exists",
    "is_true": "is_true",
    "is_false": "is_false",
}
_AST_TO_YAML_FIELD: Final = {v: k for k, v in YAML_FIELDS.items()}
_AST_TO_YAML_OPERATOR: Final = {v: k for k, v in YAML_OPERATORS.items()}


def _yaml_operators_for(leaf_type: str) -> list[str]:
    if leaf_type == "event-type":
        return ["is", "is_not"]
    return [key for key, op in YAML_OPERATORS.items() if op in ALLOWED_OPERATORS[leaf_type]]


def _unknown(kind: str, got: Any, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(got), allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {kind} {got!r}{hint}; allowed: {', '.join(allowed)}"


def _yaml_leaf(field: str, body: Any, key: str) -> Ast:
    leaf_type = YAML_FIELDS[field]
    if not isinstance(body, Mapping):
        raise ConditionError(f"{key}: expected a mapping like {{is: ...}}; got {describe(body)}")
    allowed = _yaml_operators_for(leaf_type)
    body = dict(body)
    leaf: Ast = {"type": leaf_type}
    if leaf_type in NAMED_TYPES:
        if "name" not in body:
            raise ConditionError(f"{key}: needs 'name' (the field path, e.g. plan or page.path)")
        leaf["name"] = body.pop("name")
        if not isinstance(leaf["name"], str):
            raise ConditionError(f"{key}.name: expected a string; got {describe(leaf['name'])}")
    elif "name" in body:
        raise ConditionError(f"{key}: 'name' is only for property, trait and context conditions")
    if len(body) != 1:
        found = ", ".join(map(str, body)) or "none"
        raise ConditionError(
            f"{key}: expected exactly one operator; got {found}; allowed: {', '.join(allowed)}"
        )
    ((op_key, value),) = body.items()
    if op_key not in allowed:
        if op_key in YAML_OPERATORS:
            raise ConditionError(
                f"{key}: operator {op_key!r} is not available for {field} conditions; "
                f"allowed: {', '.join(allowed)}"
            )
        raise ConditionError(f"{key}: {_unknown('operator', op_key, allowed)}")
    operator = YAML_OPERATORS[op_key]
    where = f"{key}.{op_key}"
    leaf["operator"] = operator
    if operator in VALUELESS_OPERATORS:
        if value is not True:
            raise ConditionError(
                f"{where}: expected true; got {describe(value)} (write the opposite operator "
                "instead of false)"
            )
        return leaf
    if operator in NUMERIC_OPERATORS:
        if not is_number(value):
            hint = " (write is: for text)" if isinstance(value, str) else ""
            raise ConditionError(f"{where}: expected a number; got {describe(value)}{hint}")
        problem = numeric_problem(value)
        if problem:
            raise ConditionError(f"{where}: {problem}")
        number = js_number_value(float(value))
        leaf["value"] = number if leaf_type in NAMED_TYPES else js_number_to_string(float(value))
        return leaf
    if not isinstance(value, str):
        hint = ""
        if isinstance(value, bool | int | float):
            text = js_to_string(value)
            if isinstance(value, bool) and "is_true" in allowed:
                hint = f"; for a boolean use is_{text}: true, for the text quote it: '{text}'"
            elif not isinstance(value, bool) and "equals" in allowed:
                hint = f"; for a number use equals: {text}, for the text quote it: '{text}'"
            else:
                hint = f"; {field} values are text: quote it, '{text}'"
        raise ConditionError(f"{where}: expected a string; got {describe(value)}{hint}")
    if leaf_type == "event-type" and value not in EVENT_TYPES:
        raise ConditionError(f"{where}: {_unknown('event type', value, EVENT_TYPES)}")
    leaf["value"] = value
    return leaf


def _yaml_group(obj: Any, key: str, depth: int) -> Ast:
    if not isinstance(obj, Mapping) or len(obj) != 1 or next(iter(obj)) not in ("all", "any"):
        shown = f"keys {sorted(map(str, obj))}" if isinstance(obj, Mapping) else describe(obj)
        raise ConditionError(
            f"{key}: expected a mapping with exactly one key, 'all' or 'any'; got {shown}"
        )
    ((word, items),) = obj.items()
    if not isinstance(items, list) or not items:
        raise ConditionError(f"{key}.{word}: expected a non-empty list of conditions")
    children: list[Ast] = []
    leaf_keys: list[str] = []
    for index, item in enumerate(items):
        item_key = f"{key}.{word}[{index}]"
        if isinstance(item, Mapping) and len(item) == 1 and next(iter(item)) in ("all", "any"):
            if depth >= 1:
                raise ConditionError(
                    f"{item_key}: Segment's parser reads only one level of nested groups"
                )
            children.append(_yaml_group(item, item_key, depth + 1))
            leaf_keys.append(item_key)
            continue
        if not isinstance(item, Mapping) or len(item) != 1:
            shown = (
                f"keys {sorted(map(str, item))}" if isinstance(item, Mapping) else describe(item)
            )
            raise ConditionError(
                f"{item_key}: expected a mapping with one key naming the field "
                f"({', '.join(YAML_FIELDS)}) or a nested all/any; got {shown}"
            )
        ((field, body),) = item.items()
        if field not in YAML_FIELDS:
            raise ConditionError(
                f"{item_key}: {_unknown('field', field, [*YAML_FIELDS, 'all', 'any'])}"
            )
        leaf = _yaml_leaf(field, body, f"{item_key}.{field}")
        problem = leaf_problem(leaf)
        if problem:
            raise ConditionError(f"{item_key}.{field}: {problem}")
        children.append(leaf)
        leaf_keys.append(f"{item_key}.{field}")
    if len(children) == 1:
        # Segment reads a lone condition as an "and" group and lifts a nested group of one.
        only = children[0]
        if depth > 0 or only["type"] == "group":
            return only
        return {"type": "group", "operator": "and", "children": [only]}
    if depth > 0:
        for child, child_key in zip(children, leaf_keys, strict=True):
            if child["operator"] in TEXT_OPERATORS:
                raise ConditionError(f"{child_key}: {nested_text_problem(child['operator'])}")
    return {"type": "group", "operator": "and" if word == "all" else "or", "children": children}


def conditions_from_yaml(obj: Any, key: str) -> dict[str, Any]:
    """The stack-file form (``all:``/``any:`` lists) as Segment's AST; errors name ``key``."""
    ast = _yaml_group(obj, key, 0)
    try:
        generate_fql(ast)
    except ConditionError as exc:
        raise ConditionError(f"{key}: {exc}") from None
    return ast


def _leaf_to_yaml(leaf: Mapping[str, Any]) -> dict[str, Any]:
    leaf_type, operator = leaf["type"], leaf["operator"]
    if leaf_type == "event-type" and (
        operator not in ("=", "!=") or leaf["value"] not in EVENT_TYPES
    ):
        raise ConditionError(
            f"{leaf_fql(leaf)!r} has no stack-file form: event_type takes is/is_not with one of "
            f"{', '.join(EVENT_TYPES)}"
        )
    body: dict[str, Any] = {}
    if leaf_type in NAMED_TYPES:
        body["name"] = leaf["name"]
    op_key = _AST_TO_YAML_OPERATOR[operator]
    if operator in VALUELESS_OPERATORS:
        body[op_key] = True
    elif operator in NUMERIC_OPERATORS:
        body[op_key] = js_number_value(js_to_number(leaf["value"]))
    else:
        body[op_key] = leaf["value"]
    return {_AST_TO_YAML_FIELD[leaf_type]: body}


def _group_to_yaml(node: Mapping[str, Any]) -> dict[str, Any]:
    word = "all" if node["operator"] == "and" else "any"
    return {
        word: [
            _group_to_yaml(child) if child["type"] == "group" else _leaf_to_yaml(child)
            for child in node["children"]
        ]
    }


def conditions_to_yaml(ast: Mapping[str, Any]) -> Any:
    """The stack-file form of ``ast`` (the inverse of :func:`conditions_from_yaml`)."""
    generate_fql(ast)
    return _group_to_yaml(ast)
