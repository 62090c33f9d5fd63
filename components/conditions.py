"""Segment trigger conditions: FQL text <-> Segment's AST, evaluation, and the stack-file YAML form.

The AST is the JSON shape of ``@segment/destination-subscriptions`` (``types.ts``): groups
``{"type": "group", "operator": "and"|"or", "children": [...]}`` and leaves
``{"type": <leaf type>, "operator": <operator>, "value"?: ..., "name"?: ...}``.

Segment's runtime reads a subscription trigger with ``parseFql`` and filters every event with
``validate``. That parser understands only a subset of FQL and silently misreads some
valid-looking strings, so this module carries faithful ports of ``parseFql``/``generateFql`` (and
of the fql-ts lexer beneath them) and accepts only what Segment reads back unchanged:

* :func:`generate_fql` returns exactly Segment's ``generateFql`` text, and raises
  :class:`ConditionError` for every AST that Segment's parser would read back differently or that
  FQL means differently (a ``"`` in a value, ``contains``/``match`` in a nested group, glob
  characters in a starts/ends-with value, field names Segment cannot address, ...).
* :func:`parse_fql` reads FQL with a strict grammar of its own and with the Segment port, and
  returns Segment's AST only when both agree.
* :func:`validate` / :func:`compile_trigger` give Segment's ``validate`` verdict (JavaScript
  semantics: type-strict equality, ``!=`` true on a missing value, the small ``get`` helper).

Stack-file YAML form (1:1 with the AST; :func:`conditions_from_yaml`/:func:`conditions_to_yaml`)::

    all:                                  # or any:  (group operator "and" / "or")
      - event_type: {is: track}           # type = "track"
      - any:                              # a nested group (one level, as Segment reads it)
          - event: {is: Signed Up}
          - event: {is: Order Completed}
      - user_id: {starts_with: SA}        # match(userId, "SA*")
      - property: {name: price, gte: 100} # properties.price >= 100
      - trait: {name: plan, is_not: pro}  # traits.plan != "pro"
      - context: {name: page.path, contains: pricing}

Fields: ``event_type`` (type), ``event``, ``name`` (page name), ``user_id``, and ``property`` /
``trait`` / ``context`` with a ``name``. Operator keys: ``is`` (=), ``is_not`` (!=), ``equals`` /
``not_equals`` (number_equals / number_not_equals), ``lt``, ``lte``, ``gt``, ``gte``,
``contains``, ``not_contains``, ``starts_with``, ``not_starts_with``, ``ends_with``,
``not_ends_with``, ``exists: true``, ``not_exists: true``, ``is_true: true``, ``is_false: true``.

Typing rule (so YAML maps 1:1 onto what ``parseFql`` produces): ``is``/``is_not`` and the text
operators take **strings only**; ``is: 5`` and ``is: true`` are errors that point to
``equals: 5`` (the number) / ``is: "5"`` (the string) and ``is_true: true`` / ``is: "true"``.
``equals``/``not_equals``/``lt``/``lte``/``gt``/``gte`` take numbers only; on ``event``, ``name``,
``user_id`` and ``event_type`` Segment stores such a number as its JavaScript string (``"5"``),
and so does :func:`conditions_from_yaml`. ``event_type`` accepts only ``is``/``is_not`` with one
of Segment's event types. A group with one condition is normalised the way Segment's parser
reads it (a lone condition is an ``and`` group; a nested group of one is lifted into its parent).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final, NamedTuple

__all__ = [
    "ConditionError",
    "LeafVerdict",
    "compile_trigger",
    "conditions_from_yaml",
    "conditions_to_yaml",
    "explain",
    "generate_fql",
    "parse_fql",
    "validate",
]


class ConditionError(ValueError):
    """A trigger condition (AST, FQL text or YAML form) that Segment cannot read as meant."""


class LeafVerdict(NamedTuple):
    """One leaf condition of a trigger and whether an event satisfied it."""

    fql: str
    matched: bool


Ast = dict[str, Any]
Predicate = Callable[[Mapping[str, Any]], bool]

# --- vocabulary --------------------------------------------------------------------------------

GROUP_OPERATORS: Final = ("and", "or")
LEAF_TYPES: Final = (
    "event-type",
    "event",
    "name",
    "userId",
    "event-property",
    "event-trait",
    "event-context",
)
NAMED_TYPES: Final = frozenset({"event-property", "event-trait", "event-context"})
OPERATORS: Final = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "number_equals",
    "number_not_equals",
    "contains",
    "not_contains",
    "starts_with",
    "not_starts_with",
    "ends_with",
    "not_ends_with",
    "exists",
    "not_exists",
    "is_true",
    "is_false",
)
NUMERIC_OPERATORS: Final = frozenset({"<", "<=", ">", ">=", "number_equals", "number_not_equals"})
TEXT_OPERATORS: Final = frozenset(
    {
        "contains",
        "not_contains",
        "starts_with",
        "not_starts_with",
        "ends_with",
        "not_ends_with",
    }
)
GLOB_OPERATORS: Final = frozenset({"starts_with", "not_starts_with", "ends_with", "not_ends_with"})
VALUELESS_OPERATORS: Final = frozenset({"exists", "not_exists", "is_true", "is_false"})

# Which operators Segment's parser reads back for each leaf type (parse-fql.ts branches).
_COMPARISONS: Final = ("=", "!=", "<", "<=", ">", ">=")
_TEXT: Final = (
    "contains",
    "not_contains",
    "starts_with",
    "not_starts_with",
    "ends_with",
    "not_ends_with",
)
ALLOWED_OPERATORS: Final[Mapping[str, tuple[str, ...]]] = {
    "event-type": _COMPARISONS,
    "event": _COMPARISONS + _TEXT,
    "name": _COMPARISONS + _TEXT + ("exists", "not_exists"),
    "userId": _COMPARISONS + _TEXT + ("exists", "not_exists", "is_true", "is_false"),
    "event-property": OPERATORS,
    "event-trait": OPERATORS,
    "event-context": OPERATORS,
}
FIELD_OF_TYPE: Final[Mapping[str, str]] = {
    "event-type": "type",
    "event": "event",
    "name": "name",
    "userId": "userId",
    "event-property": "properties",
    "event-trait": "traits",
    "event-context": "context",
}
EVENT_TYPES: Final = ("track", "identify", "page", "screen", "group", "alias")

# --- JavaScript value semantics ------------------------------------------------------------------
# Segment evaluates in JavaScript; these helpers reproduce the conversions its code relies on.
# In *actual* event values None stands for both undefined and null: validate never separates them.


class _Undefined:
    """JavaScript ``undefined`` where it differs from null (``String(undefined)``)."""

    def __repr__(self) -> str:
        return "undefined"


class _JsBuiltin:
    """A built-in JavaScript member reached through a path (``properties.constructor``)."""

    def __repr__(self) -> str:
        return "<JavaScript built-in>"


UNDEFINED: Final = _Undefined()
JS_BUILTIN: Final = _JsBuiltin()

# Own property names of the prototypes (Node 20); a path through them reaches a function.
_OBJECT_MEMBERS: Final = frozenset(
    [
        "__defineGetter__",
        "__defineSetter__",
        "__lookupGetter__",
        "__lookupSetter__",
        "__proto__",
        "constructor",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "toString",
        "valueOf",
    ]
)
_ARRAY_MEMBERS: Final = _OBJECT_MEMBERS | frozenset(
    [
        "at",
        "concat",
        "copyWithin",
        "entries",
        "every",
        "fill",
        "filter",
        "find",
        "findIndex",
        "findLast",
        "findLastIndex",
        "flat",
        "flatMap",
        "forEach",
        "includes",
        "indexOf",
        "join",
        "keys",
        "lastIndexOf",
        "map",
        "pop",
        "push",
        "reduce",
        "reduceRight",
        "reverse",
        "shift",
        "slice",
        "some",
        "sort",
        "splice",
        "toReversed",
        "toSorted",
        "toSpliced",
        "unshift",
        "values",
        "with",
    ]
)
_STRING_MEMBERS: Final = _OBJECT_MEMBERS | frozenset(
    [
        "anchor",
        "at",
        "big",
        "blink",
        "bold",
        "charAt",
        "charCodeAt",
        "codePointAt",
        "concat",
        "endsWith",
        "fixed",
        "fontcolor",
        "fontsize",
        "includes",
        "indexOf",
        "isWellFormed",
        "italics",
        "lastIndexOf",
        "link",
        "localeCompare",
        "match",
        "matchAll",
        "normalize",
        "padEnd",
        "padStart",
        "repeat",
        "replace",
        "replaceAll",
        "search",
        "slice",
        "small",
        "split",
        "startsWith",
        "strike",
        "sub",
        "substr",
        "substring",
        "sup",
        "toLocaleLowerCase",
        "toLocaleUpperCase",
        "toLowerCase",
        "toUpperCase",
        "toWellFormed",
        "trim",
        "trimEnd",
        "trimLeft",
        "trimRight",
        "trimStart",
    ]
)
_NUMBER_MEMBERS: Final = _OBJECT_MEMBERS | frozenset(["toExponential", "toFixed", "toPrecision"])
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
_JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
_JS_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_JS_RADIX = re.compile(r"0([xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_MAX_SAFE_INTEGER: Final = 2**53 - 1


def _utf16_units(text: str) -> list[str]:
    """The string as JavaScript sees it: one item per UTF-16 code unit."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [chr(int.from_bytes(data[i : i + 2], "little")) for i in range(0, len(data), 2)]


def _from_utf16_units(units: str) -> str:
    """Join UTF-16 code units back into a Python string (pairs become one code point)."""
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _is_js_falsy(value: Any) -> bool:
    if value is None or value is False or value is UNDEFINED:
        return True
    if type(value) in (int, float):
        return bool(value == 0 or math.isnan(value))  # 0, -0 and NaN
    return isinstance(value, str) and not value


def js_member(value: Any, key: str) -> Any:
    """``value && value[key]`` for JSON-shaped values (the step of Segment's ``get`` helpers)."""
    if _is_js_falsy(value):
        return value
    if isinstance(value, Mapping):
        if key in value:
            return value[key]
        return JS_BUILTIN if key in _OBJECT_MEMBERS else None
    if isinstance(value, str):
        units = _utf16_units(value)
        if key == "length":
            return len(units)
        if _ARRAY_INDEX.fullmatch(key) and int(key) < len(units):
            return units[int(key)]
        return JS_BUILTIN if key in _STRING_MEMBERS else None
    if isinstance(value, list | tuple):
        if key == "length":
            return len(value)
        if _ARRAY_INDEX.fullmatch(key) and int(key) < len(value):
            return value[int(key)]
        return JS_BUILTIN if key in _ARRAY_MEMBERS else None
    if isinstance(value, bool):
        return JS_BUILTIN if key in ("constructor", "toString", "valueOf") else None
    if isinstance(value, int | float):
        return JS_BUILTIN if key in _NUMBER_MEMBERS else None
    # Functions and other built-ins: their own members are out of scope; treat as missing.
    return None


def js_number_to_string(number: float) -> str:
    """JavaScript ``Number.prototype.toString()`` for a double."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    mantissa, _, exp_text = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # n is the position of the decimal point relative to the first significant digit.
    point = len(whole) + (int(exp_text) if exp_text else 0)
    leading_zeros = len(whole + fraction) - len((whole + fraction).lstrip("0"))
    point -= leading_zeros
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * (-point) + digits
    exponent = point - 1
    exp = f"e{'+' if exponent >= 0 else '-'}{abs(exponent)}"
    if k == 1:
        return sign + digits + exp
    return sign + digits[0] + "." + digits[1:] + exp


def _int_to_double(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def js_to_number(value: Any) -> float:
    """JavaScript ``Number(value)``."""
    if value is UNDEFINED or isinstance(value, Mapping):
        return math.nan
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int):
        return _int_to_double(value)
    if isinstance(value, float):
        return value
    if isinstance(value, list | tuple):
        return js_to_number(js_to_string(value))
    if isinstance(value, str):
        text = value.strip(_JS_WHITESPACE)
        if not text:
            return 0.0
        if text in ("Infinity", "+Infinity"):
            return math.inf
        if text == "-Infinity":
            return -math.inf
        radix = _JS_RADIX.fullmatch(text)
        if radix:
            base = {"x": 16, "o": 8, "b": 2}[radix.group(1)[0].lower()]
            return _int_to_double(int(radix.group(1)[1:], base))
        if _JS_DECIMAL.fullmatch(text):
            return float(text)
        return math.nan
    return math.nan


def js_to_string(value: Any) -> str:
    """JavaScript ``String(value)`` for JSON-shaped values."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return js_number_to_string(_int_to_double(value))
    if isinstance(value, float):
        return js_number_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ",".join("" if item is None else js_to_string(item) for item in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)


def _js_number_value(number: float) -> int | float:
    """The Python value JSON decoding gives for a JavaScript number (``5`` not ``5.0``)."""
    if math.isfinite(number) and number.is_integer() and abs(number) < 1e21:
        return int(number)
    return number


# --- fql-ts lexer (a faithful port of segmentio/fql-ts src/lexer.ts 1.10.x) -----------------------

_EOS_FLAG: Final = "-1"
_MAX_LITERAL: Final = 100000
Token = tuple[str, str]


class _LexerError(Exception):
    pass


class _SegmentParseError(Exception):
    pass


def _is_alpha(c: str) -> bool:
    return len(c) == 1 and ("a" <= c <= "z" or "A" <= c <= "Z")


def _is_digit(c: str) -> bool:
    return len(c) == 1 and "0" <= c <= "9"


def _is_whitespace(c: str) -> bool:
    return c in (" ", "\t", "\n")


def _is_ident(c: str) -> bool:
    return c != _EOS_FLAG and (_is_alpha(c) or _is_digit(c) or c in ("_", "-", "\\"))


def _is_terminator(c: str) -> bool:
    return c == _EOS_FLAG or _is_whitespace(c) or c in (",", "]", ")")


class _Lexer:
    """Port of fql-ts ``Lexer``; works on UTF-16 code units exactly like the JavaScript."""

    def __init__(self, code: str) -> None:
        self.code = _utf16_units(code)
        self.position = 0

    def next(self) -> tuple[str, bool]:
        if self.position == len(self.code):
            return _EOS_FLAG, True
        char = self.code[self.position]
        self.position += 1
        return char, False

    def peek(self) -> str:
        char, is_eos = self.next()
        if not is_eos:
            self.backup(1)
        return char

    def backup(self, count: int) -> None:
        for _ in range(count):
            if self.position == 0:
                return
            self.position -= 1

    def accept(self, expected: str) -> bool:
        chars = ""
        for _ in expected:
            char, is_eos = self.next()
            chars += char
            if is_eos:
                return False
            if _is_terminator(char):
                break
        if expected == chars and _is_terminator(self.peek()):
            return True
        self.backup(len(chars))
        return False

    def lex(self) -> list[Token]:
        tokens: list[Token] = []
        while True:
            char, is_eos = self.next()
            if is_eos:
                tokens.append(("eos", "eos"))
                return tokens
            if _is_whitespace(char):
                continue
            if char == "!":
                following = self.peek()
                if _is_alpha(following) or following == "(":
                    tokens.append(("operator", "!"))
                    continue
            if _is_alpha(char) or char in ("!", "=", ">", "<", "\\", "_"):
                tokens.append(self.lex_operator_or_conditional(char))
                continue
            if _is_digit(char) or char in ("-", "+"):
                tokens.append(self.lex_number(char))
                continue
            if char in ('"', "'"):
                tokens.append(self.lex_string(char))
                continue
            simple = {".": "dot", "[": "brackleft", "]": "brackright", ",": "comma"}
            if char in simple:
                tokens.append((simple[char], char))
                continue
            if char in ("(", ")"):
                tokens.append(("parenleft" if char == "(" else "parenright", char))
                continue
            raise _LexerError(f'invalid character "{_from_utf16_units(char)}"')

    def lex_string(self, quote: str) -> Token:
        text = ""
        while self.peek() != quote:
            char, is_eos = self.next()
            text += char
            if is_eos:
                raise _LexerError("unterminated string")
            if len(text) >= _MAX_LITERAL:
                raise _LexerError("unreasonable string length")
        self.accept(quote)
        return ("string", f"{quote}{text}{quote}")

    def lex_number(self, previous: str) -> Token:
        text = ""
        coming_up = self.peek()
        is_decimal = False
        while _is_digit(coming_up) or coming_up == ".":
            char, _ = self.next()
            text += char
            if coming_up == ".":
                if _is_terminator(self.peek()):
                    raise _LexerError("unexpected terminator after decimal point")
                if is_decimal:
                    raise _LexerError("multiple decimal points in one number")
                is_decimal = True
            if len(text) >= _MAX_LITERAL:
                raise _LexerError("unreasonable number length")
            coming_up = self.peek()
        return ("number", previous + text)

    def lex_operator_or_conditional(self, previous: str) -> Token:
        if previous == "=":
            return ("operator", "=")
        if previous == "!":
            if self.accept("="):
                return ("operator", "!=")
            raise _LexerError(f"expected '=' after '!', got '{self.peek()}'")
        keywords = {"a": ("nd", "conditional", "and"), "o": ("r", "conditional", "or")}
        keywords["n"] = ("ull", "null", "null")
        if previous in keywords:
            rest, kind, value = keywords[previous]
            if self.accept(rest):
                return (kind, value)
            return self.lex_ident(previous)
        if previous in ("<", ">"):
            if self.accept("="):
                return ("operator", previous + "=")
            return ("operator", previous)
        return self.lex_ident(previous)

    def lex_ident(self, previous: str) -> Token:
        text = ""
        char = previous
        while True:
            if char == "\\":
                if self.peek() == _EOS_FLAG:
                    raise _LexerError("expected character after escape character, got EOS")
                char, _ = self.next()
            text += char
            if len(text) >= _MAX_LITERAL:
                raise _LexerError("unreasonable literal length")
            if not _is_ident(self.peek()):
                break
            char, _ = self.next()
        coming_up = self.peek()
        if not (_is_terminator(coming_up) or coming_up in (".", "(", "=", "!")):
            raise _LexerError(
                f"expected termination character after identifier, got "
                f"{_from_utf16_units(coming_up)}"
            )
        return ("ident", text)


def _lex(fql: str) -> list[Token]:
    """fql-ts ``lex``: tokens with values converted back from UTF-16 units."""
    return [(kind, _from_utf16_units(value)) for kind, value in _Lexer(fql).lex()]


# --- @segment/destination-subscriptions parseFql (faithful port of parse-fql.ts 3.37.0) ----------

_TOKEN_TO_CONDITION_TYPE: Final[Mapping[str, str]] = {
    "type": "event-type",
    "event": "event",
    "name": "name",
    "userId": "userId",
    "context": "event-context",
    "properties": "event-property",
    "traits": "event-trait",
}
_NAMED_PREFIX: Final[Mapping[str, str]] = {
    "event-property": "properties",
    "event-trait": "traits",
    "event-context": "context",
}


def _token_value(token: Token) -> Any:
    kind, value = token
    if kind == "string":
        return re.sub(r'"$', "", re.sub(r'^"', "", value))
    if kind == "number":
        return _js_number_value(js_to_number(value))
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
        raise _SegmentParseError(f"{name}() is missing a 1st argument")
    _shift(tokens)
    value_token = _shift(tokens)
    if value_token is None:
        raise _SegmentParseError(f"{name}() is missing a 2nd argument")
    _shift(tokens)
    if name == "contains":
        operator = "not_contains" if negate else "contains"
        value = js_to_string(_token_value(value_token))
    elif value_token[1].endswith('*"'):
        operator = "not_starts_with" if negate else "starts_with"
        value = _from_utf16_units(
            "".join(_utf16_units(js_to_string(_token_value(value_token)))[:-1])
        )
    else:
        operator = "not_ends_with" if negate else "ends_with"
        value = _from_utf16_units(
            "".join(_utf16_units(js_to_string(_token_value(value_token)))[1:])
        )
    field = name_token[1]
    if field in ("event", "name", "userId"):
        nodes.append({"type": field, "operator": operator, "value": value})
    for leaf_type, prefix in _NAMED_PREFIX.items():
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
    prefix = _NAMED_PREFIX[condition_type]
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
            condition_type = _TOKEN_TO_CONDITION_TYPE.get(start)
            if condition_type is None and start in _OBJECT_MEMBERS:
                condition_type = "<prototype>"  # JS finds Object.prototype members: truthy
            if condition_type is not None:
                operator_token = _shift(tokens)
                if operator_token is None:
                    raise _SegmentParseError("Operator token is missing")
                value_token = _shift(tokens)
                if value_token is None:
                    raise _SegmentParseError("Value token is missing")
                if condition_type != "<prototype>":
                    nodes.append(_segment_leaf(condition_type, token, operator_token, value_token))
            if value in ("contains", "match"):
                _segment_parse_function(value, nodes, tokens)
        if kind == "operator" and value == "!":
            if not tokens:
                raise _SegmentParseError("Cannot read properties of undefined (reading 'type')")
            if tokens[0][0] == "ident" and tokens[0][1] in ("contains", "match"):
                name = tokens[0][1]
                _shift(tokens)
                _segment_parse_function(name, nodes, tokens, negate=True)
        if kind == "parenleft":
            group: list[Token] = []
            group_token = _shift(tokens)
            while group_token is None or group_token[0] != "parenright":
                if group_token is None:
                    raise _SegmentParseError("Cannot read properties of undefined (reading 'type')")
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


def _segment_parse(fql: str) -> Ast:
    """Segment's ``parseFql``; raises _SegmentParseError where it returns ``{error}``."""
    try:
        tokens = _Lexer(fql).lex()
    except _LexerError:
        tokens = []  # fql-ts ``lex`` swallows the error and parseFql then fails on no tokens
    tokens = [(kind, _from_utf16_units(value)) for kind, value in tokens]
    ast = _segment_parse_tokens(_normalize_tokens(tokens))
    if ast is None:
        raise _SegmentParseError("Cannot read properties of undefined (reading 'type')")
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


# --- @segment/destination-subscriptions generateFql (faithful port of generate-fql.ts) -----------


def _stringify_value(value: Any) -> str:
    if isinstance(value, bool | int | float):
        return js_to_string(value)
    return f'"{js_to_string(value)}"'


def _fql_expression(name: str, operator: Any, value: Any) -> str:
    text = {
        "contains": lambda: f"contains({name}, {_stringify_value(value)})",
        "not_contains": lambda: f"!contains({name}, {_stringify_value(value)})",
        "exists": lambda: f"{name} != null",
        "not_exists": lambda: f"{name} = null",
        "is_true": lambda: f"{name} = true",
        "is_false": lambda: f"{name} = false",
        "starts_with": lambda: f'match({name}, "{js_to_string(value)}*")',
        "not_starts_with": lambda: f'!match({name}, "{js_to_string(value)}*")',
        "ends_with": lambda: f'match({name}, "*{js_to_string(value)}")',
        "not_ends_with": lambda: f'!match({name}, "*{js_to_string(value)}")',
        "number_equals": lambda: f"{name} = {js_number_to_string(js_to_number(value))}",
        "number_not_equals": lambda: f"{name} != {js_number_to_string(js_to_number(value))}",
    }
    if isinstance(operator, str) and operator in ("<", ">", "<=", ">="):
        return f"{name} {operator} {js_number_to_string(js_to_number(value))}"
    if isinstance(operator, str) and operator in text:
        return text[operator]()
    return f"{name} {js_to_string(operator)} {_stringify_value(value)}"


def _escape_field_path(name: Any) -> str:
    if not isinstance(name, str):
        return js_to_string(name)
    return "".join(
        unit if re.fullmatch(r"[a-zA-Z0-9._-]", unit) else "\\" + unit
        for unit in _utf16_units(name)
    )


def _leaf_fql(node: Mapping[str, Any]) -> str:
    """Segment's ``stringifyChildNode`` for one leaf."""
    leaf_type = str(node.get("type"))
    value = node.get("value", UNDEFINED)
    if leaf_type in ("name", "userId", "event"):
        return _fql_expression(leaf_type, node.get("operator"), value)
    if leaf_type == "event-type":
        return _fql_expression("type", node.get("operator"), value)
    if leaf_type in _NAMED_PREFIX:
        field = f"{_NAMED_PREFIX[leaf_type]}.{_escape_field_path(node.get('name', UNDEFINED))}"
        return _fql_expression(field, node.get("operator"), value)
    raise ConditionError(f"unknown condition type {leaf_type!r}; allowed: {', '.join(LEAF_TYPES)}")


def _group_fql(node: Mapping[str, Any]) -> str:
    parts = [
        f"({_group_fql(child)})" if child.get("type") == "group" else _leaf_fql(child)
        for child in node["children"]
    ]
    return f" {js_to_string(node['operator'])} ".join(parts)


def _segment_generate(ast: Mapping[str, Any]) -> str:
    """Segment's ``generateFql``, without any safety checks."""
    fql = _group_fql(ast)
    if fql.startswith("(") and fql.endswith(")") and fql.count("(") + fql.count(")") == 2:
        return fql[1:-1]
    return fql


# --- AST checks ----------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}.get(
        type(value), "null" if value is None else type(value).__name__
    )
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return f"{shown} ({kind})"


def _numeric_problem(value: Any) -> str | None:
    """Why a numeric operand cannot be written so that Segment reads back the same number."""
    if isinstance(value, str):
        number = js_to_number(value)
        if not math.isfinite(number):
            return f"needs a number; got {_describe(value)}"
    elif _is_number(value):
        if isinstance(value, int) and abs(value) > _MAX_SAFE_INTEGER:
            return (
                f"needs a number JavaScript holds exactly (|n| <= {_MAX_SAFE_INTEGER}); got {value}"
            )
        number = float(value)
        if not math.isfinite(number):
            return f"needs a finite number; got {_describe(value)}"
    else:
        return f"needs a number; got {_describe(value)}"
    if number != 0 and not 1e-6 <= abs(number) < 1e21:
        return (
            f"needs a number between 1e-6 and 1e21 in magnitude (Segment writes others in "
            f"exponent form, which its parser cannot read); got {_describe(value)}"
        )
    return None


def _text_problem(operator: str, value: Any) -> str | None:
    if not isinstance(value, str):
        hint = ""
        if operator in ("=", "!=") and isinstance(value, bool):
            hint = "; for booleans use is_true/is_false, for the text write it as a string"
        elif operator in ("=", "!=") and _is_number(value):
            hint = "; for numbers use number_equals/number_not_equals, for the text write a string"
        return f"needs a string value; got {_describe(value)}{hint}"
    if '"' in value:
        return (
            f"value {value!r} contains a double quote (\"): Segment's trigger strings have no "
            "escapes and end at the next quote; match the text on either side of the quote with "
            "contains instead"
        )
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        return f"value {value!r} contains a lone UTF-16 surrogate"
    if _utf16_length(value) > _MAX_LITERAL - 3:
        return f"value is longer than Segment's parser reads ({_MAX_LITERAL - 3} characters)"
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
        return f"needs a non-empty field 'name'; got {_describe(name)}"
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


def _leaf_problem(leaf: Any) -> str | None:
    """The first reason this leaf cannot be written as FQL that Segment reads back unchanged."""
    if not isinstance(leaf, Mapping):
        return f"expected a condition object; got {_describe(leaf)}"
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
        problem = _numeric_problem(value)
        return f"{operator} {problem}" if problem else None
    return _text_problem(operator, value)


def _group_problems(node: Any, path: str, depth: int) -> Iterator[tuple[str, str]]:
    if not isinstance(node, Mapping) or node.get("type") != "group":
        yield path, f"expected a group object; got {_describe(node)}"
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
                yield from _group_problems(child, child_path, depth + 1)
            continue
        problem = _leaf_problem(child)
        if problem:
            yield child_path, problem
        elif depth > 0 and child.get("operator") in TEXT_OPERATORS:
            yield child_path, _nested_text_problem(child["operator"])


def _values_equal(operator: Any, left: Any, right: Any) -> bool:
    if operator in NUMERIC_OPERATORS:
        return js_to_number(left) == js_to_number(right)
    return type(left) is type(right) and left == right


def _same_ast(left: Any, right: Any) -> bool:
    """Structural equality with JSON typing (True is not 1) and numeric operands by value."""
    if not isinstance(left, Mapping) or not isinstance(right, Mapping) or set(left) != set(right):
        return False
    if left.get("type") == "group":
        return (
            right.get("type") == "group"
            and left["operator"] == right["operator"]
            and len(left["children"]) == len(right["children"])
            and all(
                _same_ast(a, b) for a, b in zip(left["children"], right["children"], strict=True)
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
    problems = list(_group_problems(ast, "", 0))
    if problems:
        raise ConditionError(
            "; ".join(f"{path}: {message}" if path else message for path, message in problems)
        )
    text = _segment_generate(ast)
    try:
        read_back = _segment_parse(text)
    except _SegmentParseError as exc:
        raise ConditionError(f"Segment's parser cannot read back {text!r}: {exc}") from None
    if not _same_ast(read_back, ast):
        raise ConditionError(
            f"Segment's parser reads {text!r} back as {read_back!r}, not as the given conditions"
        )
    return text


# --- strict FQL reader (what the text means) for parse_fql -------------------------------------


class _Meaning:
    """Reads FQL with a strict grammar into the AST the text *means* in Segment's vocabulary."""

    def __init__(self, fql: str) -> None:
        self.fql = fql
        try:
            self.tokens = _lex(fql)
        except _LexerError as exc:
            raise ConditionError(f"cannot read trigger {fql!r}: {exc}") from None
        self.index = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        if token[0] != "eos":
            self.index += 1
        return token

    def fail(self, message: str) -> ConditionError:
        return ConditionError(f"trigger {self.fql!r}: {message}")

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
            self.take()
            if self.peek()[0] == "ident" and self.peek()[1] in ("contains", "match"):
                return self.function(depth, negate=True)
            raise self.fail(
                "negation '!' works in Segment's parser only directly before contains( or "
                "match(; elsewhere it is silently dropped. Use != or the not_* operators"
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
        if root not in _TOKEN_TO_CONDITION_TYPE:
            raise self.fail(
                f"unsupported field {'.'.join(segments)!r}; Segment's trigger parser reads only "
                "type, event, name, userId, properties.*, traits.*, context.*"
            )
        leaf_type = _TOKEN_TO_CONDITION_TYPE[root]
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
        if operator[0] != "operator" or operator[1] not in _COMPARISONS:
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
            return leaf | {"operator": operator_name, "value": _js_number_value(number)}
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


def parse_fql(fql: str) -> dict[str, Any]:
    """Segment's ``parseFql`` AST for ``fql``; raises ConditionError where Segment misreads it."""
    if not isinstance(fql, str):
        raise ConditionError(f"a trigger must be FQL text; got {_describe(fql)}")
    if not fql.strip():
        raise ConditionError("the trigger is empty; every Segment subscription needs a condition")
    meant = _Meaning(fql).read()
    try:
        read = _segment_parse(fql)
    except _SegmentParseError as exc:
        raise ConditionError(f"Segment's parser rejects trigger {fql!r}: {exc}") from None
    if not _same_ast(read, meant):
        raise ConditionError(
            f"Segment's parser misreads trigger {fql!r} as {read!r} (it means {meant!r})"
        )
    try:
        generate_fql(read)
    except ConditionError as exc:
        raise ConditionError(f"trigger {fql!r}: {exc}") from None
    return read


# --- evaluation --------------------------------------------------------------------------------


def _check_for_evaluation(node: Any, path: str) -> None:
    where = path or "trigger"
    if not isinstance(node, Mapping):
        raise ConditionError(f"{where}: expected a condition object; got {_describe(node)}")
    if node.get("type") == "group":
        if node.get("operator") not in GROUP_OPERATORS:
            raise ConditionError(
                f"{where}: unknown group operator {node.get('operator')!r}; allowed: and, or"
            )
        children = node.get("children")
        if not isinstance(children, list):
            raise ConditionError(
                f"{where}: group children must be a list; got {_describe(children)}"
            )
        for index, child in enumerate(children):
            _check_for_evaluation(
                child, f"{path}.children[{index}]" if path else f"children[{index}]"
            )
        return
    if node.get("type") not in LEAF_TYPES:
        raise ConditionError(
            f"{where}: unknown condition type {node.get('type')!r}; allowed: "
            f"{', '.join(LEAF_TYPES)}, group"
        )
    if node.get("operator") not in OPERATORS:
        raise ConditionError(
            f"{where}: unknown operator {node.get('operator')!r}; allowed: {', '.join(OPERATORS)}"
        )
    if node["type"] in NAMED_TYPES:
        name = node.get("name")
        if not isinstance(name, str) or not re.search(r"[^\[.\]]", name):
            raise ConditionError(
                f"{where}: needs a field 'name' with a path; got {_describe(name)}"
            )


def _as_number(actual: Any) -> float | None:
    kind = type(actual)
    if kind is float:
        return float(actual)
    if kind is int:
        return _int_to_double(actual)
    return None


def _predicate(operator: str, expected: Any) -> Callable[[Any], bool]:
    """Segment's ``validateValue`` with the expected side converted once."""
    if operator in ("=", "!="):
        text = js_to_string(expected)
        if operator == "=":
            return lambda actual: type(actual) is str and actual == text
        return lambda actual: not (type(actual) is str and actual == text)
    if operator in NUMERIC_OPERATORS:
        number = js_to_number(expected)
        compare: Callable[[float], bool] = {
            "number_equals": lambda a: a == number,
            "number_not_equals": lambda a: a != number,
            "<": lambda a: a < number,
            "<=": lambda a: a <= number,
            ">": lambda a: a > number,
            ">=": lambda a: a >= number,
        }[operator]

        def numeric(actual: Any) -> bool:
            as_number = _as_number(actual)
            return as_number is not None and compare(as_number)

        return numeric
    if operator in TEXT_OPERATORS:
        text = js_to_string(expected)
        test: Callable[[str], bool] = {
            "contains": lambda a: text in a,
            "not_contains": lambda a: text not in a,
            "starts_with": lambda a: a.startswith(text),
            "not_starts_with": lambda a: not a.startswith(text),
            "ends_with": lambda a: a.endswith(text),
            "not_ends_with": lambda a: not a.endswith(text),
        }[operator]
        return lambda actual: type(actual) is str and test(actual)
    return {
        "exists": lambda actual: actual is not None,
        "not_exists": lambda actual: actual is None,
        "is_true": lambda actual: actual is True,
        "is_false": lambda actual: actual is False,
    }[operator]


def _getter(leaf: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], Any]:
    """Reads the leaf's actual value from an event like Segment's ``validateCondition``/``get``."""
    root = FIELD_OF_TYPE[leaf["type"]]
    if leaf["type"] not in NAMED_TYPES:
        return lambda event: event.get(root)
    keys = tuple(re.findall(r"[^\[.\]]+", leaf["name"]))
    member = js_member

    def get(event: Mapping[str, Any]) -> Any:
        value = event.get(root)
        for key in keys:
            # Fast path for the common JSON object; js_member covers JavaScript's other cases.
            if type(value) is dict and key in value:  # noqa: SIM108
                value = value[key]
            else:
                value = member(value, key)
        return value

    return get


def _compile(node: Mapping[str, Any]) -> Predicate:
    if node["type"] != "group":
        getter = _getter(node)
        predicate = _predicate(node["operator"], node.get("value", UNDEFINED))
        return lambda event: predicate(getter(event))
    children = tuple(_compile(child) for child in node["children"])
    if node["operator"] == "and":
        if len(children) == 1:
            return children[0]

        def every(event: Mapping[str, Any]) -> bool:
            for child in children:  # noqa: SIM110 - a plain loop beats all(genexpr) per event
                if not child(event):
                    return False
            return True

        return every

    def some(event: Mapping[str, Any]) -> bool:
        for child in children:  # noqa: SIM110 - a plain loop beats any(genexpr) per event
            if child(event):
                return True
        return False

    return some


def compile_trigger(ast: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """A fast predicate giving Segment's ``validate(ast, event)`` verdict for each event."""
    _check_for_evaluation(ast, "")
    if ast.get("type") != "group":
        raise ConditionError(f"a trigger must be a group at the top; got {_describe(ast)}")
    compiled = _compile(ast)

    def matches(event: Mapping[str, Any]) -> bool:
        if not isinstance(event, Mapping):
            raise ConditionError(f"an event must be a JSON object; got {type(event).__name__}")
        return compiled(event)

    return matches


def validate(ast: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Segment's ``validate(ast, event)``: does the event satisfy the trigger?"""
    return compile_trigger(ast)(event)


def _leaves(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    if node.get("type") == "group":
        for child in node["children"]:
            yield from _leaves(child)
    else:
        yield node


def explain(ast: Mapping[str, Any], event: Mapping[str, Any]) -> list[LeafVerdict]:
    """Each leaf condition's FQL and whether ``event`` satisfies it, in document order."""
    _check_for_evaluation(ast, "")
    if not isinstance(event, Mapping):
        raise ConditionError(f"an event must be a JSON object; got {type(event).__name__}")
    return [LeafVerdict(_leaf_fql(leaf), _compile(leaf)(event)) for leaf in _leaves(ast)]


# --- stack-file YAML form ------------------------------------------------------------------------

YAML_FIELDS: Final[Mapping[str, str]] = {
    "event_type": "event-type",
    "event": "event",
    "name": "name",
    "user_id": "userId",
    "property": "event-property",
    "trait": "event-trait",
    "context": "event-context",
}
YAML_OPERATORS: Final[Mapping[str, str]] = {
    "is": "=",
    "is_not": "!=",
    "equals": "number_equals",
    "not_equals": "number_not_equals",
    "lt": "<",
    "lte": "<=",
    "gt": ">",
    "gte": ">=",
    "contains": "contains",
    "not_contains": "not_contains",
    "starts_with": "starts_with",
    "not_starts_with": "not_starts_with",
    "ends_with": "ends_with",
    "not_ends_with": "not_ends_with",
    "exists": "exists",
    "not_exists": "not_exists",
    "is_true": "is_true",
    "is_false": "is_false",
}
_AST_TO_YAML_FIELD: Final = {v: k for k, v in YAML_FIELDS.items()}
_AST_TO_YAML_OPERATOR: Final = {v: k for k, v in YAML_OPERATORS.items()}


def _yaml_operators_for(leaf_type: str) -> list[str]:
    if leaf_type == "event-type":
        return ["is", "is_not"]
    return [key for key, op in YAML_OPERATORS.items() if op in ALLOWED_OPERATORS[leaf_type]]


def _unknown(kind: str, got: Any, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(got), allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {kind} {got!r}{hint}; allowed: {', '.join(allowed)}"


def _yaml_leaf(field: str, body: Any, key: str) -> Ast:
    leaf_type = YAML_FIELDS[field]
    if not isinstance(body, Mapping):
        raise ConditionError(f"{key}: expected a mapping like {{is: ...}}; got {_describe(body)}")
    allowed = _yaml_operators_for(leaf_type)
    body = dict(body)
    leaf: Ast = {"type": leaf_type}
    if leaf_type in NAMED_TYPES:
        if "name" not in body:
            raise ConditionError(f"{key}: needs 'name' (the field path, e.g. plan or page.path)")
        leaf["name"] = body.pop("name")
        if not isinstance(leaf["name"], str):
            raise ConditionError(f"{key}.name: expected a string; got {_describe(leaf['name'])}")
    elif "name" in body:
        raise ConditionError(f"{key}: 'name' is only for property, trait and context conditions")
    if len(body) != 1:
        found = ", ".join(map(str, body)) or "none"
        raise ConditionError(
            f"{key}: expected exactly one operator; got {found}; allowed: {', '.join(allowed)}"
        )
    ((op_key, value),) = body.items()
    if op_key not in allowed:
        if op_key in YAML_OPERATORS:
            raise ConditionError(
                f"{key}: operator {op_key!r} is not available for {field} conditions; "
                f"allowed: {', '.join(allowed)}"
            )
        raise ConditionError(f"{key}: {_unknown('operator', op_key, allowed)}")
    operator = YAML_OPERATORS[op_key]
    where = f"{key}.{op_key}"
    leaf["operator"] = operator
    if operator in VALUELESS_OPERATORS:
        if value is not True:
            raise ConditionError(
                f"{where}: expected true; got {_describe(value)} (write the opposite operator "
                "instead of false)"
            )
        return leaf
    if operator in NUMERIC_OPERATORS:
        if not _is_number(value):
            hint = " (write is: for text)" if isinstance(value, str) else ""
            raise ConditionError(f"{where}: expected a number; got {_describe(value)}{hint}")
        problem = _numeric_problem(value)
        if problem:
            raise ConditionError(f"{where}: {problem}")
        number = _js_number_value(float(value))
        leaf["value"] = number if leaf_type in NAMED_TYPES else js_number_to_string(float(value))
        return leaf
    if not isinstance(value, str):
        hint = ""
        if isinstance(value, bool | int | float):
            text = js_to_string(value)
            if isinstance(value, bool) and "is_true" in allowed:
                hint = f"; for a boolean use is_{text}: true, for the text quote it: '{text}'"
            elif not isinstance(value, bool) and "equals" in allowed:
                hint = f"; for a number use equals: {text}, for the text quote it: '{text}'"
            else:
                hint = f"; {field} values are text: quote it, '{text}'"
        raise ConditionError(f"{where}: expected a string; got {_describe(value)}{hint}")
    if leaf_type == "event-type" and value not in EVENT_TYPES:
        raise ConditionError(f"{where}: {_unknown('event type', value, EVENT_TYPES)}")
    leaf["value"] = value
    return leaf


def _nested_text_problem(operator: str) -> str:
    return (
        f"{operator} cannot be used inside a nested group: it is written as contains()/match(), "
        "and Segment's parser ends the group at that call's ')' and flattens the rest; put this "
        "condition in the top-level group or use is/is_not"
    )


def _yaml_group(obj: Any, key: str, depth: int) -> Ast:
    if not isinstance(obj, Mapping) or len(obj) != 1 or next(iter(obj)) not in ("all", "any"):
        shown = f"keys {sorted(map(str, obj))}" if isinstance(obj, Mapping) else _describe(obj)
        raise ConditionError(
            f"{key}: expected a mapping with exactly one key, 'all' or 'any'; got {shown}"
        )
    ((word, items),) = obj.items()
    if not isinstance(items, list) or not items:
        raise ConditionError(f"{key}.{word}: expected a non-empty list of conditions")
    children: list[Ast] = []
    leaf_keys: list[str] = []
    for index, item in enumerate(items):
        item_key = f"{key}.{word}[{index}]"
        if isinstance(item, Mapping) and len(item) == 1 and next(iter(item)) in ("all", "any"):
            if depth >= 1:
                raise ConditionError(
                    f"{item_key}: Segment's parser reads only one level of nested groups"
                )
            children.append(_yaml_group(item, item_key, depth + 1))
            leaf_keys.append(item_key)
            continue
        if not isinstance(item, Mapping) or len(item) != 1:
            shown = (
                f"keys {sorted(map(str, item))}" if isinstance(item, Mapping) else _describe(item)
            )
            raise ConditionError(
                f"{item_key}: expected a mapping with one key naming the field "
                f"({', '.join(YAML_FIELDS)}) or a nested all/any; got {shown}"
            )
        ((field, body),) = item.items()
        if field not in YAML_FIELDS:
            raise ConditionError(
                f"{item_key}: {_unknown('field', field, [*YAML_FIELDS, 'all', 'any'])}"
            )
        leaf = _yaml_leaf(field, body, f"{item_key}.{field}")
        problem = _leaf_problem(leaf)
        if problem:
            raise ConditionError(f"{item_key}.{field}: {problem}")
        children.append(leaf)
        leaf_keys.append(f"{item_key}.{field}")
    if len(children) == 1:
        # Segment reads a lone condition as an "and" group and lifts a nested group of one.
        only = children[0]
        if depth > 0 or only["type"] == "group":
            return only
        return {"type": "group", "operator": "and", "children": [only]}
    if depth > 0:
        for child, child_key in zip(children, leaf_keys, strict=True):
            if child["operator"] in TEXT_OPERATORS:
                raise ConditionError(f"{child_key}: {_nested_text_problem(child['operator'])}")
    return {"type": "group", "operator": "and" if word == "all" else "or", "children": children}


def conditions_from_yaml(obj: Any, key: str) -> dict[str, Any]:
    """The stack-file form (``all:``/``any:`` lists) as Segment's AST; errors name ``key``."""
    ast = _yaml_group(obj, key, 0)
    try:
        generate_fql(ast)
    except ConditionError as exc:
        raise ConditionError(f"{key}: {exc}") from None
    return ast


def _leaf_to_yaml(leaf: Mapping[str, Any]) -> dict[str, Any]:
    leaf_type, operator = leaf["type"], leaf["operator"]
    if leaf_type == "event-type" and (
        operator not in ("=", "!=") or leaf["value"] not in EVENT_TYPES
    ):
        raise ConditionError(
            f"{_leaf_fql(leaf)!r} has no stack-file form: event_type takes is/is_not with one of "
            f"{', '.join(EVENT_TYPES)}"
        )
    body: dict[str, Any] = {}
    if leaf_type in NAMED_TYPES:
        body["name"] = leaf["name"]
    op_key = _AST_TO_YAML_OPERATOR[operator]
    if operator in VALUELESS_OPERATORS:
        body[op_key] = True
    elif operator in NUMERIC_OPERATORS:
        body[op_key] = _js_number_value(js_to_number(leaf["value"]))
    else:
        body[op_key] = leaf["value"]
    return {_AST_TO_YAML_FIELD[leaf_type]: body}


def _group_to_yaml(node: Mapping[str, Any]) -> dict[str, Any]:
    word = "all" if node["operator"] == "and" else "any"
    return {
        word: [
            _group_to_yaml(child) if child["type"] == "group" else _leaf_to_yaml(child)
            for child in node["children"]
        ]
    }


def conditions_to_yaml(ast: Mapping[str, Any]) -> Any:
    """The stack-file form of ``ast`` (the inverse of :func:`conditions_from_yaml`)."""
    generate_fql(ast)
    return _group_to_yaml(ast)
