"""The strict FQL reader: what a trigger text *means*, read with a strict grammar of its own,
and :func:`parse_fql`, which returns Segment's AST only when Segment's parser reads the same."""

from __future__ import annotations

import math
from typing import Any

from components.fql.caret import TriggerError, lexer_error_at, token_spans
from components.fql.checks import generate_fql, same_ast
from components.fql.js import js_number_to_string, js_number_value, js_to_number
from components.fql.lexer import LexerError, Token, lex
from components.fql.segment_parser import TOKEN_TO_CONDITION_TYPE, SegmentParseError, segment_parse
from components.fql.vocabulary import (
    COMPARISONS,
    FIELD_OF_TYPE,
    NAMED_TYPES,
    Ast,
    ConditionError,
    describe,
)


class _Meaning:
    """Reads FQL with a strict grammar into the AST the text *means* in Segment's vocabulary."""

    def __init__(self, fql: str) -> None:
        self.fql = fql
        try:
            self.tokens = lex(fql)
        except LexerError as exc:
            span = lexer_error_at(fql)
            if span is None:
                raise ConditionError(f"cannot read trigger {fql!r}: {exc}") from None
            raise TriggerError(f"cannot read it: {exc}", fql, *span) from None
        self.spans = token_spans(fql, self.tokens)
        self.index = 0
        self.focus = 0
        """The token looked at last: the one an error is about unless it names another."""

    def peek(self) -> Token:
        self.focus = self.index
        return self.tokens[self.index]

    def take(self) -> Token:
        self.focus = self.index
        token = self.tokens[self.index]
        if token[0] != "eos":
            self.index += 1
        return token

    def fail(self, message: str, at: int | None = None) -> ConditionError:
        start, end = self.spans[self.focus if at is None else at]
        return TriggerError(message, self.fql, start, end)

    def expect(self, kind: str, what: str) -> Token:
        token = self.take()
        if token[0] != kind:
            raise self.fail(f"expected {what}, got {_token_text(token)}")
        return token

    def read(self) -> Ast:
        node = self.group(depth=0)
        if self.peek()[0] != "eos":
            raise self.fail(f"unexpected {_token_text(self.peek())}")
        if node["type"] == "group":
            return node
        return {"type": "group", "operator": "and", "children": [node]}

    def group(self, depth: int) -> Ast:
        items = [self.term(depth)]
        conjunction: str | None = None
        while self.peek()[0] == "conditional":
            word = self.take()[1]
            if conjunction is not None and word != conjunction:
                raise self.fail(
                    "mixes 'and' and 'or' without parentheses; Segment's parser applies the "
                    "last one to every condition. Parenthesise one side: A and (B or C)"
                )
            conjunction = word
            items.append(self.term(depth))
        if len(items) == 1:
            return items[0]  # Segment returns a lone condition (or parenthesised group) as is
        return {"type": "group", "operator": conjunction or "and", "children": items}

    def term(self, depth: int) -> Ast:
        kind, value = self.peek()
        if kind == "parenleft":
            if depth >= 1:
                raise self.fail("Segment's parser reads only one level of parentheses")
            self.take()
            node = self.group(depth + 1)
            self.expect("parenright", "')'")
            return node
        if kind == "operator" and value == "!":
            bang = self.index
            self.take()
            if self.peek()[0] == "ident" and self.peek()[1] in ("contains", "match"):
                return self.function(depth, negate=True)
            raise self.fail(
                "negation '!' works in Segment's parser only directly before contains( or "
                "match(; elsewhere it is silently dropped. Use != or the not_* operators",
                at=bang,
            )
        if (
            kind == "ident"
            and value in ("contains", "match")
            and self.tokens[self.index + 1][0] == "parenleft"
        ):
            return self.function(depth, negate=False)
        if kind == "ident":
            return self.comparison()
        raise self.fail(f"expected a condition, got {_token_text(self.peek())}")

    def field(self) -> tuple[str, list[str]]:
        start = self.index
        first = self.expect("ident", "a field name")[1]
        segments = [first]
        while self.peek()[0] == "dot":
            self.take()
            token = self.take()
            if token[0] != "ident":
                raise self.fail(
                    f"field path segment {_token_text(token)} after '{'.'.join(segments)}.' must "
                    "start with a letter or '_' (Segment's parser cannot read it)"
                )
            segments.append(token[1])
        root = segments[0]
        if root not in TOKEN_TO_CONDITION_TYPE:
            raise self.fail(
                f"unsupported field {'.'.join(segments)!r}; Segment's trigger parser reads only "
                "type, event, name, userId, properties.*, traits.*, context.*",
                at=start,
            )
        leaf_type = TOKEN_TO_CONDITION_TYPE[root]
        rest = segments[1:]
        if leaf_type not in NAMED_TYPES and rest:
            raise self.fail(f"{root!r} has no sub-fields; Segment ignores '.{'.'.join(rest)}'")
        if leaf_type in NAMED_TYPES and not rest:
            raise self.fail(f"{root!r} needs a sub-field, e.g. {root}.plan")
        for segment in rest:
            if any(c in segment for c in ".[]"):
                raise self.fail(
                    f"field name segment {segment!r} contains an escaped '.', '[' or ']'; "
                    "Segment splits names on these, so such a key cannot be addressed"
                )
        return leaf_type, rest

    def literal(self) -> tuple[str, Any]:
        kind, value = self.take()
        if kind == "string":
            if value.startswith("'"):
                raise self.fail(
                    f"single-quoted value {value}: Segment's parser keeps the quotes as part of "
                    "the value, so it never matches; use double quotes"
                )
            return "string", value[1:-1]
        if kind == "number":
            return "number", value
        if kind == "null":
            return "null", None
        if kind == "ident" and value in ("true", "false"):
            return "boolean", value == "true"
        raise self.fail(
            f"expected a value (a double-quoted string, number, true, false or null), got "
            f"{_token_text((kind, value))}"
        )

    def comparison(self) -> Ast:
        leaf_type, rest = self.field()
        operator = self.take()
        if operator[0] != "operator" or operator[1] not in COMPARISONS:
            raise self.fail(
                f"expected a comparison operator (=, !=, <, <=, >, >=), got {_token_text(operator)}"
                "; 'in', 'not' and functions other than contains/match are not supported"
            )
        op = operator[1]
        kind, value = self.literal()
        leaf: Ast = {"type": leaf_type}
        if rest:
            leaf["name"] = ".".join(rest)
        plain = leaf_type not in NAMED_TYPES
        field = FIELD_OF_TYPE[leaf_type] + ("." + ".".join(rest) if rest else "")
        if kind == "null":
            if op not in ("=", "!=") or leaf_type in ("event", "event-type"):
                raise self.fail(f"{field} {op} null cannot be expressed in Segment's triggers")
            return leaf | {"operator": "exists" if op == "!=" else "not_exists"}
        if kind == "boolean":
            if op != "=" or leaf_type in ("event", "event-type", "name"):
                raise self.fail(
                    f"{field} {op} {str(value).lower()}: Segment compares this with the string "
                    f'"{str(value).lower()}"; use {field} = true/false or a quoted string'
                )
            return leaf | {"operator": "is_true" if value else "is_false"}
        if kind == "number":
            number = js_to_number(value)
            if not math.isfinite(number):
                raise self.fail(f"{value!r} is not a number")
            if op in ("=", "!=") and plain:
                raise self.fail(
                    f'{field} {op} {value}: Segment compares {field} with the string "{value}"; '
                    "write the value in double quotes"
                )
            if plain:
                return leaf | {"operator": op, "value": js_number_to_string(number)}
            operator_name = {"=": "number_equals", "!=": "number_not_equals"}.get(op, op)
            return leaf | {"operator": operator_name, "value": js_number_value(number)}
        if op not in ("=", "!="):
            raise self.fail(f"{field} {op} needs a number, got the string {value!r}")
        return leaf | {"operator": op, "value": value}

    def function(self, depth: int, *, negate: bool) -> Ast:
        name = self.take()[1]
        if depth > 0:
            raise self.fail(
                f"{name}() inside parentheses: Segment's parser ends the group at {name}()'s "
                "')' and flattens the rest; put it in the top-level group"
            )
        self.expect("parenleft", "'('")
        leaf_type, rest = self.field()
        if leaf_type == "event-type":
            raise self.fail(f"Segment's parser ignores {name}() on type; use = or !=")
        self.expect("comma", "','")
        kind, value = self.literal()
        if kind != "string":
            raise self.fail(f"{name}() needs a double-quoted string as its 2nd argument")
        self.expect("parenright", "')'")
        prefix = "not_" if negate else ""
        leaf: Ast = {"type": leaf_type}
        if rest:
            leaf["name"] = ".".join(rest)
        if name == "contains":
            return leaf | {"operator": prefix + "contains", "value": value}
        body = value[1:] if value.startswith("*") else value[:-1] if value.endswith("*") else None
        if value == "*":
            body = ""
        if body is None or any(c in body for c in "*?[\\"):
            raise self.fail(
                f'match pattern "{value}": Segment reads only a prefix pattern "abc*" or a suffix '
                'pattern "*abc" without other glob characters; use = for an exact match'
            )
        kind_of_match = "starts_with" if value.endswith("*") else "ends_with"
        return leaf | {"operator": prefix + kind_of_match, "value": body}


def _token_text(token: Token) -> str:
    kind, value = token
    return "the end of the trigger" if kind == "eos" else f"{kind} {value!r}"


def meaning(fql: str) -> Ast:
    """What ``fql`` means, read with the strict grammar; raises where it does not read."""
    return _Meaning(fql).read()


def parse_fql(fql: str) -> dict[str, Any]:
    """Segment's ``parseFql`` AST for ``fql``; raises ConditionError where Segment misreads it."""
    if not isinstance(fql, str):
        raise ConditionError(f"a trigger must be FQL text; got {describe(fql)}")
    if not fql.strip():
        raise ConditionError("the trigger is empty; every Segment subscription needs a condition")
    meant = _Meaning(fql).read()
    try:
        read = segment_parse(fql)
    except SegmentParseError as exc:
        raise ConditionError(f"Segment's parser rejects trigger {fql!r}: {exc}") from None
    if not same_ast(read, meant):
        raise ConditionError(
            f"Segment's parser misreads trigger {fql!r} as {read!r} (it means {meant!r})"
        )
    try:
        generate_fql(read)
    except ConditionError as exc:
        raise ConditionError(f"trigger {fql!r}: {exc}") from None
    return read
