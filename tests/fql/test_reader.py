"""components.fql.reader: parse_fql reads FQL text into Segment's AST, refusing misreadings."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

import components.fql as c
from components.fql import ConditionError
from components.fql.checks import same_ast
from tests.fql.support import asts, group


@pytest.mark.parametrize(
    ("fql", "message"),
    [
        ("type = 'track'", "single-quoted value 'track'"),
        ('type = "a" and event = "b" or event = "c"', "mixes 'and' and 'or'"),
        ('type = "track" and anonymousId != null', "unsupported field 'anonymousId'"),
        ('!(type = "track")', "negation '!' works"),
        ('type = "a" and (contains(event, "x") or event = "b")', "contains() inside parentheses"),
        ('match(userId, "a*c")', 'match pattern "a*c"'),
        ("properties.price>10", "expected termination character after identifier, got >"),
        ('event in ["a"]', "got ident 'in'"),
        ("", "the trigger is empty"),
    ],
)
def test_parse_fql_rejects_with_reason(fql: str, message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        c.parse_fql(fql)
    assert message in str(caught.value)


def test_parse_fql_accepts_missing_spaces_segment_reads() -> None:
    assert c.parse_fql('event="x"') == group({"type": "event", "operator": "=", "value": "x"})


@settings(max_examples=300, derandomize=True, deadline=None)
@given(asts())
def test_generate_then_parse_round_trips(ast: dict[str, Any]) -> None:
    text = c.generate_fql(ast)
    assert same_ast(c.parse_fql(text), ast)
    assert c.generate_fql(c.parse_fql(text)) == text
