"""YAML read the way the Pulumi engine reads it: Go's ``gopkg.in/yaml.v3``, as Pulumi uses it.

PyYAML implements YAML 1.1 (``on``/``yes`` are booleans, ``2:30`` is 150, ``0o17`` a string,
``1e3`` a string, dates become ``datetime`` or raise), the engine reads YAML 1.2 with yaml.v3's
rules. Reading a stack file with PyYAML's defaults therefore reviews a different configuration
from the one ``pulumi up`` deploys. This module keeps PyYAML's *scanner* (with the limits of
``components.guards.files``: aliases, depth, size) and replaces its resolution of plain scalars with
yaml.v3's (``resolve.go``), measured against the real CLI (docs/configuration.md):

- null: empty, ``~``, ``null``, ``Null``, ``NULL``; booleans only ``true``/``True``/``TRUE``
  and ``false``/``False``/``FALSE`` (``on``, ``yes``, ``y`` stay strings);
- integers as Go's ``strconv.ParseInt(s, 0, 64)`` reads them after removing ``_``: decimal,
  ``0x``, ``0o``, ``0b`` and the old ``012`` octal; past int64, uint64; past that, a float;
- floats: ``1e3``, ``.5``, ``.inf``, ``.nan``; no sexagesimal (``2:30`` is a string);
- timestamps: only a few layouts (Go's ``time.Parse``); an impossible date stays a string;
- duplicate keys are an error (yaml.v3 refuses them), merge keys (``<<``) are honoured;
- explicit tags other than ``!!str``, ``!!map`` and ``!!seq``, and non-string mapping keys,
  are refused with a clear error (the engine's handling of them is not worth reviewing).

Values come back as plain Python (``str``, ``bool``, ``None``, ``int``, ``float``, ``dict``,
``list``) plus ``Timestamp`` for a resolved timestamp.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar

import yaml

from components.guards.files import FileError, LimitedLoader, load_yaml_text

_PLAIN = "tag:engine-yaml:plain"
_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"

INT64_MIN, INT64_MAX, UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
"""yaml.v3's ``yamlStyleFloat``."""
_GO_FLOAT = re.compile(
    r"[-+]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE
)
"""What Go's ``strconv.ParseFloat`` accepts (after ``_`` removal; hex floats left out)."""
_GO_DIGITS = {"x": 16, "o": 8, "b": 2}
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Timestamp:
    """A plain scalar yaml.v3 resolves to a ``time.Time`` (``2024-01-31``, ``…T10:00:00Z``)."""

    moment: datetime
    fabricated_zone: bool
    """True when the offset came from the text and is not UTC (Go names no zone then)."""

    def go_string(self) -> str:
        """Go's ``time.Time.String()``, which Pulumi stores for a timestamp config value."""
        offset = self.moment.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        numeric = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
        zone = numeric if self.fabricated_zone else "UTC"
        return f"{self.moment.strftime('%Y-%m-%d %H:%M:%S')}{self._fraction()} {numeric} {zone}"

    def rfc3339(self) -> str:
        """Go's ``time.RFC3339Nano`` form (how yaml.v3 and encoding/json write a time)."""
        offset = self.moment.utcoffset() or timedelta(0)
        if not self.fabricated_zone:
            zone = "Z"
        else:
            minutes = int(offset.total_seconds()) // 60
            sign = "-" if minutes < 0 else "+"
            zone = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        return f"{self.moment.strftime('%Y-%m-%dT%H:%M:%S')}{self._fraction()}{zone}"

    def _fraction(self) -> str:
        digits = f"{self.moment.microsecond:06d}".rstrip("0")
        return f".{digits}" if digits else ""


_TIMESTAMP = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"(?:(?P<sep>[Tt ])(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{1,2}):(?P<s>[0-9]{1,2})"
    r"(?:[.,](?P<frac>[0-9]+))?(?P<tz>Z|[+-][0-9]{2}:[0-9]{2})?)?"
)


def parse_timestamp(text: str) -> Timestamp | None:
    """The layouts yaml.v3 tries with Go's ``time.Parse``; None when none matches."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    sep, tz = match["sep"], match["tz"]
    if sep is not None and (sep == " ") != (tz is None):
        return None  # "T"/"t" layouts need a zone; the space layout takes none
    try:
        moment = datetime(int(match["y"]), int(match["mo"]), int(match["d"]), tzinfo=UTC)
        if sep is not None:
            # Nanoseconds in Go; microseconds are enough for every value a review shows.
            micro = int((match["frac"] or "0")[:6].ljust(6, "0"))
            moment = moment.replace(
                hour=int(match["h"]), minute=int(match["mi"]), second=int(match["s"]),
                microsecond=micro,
            )  # fmt: skip
    except ValueError:
        return None  # 2023-02-30, 25:00:00: Go refuses them too, so they stay strings
    fabricated = False
    if tz not in (None, "Z"):
        hours, minutes = int(tz[1:3]), int(tz[4:6])
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if tz[0] == "-" else 1)
        if offset:
            moment = moment.replace(tzinfo=timezone(offset))
            fabricated = True
    return Timestamp(moment, fabricated)


def _go_parse_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, …)`` without its range check; None if not an int."""
    sign, body = (text[0], text[1:]) if text[:1] in "+-" else ("", text)
    base = 10
    if len(body) > 1 and body[0] == "0":
        prefix = body[1].lower()
        if prefix in _GO_DIGITS:
            base, body = _GO_DIGITS[prefix], body[2:]
        else:
            base, body = 8, body[1:]
    allowed = "0123456789abcdef"[:base]
    if not body or not all(c in allowed for c in body.lower()):
        return None
    value = int(body, base)
    return -value if sign == "-" else value


def resolve_plain(text: str) -> Any:
    """The value yaml.v3 gives a plain (unquoted) scalar decoded into ``interface{}``."""
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    first = text[0]
    if first == ".":
        return _go_float(text) if _GO_FLOAT.fullmatch(text) else text
    if not (first.isascii() and (first.isdigit() or first in "+-")):
        return text
    if (stamp := parse_timestamp(text)) is not None:
        return stamp
    plain = text.replace("_", "")
    number = _go_parse_int(plain)
    if number is not None and INT64_MIN <= number <= INT64_MAX:
        return number
    if number is not None and plain[0] != "+" and 0 <= number <= UINT64_MAX:
        return number  # ParseUint takes no sign
    if _YAML_FLOAT.fullmatch(plain):
        value = _go_float(plain)
        return text if isinstance(value, str) else value
    return text


def _go_float(text: str) -> float | str:
    """``strconv.ParseFloat``: past the largest float64 it fails (so the text stays a string)."""
    value = float(text)
    return text if math.isinf(value) else value


def go_json_float(value: float) -> str:
    """How Go's ``encoding/json`` writes a float64 (the text the engine hands the program)."""
    if not math.isfinite(value):
        raise ValueError(f"{value} is not a JSON number")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    shortest = Decimal(repr(value))
    if 1e-6 <= abs(value) < 1e21:
        return format(shortest.normalize(), "f")
    sign, digits, exponent = shortest.normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    scientific = exponent + len(mantissa) - 1
    fraction = f".{mantissa[1:]}" if len(mantissa) > 1 else ""
    exp_sign = "-" if scientific < 0 else "+"
    return f"{'-' if sign else ''}{mantissa[0]}{fraction}e{exp_sign}{abs(scientific):02d}".replace(
        "e-0", "e-"
    )


def after_round_trip(value: Any) -> Any:
    """The value after Pulumi writes the document back with yaml.v3 and reads it again.

    Pulumi rewrites a stack file (namespacing its keys) before decoding the config, so a float
    that yaml.v3 writes in integer form (``1e3`` → ``1000``, ``-0.0`` → ``-0``) comes back as
    an int, and a timestamp as its RFC 3339 text read again.
    """
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer() and abs(value) < 1e6:  # Go's %g switches to "1e+06" at 1e6
            return int(value)
        return value
    if isinstance(value, dict):
        return {k: after_round_trip(v) for k, v in value.items()}
    if isinstance(value, list):
        return [after_round_trip(v) for v in value]
    return value


class EngineYamlLoader(LimitedLoader):
    """PyYAML's scanner and limits with yaml.v3's scalar resolution (see the module doc)."""

    # Fresh tables: none of PyYAML's YAML 1.1 resolvers or constructors apply here.
    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 (PyYAML's class tables)
    yaml_constructors: ClassVar[dict[Any, Any]] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return _MERGE if value == "<<" else _PLAIN
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]

    def construct_plain(self, node: yaml.ScalarNode) -> Any:
        return resolve_plain(str(node.value))

    def construct_str(self, node: yaml.ScalarNode) -> str:
        text = str(node.value)
        if _SURROGATE.search(text):
            # Only a "\ud800" escape makes one; yaml.v3 refuses that escape outright.
            line = node.start_mark.line + 1
            raise FileError(
                f"line {line}: found invalid Unicode character escape code (a lone surrogate)"
            )
        return text

    def construct_seq(self, node: yaml.SequenceNode) -> list[Any]:
        return [self.construct_object(child, deep=True) for child in node.value]

    def construct_map(self, node: yaml.MappingNode) -> dict[str, Any]:
        seen: dict[tuple[type, str], int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            # yaml.v3 compares keys by kind and text: `a:` and `"a":` are the same key.
            ident = (type(key_node), str(key_node.value))
            line = key_node.start_mark.line + 1
            if ident in seen:
                raise FileError(
                    f"line {line}: mapping key '{key_node.value}' already defined at line "
                    f"{seen[ident]} (the engine refuses duplicate keys)"
                )
            seen[ident] = line
        self.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                line = key_node.start_mark.line + 1
                raise FileError(
                    f"line {line}: mapping key {key_node.value!r} is not a string; quote it"
                )
            # Merged keys come first (flatten_mapping), so the mapping's own keys win.
            result[key] = self.construct_object(value_node, deep=True)
        return result

    def construct_other(self, node: yaml.Node) -> Any:
        line = node.start_mark.line + 1
        raise FileError(
            f"line {line}: YAML tag '{node.tag}' is not supported in stack files "
            "(only plain values, quoted strings, !!str, mappings and lists)"
        )


EngineYamlLoader.add_constructor(_PLAIN, EngineYamlLoader.construct_plain)
EngineYamlLoader.add_constructor(_STR, EngineYamlLoader.construct_str)
EngineYamlLoader.add_constructor(_SEQ, EngineYamlLoader.construct_seq)
EngineYamlLoader.add_constructor(_MAP, EngineYamlLoader.construct_map)
EngineYamlLoader.add_constructor(_MERGE, EngineYamlLoader.construct_str)  # "<<" as a value
EngineYamlLoader.add_constructor(None, EngineYamlLoader.construct_other)


def load_engine_yaml(text: str, label: str) -> Any:
    """The YAML document in ``text`` as the engine decodes it, or ``FileError`` naming ``label``."""
    if text.startswith("\ufeff"):
        text = text[1:]  # Pulumi strips a UTF-8 byte order mark before decoding
    return load_yaml_text(text, label, EngineYamlLoader)


class EngineYamlDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, quoting every string the engine would read back as another type.

    PyYAML quotes by YAML 1.1's rules; the engine reads yaml.v3's, so a plain ``0o17`` written
    by PyYAML would come back as the number 15. Everything we write for a user to paste into a
    stack file (adopt's stack file, a suggested ``conditions`` form) goes through this dumper.
    """


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    resolved = resolve_plain(data)
    if not isinstance(resolved, str) or resolved != data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return dumper.represent_str(data)


EngineYamlDumper.add_representer(str, _represent_str)


def dump_engine_yaml(value: Any, **options: Any) -> str:
    """``value`` as YAML that the engine reads back as exactly ``value``."""
    text: str = yaml.dump(value, Dumper=EngineYamlDumper, **options)
    return text
