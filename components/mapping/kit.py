"""What rendering and validation of mapping-kit directives share: ``MappingError``, ``UNDEFINED``,
the directive names and JavaScript's notion of types, truthiness and member access."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from components.fql import js_number_to_string, js_to_number, js_to_string


class MappingError(ValueError):
    """A mapping that Segment would reject, or that this project does not support."""


class _Undefined:
    """JavaScript ``undefined``: removed from objects, ``null`` inside arrays."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Final = _Undefined()
SUPPORTED_DIRECTIVES: Final = (
    "@arrayPath",
    "@case",
    "@excludeWhenNull",
    "@flatten",
    "@if",
    "@json",
    "@literal",
    "@merge",
    "@path",
    "@replace",
    "@template",
    "@transform",
)
MAX_PATTERN_LENGTH: Final = 10
MAX_REPLACEMENT_LENGTH: Final = 10
DIRECTIVE_NAME = re.compile(r"@[a-z][a-zA-Z0-9]+")
ROOT_DIRECTIVE_KEY: Final = "__segment_internal_directive"
_ARRAY_SPLIT = re.compile(r"""\[(?=["'\d])|\.|(?<=["'\d])\]+""")
_REGEX_SPECIAL = re.compile(r"[-\[\]{}()*+?.,\\^$|#\s]")


# --- JavaScript value helpers -----------------------------------------------------------------


def real_type(value: Any) -> str:
    """actions-core ``realTypeOf`` (``Object.prototype.toString`` in lower case)."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__.lower()


def truthy(value: Any) -> bool:
    if value is UNDEFINED or value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def utf16_units(text: str) -> list[str]:
    data = text.encode("utf-16-le", "surrogatepass")
    return [data[i : i + 2].decode("utf-16-le", "surrogatepass") for i in range(0, len(data), 2)]


def _member(value: Any, key: str) -> Any:
    """``value && value[key]`` with undefined kept apart from null."""
    if not truthy(value):
        return value
    if isinstance(value, Mapping):
        return value.get(key, UNDEFINED)
    if isinstance(value, list | tuple | str):
        items: Any = utf16_units(value) if isinstance(value, str) else value
        if key == "length":
            return len(items)
        if re.fullmatch(r"0|[1-9][0-9]*", key) and int(key) < len(items):
            return items[int(key)]
    return UNDEFINED


def get_path(obj: Any, path: Any) -> Any:
    """actions-core ``get``: dotted/bracketed paths, ``""`` and ``"."`` for the whole object."""
    if path in ("", "."):
        return obj
    if path is None or path is UNDEFINED:
        return UNDEFINED
    keys = [part.replace("'", "").replace('"', "") for part in _ARRAY_SPLIT.split(path) if part]
    for key in keys:
        obj = _member(obj, key)
    return obj


def loosely_blank(value: Any) -> bool:
    """JavaScript ``value == ''`` for a value that is neither undefined nor null."""
    if isinstance(value, str):
        return value == ""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value == 0
    return js_to_string(value) == ""


def json_stringify(value: Any) -> Any:
    """``JSON.stringify(value)``; UNDEFINED when JavaScript returns undefined."""
    if value is UNDEFINED:
        return UNDEFINED
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        number = js_to_number(value)
        return js_number_to_string(number) if math.isfinite(number) else "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        parts = [json_stringify(item) for item in value]
        return "[" + ",".join("null" if part is UNDEFINED else part for part in parts) + "]"
    if isinstance(value, Mapping):
        members = [
            f"{json.dumps(str(key), ensure_ascii=False)}:{text}"
            for key, text in ((key, json_stringify(item)) for key, item in value.items())
            if text is not UNDEFINED
        ]
        return "{" + ",".join(members) + "}"
    return UNDEFINED


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def json_parse(text: str) -> Any:
    """``JSON.parse``: no NaN/Infinity, numbers as JavaScript doubles."""

    def number(literal: str) -> int | float:
        parsed = float(literal)
        if math.isfinite(parsed) and parsed.is_integer() and abs(parsed) < 1e21:
            return int(parsed)
        return parsed

    return json.loads(text, parse_constant=_reject_constant, parse_int=number, parse_float=number)


def js_replace(value: str, pattern: str, replacement: str, flags: str) -> str:
    """``value.replace(new RegExp(escaped pattern, flags), replacement)`` with ``$`` patterns."""
    regex = re.compile(
        _REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), pattern),
        re.IGNORECASE if "i" in flags else 0,
    )

    def expand(match: re.Match[str]) -> str:
        def one(token: re.Match[str]) -> str:
            code = token.group(0)
            return {
                "$$": "$",
                "$&": match.group(0),
                "$`": value[: match.start()],
                "$'": value[match.end() :],
            }.get(code, code)

        return re.sub(r"\$[$&`']", one, replacement)

    return regex.sub(expand, value, count=0 if "g" in flags else 1)


# --- validation (actions-core mapping-kit/validate.ts) ----------------------------------------


def article(kind: str) -> str:
    return "an" if kind[:1] in "aeiou" else "a"


def is_directive(value: Any) -> bool:
    if not isinstance(value, Mapping):
        return False
    keys = [str(key) for key in value]
    if not any(key.startswith("@") for key in keys):
        return False
    return all(key.startswith("@") or key == "_metadata" for key in keys)


def type_or_directive(value: Any) -> str:
    kind = real_type(value)
    if kind == "object" and any(str(key).startswith("@") for key in value):
        return "directive"
    return kind
