"""Helpers shared by the FQL tests: AST builders and hypothesis strategies for valid ASTs."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

import components.fql as c

EVENT = {"type": "track", "event": "Signed Up"}
KEY = "destinations[0].flows[1].conditions"


def group(*children: dict[str, Any], operator: str = "and") -> dict[str, Any]:
    return {"type": "group", "operator": operator, "children": list(children)}


def prop(name: str, operator: str, value: Any = None) -> dict[str, Any]:
    leaf: dict[str, Any] = {"type": "event-property", "name": name, "operator": operator}
    if operator not in c.VALUELESS_OPERATORS:
        leaf["value"] = value
    return leaf


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
