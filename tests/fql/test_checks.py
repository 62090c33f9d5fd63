"""components.fql.checks: generate_fql gives Segment's text and refuses what Segment misreads."""

from __future__ import annotations

from typing import Any

import pytest

import components.fql as c
from components.fql import ConditionError
from tests.fql.support import group, prop


@pytest.mark.parametrize(
    ("ast", "fql"),
    [
        (group({"type": "event-type", "operator": "=", "value": "track"}), 'type = "track"'),
        (group(prop("price", ">=", 100)), "properties.price >= 100"),
        (group(prop("price", "number_equals", 1.5)), "properties.price = 1.5"),
        (group(prop("plan", "exists")), "properties.plan != null"),
        (
            group({"type": "userId", "operator": "starts_with", "value": "SA"}),
            'match(userId, "SA*")',
        ),
        (
            group({"type": "event", "operator": "not_ends_with", "value": "X"}),
            '!match(event, "*X")',
        ),
        (
            group(
                {"type": "event-type", "operator": "=", "value": "track"},
                group(
                    {"type": "event", "operator": "=", "value": "a"},
                    {"type": "event", "operator": "=", "value": "b"},
                    operator="or",
                ),
            ),
            'type = "track" and (event = "a" or event = "b")',
        ),
        (group(prop("product 1.price", "<", 5)), "properties.product\\ 1.price < 5"),
    ],
)
def test_generate_fql_gives_segments_text(ast: dict[str, Any], fql: str) -> None:
    assert c.generate_fql(ast) == fql
    assert c.parse_fql(fql) == ast


@pytest.mark.parametrize(
    ("ast", "message"),
    [
        (group({"type": "event", "operator": "=", "value": 'say "hi"'}), "contains a double quote"),
        (
            group(
                {"type": "event-type", "operator": "=", "value": "track"},
                group(
                    {"type": "event", "operator": "contains", "value": "a"},
                    {"type": "event", "operator": "=", "value": "b"},
                    operator="or",
                ),
            ),
            "children[1].children[0]: contains cannot be used inside a nested group",
        ),
        (group({"type": "userId", "operator": "starts_with", "value": "a*b"}), "contains '*'"),
        (group(prop("a[0]", "exists")), "contains '[' or ']'"),
        (group(prop("1a", "exists")), "segment '1a' starts with '1'"),
        (group(), "a group needs at least one condition"),
        (group({"type": "event", "operator": "exists"}), "operator 'exists' is not available"),
        (group(prop("x", "=", 5)), "for numbers use number_equals"),
        (group(prop("x", ">", 1e21)), "between 1e-6 and 1e21"),
        (group({"type": "event", "operator": "=", "value": "a"}, operator="or"), "'and' group"),
    ],
)
def test_generate_fql_rejects_what_segment_misreads(ast: dict[str, Any], message: str) -> None:
    with pytest.raises(ConditionError, match=None) as caught:
        c.generate_fql(ast)
    assert message in str(caught.value)
