"""Segment mapping-kit directives: validate a mapping and render the body Pendula receives.

A faithful port of ``@segment/actions-core`` ``mapping-kit`` (``transform``/``validate``) for the
directives ``@path``, ``@template``, ``@literal``, ``@if``, ``@case``, ``@replace``, ``@arrayPath``,
``@json``, ``@flatten``, ``@merge``, ``@excludeWhenNull`` and ``@transform``, with JavaScript value
semantics (``undefined`` drops a key, ``null`` stays). ``@liquid`` and unknown directives are
rejected with a :class:`MappingError` naming the key path, never passed through.

:func:`render` gives what actions-core's ``transform({data: mapping}, event).data`` gives (``None``
when the mapping yields nothing); :func:`validate_mapping` applies Segment's validation rules and,
stricter than Segment, also checks directives inside arrays so mistakes fail at config load.
Known approximation: a path through a JavaScript built-in member (``$.properties.constructor``)
yields nothing here, where JavaScript would reach a function.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from components.fql import js_number_to_string, js_to_number, js_to_string

__all__ = ["SUPPORTED_DIRECTIVES", "MappingError", "render", "validate_mapping"]


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
_DIRECTIVE_NAME = re.compile(r"@[a-z][a-zA-Z0-9]+")
_ROOT_DIRECTIVE_KEY: Final = "__segment_internal_directive"
_ARRAY_SPLIT = re.compile(r"""\[(?=["'\d])|\.|(?<=["'\d])\]+""")
_REGEX_SPECIAL = re.compile(r"[-\[\]{}()*+?.,\\^$|#\s]")


# --- JavaScript value helpers -----------------------------------------------------------------


def _real_type(value: Any) -> str:
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


def _truthy(value: Any) -> bool:
    if value is UNDEFINED or value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def _utf16_units(text: str) -> list[str]:
    data = text.encode("utf-16-le", "surrogatepass")
    return [data[i : i + 2].decode("utf-16-le", "surrogatepass") for i in range(0, len(data), 2)]


def _member(value: Any, key: str) -> Any:
    """``value && value[key]`` with undefined kept apart from null."""
    if not _truthy(value):
        return value
    if isinstance(value, Mapping):
        return value.get(key, UNDEFINED)
    if isinstance(value, list | tuple | str):
        items: Any = _utf16_units(value) if isinstance(value, str) else value
        if key == "length":
            return len(items)
        if re.fullmatch(r"0|[1-9][0-9]*", key) and int(key) < len(items):
            return items[int(key)]
    return UNDEFINED


def _get(obj: Any, path: Any) -> Any:
    """actions-core ``get``: dotted/bracketed paths, ``""`` and ``"."`` for the whole object."""
    if path in ("", "."):
        return obj
    if path is None or path is UNDEFINED:
        return UNDEFINED
    keys = [part.replace("'", "").replace('"', "") for part in _ARRAY_SPLIT.split(path) if part]
    for key in keys:
        obj = _member(obj, key)
    return obj


def _loosely_blank(value: Any) -> bool:
    """JavaScript ``value == ''`` for a value that is neither undefined nor null."""
    if isinstance(value, str):
        return value == ""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value == 0
    return js_to_string(value) == ""


def _json_stringify(value: Any) -> Any:
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
        parts = [_json_stringify(item) for item in value]
        return "[" + ",".join("null" if part is UNDEFINED else part for part in parts) + "]"
    if isinstance(value, Mapping):
        members = [
            f"{json.dumps(str(key), ensure_ascii=False)}:{text}"
            for key, text in ((key, _json_stringify(item)) for key, item in value.items())
            if text is not UNDEFINED
        ]
        return "{" + ",".join(members) + "}"
    return UNDEFINED


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _json_parse(text: str) -> Any:
    """``JSON.parse``: no NaN/Infinity, numbers as JavaScript doubles."""

    def number(literal: str) -> int | float:
        parsed = float(literal)
        if math.isfinite(parsed) and parsed.is_integer() and abs(parsed) < 1e21:
            return int(parsed)
        return parsed

    return json.loads(text, parse_constant=_reject_constant, parse_int=number, parse_float=number)


def _js_replace(value: str, pattern: str, replacement: str, flags: str) -> str:
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


def _article(kind: str) -> str:
    return "an" if kind[:1] in "aeiou" else "a"


def _is_directive(value: Any) -> bool:
    if not isinstance(value, Mapping):
        return False
    keys = [str(key) for key in value]
    if not any(key.startswith("@") for key in keys):
        return False
    return all(key.startswith("@") or key == "_metadata" for key in keys)


def _type_or_directive(value: Any) -> str:
    kind = _real_type(value)
    if kind == "object" and any(str(key).startswith("@") for key in value):
        return "directive"
    return kind


class _Validator:
    """Collects Segment's validation errors with their key paths."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.errors: list[str] = []

    def error(self, stack: tuple[str, ...], message: str) -> None:
        path = self.key + "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in stack)
        self.errors.append(f"{path}: {message}")

    def any(self, value: Any, stack: tuple[str, ...]) -> None:
        kind = _type_or_directive(value)
        if kind == "directive":
            self.directive(value, stack)
        elif kind == "object":
            self.object(value, stack)
        elif kind == "array":
            # Segment checks only that this is an array; we also check its items.
            for index, item in enumerate(value):
                self.any(item, (*stack, str(index)))
        elif kind not in ("boolean", "string", "number", "null"):
            self.error(stack, f"should be a JSON value but it is {_article(kind)} {kind}")

    def object(self, value: Mapping[str, Any], stack: tuple[str, ...]) -> None:
        for key, item in value.items():
            if not isinstance(key, str):
                self.error(stack, f"keys must be strings; got {key!r}")
                continue
            self.any(item, (*stack, key))

    def directive(self, value: Mapping[str, Any], stack: tuple[str, ...]) -> None:
        keys = [str(key) for key in value]
        directive_keys = [key for key in keys if key.startswith("@")]
        if len(directive_keys) > 1:
            self.error(
                stack,
                f"should only have one @-prefixed key but it has {len(directive_keys)} keys "
                f"({', '.join(directive_keys)})",
            )
            return
        if any(not key.startswith("@") and key != "_metadata" for key in keys):
            self.error(
                stack,
                f"should only have one @-prefixed key but it has {len(keys)} keys "
                f"({', '.join(keys)}); a directive cannot be mixed with other keys",
            )
            return
        name = directive_keys[0]
        check = _DIRECTIVE_CHECKS.get(name)
        if check is None:
            if name == "@liquid":
                reason = "@liquid is not supported by this project (LiquidJS has no faithful port)"
            elif not _DIRECTIVE_NAME.fullmatch(name):
                reason = f"{name!r} is not a valid directive name (pattern @[a-z][a-zA-Z0-9]+)"
            else:
                reason = f"has an invalid directive: {name}"
            self.error(stack, f"{reason}; supported: {', '.join(SUPPORTED_DIRECTIVES)}")
            return
        check(self, value[name], (*stack, name))

    def directive_or_raw(self, value: Any, stack: tuple[str, ...]) -> None:
        kind = _type_or_directive(value)
        if kind == "directive":
            self.directive(value, stack)
        elif kind in ("object", "array"):
            self.any(value, stack)
        elif kind not in ("boolean", "string", "number", "null"):
            self.error(
                stack,
                f"should be a mapping directive or a JSON value but it is {_article(kind)} {kind}",
            )

    def directive_or_string(self, value: Any, stack: tuple[str, ...]) -> None:
        kind = _type_or_directive(value)
        if kind == "directive":
            self.directive(value, stack)
        elif kind != "string":
            self.error(
                stack,
                f"should be a string or a mapping directive but it is {_article(kind)} {kind}",
            )

    def directive_or_object(self, value: Any, stack: tuple[str, ...]) -> None:
        kind = _type_or_directive(value)
        if kind == "directive":
            self.directive(value, stack)
        elif kind == "object":
            self.object(value, stack)
        else:
            self.error(
                stack,
                f"should be a object or a mapping directive but it is {_article(kind)} {kind}",
            )

    def string(self, value: Any, stack: tuple[str, ...]) -> bool:
        kind = _type_or_directive(value)
        if kind != "string":
            self.error(stack, f"should be a string but it is {_article(kind)} {kind}")
            return False
        return True

    def boolean(self, value: Any, stack: tuple[str, ...]) -> None:
        kind = _type_or_directive(value)
        if kind != "boolean":
            self.error(stack, f"should be a boolean but it is {_article(kind)} {kind}")

    def fields(
        self,
        value: Any,
        stack: tuple[str, ...],
        required: Mapping[str, Callable[[_Validator, Any, tuple[str, ...]], Any]],
        optional: Mapping[str, Callable[[_Validator, Any, tuple[str, ...]], Any]],
    ) -> None:
        kind = _type_or_directive(value)
        if kind != "object":
            self.error(stack, f"should be an object but it is {_article(kind)} {kind}")
            return
        self.object(value, stack)
        for name, check in required.items():
            if name not in value:
                self.error(stack, f"should have field {json.dumps(name)} but it doesn't")
            else:
                check(self, value[name], (*stack, name))
        for name, check in optional.items():
            if name in value:
                check(self, value[name], (*stack, name))


def _one_of(*allowed: str) -> Callable[[_Validator, Any, tuple[str, ...]], None]:
    def check(validator: _Validator, value: Any, stack: tuple[str, ...]) -> None:
        if validator.string(value, stack) and value.lower() not in allowed:
            validator.error(
                stack, f"should be one of {', '.join(allowed)} but it is {json.dumps(value)}"
            )

    return check


def _string_length(low: int, high: int) -> Callable[[_Validator, Any, tuple[str, ...]], None]:
    def check(validator: _Validator, value: Any, stack: tuple[str, ...]) -> None:
        if not validator.string(value, stack):
            return
        if len(value) < low:
            validator.error(stack, f"should be a string of length {low} or greater")
        elif len(value) > high:
            validator.error(stack, f"should be a string of length {high} or less")

    return check


def _check_array_path(validator: _Validator, value: Any, stack: tuple[str, ...]) -> None:
    if _real_type(value) != "array":
        kind = _real_type(value)
        validator.error(stack, f"should be an array but it is {_article(kind)} {kind}")
        return
    validator.directive_or_string(value[0] if value else UNDEFINED, stack)
    if len(value) > 1:
        validator.any(value[1], stack)


def _check_merge(validator: _Validator, value: Any, stack: tuple[str, ...]) -> None:
    def objects(validator: _Validator, items: Any, item_stack: tuple[str, ...]) -> None:
        if _real_type(items) != "array":
            kind = _real_type(items)
            validator.error(item_stack, f"should be an array but it is {_article(kind)} {kind}")
            return
        for index, item in enumerate(items):
            validator.directive_or_object(item, (*item_stack, str(index)))

    validator.fields(
        value,
        stack,
        {"objects": objects},
        {"direction": _one_of("left", "right")},
    )


_DIRECTIVE_CHECKS: Final[Mapping[str, Callable[[_Validator, Any, tuple[str, ...]], None]]] = {
    "@if": lambda v, value, stack: v.fields(
        value,
        stack,
        {},
        {
            "exists": _Validator.directive_or_raw,
            "blank": _Validator.directive_or_raw,
            "then": _Validator.directive_or_raw,
            "else": _Validator.directive_or_raw,
        },
    ),
    "@case": lambda v, value, stack: v.fields(
        value,
        stack,
        {},
        {"operator": _Validator.string, "value": _Validator.directive_or_string},
    ),
    "@replace": lambda v, value, stack: v.fields(
        value,
        stack,
        {
            "pattern": _string_length(1, MAX_PATTERN_LENGTH),
            "value": _Validator.directive_or_string,
        },
        {
            "replacement": _string_length(0, MAX_REPLACEMENT_LENGTH),
            "pattern2": _string_length(1, MAX_PATTERN_LENGTH),
            "replacement2": _string_length(0, MAX_REPLACEMENT_LENGTH),
            "ignorecase": _Validator.boolean,
            "global": _Validator.boolean,
        },
    ),
    "@arrayPath": _check_array_path,
    "@path": _Validator.directive_or_string,
    "@template": _Validator.directive_or_string,
    "@literal": _Validator.directive_or_raw,
    "@json": lambda v, value, stack: v.fields(
        value,
        stack,
        {"value": _Validator.directive_or_raw, "mode": _one_of("encode", "decode")},
        {},
    ),
    "@flatten": lambda v, value, stack: v.fields(
        value,
        stack,
        {"value": _Validator.directive_or_raw},
        {"separator": _Validator.string, "omitArrays": _Validator.boolean},
    ),
    "@merge": _check_merge,
    "@transform": lambda v, value, stack: v.fields(
        value,
        stack,
        {"apply": _Validator.directive_or_object, "mapping": _Validator.directive_or_object},
        {},
    ),
    "@excludeWhenNull": _Validator.directive_or_raw,
}


def validate_mapping(mapping: Any, key: str) -> None:
    """Raise MappingError (naming the key path) unless Segment accepts ``mapping``."""
    validator = _Validator(key)
    validator.any(mapping, ())
    if validator.errors:
        # Segment reports a field both generically and by its directive rule; say it once.
        raise MappingError("; ".join(dict.fromkeys(validator.errors)))


# --- rendering (actions-core mapping-kit/index.ts) ---------------------------------------------


class _Renderer:
    """Resolves directives against one payload; ``where`` names the key path in errors."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, message: str) -> MappingError:
        return MappingError(f"{self.where}: {message}")

    def resolve(self, mapping: Any, payload: Any) -> Any:
        if isinstance(mapping, list | tuple):
            return [self.resolve(item, payload) for item in mapping]
        if not isinstance(mapping, Mapping):
            return mapping
        if _is_directive(mapping):
            name = next(str(key) for key in mapping if str(key).startswith("@"))
            handler = _DIRECTIVES.get(name)
            if handler is None:
                raise self.fail(f"{name} is not a supported directive")
            return handler(self, mapping[name], payload)
        return {key: self.resolve(value, payload) for key, value in mapping.items()}

    def string_arg(self, name: str, value: Any, payload: Any) -> str:
        resolved = self.resolve(value, payload)
        if not isinstance(resolved, str):
            raise self.fail(f"{name}: expected string, got {_real_type(resolved)}")
        return resolved

    def options(self, name: str, opts: Any, message: str) -> Mapping[str, Any]:
        if _real_type(opts) != "object":
            raise self.fail(f"{name} requires an object with {message}")
        return dict(opts)

    def directive_if(self, opts: Any, payload: Any) -> Any:
        opts = self.options("@if", opts, 'an "exists" key')
        exists, blank = opts.get("exists", UNDEFINED), opts.get("blank", UNDEFINED)
        if not _truthy(exists) and not _truthy(blank):
            raise self.fail('@if requires an "exists" key or a "blank" key')
        if exists is not UNDEFINED:
            value = self.resolve(exists, payload)
            condition = value is not UNDEFINED and value is not None
        else:
            value = self.resolve(blank, payload)
            condition = value is not UNDEFINED and value is not None and not _loosely_blank(value)
        then, otherwise = opts.get("then", UNDEFINED), opts.get("else", UNDEFINED)
        if condition and then is not UNDEFINED:
            return self.resolve(then, payload)
        if not condition and _truthy(otherwise):
            return self.resolve(otherwise, payload)
        return UNDEFINED

    def directive_case(self, opts: Any, payload: Any) -> Any:
        opts = self.options("@case", opts, 'a "operator" key')
        if not _truthy(opts.get("operator", UNDEFINED)):
            raise self.fail('@case requires a "operator" key')
        if not _truthy(opts.get("value", UNDEFINED)):
            return UNDEFINED
        value = self.resolve(opts["value"], payload)
        if not isinstance(value, str):
            return value
        if opts["operator"] == "lower":
            return value.lower()
        if opts["operator"] == "upper":
            return value.upper()
        raise self.fail('operator key should have a value of "lower" or "upper"')

    def directive_replace(self, opts: Any, payload: Any) -> Any:
        opts = dict(self.options("@replace", opts, 'a "pattern" key'))
        if not _truthy(opts.get("pattern", UNDEFINED)):
            raise self.fail('@replace requires a "pattern" key')
        for name, default in (("replacement", ""), ("ignorecase", False), ("global", True)):
            if opts.get(name) is None:
                opts[name] = default
        if _truthy(opts.get("pattern2", UNDEFINED)) and opts.get("replacement2") is None:
            opts["replacement2"] = ""
        if not _truthy(opts.get("value", UNDEFINED)):
            return UNDEFINED
        value = self.resolve(opts["value"], payload)
        if isinstance(value, bool | int | float):
            value = js_to_string(value)
        pattern, replacement = opts["pattern"], opts["replacement"]
        ignorecase, is_global = opts["ignorecase"], opts["global"]
        if not (
            isinstance(value, str)
            and isinstance(pattern, str)
            and isinstance(replacement, str)
            and isinstance(ignorecase, bool)
            and isinstance(is_global, bool)
        ):
            return ""
        flags = ("g" if is_global else "") + ("i" if ignorecase else "")
        result = self.replace(value, pattern, replacement, flags)
        pattern2, replacement2 = opts.get("pattern2", UNDEFINED), opts.get("replacement2")
        if _truthy(pattern2) and isinstance(pattern2, str) and isinstance(replacement2, str):
            result = self.replace(result, pattern2, replacement2, flags)
        return result

    def replace(self, value: str, pattern: str, replacement: str, flags: str) -> str:
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise self.fail(
                f'@replace requires a "pattern" less than {MAX_PATTERN_LENGTH} characters'
            )
        if len(replacement) > MAX_REPLACEMENT_LENGTH:
            raise self.fail(
                f'@replace requires a "replacement" less than {MAX_REPLACEMENT_LENGTH} characters'
            )
        return _js_replace(value, pattern, replacement, flags)

    def directive_array_path(self, data: Any, payload: Any) -> Any:
        if _real_type(data) != "array":
            raise self.fail(f"@arrayPath expected array, got {_real_type(data)}")
        path = data[0] if data else UNDEFINED
        shape = data[1] if len(data) > 1 else UNDEFINED
        if isinstance(path, str):
            root = _get(payload, path.replace("$.", "", 1))
        else:
            root = self.resolve(path, payload)
        if _real_type(root) in ("object", "array") and _real_type(shape) == "object" and shape:
            items = root if isinstance(root, list | tuple) else [root]
            return [self.resolve(shape, item) for item in items]
        return root

    def directive_path(self, value: Any, payload: Any) -> Any:
        return _get(payload, self.string_arg("@path", value, payload).replace("$.", "", 1))

    def directive_template(self, value: Any, payload: Any) -> Any:
        template = self.string_arg("@template", value, payload)

        def replacer(width: int) -> Callable[[re.Match[str]], str]:
            def substitute(match: re.Match[str]) -> str:
                found = _get(payload, match.group(0)[width:-width].strip(_JS_TRIM))
                return "" if found is UNDEFINED or found is None else js_to_string(found)

            return substitute

        template = re.sub(r"\{\{\{([^}]+)\}\}\}", replacer(3), template)
        return re.sub(r"\{\{([^}]+)\}\}", replacer(2), template)

    def directive_literal(self, value: Any, payload: Any) -> Any:
        return self.resolve(value, payload)

    def directive_flatten(self, opts: Any, payload: Any) -> Any:
        opts = self.options("@flatten", opts, 'a "separator" key')
        if not _truthy(opts.get("separator", UNDEFINED)):
            raise self.fail('@flatten requires a "separator" key')
        separator = self.resolve(opts["separator"], payload)
        if not isinstance(separator, str):
            raise self.fail("@flatten requires a string separator")
        value = self.resolve(opts.get("value", UNDEFINED), payload)
        return _flatten(value, "", separator, _truthy(opts.get("omitArrays", UNDEFINED)))

    def directive_json(self, opts: Any, payload: Any) -> Any:
        opts = self.options("@json", opts, 'a "value" key')
        if not _truthy(opts.get("mode", UNDEFINED)):
            raise self.fail('@json requires a "mode" key')
        if not _truthy(opts.get("value", UNDEFINED)):
            raise self.fail('@json requires a "value" key')
        value = self.resolve(opts["value"], payload)
        if opts["mode"] == "encode":
            return _json_stringify(value)
        if opts["mode"] == "decode":
            if isinstance(value, str):
                try:
                    return _json_parse(value)
                except ValueError:
                    return value
            return value
        return UNDEFINED

    def directive_merge(self, opts: Any, payload: Any) -> Any:
        opts = self.options("@merge", opts, 'an "objects" key and a "direction" key')
        if not _truthy(opts.get("direction", UNDEFINED)):
            raise self.fail('@merge requires a "direction" key')
        direction = self.resolve(opts["direction"], payload)
        if not _truthy(opts.get("objects", UNDEFINED)):
            raise self.fail('@merge requires a "objects" key')
        if not isinstance(opts["objects"], list | tuple):
            kind = "string" if isinstance(opts["objects"], str) else _real_type(opts["objects"])
            kind = "object" if kind in ("null", "object") else kind
            raise self.fail(f"@merge: expected opts.array, got {kind}")
        objects = [self.resolve(item, payload) for item in opts["objects"]]
        if direction == "left":
            objects.reverse()
        merged: dict[str, Any] = {}
        for item in objects:
            if isinstance(item, Mapping):
                merged.update(item)
            elif isinstance(item, list | tuple | str):
                units = _utf16_units(item) if isinstance(item, str) else item
                merged.update({str(index): part for index, part in enumerate(units)})
        return merged

    def directive_transform(self, opts: Any, payload: Any) -> Any:
        opts = self.options("@transform", opts, 'an "apply" key and a "mapping" key')
        if not _truthy(opts.get("mapping", UNDEFINED)):
            raise self.fail('@transform requires a "mapping" key')
        if not _truthy(opts.get("apply", UNDEFINED)):
            raise self.fail('@transform requires a "apply" key')
        if _real_type(opts["apply"]) != "object":
            raise self.fail('@transform "apply" key should be an object')
        new_payload = _transform(opts["apply"], payload, self.where)
        return self.resolve(opts["mapping"], new_payload)

    def directive_exclude_when_null(self, value: Any, payload: Any) -> Any:
        resolved = self.resolve(value, payload)
        if resolved is None:
            return UNDEFINED
        return _clean_nulls(resolved)


_JS_TRIM: Final = "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
_DIRECTIVES: Final[Mapping[str, Callable[[_Renderer, Any, Any], Any]]] = {
    "@if": _Renderer.directive_if,
    "@case": _Renderer.directive_case,
    "@replace": _Renderer.directive_replace,
    "@arrayPath": _Renderer.directive_array_path,
    "@path": _Renderer.directive_path,
    "@template": _Renderer.directive_template,
    "@literal": _Renderer.directive_literal,
    "@flatten": _Renderer.directive_flatten,
    "@json": _Renderer.directive_json,
    "@merge": _Renderer.directive_merge,
    "@transform": _Renderer.directive_transform,
    "@excludeWhenNull": _Renderer.directive_exclude_when_null,
}


def _flatten(value: Any, prefix: str, separator: str, omit_arrays: bool) -> dict[str, Any]:
    if isinstance(value, Mapping) or (not omit_arrays and isinstance(value, list | tuple)):
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        flat: dict[str, Any] = {}
        for key, item in items:
            child_key = f"{prefix}{separator}{key}" if prefix else str(key)
            flat.update(_flatten(item, child_key, separator, omit_arrays))
        return flat
    return {prefix: value}


def _clean_nulls(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {
        key: UNDEFINED
        if item is None
        else _clean_nulls(item)
        if isinstance(item, Mapping)
        else item
        for key, item in value.items()
    }


def _remove_undefined(value: Any) -> Any:
    """actions-core ``removeUndefined``, then JSON's view (undefined array items become null)."""
    if isinstance(value, list | tuple):
        return [None if item is UNDEFINED else _remove_undefined(item) for item in value]
    if isinstance(value, Mapping):
        return {
            key: _remove_undefined(item) for key, item in value.items() if item is not UNDEFINED
        }
    return value


def _transform(mapping: Any, payload: Any, where: str) -> Any:
    if _real_type(payload) != "object":
        raise MappingError(f"{where}: data must be an object, got {_real_type(payload)}")
    if isinstance(mapping, Mapping) and _ROOT_DIRECTIVE_KEY in mapping:
        raise MappingError(f"{where}: the root-level directive key is not supported")
    validate_mapping(mapping, where)
    return _remove_undefined(_Renderer(where).resolve(mapping, payload))


def render(mapping: Any, event: Mapping[str, Any]) -> Any:
    """The body Segment sends for ``mapping`` (the Send action's ``data``) and ``event``.

    Equals actions-core's ``transform({data: mapping}, event).data``; None when it yields nothing.
    """
    if _real_type(event) != "object":
        raise MappingError(f"data: the event must be an object, got {_real_type(event)}")
    validate_mapping(mapping, "data")
    resolved = _remove_undefined(_Renderer("data").resolve(mapping, event))
    return None if resolved is UNDEFINED else resolved
