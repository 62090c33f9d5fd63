"""components.fql.suggest: the conditions form that expresses a trigger Segment cannot read."""

from __future__ import annotations

import pytest
import yaml

from components.fql import conditions_from_yaml, generate_fql
from components.fql.suggest import suggest_conditions

FALLBACK = (
    "Write it as conditions (docs/conditions.md), e.g. "
    "conditions: {all: [{event_type: {is: track}}, {event: {is: Signed Up}}]}"
)


@pytest.mark.parametrize(
    ("fql", "suggestion"),
    [
        (
            'type = "track" and evnt = "Signed Up"',
            "Did you mean conditions: {all: [{event_type: {is: track}}, {event: {is: Signed Up}}]}",
        ),
        (
            'type = "track" && event = "x"',
            "Did you mean conditions: {all: [{event_type: {is: track}}, {event: {is: x}}]}",
        ),
        (
            'properties.total > "100"',
            "Did you mean conditions: {all: [{property: {name: total, gt: 100}}]}",
        ),
        ("type = track", "Did you mean conditions: {all: [{event_type: {is: track}}]}"),
        ("event = 'Signed Up'", "Did you mean conditions: {all: [{event: {is: Signed Up}}]}"),
        ('user_id = "SA1"', "Did you mean conditions: {all: [{user_id: {is: SA1}}]}"),
        (
            'traits.plan != "pro" and property.total >= 5',
            "Did you mean conditions: {all: [{trait: {name: plan, is_not: pro}}, {property: {name: total, gte: 5}}]}",
        ),
        ('event = "a" or event = "b" and type = "track"', FALLBACK),
        ('event = "x" $', FALLBACK),
    ],
)
def test_suggestions(fql: str, suggestion: str) -> None:
    assert suggest_conditions(fql) == suggestion


@pytest.mark.parametrize(
    "fql",
    ['type = "track" and evnt = "Signed Up"', 'properties.total > "100"', "event = 'Signed Up'"],
)
def test_a_suggestion_pasted_into_a_stack_file_is_valid(fql: str) -> None:
    suggestion = suggest_conditions(fql)
    pasted = yaml.safe_load(suggestion.split(" ", 3)[-1])  # after "Did you mean "
    generate_fql(conditions_from_yaml(pasted["conditions"], "conditions"))
