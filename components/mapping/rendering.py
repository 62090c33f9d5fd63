"""Segment's ``transform`` (mapping-kit 3.170.0): the body Pendula receives for one event."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from components.fql import js_to_string
from components.mapping.kit import (
    MAX_PATTERN_LENGTH,
    MAX_REPLACEMENT_LENGTH,
    ROOT_DIRECTIVE_KEY,
    UNDEFINED,
    MappingError,
    get_path,
    is_directive,
    js_replace,
    json_parse,
    json_stringify,
    loosely_blank,
    real_type,
    truthy,
    utf16_units,
)
from components.mapping.validation import validate_mapping

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
        if is_directive(mapping):
            name = next(str(key) for key in mapping if str(key).startswith("@"))
            handler = _DIRECTIVES.get(name)
            if handler is None:
                raise self.fail(f"{name} is not a supported directive")
            return handler(self, mapping[name], payload)
        return {key: self.resolve(value, payload) for key, value in mapping.items()}

    def string_arg(self, name: str, value: Any, payload: Any) -> str:
        resolved = self.resolve(value, payload)
        if not isinstance(resolved, str):
            raise self.fail(f"{name}: expected string, got {real_type(resolved)}")
        return resolved

    def options(self, name: str, opts: Any, message: str) -> Mapping[str, Any]:
        if real_type(opts) != "object":
            raise self.fail(f"{name} requires an object with {message}")
        return dict(opts)

    def directive_if(self, opts: Any, payload: Any) -> Any:
        opts = self.options("@if", opts, 'an "exists" key')
        exists, blank = opts.get("exists", UNDEFINED), opts.get("blank", UNDEFINED)
        if not truthy(exists) and not truthy(blank):
            raise self.fail('@if requires an "exists" key or a "blank" key')
        if exists is not UNDEFINED:
            value = self.resolve(exists, payload)
            condition = value is not UNDEFINED and value is not None
        else:
            value = self.resolve(blank, payload)
            condition = value is not UNDEFINED and value is not None and not loosely_blank(value)
        then, otherwise = opts.get("then", UNDEFINED), opts.get("else", UNDEFINED)
        if condition and then is not UNDEFINED:
            return self.resolve(then, payload)
        if not condition and truthy(otherwise):
            return self.resolve(otherwise, payload)
        return UNDEFINED

    def directive_case(self, opts: Any, payload: Any) -> Any:
        opts = self.options("@case", opts, 'a "operator" key')
        if not truthy(opts.get("operator", UNDEFINED)):
            raise self.fail('@case requires a "operator" key')
        if not truthy(opts.get("value", UNDEFINED)):
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
        if not truthy(opts.get("pattern", UNDEFINED)):
            raise self.fail('@replace requires a "pattern" key')
        for name, default in (("replacement", ""), ("ignorecase", False), ("global", True)):
            if opts.get(name) is None:
                opts[name] = default
        if truthy(opts.get("pattern2", UNDEFINED)) and opts.get("replacement2") is None:
            opts["replacement2"] = ""
        if not truthy(opts.get("value", UNDEFINED)):
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
        if truthy(pattern2) and isinstance(pattern2, str) and isinstance(replacement2, str):
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
        return js_replace(value, pattern, replacement, flags)

    def directive_array_path(self, data: Any, payload: Any) -> Any:
        if real_type(data) != "array":
            raise self.fail(f"@arrayPath expected array, got {real_type(data)}")
        path = data[0] if data else UNDEFINED
        shape = data[1] if len(data) > 1 else UNDEFINED
        if isinstance(path, str):
            root = get_path(payload, path.replace("$.", "", 1))
        else:
            root = self.resolve(path, payload)
        if real_type(root) in ("object", "array") and real_type(shape) == "object" and shape:
            items = root if isinstance(root, list | tuple) else [root]
            return [self.resolve(shape, item) for item in items]
        return root

    def directive_path(self, value: Any, payload: Any) -> Any:
        return get_path(payload, self.string_arg("@path", value, payload).replace("$.", "", 1))

    def directive_template(self, value: Any, payload: Any) -> Any:
        template = self.string_arg("@template", value, payload)

        def replacer(width: int) -> Callable[[re.Match[str]], str]:
            def substitute(match: re.Match[str]) -> str:
                found = get_path(payload, match.group(0)[width:-width].strip(_JS_TRIM))
                return "" if found is UNDEFINED or found is None else js_to_string(found)

            return substitute

        template = re.sub(r"\{\{\{([^}]+)\}\}\}", replacer(3), template)
        return re.sub(r"\{\{([^}]+)\}\}", replacer(2), template)

    def directive_literal(self, value: Any, payload: Any) -> Any:
        return self.resolve(value, payload)

    def directive_flatten(self, opts: Any, payload: Any) -> Any:
        opts = self.options("@flatten", opts, 'a "separator" key')
        if not truthy(opts.get("separator", UNDEFINED)):
            raise self.fail('@flatten requires a "separator" key')
        separator = self.resolve(opts["separator"], payload)
        if not isinstance(separator, str):
            raise self.fail("@flatten requires a string separator")
        value = self.resolve(opts.get("value", UNDEFINED), payload)
        return _flatten(value, "", separator, truthy(opts.get("omitArrays", UNDEFINED)))

    def directive_json(self, opts: Any, payload: Any) -> Any:
        opts = self.options("@json", opts, 'a "value" key')
        if not truthy(opts.get("mode", UNDEFINED)):
            raise self.fail('@json requires a "mode" key')
        if not truthy(opts.get("value", UNDEFINED)):
            raise self.fail('@json requires a "value" key')
        value = self.resolve(opts["value"], payload)
        if opts["mode"] == "encode":
            return json_stringify(value)
        if opts["mode"] == "decode":
            if isinstance(value, str):
                try:
                    return json_parse(value)
                except ValueError:
                    return value
            return value
        return UNDEFINED

    def directive_merge(self, opts: Any, payload: Any) -> Any:
        opts = self.options("@merge", opts, 'an "objects" key and a "direction" key')
        if not truthy(opts.get("direction", UNDEFINED)):
            raise self.fail('@merge requires a "direction" key')
        direction = self.resolve(opts["direction"], payload)
        if not truthy(opts.get("objects", UNDEFINED)):
            raise self.fail('@merge requires a "objects" key')
        if not isinstance(opts["objects"], list | tuple):
            kind = "string" if isinstance(opts["objects"], str) else real_type(opts["objects"])
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
                units = utf16_units(item) if isinstance(item, str) else item
                merged.update({str(index): part for index, part in enumerate(units)})
        return merged

    def directive_transform(self, opts: Any, payload: Any) -> Any:
        opts = self.options("@transform", opts, 'an "apply" key and a "mapping" key')
        if not truthy(opts.get("mapping", UNDEFINED)):
            raise self.fail('@transform requires a "mapping" key')
        if not truthy(opts.get("apply", UNDEFINED)):
            raise self.fail('@transform requires a "apply" key')
        if real_type(opts["apply"]) != "object":
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
    if real_type(payload) != "object":
        raise MappingError(f"{where}: data must be an object, got {real_type(payload)}")
    if isinstance(mapping, Mapping) and ROOT_DIRECTIVE_KEY in mapping:
        raise MappingError(f"{where}: the root-level directive key is not supported")
    validate_mapping(mapping, where)
    return _remove_undefined(_Renderer(where).resolve(mapping, payload))


def render(mapping: Any, event: Mapping[str, Any]) -> Any:
    """The body Segment sends for ``mapping`` (the Send action's ``data``) and ``event``.

    Equals actions-core's ``transform({data: mapping}, event).data``; None when it yields nothing.
    """
    if real_type(event) != "object":
        raise MappingError(f"data: the event must be an object, got {real_type(event)}")
    validate_mapping(mapping, "data")
    resolved = _remove_undefined(_Renderer("data").resolve(mapping, event))
    return None if resolved is UNDEFINED else resolved
