"""How the engine turns a stack-file value into the text it hands the program.

Pulumi stores each config key as a string plus two flags (``secure``, ``object``): a scalar as
its text (numbers and booleans in Go's JSON form, a date as Go's ``time.Time.String()``), a list
or an object as Go's JSON; the program decodes that text (``decode_config_text``). These are
the measured rules (docs/configuration.md "How a stack file is read"), used by
``components.config.stack_config``; the type checks mirror Pulumi's ``ValidateConfigValue``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.config.engine_yaml import INT64_MAX, Timestamp, go_json_float


class StackConfigError(ValueError):
    """The stack's configuration cannot be read; the message names the file and the key."""


@dataclass(frozen=True)
class EngineValue:
    """One config key as the engine resolves it."""

    text: str | None = field(repr=False)
    """The string the program receives (objects as JSON); None for a ``secure:`` value."""
    secret: bool
    """``secure:`` (for an object: at least one leaf is)."""
    is_object: bool
    value: Any = field(repr=False)
    """What the program decodes: ``decode_config_text(text)`` for a scalar, the structure for
    an object; ``secure:`` values and leaves stay ``{"secure": <ciphertext>}``."""
    origin: str = "stack"
    """``stack``, ``Pulumi.yaml value`` or ``Pulumi.yaml default``."""


def decode_config_text(text: str) -> Any:
    """How the program reads a config string: JSON when it parses as JSON, else the text.

    Pulumi hands every value over as a string (objects and lists as JSON), and the Python SDK
    cannot tell ``"15"`` from ``15``: both arrive as the text ``15``.
    """
    try:
        return json.loads(text)
    except ValueError:  # also Python's limit on digits in an int
        return text


def is_secure(value: Any) -> bool:
    """``{secure: <ciphertext>}``, as Pulumi recognises a secure value."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def stack_value(value: Any) -> EngineValue:
    """A stack-file value as ``config.Value`` holds it (``object.MarshalString``)."""
    if is_secure(value):
        return EngineValue(None, True, False, value)
    if value is None:
        # `key:` with no value: the engine warns and hands over the empty string.
        return EngineValue("", False, False, "")
    if isinstance(value, dict | list):
        structure = json_view(value)
        return EngineValue(json_text(structure), any_secure(structure), True, structure)
    text = _scalar_text(value)
    return EngineValue(text, False, False, decode_config_text(text))


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, Timestamp):
        return value.go_string()
    return str(value)


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        # The engine cannot store it (Go's JSON has no NaN/Infinity) and refuses the stack; it
        # is kept here as Python's JSON spells it, so the meaning pass reports it with its key
        # path (``validators.non_finite_problem``) like a NaN from anywhere else.
        return json.dumps(value)
    return go_json_float(value)


def json_view(value: Any, *, project: bool = False) -> Any:
    """What the program gets from the JSON text of an object value (numbers as Go writes them;
    a date as ``time.Time.String()`` from a stack file, as RFC 3339 from Pulumi.yaml)."""
    if isinstance(value, dict):
        if is_secure(value):
            return value
        return {k: json_view(v, project=project) for k, v in value.items()}
    if isinstance(value, list):
        return [json_view(v, project=project) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and value > INT64_MAX:
        # Inside an object a uint64 comes back from the engine's JSON (json.Number: not an
        # int64, so a float64): measured 9223372036854775808 -> 9223372036854776000.
        value = float(value)
    if isinstance(value, float):
        return decode_config_text(_float_text(value))
    if isinstance(value, Timestamp):
        return value.rfc3339() if project else value.go_string()
    return value


def any_secure(value: Any) -> bool:
    if is_secure(value):
        return True
    if isinstance(value, dict):
        return any(any_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(any_secure(v) for v in value)
    return False


_GO_HTML_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def json_text(value: Any) -> str:
    """Go's ``json.Marshal`` of the value: sorted keys, compact, Go's numbers and escapes."""
    if isinstance(value, dict):
        items = (f"{json_text(k)}:{json_text(v)}" for k, v in sorted(value.items()))
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    if isinstance(value, float):
        return _float_text(value)
    text = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        for character, escape in _GO_HTML_ESCAPES.items():
            text = text.replace(character, escape)
    return text


def declared_problem(
    key: str, spec: Mapping[str, Any], config: Mapping[str, EngineValue]
) -> str | None:
    """What the engine says of a stack value against the type Pulumi.yaml declares for it
    (``validateStackConfigValue``: it refuses the stack at preview and up), or None."""
    entry = config.get(key)
    if entry is None:
        return None
    if spec.get("secret") is True and not entry.secret:
        return f"{key}: must be a secure value (Pulumi.yaml declares it secret)"
    type_name = spec.get("type")
    if type_name is None or entry.secret:
        return None  # a secure value cannot be decrypted here to check its type
    content = entry.value if entry.is_object else entry.text
    items = spec.get("items")
    if _matches(str(type_name), items, content):
        return None
    shown = _type_label(str(type_name), items)
    return (
        f"{key}: must be of type '{shown}' (Pulumi.yaml declares it; the engine refuses the "
        f"stack otherwise), not {entry.text!r}"
    )


def _matches(type_name: str, items: Any, value: Any) -> bool:
    """Pulumi's ``ValidateConfigValue`` (numbers inside objects arrive as JSON numbers)."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return True
        if not isinstance(value, str) or re.fullmatch(r"[+-]?[0-9]+", value) is None:
            return False
        return -(2**63) <= int(value) < 2**63  # Go's strconv.Atoi
    if type_name == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_name == "object":
        return isinstance(value, dict)
    if type_name != "array" or not isinstance(value, list) or not isinstance(items, dict):
        return False
    return all(_matches(str(items.get("type")), items.get("items"), item) for item in value)


def _type_label(type_name: str, items: Any) -> str:
    if type_name == "array" and isinstance(items, dict):
        return f"array<{_type_label(str(items.get('type')), items.get('items'))}>"
    return type_name


def project_value(value: Any, origin: str, where: str) -> EngineValue:
    """A Pulumi.yaml value as ``createConfigValue`` makes it: ``%v`` of a string, int or bool,
    JSON of anything else (so a float or a date there arrives as JSON)."""
    if isinstance(value, str | bool) or (isinstance(value, int) and -(2**63) <= value < 2**63):
        text = _scalar_text(value)
        return EngineValue(text, False, False, decode_config_text(text), origin)
    if isinstance(value, Timestamp):
        # Measured: the CLI fails on such a project ("invalid character '-' after top-level
        # value"), so it is refused here by name.
        raise StackConfigError(
            f"{where}: the date {value.rfc3339()} breaks the engine as a Pulumi.yaml value; "
            "quote it"
        )
    structure = json_view(value, project=True)
    return EngineValue(json_text(structure), any_secure(structure), True, structure, origin)
