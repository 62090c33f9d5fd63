"""AST checks: which conditions Segment's parser reads back exactly as written, and
:func:`generate_fql`, which refuses every AST it would misread."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from components.fql.js import MAX_SAFE_INTEGER, js_to_number, utf16_length
from components.fql.lexer import MAX_LITERAL
from components.fql.segment_generator import segment_generate
from components.fql.segment_parser import SegmentParseError, segment_parse
from components.fql.vocabulary import (
    ALLOWED_OPERATORS,
    GLOB_OPERATORS,
    GROUP_OPERATORS,
    LEAF_TYPES,
    NAMED_TYPES,
    NUMERIC_OPERATORS,
    TEXT_OPERATORS,
    VALUELESS_OPERATORS,
    ConditionError,
    describe,
    is_number,
)


def numeric_problem(value: Any) -> str | None:
    """Why a numeric operand cannot be written so that Segment reads back the same number."""
    if isinstance(value, str):
        number = js_to_number(value)
        if not math.isfinite(number):
            return f"needs a number; got {describe(value)}"
    elif is_number(value):
        if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
            return (
                f"needs a number JavaScript holds exactly (|n| <= {MAX_SAFE_INTEGER}); got {value}"
            )
        number = float(value)
        if not math.isfinite(number):
            return f"needs a finite number; got {describe(value)}"
    else:
        return f"needs a number; got {describe(value)}"
    if number != 0 and not 1e-6 <= abs(number) < 1e21:
        return (
            f"needs a number between 1e-6 and 1e21 in magnitude (Segment writes others in "
            f"exponent form, which its parser cannot read); got {describe(value)}"
        )
    return None


def _text_problem(operator: str, value: Any) -> str | None:
    if not isinstance(value, str):
        hint = ""
        if operator in ("=", "!=") and isinstance(value, bool):
            hint = "; for booleans use is_true/is_false, for the text write it as a string"
        elif operator in ("=", "!=") and is_number(value):
            hint = "; for numbers use number_equals/number_not_equals, for the text write a string"
        return f"needs a string value; got {describe(value)}{hint}"
    if '"' in value:
        return (
            f"value {value!r} contains a double quote (\"): Segment's trigger strings have no "
            "escapes and end at the next quote; match the text on either side of the quote with "
            "contains instead"
        )
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        return f"value {value!r} contains a lone UTF-16 surrogate"
    if utf16_length(value) > MAX_LITERAL - 3:
        return f"value is longer than Segment's parser reads ({MAX_LITERAL - 3} characters)"
    if operator in GLOB_OPERATORS:
        globs = sorted({c for c in value if c in "*?[\\"})
        if globs:
            return (
                f"value {value!r} contains {', '.join(repr(c) for c in globs)}: starts/ends-with "
                "are written as match() globs, where * ? [ and \\ are pattern characters that "
                "Segment's parser reads literally; use contains for literal text"
            )
        if not value and operator in ("ends_with", "not_ends_with"):
            return (
                'an empty ends-with value is written as match(x, "*"), which Segment reads back '
                "as starts-with; use exists (for any text) instead"
            )
    return None


def _name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return f"needs a non-empty field 'name'; got {describe(name)}"
    if "[" in name or "]" in name:
        return (
            f"field name {name!r} contains '[' or ']': Segment evaluates them as path separators "
            "but FQL reads them as literal characters, so the trigger would mean two things"
        )
    for segment in name.split("."):
        if not segment:
            return f"field name {name!r} has an empty segment (leading, trailing or double '.')"
        if segment[0] in "0123456789-+":
            return (
                f"field name {name!r}: segment {segment!r} starts with {segment[0]!r}, which "
                "Segment's parser reads as a number; segments must start with a letter or '_'"
            )
    if name.split(".")[-1] in ("and", "or", "null"):
        return (
            f"field name {name!r} ends with the keyword {name.split('.')[-1]!r}, which Segment's "
            "parser reads as a keyword"
        )
    return None


def leaf_problem(leaf: Any) -> str | None:
    """The first reason this leaf cannot be written as FQL that Segment reads back unchanged."""
    if not isinstance(leaf, Mapping):
        return f"expected a condition object; got {describe(leaf)}"
    leaf_type = leaf.get("type")
    if leaf_type not in LEAF_TYPES:
        return f"unknown condition type {leaf_type!r}; allowed: {', '.join(LEAF_TYPES)}, group"
    operator = leaf.get("operator")
    allowed = ALLOWED_OPERATORS[leaf_type]
    if operator not in allowed:
        return (
            f"operator {operator!r} is not available for {leaf_type} conditions (Segment's "
            f"parser reads it back differently); allowed: {', '.join(allowed)}"
        )
    expected_keys = {"type", "operator"}
    if leaf_type in NAMED_TYPES:
        expected_keys.add("name")
    if operator not in VALUELESS_OPERATORS:
        expected_keys.add("value")
    if set(leaf) != expected_keys:
        extra = sorted(set(leaf) - expected_keys)
        missing = sorted(expected_keys - set(leaf))
        detail = "; ".join(
            part
            for part in (
                f"unexpected key(s) {', '.join(extra)}" if extra else "",
                f"missing key(s) {', '.join(missing)}" if missing else "",
            )
            if part
        )
        return f"{leaf_type} {operator} condition: {detail} (keys must be {sorted(expected_keys)})"
    if leaf_type in NAMED_TYPES:
        problem = _name_problem(leaf["name"])
        if problem:
            return problem
    if operator in VALUELESS_OPERATORS:
        return None
    value = leaf["value"]
    if operator in NUMERIC_OPERATORS:
        problem = numeric_problem(value)
        return f"{operator} {problem}" if problem else None
    return _text_problem(operator, value)


def group_problems(node: Any, path: str, depth: int) -> Iterator[tuple[str, str]]:
    if not isinstance(node, Mapping) or node.get("type") != "group":
        yield path, f"expected a group object; got {describe(node)}"
        return
    if set(node) != {"type", "operator", "children"}:
        yield path, f"a group has exactly the keys type, operator, children; got {sorted(node)}"
        return
    if node["operator"] not in GROUP_OPERATORS:
        yield path, f"unknown group operator {node['operator']!r}; allowed: and, or"
    children = node["children"]
    if not isinstance(children, list) or not children:
        yield path, "a group needs at least one condition"
        return
    if depth == 0 and len(children) == 1:
        if isinstance(children[0], Mapping) and children[0].get("type") == "group":
            yield path, "a group whose only condition is a group: use the inner group itself"
        elif node["operator"] != "and":
            yield path, "a single condition must be an 'and' group (Segment reads it back so)"
    if depth > 0 and len(children) == 1:
        yield path, "a nested group needs at least two conditions; lift the condition up"
    for index, child in enumerate(children):
        child_path = f"{path}.children[{index}]" if path else f"children[{index}]"
        if isinstance(child, Mapping) and child.get("type") == "group":
            if depth >= 1:
                yield child_path, "Segment's parser reads only one level of nested groups"
            else:
                yield from group_problems(child, child_path, depth + 1)
            continue
        problem = leaf_problem(child)
        if problem:
            yield child_path, problem
        elif depth > 0 and child.get("operator") in TEXT_OPERATORS:
            yield child_path, nested_text_problem(child["operator"])


def nested_text_problem(operator: str) -> str:
    return (
        f"{operator} cannot be used inside a nested group: it is written as contains()/match(), "
        "and Segment's parser ends the group at that call's ')' and flattens the rest; put this "
        "condition in the top-level group or use is/is_not"
    )


def _values_equal(operator: Any, left: Any, right: Any) -> bool:
    if operator in NUMERIC_OPERATORS:
        return js_to_number(left) == js_to_number(right)
    return type(left) is type(right) and left == right


def same_ast(left: Any, right: Any) -> bool:
    """Structural equality with JSON typing (True is not 1) and numeric operands by value."""
    if not isinstance(left, Mapping) or not isinstance(right, Mapping) or set(left) != set(right):
        return False
    if left.get("type") == "group":
        return (
            right.get("type") == "group"
            and left["operator"] == right["operator"]
            and len(left["children"]) == len(right["children"])
            and all(
                same_ast(a, b) for a, b in zip(left["children"], right["children"], strict=True)
            )
        )
    return all(
        _values_equal(left.get("operator"), left[key], right[key])
        if key == "value"
        else type(left[key]) is type(right[key]) and left[key] == right[key]
        for key in left
    )


def generate_fql(ast: Mapping[str, Any]) -> str:
    """Segment's ``generateFql`` text for ``ast``; ConditionError where Segment would misread it."""
    problems = list(group_problems(ast, "", 0))
    if problems:
        raise ConditionError(
            "; ".join(f"{path}: {message}" if path else message for path, message in problems)
        )
    text = segment_generate(ast)
    try:
        read_back = segment_parse(text)
    except SegmentParseError as exc:
        raise ConditionError(f"Segment's parser cannot read back {text!r}: {exc}") from None
    if not same_ast(read_back, ast):
        raise ConditionError(
            f"Segment's parser reads {text!r} back as {read_back!r}, not as the given conditions"
        )
    return text
