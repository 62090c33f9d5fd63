"""Segment's validation of a mapping (``validate``, mapping-kit 3.170.0): every directive's
arguments checked before anything is deployed, each error naming the key path."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from components.mapping.kit import (
    DIRECTIVE_NAME,
    MAX_PATTERN_LENGTH,
    MAX_REPLACEMENT_LENGTH,
    SUPPORTED_DIRECTIVES,
    UNDEFINED,
    MappingError,
    article,
    real_type,
    type_or_directive,
)


class _Validator:
    """Collects Segment's validation errors with their key paths."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.errors: list[str] = []

    def error(self, stack: tuple[str, ...], message: str) -> None:
        path = self.key + "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in stack)
        self.errors.append(f"{path}: {message}")

    def any(self, value: Any, stack: tuple[str, ...]) -> None:
        kind = type_or_directive(value)
        if kind == "directive":
            self.directive(value, stack)
        elif kind == "object":
            self.object(value, stack)
        elif kind == "array":
            # Segment checks only that this is an array; we also check its items.
            for index, item in enumerate(value):
                self.any(item, (*stack, str(index)))
        elif kind not in ("boolean", "string", "number", "null"):
            self.error(stack, f"should be a JSON value but it is {article(kind)} {kind}")

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
            elif not DIRECTIVE_NAME.fullmatch(name):
                reason = f"{name!r} is not a valid directive name (pattern @[a-z][a-zA-Z0-9]+)"
            else:
                reason = f"has an invalid directive: {name}"
            self.error(stack, f"{reason}; supported: {', '.join(SUPPORTED_DIRECTIVES)}")
            return
        check(self, value[name], (*stack, name))

    def directive_or_raw(self, value: Any, stack: tuple[str, ...]) -> None:
        kind = type_or_directive(value)
        if kind == "directive":
            self.directive(value, stack)
        elif kind in ("object", "array"):
            self.any(value, stack)
        elif kind not in ("boolean", "string", "number", "null"):
            self.error(
                stack,
                f"should be a mapping directive or a JSON value but it is {article(kind)} {kind}",
            )

    def directive_or_string(self, value: Any, stack: tuple[str, ...]) -> None:
        kind = type_or_directive(value)
        if kind == "directive":
            self.directive(value, stack)
        elif kind != "string":
            self.error(
                stack,
                f"should be a string or a mapping directive but it is {article(kind)} {kind}",
            )

    def directive_or_object(self, value: Any, stack: tuple[str, ...]) -> None:
        kind = type_or_directive(value)
        if kind == "directive":
            self.directive(value, stack)
        elif kind == "object":
            self.object(value, stack)
        else:
            self.error(
                stack,
                f"should be a object or a mapping directive but it is {article(kind)} {kind}",
            )

    def string(self, value: Any, stack: tuple[str, ...]) -> bool:
        kind = type_or_directive(value)
        if kind != "string":
            self.error(stack, f"should be a string but it is {article(kind)} {kind}")
            return False
        return True

    def boolean(self, value: Any, stack: tuple[str, ...]) -> None:
        kind = type_or_directive(value)
        if kind != "boolean":
            self.error(stack, f"should be a boolean but it is {article(kind)} {kind}")

    def fields(
        self,
        value: Any,
        stack: tuple[str, ...],
        required: Mapping[str, Callable[[_Validator, Any, tuple[str, ...]], Any]],
        optional: Mapping[str, Callable[[_Validator, Any, tuple[str, ...]], Any]],
    ) -> None:
        kind = type_or_directive(value)
        if kind != "object":
            self.error(stack, f"should be an object but it is {article(kind)} {kind}")
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
    if real_type(value) != "array":
        kind = real_type(value)
        validator.error(stack, f"should be an array but it is {article(kind)} {kind}")
        return
    validator.directive_or_string(value[0] if value else UNDEFINED, stack)
    if len(value) > 1:
        validator.any(value[1], stack)


def _check_merge(validator: _Validator, value: Any, stack: tuple[str, ...]) -> None:
    def objects(validator: _Validator, items: Any, item_stack: tuple[str, ...]) -> None:
        if real_type(items) != "array":
            kind = real_type(items)
            validator.error(item_stack, f"should be an array but it is {article(kind)} {kind}")
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
