"""Evaluation: Segment's ``validate(ast, event)`` verdict (JavaScript semantics: type-strict
equality, ``!=`` true on a missing value, the small ``get`` helper), as closures built once."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from components.fql.js import UNDEFINED, int_to_double, js_member, js_to_number, js_to_string
from components.fql.segment_generator import leaf_fql
from components.fql.vocabulary import (
    FIELD_OF_TYPE,
    GROUP_OPERATORS,
    LEAF_TYPES,
    NAMED_TYPES,
    NUMERIC_OPERATORS,
    OPERATORS,
    TEXT_OPERATORS,
    ConditionError,
    LeafVerdict,
    Predicate,
    describe,
)


def check_for_evaluation(node: Any, path: str) -> None:
    where = path or "trigger"
    if not isinstance(node, Mapping):
        raise ConditionError(f"{where}: expected a condition object; got {describe(node)}")
    if node.get("type") == "group":
        if node.get("operator") not in GROUP_OPERATORS:
            raise ConditionError(
                f"{where}: unknown group operator {node.get('operator')!r}; allowed: and, or"
            )
        children = node.get("children")
        if not isinstance(children, list):
            raise ConditionError(
                f"{where}: group children must be a list; got {describe(children)}"
            )
        for index, child in enumerate(children):
            check_for_evaluation(
                child, f"{path}.children[{index}]" if path else f"children[{index}]"
            )
        return
    if node.get("type") not in LEAF_TYPES:
        raise ConditionError(
            f"{where}: unknown condition type {node.get('type')!r}; allowed: "
            f"{', '.join(LEAF_TYPES)}, group"
        )
    if node.get("operator") not in OPERATORS:
        raise ConditionError(
            f"{where}: unknown operator {node.get('operator')!r}; allowed: {', '.join(OPERATORS)}"
        )
    if node["type"] in NAMED_TYPES:
        name = node.get("name")
        if not isinstance(name, str) or not re.search(r"[^\[.\]]", name):
            raise ConditionError(f"{where}: needs a field 'name' with a path; got {describe(name)}")


def _as_number(actual: Any) -> float | None:
    kind = type(actual)
    if kind is float:
        return float(actual)
    if kind is int:
        return int_to_double(actual)
    return None


def _predicate(operator: str, expected: Any) -> Callable[[Any], bool]:
    """Segment's ``validateValue`` with the expected side converted once."""
    if operator in ("=", "!="):
        text = js_to_string(expected)
        if operator == "=":
            return lambda actual: type(actual) is str and actual == text
        return lambda actual: not (type(actual) is str and actual == text)
    if operator in NUMERIC_OPERATORS:
        number = js_to_number(expected)
        compare: Callable[[float], bool] = {
            "number_equals": lambda a: a == number,
            "number_not_equals": lambda a: a != number,
            "<": lambda a: a < number,
            "<=": lambda a: a <= number,
            ">": lambda a: a > number,
            ">=": lambda a: a >= number,
        }[operator]

        def numeric(actual: Any) -> bool:
            as_number = _as_number(actual)
            return as_number is not None and compare(as_number)

        return numeric
    if operator in TEXT_OPERATORS:
        text = js_to_string(expected)
        test: Callable[[str], bool] = {
            "contains": lambda a: text in a,
            "not_contains": lambda a: text not in a,
            "starts_with": lambda a: a.startswith(text),
            "not_starts_with": lambda a: not a.startswith(text),
            "ends_with": lambda a: a.endswith(text),
            "not_ends_with": lambda a: not a.endswith(text),
        }[operator]
        return lambda actual: type(actual) is str and test(actual)
    return {
        "exists": lambda actual: actual is not None,
        "not_exists": lambda actual: actual is None,
        "is_true": lambda actual: actual is True,
        "is_false": lambda actual: actual is False,
    }[operator]


def _getter(leaf: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], Any]:
    """Reads the leaf's actual value from an event like Segment's ``validateCondition``/``get``."""
    root = FIELD_OF_TYPE[leaf["type"]]
    if leaf["type"] not in NAMED_TYPES:
        return lambda event: event.get(root)
    keys = tuple(re.findall(r"[^\[.\]]+", leaf["name"]))
    member = js_member

    def get(event: Mapping[str, Any]) -> Any:
        value = event.get(root)
        for key in keys:
            # Fast path for the common JSON object; js_member covers JavaScript's other cases.
            if type(value) is dict and key in value:  # noqa: SIM108
                value = value[key]
            else:
                value = member(value, key)
        return value

    return get


def _compile(node: Mapping[str, Any]) -> Predicate:
    if node["type"] != "group":
        getter = _getter(node)
        predicate = _predicate(node["operator"], node.get("value", UNDEFINED))
        return lambda event: predicate(getter(event))
    children = tuple(_compile(child) for child in node["children"])
    if node["operator"] == "and":
        if len(children) == 1:
            return children[0]

        def every(event: Mapping[str, Any]) -> bool:
            for child in children:  # noqa: SIM110 - a plain loop beats all(genexpr) per event
                if not child(event):
                    return False
            return True

        return every

    def some(event: Mapping[str, Any]) -> bool:
        for child in children:  # noqa: SIM110 - a plain loop beats any(genexpr) per event
            if child(event):
                return True
        return False

    return some


def compile_trigger(ast: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """A fast predicate giving Segment's ``validate(ast, event)`` verdict for each event."""
    check_for_evaluation(ast, "")
    if ast.get("type") != "group":
        raise ConditionError(f"a trigger must be a group at the top; got {describe(ast)}")
    compiled = _compile(ast)

    def matches(event: Mapping[str, Any]) -> bool:
        if not isinstance(event, Mapping):
            raise ConditionError(f"an event must be a JSON object; got {type(event).__name__}")
        return compiled(event)

    return matches


def validate(ast: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Segment's ``validate(ast, event)``: does the event satisfy the trigger?"""
    return compile_trigger(ast)(event)


def _leaves(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    if node.get("type") == "group":
        for child in node["children"]:
            yield from _leaves(child)
    else:
        yield node


def explain(ast: Mapping[str, Any], event: Mapping[str, Any]) -> list[LeafVerdict]:
    """Each leaf condition's FQL and whether ``event`` satisfies it, in document order."""
    check_for_evaluation(ast, "")
    if not isinstance(event, Mapping):
        raise ConditionError(f"an event must be a JSON object; got {type(event).__name__}")
    return [LeafVerdict(leaf_fql(leaf), _compile(leaf)(event)) for leaf in _leaves(ast)]


def field_values(ast: Mapping[str, Any], event: Mapping[str, Any]) -> dict[str, Any]:
    """Each field the trigger reads (``properties.price``) and its value in ``event`` as
    Segment's ``get`` finds it (None when missing), in document order: what a match was on."""
    check_for_evaluation(ast, "")
    values: dict[str, Any] = {}
    for leaf in _leaves(ast):
        field = FIELD_OF_TYPE[leaf["type"]]
        if leaf["type"] in NAMED_TYPES:
            field += "." + leaf["name"]
        if field not in values:
            value = _getter(leaf)(event)
            values[field] = None if value is UNDEFINED else value
    return values
