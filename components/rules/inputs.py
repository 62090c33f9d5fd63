"""Reading a resource's inputs for the rules: known values, the settings JSON, credentials, leaks.

Messages never contain a credential: values are described, URLs shown as their origin only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from components.rules.model import UNKNOWN, NotCheckableError

AUTHORIZATION_FORM = re.compile(r"^(Bearer|Basic) (\S+)\Z")
_MIN_LEAK_LENGTH = 8
"""Shorter credentials would make the plain-text search match ordinary words."""


def known_input(props: Mapping[str, Any], key: str) -> Any:
    value = props.get(key)
    if value is UNKNOWN:
        raise NotCheckableError(
            f"{key} is not known until an earlier resource exists; checked at up"
        )
    return value


def settings_object(props: Mapping[str, Any]) -> dict[str, Any]:
    """The parsed ``settings`` JSON object, or NotCheckableError when it is unknown or malformed."""
    raw = known_input(props, "settings")
    problem = settings_json_problem(raw)
    if problem is not None:
        raise NotCheckableError(f"settings cannot be read ({problem}); see settings-json")
    parsed: dict[str, Any] = json.loads(raw)
    return parsed


def settings_json_problem(raw: Any) -> str | None:
    """Why ``raw`` is not a JSON object string, or None when it is one."""
    if not isinstance(raw, str):
        return f"it is {type_name(raw)}, not a string holding a JSON object"
    try:
        parsed = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        return "it is nested too deeply"
    except ValueError as exc:
        # JSONDecodeError's text names a position, never the content, so it is safe to show.
        return f"it is not valid JSON: {exc}"
    if not isinstance(parsed, dict):
        return f"it holds JSON {type_name(parsed)}, not an object"
    return None


def _refuse_constant(name: str) -> Any:
    """NaN/Infinity are not JSON; Segment's parser refuses them, so the settings would fail."""
    raise ValueError(f"{name} is not a JSON number (JSON has no NaN/Infinity)")


LIBRARY_MISSING = (
    "Fix: run the pack from the repository checkout (policy/__main__.py puts the repository "
    "root on sys.path) with the program's requirements installed in the pack's virtualenv."
)


def type_name(value: Any) -> str:
    if value is None:
        return "missing"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _origin(scheme: str, host: str, port: int | None) -> str:
    """``scheme://host[:port]``: enough to name a URL without its path, query or userinfo."""
    shown_host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown_host}" + (f":{port}" if port is not None else "")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def credential_leaks(
    credentials: Sequence[str],
    props: Mapping[str, Any],
    secret_keys: Sequence[str],
    what: str,
) -> list[str]:
    """Messages for each non-secret input that contains one of ``credentials`` verbatim."""
    needles = [c for c in credentials if len(c) >= _MIN_LEAK_LENGTH]
    messages = []
    for key in sorted(props):
        if key in secret_keys or props[key] is UNKNOWN:
            continue
        if any(needle in text for text in _strings(props[key]) for needle in needles):
            messages.append(
                f'{what} appears in plain text in input "{key}", which is not secret. '
                f'Fix: keep the credential out of "{key}"; only secret inputs may hold it.'
            )
    return messages


def readable_settings(props: Mapping[str, Any]) -> dict[str, Any]:
    """The settings object when it is known and well-formed, else an empty one."""
    raw = props.get("settings")
    if not isinstance(raw, str) or settings_json_problem(raw) is not None:
        return {}
    parsed: dict[str, Any] = json.loads(raw)
    return parsed


def authorization_credentials(settings: Mapping[str, Any]) -> list[str]:
    headers = settings.get("headers")
    if not isinstance(headers, Mapping):
        return []
    found: list[str] = []
    for name, value in headers.items():
        if str(name).lower() == "authorization" and isinstance(value, str):
            match = AUTHORIZATION_FORM.match(value)
            found.extend([value, match.group(2)] if match else [value])
    return found
