"""components.fql.yaml_form: the stack-file form of trigger conditions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

import components.fql as c
from components.fql import ConditionError
from components.fql.checks import same_ast
from tests.fql.support import KEY, asts, group


def test_yaml_form_builds_the_ast() -> None:
    yaml_form = {
        "all": [
            {"event_type": {"is": "track"}},
            {"any": [{"event": {"is": "Signed Up"}}, {"event": {"is": "Order Completed"}}]},
            {"user_id": {"starts_with": "SA"}},
            {"property": {"name": "price", "gte": 100}},
            {"trait": {"name": "plan", "is_not": "pro"}},
            {"context": {"name": "page.path", "contains": "pricing"}},
            {"name": {"exists": True}},
            {"event": {"lt": 5}},
        ]
    }
    ast = c.conditions_from_yaml(yaml_form, KEY)
    assert c.generate_fql(ast) == (
        'type = "track" and (event = "Signed Up" or event = "Order Completed") and '
        'match(userId, "SA*") and properties.price >= 100 and traits.plan != "pro" and '
        'contains(context.page.path, "pricing") and name != null and event < 5'
    )
    assert ast["children"][-1] == {"type": "event", "operator": "<", "value": "5"}
    assert c.conditions_to_yaml(ast) == yaml_form


def test_yaml_single_condition_is_an_and_group() -> None:
    assert c.conditions_from_yaml({"any": [{"event": {"is": "a"}}]}, KEY) == group(
        {"type": "event", "operator": "=", "value": "a"}
    )


@pytest.mark.parametrize(
    ("yaml_form", "message"),
    [
        (
            {
                "all": [
                    {"event": {"is": "a"}},
                    {"event": {"is": "b"}},
                    {"trait": {"name": "plan", "isnot": "pro"}},
                ]
            },
            f"{KEY}.all[2].trait: unknown operator 'isnot' (did you mean 'is_not'?); allowed: is, is_not, equals,",
        ),
        (
            {"all": [{"event": {"is": 5}}]},
            f"{KEY}.all[0].event.is: expected a string; got 5 (a number)",
        ),
        (
            {"all": [{"property": {"name": "on", "is": True}}]},
            f"{KEY}.all[0].property.is: expected a string; got True (a boolean); for a boolean use is_true: true",
        ),
        (
            {"all": [{"event_type": {"is": "trak"}}]},
            "unknown event type 'trak' (did you mean 'track'?)",
        ),
        ({"every": []}, f"{KEY}: expected a mapping with exactly one key, 'all' or 'any'"),
        ({"all": []}, f"{KEY}.all: expected a non-empty list of conditions"),
        (
            {"all": [{"event": {"is": 'a"b'}}]},
            f"{KEY}.all[0].event: value 'a\"b' contains a double quote",
        ),
        (
            {
                "all": [
                    {"event": {"is": "a"}},
                    {"any": [{"event": {"contains": "x"}}, {"event": {"is": "y"}}]},
                ]
            },
            f"{KEY}.all[1].any[0].event: contains cannot be used inside a nested group",
        ),
        ({"all": [{"property": {"gte": 5}}]}, f"{KEY}.all[0].property: needs 'name'"),
        ({"all": [{"user_id": {"exists": False}}]}, f"{KEY}.all[0].user_id.exists: expected true"),
        ({"all": [{"anonymous_id": {"is": "x"}}]}, f"{KEY}.all[0]: unknown field 'anonymous_id'"),
        (
            {"all": [{"event": {"is": "a", "contains": "b"}}]},
            "expected exactly one operator; got is, contains",
        ),
    ],
)
def test_yaml_errors_name_the_key_path(yaml_form: Any, message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        c.conditions_from_yaml(yaml_form, KEY)
    assert message in str(caught.value)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(asts())
def test_yaml_round_trips(ast: dict[str, Any]) -> None:
    def yaml_safe(node: dict[str, Any]) -> bool:
        if node["type"] == "group":
            return all(yaml_safe(child) for child in node["children"])
        return node["type"] != "event-type" or (
            node["operator"] in ("=", "!=") and node["value"] in c.EVENT_TYPES
        )

    if not yaml_safe(ast):
        with pytest.raises(ConditionError, match="has no stack-file form"):
            c.conditions_to_yaml(ast)
        return
    assert same_ast(c.conditions_from_yaml(c.conditions_to_yaml(ast), KEY), ast)
