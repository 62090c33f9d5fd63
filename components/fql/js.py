"""JavaScript value semantics: Segment evaluates in JavaScript; these helpers reproduce the
conversions its code relies on (``String(x)``, ``Number(x)``, ``x && x[key]``, UTF-16 strings).

In *actual* event values None stands for both undefined and null: validate never separates them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final


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
OBJECT_MEMBERS: Final = frozenset(
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
_ARRAY_MEMBERS: Final = OBJECT_MEMBERS | frozenset(
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
_STRING_MEMBERS: Final = OBJECT_MEMBERS | frozenset(
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
_NUMBER_MEMBERS: Final = OBJECT_MEMBERS | frozenset(["toExponential", "toFixed", "toPrecision"])
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
_JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
_JS_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_JS_RADIX = re.compile(r"0([xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
MAX_SAFE_INTEGER: Final = 2**53 - 1


def utf16_units(text: str) -> list[str]:
    """The string as JavaScript sees it: one item per UTF-16 code unit."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [chr(int.from_bytes(data[i : i + 2], "little")) for i in range(0, len(data), 2)]


def from_utf16_units(units: str) -> str:
    """Join UTF-16 code units back into a Python string (pairs become one code point)."""
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def utf16_length(text: str) -> int:
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
        return JS_BUILTIN if key in OBJECT_MEMBERS else None
    if isinstance(value, str):
        units = utf16_units(value)
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


def int_to_double(value: int) -> float:
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
        return int_to_double(value)
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
            return int_to_double(int(radix.group(1)[1:], base))
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
        return js_number_to_string(int_to_double(value))
    if isinstance(value, float):
        return js_number_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ",".join("" if item is None else js_to_string(item) for item in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)


def js_number_value(number: float) -> int | float:
    """The Python value JSON decoding gives for a JavaScript number (``5`` not ``5.0``)."""
    if math.isfinite(number) and number.is_integer() and abs(number) < 1e21:
        return int(number)
    return number
