"""Segment's ``parseFql``: a faithful port of @segment/destination-subscriptions parse-fql.ts
3.37.0 (it reads the fql-ts tokens; where Segment returns ``{error}`` this raises)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from components.fql.js import (
    OBJECT_MEMBERS,
    from_utf16_units,
    js_number_value,
    js_to_number,
    js_to_string,
    utf16_units,
)
from components.fql.lexer import Lexer, LexerError, Token
from components.fql.vocabulary import Ast


class SegmentParseError(Exception):
    """Where Segment's parseFql returns ``{error}``."""


TOKEN_TO_CONDITION_TYPE: Final[Mapping[str, str]] = {
    "type": "event-type",
    "event": "event",
    "name": "name",
    "userId": "userId",
    "context": "event-context",
    "properties": "event-property",
    "traits": "event-trait",
}
NAMED_PREFIX: Final[Mapping[str, str]] = {
    "event-property": "properties",
    "event-trait": "traits",
    "event-context": "context",
}


def _token_value(token: Token) -> Any:
    kind, value = token
    if kind == "string":
        return re.sub(r'"$', "", re.sub(r'^"', "", value))
    if kind == "number":
        return js_number_value(js_to_number(value))
    if kind == "ident" and value in ("true", "false"):
        return value == "true"
    return value


def _shift(tokens: list[Token]) -> Token | None:
    return tokens.pop(0) if tokens else None


def _segment_parse_function(
    name: str, nodes: list[Any], tokens: list[Token], *, negate: bool = False
) -> None:
    _shift(tokens)
    name_token = _shift(tokens)
    if name_token is None:
        raise SegmentParseError(f"{name}() is missing a 1st argument")
    _shift(tokens)
    value_token = _shift(tokens)
    if value_token is None:
        raise SegmentParseError(f"{name}() is missing a 2nd argument")
    _shift(tokens)
    if name == "contains":
        operator = "not_contains" if negate else "contains"
        value = js_to_string(_token_value(value_token))
    elif value_token[1].endswith('*"'):
        operator = "not_starts_with" if negate else "starts_with"
        value = from_utf16_units("".join(utf16_units(js_to_string(_token_value(value_token)))[:-1]))
    else:
        operator = "not_ends_with" if negate else "ends_with"
        value = from_utf16_units("".join(utf16_units(js_to_string(_token_value(value_token)))[1:]))
    field = name_token[1]
    if field in ("event", "name", "userId"):
        nodes.append({"type": field, "operator": operator, "value": value})
    for leaf_type, prefix in NAMED_PREFIX.items():
        if field.startswith(prefix):
            leaf_name = field[len(prefix) + 1 :] if field.startswith(prefix + ".") else field
            nodes.append(
                {"type": leaf_type, "name": leaf_name, "operator": operator, "value": value}
            )


def _segment_leaf(condition_type: str, token: Token, operator: Token, value: Token) -> Ast:
    op, raw = operator[1], value[1]
    flags = {
        "exists": op == "!=" and raw == "null",
        "not_exists": op == "=" and raw == "null",
        "is_true": op == "=" and raw == "true",
        "is_false": op == "=" and raw == "false",
        "number_equals": op == "=" and value[0] == "number",
        "number_not_equals": op == "!=" and value[0] == "number",
    }
    if condition_type in ("event", "event-type"):
        return {"type": condition_type, "operator": op, "value": js_to_string(_token_value(value))}
    if condition_type in ("name", "userId"):
        checks = ["exists", "not_exists"] + (
            ["is_true", "is_false"] if condition_type == "userId" else []
        )
        for special in checks:
            if flags[special]:
                return {"type": condition_type, "operator": special}
        return {"type": condition_type, "operator": op, "value": js_to_string(_token_value(value))}
    prefix = NAMED_PREFIX[condition_type]
    leaf_name = token[1][len(prefix) + 1 :] if token[1].startswith(prefix + ".") else token[1]
    for special in ("exists", "not_exists", "is_true", "is_false"):
        if flags[special]:
            return {"type": condition_type, "name": leaf_name, "operator": special}
    for special in ("number_equals", "number_not_equals"):
        if flags[special]:
            return {
                "type": condition_type,
                "name": leaf_name,
                "operator": special,
                "value": _token_value(value),
            }
    return {"type": condition_type, "name": leaf_name, "operator": op, "value": _token_value(value)}


def _segment_parse_tokens(tokens: list[Token]) -> Any:
    nodes: list[Any] = []
    operator = "and"
    token = _shift(tokens)
    while token is not None and token[0] != "eos":
        kind, value = token
        if kind == "ident":
            start = value.split(".")[0]
            condition_type = TOKEN_TO_CONDITION_TYPE.get(start)
            if condition_type is None and start in OBJECT_MEMBERS:
                condition_type = "<prototype>"  # JS finds Object.prototype members: truthy
            if condition_type is not None:
                operator_token = _shift(tokens)
                if operator_token is None:
                    raise SegmentParseError("Operator token is missing")
                value_token = _shift(tokens)
                if value_token is None:
                    raise SegmentParseError("Value token is missing")
                if condition_type != "<prototype>":
                    nodes.append(_segment_leaf(condition_type, token, operator_token, value_token))
            if value in ("contains", "match"):
                _segment_parse_function(value, nodes, tokens)
        if kind == "operator" and value == "!":
            if not tokens:
                raise SegmentParseError("Cannot read properties of undefined (reading 'type')")
            if tokens[0][0] == "ident" and tokens[0][1] in ("contains", "match"):
                name = tokens[0][1]
                _shift(tokens)
                _segment_parse_function(name, nodes, tokens, negate=True)
        if kind == "parenleft":
            group: list[Token] = []
            group_token = _shift(tokens)
            while group_token is None or group_token[0] != "parenright":
                if group_token is None:
                    raise SegmentParseError("Cannot read properties of undefined (reading 'type')")
                group.append(group_token)
                group_token = _shift(tokens)
            group.append(("eos", "eos"))
            nodes.append(_segment_parse_tokens(group))
        if kind == "conditional":
            operator = value
        token = _shift(tokens)
    if len(nodes) > 1:
        return {"type": "group", "operator": operator, "children": nodes}
    return nodes[0] if nodes else None


def segment_parse(fql: str) -> Ast:
    """Segment's ``parseFql``; raises SegmentParseError where it returns ``{error}``."""
    try:
        tokens = Lexer(fql).lex()
    except LexerError:
        tokens = []  # fql-ts ``lex`` swallows the error and parseFql then fails on no tokens
    tokens = [(kind, from_utf16_units(value)) for kind, value in tokens]
    ast = _segment_parse_tokens(_normalize_tokens(tokens))
    if ast is None:
        raise SegmentParseError("Cannot read properties of undefined (reading 'type')")
    if ast.get("type") != "group":
        return {"type": "group", "operator": "and", "children": [ast]}
    return dict(ast)


def _normalize_tokens(tokens: list[Token]) -> list[Token]:
    normalized: list[Token] = []
    index = 0
    while index < len(tokens):
        current = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if (
            normalized
            and normalized[-1][0] == "ident"
            and current[0] == "dot"
            and following is not None
            and following[0] == "ident"
        ):
            previous = normalized.pop()
            normalized.append(("ident", f"{previous[1]}.{following[1]}"))
            index += 2
        else:
            normalized.append(current)
            index += 1
    return normalized
