"""components.mapping.render against @segment/actions-core 3.170.0 mapping-kit ``transform`` (Node).

One batch of mapping-kit cases (the directive families of Segment's index.iso.test.ts and
schema fixtures, re-expressed as data) goes to tests/node/oracle.js; every result must agree.
"""

from __future__ import annotations

from typing import Any

from components.mapping import MappingError, render
from tests.node.oracle_client import as_json, run_oracle

EVENTS: list[dict[str, Any]] = [
    {
        "type": "track",
        "event": "Order Completed",
        "userId": None,
        "anonymousId": "anon-1",
        "properties": {
            "products": [{"id": 1, "name": "A", "price": 1.5}, {"id": 2, "name": None}],
            "total": 9.5,
            "blank": "",
            "zero": 0,
            "nested": {"a": {"b": None, "c": [1, None]}},
            "text": "Hello.World.hello",
            "json": '{"x":[1,2.0,{"y":null}]}',
        },
        "traits": {"name": "Ann", "email": "ann@example.com"},
        "integrations": {"Actions Amplitude": {"session_id": 7}},
    },
    {"type": "identify", "userId": "u-1", "traits": {"name": "Bob", "tags": ["a", "b"]}},
    {},
]

MAPPINGS: list[Any] = [
    {"@path": "$."},
    {"@path": ""},
    {"@path": "$.properties.products[0].name"},
    {"@path": "$.properties.products.1.name"},
    {"@path": "$.integrations.Actions Amplitude.session_id"},
    {"@path": "$.properties.text.length"},
    {"@path": "$.properties.blank.x"},
    {"a": {"@path": "$.nope"}, "b": {"@path": "$.userId"}, "c": [{"@path": "$.nope"}]},
    {"@template": "{{traits.name}} <{{{traits.email}}}> {{properties.products}} {{ missing }}"},
    {"@template": "{{properties.nested}}|{{properties.total}}|{{properties.zero}}"},
    {"@literal": {"@path": "$.event"}},
    {"@literal": [1, "two", None, {"k": True}]},
    {"@if": {"exists": {"@path": "$.userId"}, "then": "yes", "else": "no"}},
    {"@if": {"exists": {"@path": "$.traits.name"}, "then": {"@path": "$.traits.name"}}},
    {"@if": {"blank": {"@path": "$.properties.blank"}, "then": "yes", "else": "no"}},
    {"@if": {"blank": {"@path": "$.properties.zero"}, "then": "yes", "else": "no"}},
    {"@if": {"blank": {"@path": "$.traits.tags"}, "then": "yes", "else": 0}},
    {"@case": {"operator": "lower", "value": {"@path": "$.traits.name"}}},
    {"@case": {"operator": "upper", "value": {"@path": "$.properties.total"}}},
    {
        "@replace": {
            "value": {"@path": "$.properties.text"},
            "pattern": "hello",
            "replacement": "$&!",
        }
    },
    {"@replace": {"value": {"@path": "$.properties.text"}, "pattern": "hello", "ignorecase": True}},
    {"@replace": {"value": {"@path": "$.properties.text"}, "pattern": ".", "global": False}},
    {"@replace": {"value": {"@path": "$.properties.total"}, "pattern": ".", "replacement": ","}},
    {"@replace": {"value": "a+b", "pattern": "+", "replacement": "$$", "pattern2": "a"}},
    {"@arrayPath": ["$.properties.products", {"sku": {"@path": "$.id"}, "n": {"@path": "$.name"}}]},
    {"@arrayPath": ["$.traits", {"n": {"@path": "$.name"}}]},
    {"@arrayPath": ["$.properties.products"]},
    {"@json": {"mode": "encode", "value": {"@path": "$.properties"}}},
    {"@json": {"mode": "decode", "value": {"@path": "$.properties.json"}}},
    {"@json": {"mode": "decode", "value": "{bad"}},
    {"@flatten": {"value": {"@path": "$.properties"}, "separator": "."}},
    {"@flatten": {"value": {"@path": "$.properties"}, "separator": "_", "omitArrays": True}},
    {"@merge": {"direction": "right", "objects": [{"@path": "$.traits"}, {"name": "Zed"}]}},
    {"@merge": {"direction": "left", "objects": [{"@path": "$.traits"}, {"name": "Zed"}]}},
    {"@excludeWhenNull": {"@path": "$.properties.nested.a"}},
    {"x": {"@excludeWhenNull": {"@path": "$.userId"}}, "y": 1},
    {
        "@transform": {
            "apply": {"n": {"@path": "$.traits.name"}},
            "mapping": {"name": {"@path": "$.n"}},
        }
    },
    {"raw": "string", "n": 1.0, "b": False, "z": None, "arr": [1, {"@path": "$.type"}]},
    {"@path": 5},
    {"@nope": 1},
    {"@path": "$.a", "x": 1},
    {"@replace": {"value": "x", "pattern": "12345678901"}},
]


def test_render_matches_actions_core_transform() -> None:
    cases = [(m, e) for m in MAPPINGS for e in EVENTS]
    results = run_oracle([{"op": "transform", "mapping": m, "event": e} for m, e in cases])
    rendered = 0
    for (mapping, event), result in zip(cases, results, strict=True):
        try:
            ours: dict[str, Any] = {"ok": as_json(render(mapping, event))}
        except MappingError as exc:
            ours = {"error": str(exc)}
        if "error" in result:
            assert "error" in ours, (mapping, event, result)
            continue
        assert "error" not in ours, (mapping, event, ours)
        expected = result.get("ok")  # {"missing": true} -> our None
        assert ours["ok"] == expected, (mapping, event)
        rendered += 1
    assert rendered >= 100
