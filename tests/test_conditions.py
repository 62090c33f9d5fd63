"""components.conditions: FQL text, Segment's AST, verdicts and the stack-file YAML form."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components import conditions as c
from components.conditions import ConditionError, LeafVerdict


def group(*children: dict[str, Any], operator: str = "and") -> dict[str, Any]:
    return {"type": "group", "operator": operator, "children": list(children)}


def prop(name: str, operator: str, value: Any = None) -> dict[str, Any]:
    leaf: dict[str, Any] = {"type": "event-property", "name": name, "operator": operator}
    if operator not in c.VALUELESS_OPERATORS:
        leaf["value"] = value
    return leaf


EVENT = {"type": "track", "event": "Signed Up"}


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


KEY = "destinations[0].flows[1].conditions"


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


# --- properties ------------------------------------------------------------------------------------

NAMES = st.from_regex(
    r"[a-z_][a-z0-9_ é-]{0,6}(\.[a-z_][a-z0-9_-]{0,5}){0,2}", fullmatch=True
).filter(lambda name: name.split(".")[-1] not in ("and", "or", "null"))
TEXT = st.text(
    st.characters(blacklist_characters='"*?[\\', blacklist_categories=["Cs"]), max_size=8
)
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(1e-6, 1e15).map(lambda x: round(x, 4)).filter(lambda x: x == 0 or abs(x) >= 1e-6),
)


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    leaf_type = draw(st.sampled_from(c.LEAF_TYPES))
    operator = draw(st.sampled_from(c.ALLOWED_OPERATORS[leaf_type]))
    leaf: dict[str, Any] = {"type": leaf_type, "operator": operator}
    if leaf_type in c.NAMED_TYPES:
        leaf["name"] = draw(NAMES)
    if operator in c.NUMERIC_OPERATORS:
        number = draw(NUMBERS)
        named = leaf_type in c.NAMED_TYPES
        leaf["value"] = number if named else c.js_number_to_string(float(number))
    elif operator in c.TEXT_OPERATORS:
        text = draw(TEXT)
        leaf["value"] = text or "x" if operator.endswith("ends_with") else text
    elif operator in ("=", "!="):
        leaf["value"] = draw(TEXT)
    return leaf


@st.composite
def asts(draw: st.DrawFn) -> dict[str, Any]:
    children: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()) and draw(st.booleans()):
            nested = draw(
                st.lists(leaves(), min_size=2, max_size=3).filter(
                    lambda items: all(i["operator"] not in c.TEXT_OPERATORS for i in items)
                )
            )
            children.append(group(*nested, operator=draw(st.sampled_from(["and", "or"]))))
        else:
            children.append(draw(leaves()))
    if len(children) == 1 and children[0]["type"] == "group":
        return children[0]
    operator = "and" if len(children) == 1 else draw(st.sampled_from(["and", "or"]))
    return group(*children, operator=operator)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(asts())
def test_generate_then_parse_round_trips(ast: dict[str, Any]) -> None:
    text = c.generate_fql(ast)
    assert c._same_ast(c.parse_fql(text), ast)
    assert c.generate_fql(c.parse_fql(text)) == text


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
    assert c._same_ast(c.conditions_from_yaml(c.conditions_to_yaml(ast), KEY), ast)
