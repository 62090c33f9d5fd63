"""components.mapping: mapping-kit rendering and Segment's mapping validation rules."""

from __future__ import annotations

from typing import Any

import pytest

from components.mapping import MappingError, render, validate_mapping

EVENT: dict[str, Any] = {
    "type": "track",
    "event": "Order Completed",
    "userId": None,
    "properties": {"products": [{"id": 1, "name": "A"}, {"id": 2}], "total": 9.5, "blank": ""},
    "traits": {"name": "Ann"},
}


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({"@path": "$."}, EVENT),
        ({"@path": ""}, EVENT),
        ({"id": {"@path": "$.properties.products[1].id"}, "gone": {"@path": "$.nope"}}, {"id": 2}),
        ({"user": {"@path": "$.userId"}}, {"user": None}),  # null is kept, undefined dropped
        ({"@template": "Hi {{traits.name}}, {{{ missing }}}!"}, "Hi Ann, !"),
        ({"@literal": {"@path": "$.event"}}, "Order Completed"),
        ({"@if": {"exists": {"@path": "$.userId"}, "then": "yes", "else": "no"}}, "no"),
        ({"@if": {"blank": {"@path": "$.properties.blank"}, "then": "yes", "else": "no"}}, "no"),
        ({"@case": {"operator": "upper", "value": {"@path": "$.traits.name"}}}, "ANN"),
        ({"@replace": {"value": "a.b.c", "pattern": ".", "replacement": "$&-"}}, "a.-b.-c"),
        ({"@replace": {"value": "aAa", "pattern": "a", "global": False, "ignorecase": True}}, "Aa"),
        (
            {"@arrayPath": ["$.properties.products", {"sku": {"@path": "$.id"}}]},
            [{"sku": 1}, {"sku": 2}],
        ),
        ({"@json": {"mode": "encode", "value": {"@path": "$.properties.total"}}}, "9.5"),
        ({"@json": {"mode": "decode", "value": '{"a":[1,2.0]}'}}, {"a": [1, 2]}),
        ({"@json": {"mode": "decode", "value": "not json"}}, "not json"),
        (
            {"@flatten": {"value": {"@path": "$.properties.products"}, "separator": "_"}},
            {"0_id": 1, "0_name": "A", "1_id": 2},
        ),
        (
            {"@merge": {"direction": "right", "objects": [{"a": 1, "b": 1}, {"b": 2}]}},
            {"a": 1, "b": 2},
        ),
        (
            {"@merge": {"direction": "left", "objects": [{"a": 1, "b": 1}, {"b": 2}]}},
            {"b": 1, "a": 1},
        ),
        ({"@excludeWhenNull": {"@path": "$.userId"}}, None),
        ({"keep": {"@excludeWhenNull": {"a": None, "b": 1}}}, {"keep": {"b": 1}}),
        (
            {
                "@transform": {
                    "apply": {"n": {"@path": "$.traits.name"}},
                    "mapping": {"@path": "$.n"},
                }
            },
            "Ann",
        ),
        ([{"@path": "$.nope"}, 1], [None, 1]),  # undefined inside an array becomes null
    ],
)
def test_render(mapping: Any, expected: Any) -> None:
    assert render(mapping, EVENT) == expected


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"@liquid": "{{ event }}"}, "K: @liquid is not supported by this project"),
        ({"@nope": 1}, "K: has an invalid directive: @nope; supported: @arrayPath, @case"),
        ({"@path": "$.a", "extra": 1}, "K: should only have one @-prefixed key but it has 2 keys"),
        (
            {"@path": "$.a", "@template": "x"},
            "K: should only have one @-prefixed key but it has 2 keys",
        ),
        (
            {"a": {"b": [{"@path": 5}]}},
            "K.a.b[0].@path: should be a string or a mapping directive but it is a number",
        ),
        ({"@replace": {"value": "x"}}, 'K.@replace: should have field "pattern" but it doesn\'t'),
        ({"@replace": {"pattern": "x"}}, 'K.@replace: should have field "value" but it doesn\'t'),
        (
            {"@replace": {"value": "x", "pattern": "12345678901"}},
            "K.@replace.pattern: should be a string of length 10 or less",
        ),
        (
            {"@replace": {"value": "x", "pattern": "a", "replacement": "12345678901"}},
            "K.@replace.replacement: should be a string of length 10 or less",
        ),
        (
            {"@replace": {"value": "x", "pattern": "a", "global": "yes"}},
            "K.@replace.global: should be a boolean but it is a string",
        ),
        ({"@arrayPath": "$.x"}, "K.@arrayPath: should be an array but it is a string"),
        (
            {"@template": 5},
            "K.@template: should be a string or a mapping directive but it is a number",
        ),
        (
            {"@json": {"mode": "zip", "value": "x"}},
            'K.@json.mode: should be one of encode, decode but it is "zip"',
        ),
        ({"@if": {"exists": {"@what": 1}}}, "K.@if.exists: has an invalid directive: @what"),
    ],
)
def test_validate_mapping_names_the_key_path(mapping: Any, message: str) -> None:
    with pytest.raises(MappingError) as caught:
        validate_mapping(mapping, "K")
    assert message in str(caught.value)


def test_render_rejects_unsupported_directive_instead_of_passing_it_through() -> None:
    with pytest.raises(MappingError, match="@liquid is not supported"):
        render({"body": {"@liquid": "{{ x }}"}}, EVENT)


def test_render_runtime_error_names_the_directive() -> None:
    with pytest.raises(MappingError, match="data: @path: expected string, got number"):
        render({"@path": {"@path": "$.properties.total"}}, EVENT)
