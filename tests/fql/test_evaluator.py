"""components.fql.evaluator: Segment's validate verdicts, explain, compile_trigger."""

from __future__ import annotations

from typing import Any

import pytest

import components.fql as c
from components.fql import ConditionError, LeafVerdict
from tests.fql.support import EVENT, group, prop


@pytest.mark.parametrize(
    ("leaf", "event", "expected"),
    [
        (prop("n", "=", "123"), {"properties": {"n": 123}}, False),  # type-strict equality
        (prop("n", "number_equals", 123), {"properties": {"n": 123}}, True),
        (prop("n", "number_equals", 123), {"properties": {"n": "123"}}, False),
        (prop("n", "!=", "x"), {"properties": {}}, True),  # != on a missing value
        (prop("n", "number_not_equals", 5), {"properties": {}}, False),
        (prop("a.b", "=", "c"), {"properties": {"a": {"b": "c"}}}, True),
        (prop("a.b", "number_equals", 0), {"properties": {"a": 0}}, True),  # JS `0 && x` is 0
        (prop("items[1]", "=", "y"), {"properties": {"items": ["x", "y"]}}, True),
        (prop("s.length", "number_equals", 3), {"properties": {"s": "abc"}}, True),
        (prop("constructor", "exists"), {"properties": {}}, True),  # a JavaScript built-in
        (prop("t", "is_true"), {"properties": {"t": "true"}}, False),
        (prop("t", "is_true"), {"properties": {"t": True}}, True),
        (prop("p", "<", "10"), {"properties": {"p": 9.5}}, True),
        (prop("p", ">", 1), {"properties": {"p": True}}, False),
        (prop("p", "contains", "ik"), {"properties": {"p": "Nike"}}, True),
        (prop("p", "not_starts_with", "N"), {"properties": {"p": 5}}, False),
        (prop("p", "not_exists"), {"properties": {"p": None}}, True),
        ({"type": "event", "operator": "=", "value": 5}, {"event": "5"}, True),  # String(5)
    ],
)
def test_validate_uses_javascript_semantics(
    leaf: dict[str, Any], event: dict[str, Any], expected: bool
) -> None:
    assert c.validate(group(leaf), event) is expected
    assert c.compile_trigger(group(leaf))(event) is expected


def test_validate_or_and_groups() -> None:
    ast = c.parse_fql('type = "track" and (event = "a" or event = "Signed Up")')
    assert c.validate(ast, EVENT) is True
    assert c.validate(ast, {**EVENT, "type": "identify"}) is False


def test_explain_lists_each_leaf_verdict() -> None:
    ast = c.parse_fql('type = "track" and match(userId, "SA*") and properties.price >= 100')
    verdicts = c.explain(ast, {"type": "track", "userId": "XY", "properties": {"price": 150}})
    assert verdicts == [
        LeafVerdict('type = "track"', True),
        LeafVerdict('match(userId, "SA*")', False),
        LeafVerdict("properties.price >= 100", True),
    ]


def test_compile_trigger_rejects_unknown_operator_naming_path() -> None:
    with pytest.raises(ConditionError) as caught:
        c.compile_trigger(group({"type": "event", "operator": "in", "value": "x"}))
    assert str(caught.value).startswith("children[0]: unknown operator 'in'; allowed: =, !=")
