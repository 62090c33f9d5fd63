"""The one reading of a stack's configuration: what the Pulumi engine hands the program.

Every tool that reads config (``plan``, ``check``, ``send-test-event``, ``adopt``'s output check,
the policy config, the sandbox seed, the demo script) goes through ``resolve_stack_file`` or
``resolve_stack_text``, which resolve what ``pulumi up`` resolves (measured against the CLI,
docs/configuration.md "How a stack file is read"):

1. ``Pulumi.yaml``, found at or above the stack file's directory: its ``config:`` entries with
   a ``value:`` or ``default:`` (or the shorthand ``key: <value>``) apply to every stack that
   does not set the key itself (the stack's value wins whole, no merging);
2. the stack file on top, read with the engine's YAML (``components.config.engine_yaml``); keys
   without a namespace belong to the project, as the engine namespaces them;
3. each value becomes the text the engine hands the program: strings as is, numbers and
   booleans in Go's JSON form, lists and objects as JSON (``secure:`` leaves kept as
   ``{"secure": <ciphertext>}``, never decrypted), and the program's view of it
   (``decode_config_text``, which ``components.config.load_from_pulumi`` uses too).

Stricter than the engine, on purpose: an unknown top-level key of the stack file (``confg:``,
which the engine ignores) is an error with a "did you mean"; a stack that imports an ESC
``environment:`` is reported (``ResolvedStack.environment``), since what the environment
provides cannot be reviewed offline.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.config.engine_yaml import (
    INT64_MAX,
    INT64_MIN,
    Timestamp,
    after_round_trip,
    load_engine_yaml,
)
from components.config.values import (
    EngineValue,
    StackConfigError,
    declared_problem,
    decode_config_text,
    project_value,
    stack_value,
)
from components.guards.files import FileError, read_text_limited

__all__ = [
    "MAX_STACK_FILE_BYTES",
    "PROJECT",
    "EngineValue",
    "ResolvedStack",
    "StackConfigError",
    "decode_config_text",
    "find_project_file",
    "resolve_stack_file",
    "resolve_stack_text",
]

PROJECT = "segment-pendula"
"""The Pulumi project name, which is also the namespace of our stack-file keys."""
PROJECT_FILE = "Pulumi.yaml"
MAX_STACK_FILE_BYTES = 1024 * 1024
"""A stack file (or Pulumi.yaml) is a few KiB; anything near a MiB is a mistake or an attack."""
MAX_KEY_LENGTH = 200
"""Config keys are short names; a longer one is a mistake (and would flood every message)."""

TOP_LEVEL_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")
"""What a stack file holds (Pulumi's ``ProjectStack``); the engine ignores anything else."""
_DATE_SCHEMA = "a date here fails the engine's schema check of Pulumi.yaml (measured)"
PROJECT_CONFIG_FIELDS = frozenset({"type", "default", "value", "description", "secret", "items"})


@dataclass(frozen=True)
class ResolvedStack:
    """A stack's configuration as the engine resolves it, before any meaning is checked."""

    label: str
    config: dict[str, EngineValue] = field(repr=False)
    """Full key (``namespace:name``) → value, sorted by key."""
    environment: tuple[str, ...] = ()
    """ESC environments the stack imports (``<inline>`` for an inline definition)."""
    project_label: str | None = None
    """The Pulumi.yaml whose values apply, if one was found."""

    def values(self) -> dict[str, Any]:
        """Full key → the program's view of its value (``secure:`` leaves as ``{"secure": …}``)."""
        return {key: entry.value for key, entry in self.config.items()}


def find_project_file(stack_dir: Path) -> Path | None:
    """The nearest Pulumi.yaml at or above ``stack_dir`` (where the engine looks), or None."""
    resolved = stack_dir.resolve()
    for directory in [resolved, *resolved.parents]:
        candidate = directory / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def read_limited(path: Path) -> str:
    """The text of a stack file or Pulumi.yaml (size, regular file and UTF-8 checked)."""
    try:
        return read_text_limited(path, MAX_STACK_FILE_BYTES, label=str(path))
    except FileError as exc:
        raise StackConfigError(str(exc)) from None


def resolve_stack_file(path: Path, project_file: Path | None = None) -> ResolvedStack:
    """Resolve the stack file at ``path`` with the Pulumi.yaml above it (or ``project_file``)."""
    if not path.exists():
        raise StackConfigError(f"{path}: no such stack file")
    text = read_limited(path)
    project = project_file or find_project_file(path.parent)
    project_text = read_limited(project) if project is not None else None
    return resolve_stack_text(text, str(path), project_text, str(project) if project else None)


def resolve_stack_text(
    text: str, label: str, project_text: str | None = None, project_label: str | None = None
) -> ResolvedStack:
    """Resolve a stack file's ``text`` on top of a Pulumi.yaml's ``project_text`` (if any)."""
    project_name, project_values = PROJECT, dict[str, EngineValue | StackConfigError]()
    declared: dict[str, dict[str, Any]] = {}
    if project_text is not None:
        shown = project_label or PROJECT_FILE
        # Read without the round trip: Pulumi rewrites the shorthand forms before it.
        raw_project = _load(project_text, shown, round_trip=False)
        project_name, project_values, declared = _project_config(raw_project, shown)
    document = _load(text, label)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise StackConfigError(f"{label}: a stack file is a mapping (config:, environment:, …)")
    for key in document:
        if key not in TOP_LEVEL_KEYS:
            close = difflib.get_close_matches(key.lower(), TOP_LEVEL_KEYS, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise StackConfigError(
                f"{label}: {_shown_key(key)}: unknown top-level key{hint}; a stack file holds "
                f"only {', '.join(TOP_LEVEL_KEYS)} (the engine would ignore it silently)"
            )
    raw_config = document.get("config")
    if raw_config is None:
        raw_config = {}
    if not isinstance(raw_config, dict):
        raise StackConfigError(f"{label}: config: must be a mapping of keys")
    config: dict[str, EngineValue] = {}
    for raw_key, raw_value in raw_config.items():
        key = _full_key(raw_key, project_name, label)
        if key in config:
            raise StackConfigError(
                f"{label}: config: {_shown_key(key)} is set twice (with and without its "
                "namespace); the engine would keep either one"
            )
        config[key] = stack_value(raw_value)
    problems = [
        p for key, spec in sorted(declared.items()) if (p := declared_problem(key, spec, config))
    ]
    if problems:
        raise StackConfigError(f"{label}: " + "; ".join(problems))
    for key, entry in project_values.items():
        if key not in config and isinstance(entry, StackConfigError):
            raise entry  # the engine fails on this value only where a stack does not set it
        if key not in config and isinstance(entry, EngineValue):
            config[key] = entry
    environment = _environment(document.get("environment"), label)
    return ResolvedStack(label, dict(sorted(config.items())), environment, project_label)


def _load(text: str, label: str, *, round_trip: bool = True) -> Any:
    try:
        document = load_engine_yaml(text, label)
        return after_round_trip(document) if round_trip else document
    except FileError as exc:
        raise StackConfigError(str(exc)) from None


def _shown_key(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH:
        return f"{key[:40]!r}… ({len(key)} characters)"
    return key


def _full_key(raw: str, project: str, label: str) -> str:
    """The engine's ``namespace:name`` for a stack-file key (``config.ParseKey``)."""
    if len(raw) > MAX_KEY_LENGTH:
        raise StackConfigError(
            f"{label}: config: {_shown_key(raw)}: key longer than {MAX_KEY_LENGTH} characters"
        )
    parts = raw.split(":")
    if len(parts) == 1:
        return f"{project}:{raw}"
    if len(parts) == 2 and all(parts):
        return raw
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"  # the old <namespace>:config:<name> form
    raise StackConfigError(
        f"{label}: config: {_shown_key(raw)}: not a config key (keys are '<namespace>:<name>')"
    )


def _environment(value: Any, label: str) -> tuple[str, ...]:
    """The ESC environments a stack imports (a list of names, or an inline definition)."""
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return tuple(value)
    if isinstance(value, dict):
        imports = value.get("imports")
        names = [str(i) for i in imports] if isinstance(imports, list) else []
        inline = ["<inline>"] if set(value) - {"imports"} or not names else []
        return (*names, *inline)
    raise StackConfigError(
        f"{label}: environment: must be a list of ESC environment names or an inline definition"
    )


def _project_config(
    document: Any, label: str
) -> tuple[str, dict[str, EngineValue | StackConfigError], dict[str, dict[str, Any]]]:
    """The project name and the values Pulumi.yaml gives every stack (``mergeConfig``)."""
    if not isinstance(document, dict):
        raise StackConfigError(f"{label}: a project file is a mapping (name:, runtime:, …)")
    for field_name, field_value in document.items():
        if isinstance(field_value, Timestamp):
            raise StackConfigError(f"{label}: {field_name}: {_DATE_SCHEMA} (quote it)")
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise StackConfigError(f"{label}: name: the project needs a name")
    if name != PROJECT:
        raise StackConfigError(
            f"{label}: name: '{name}' is not this project ('{PROJECT}'); its keys would not be read"
        )
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackConfigError(f"{label}: config: must be a mapping of keys")
    values: dict[str, EngineValue | StackConfigError] = {}
    declared: dict[str, dict[str, Any]] = {}
    for raw_key, entry in config.items():
        key = _full_key(raw_key, name, label)
        where = f"{label}: config: {_shown_key(raw_key)}"
        namespaced_here = key.startswith(f"{name}:")
        if isinstance(entry, Timestamp):
            raise StackConfigError(f"{where}: {_DATE_SCHEMA} (quote it)")
        if entry is None:
            continue  # declares nothing the engine applies
        if not isinstance(entry, dict | list | str | int) or (
            isinstance(entry, int) and not INT64_MIN <= entry <= INT64_MAX
        ):
            # Pulumi rewrites only a string, int, bool or list into `default:`/`value:`;
            # measured: `key: 0.0` fails ("cannot unmarshal !!int `0` into ProjectConfigType").
            raise StackConfigError(
                f"{where}: the engine cannot read {entry!r} as a config entry; write "
                "{default: …} (or {value: …} for another namespace) or quote it"
            )
        # The shorthand `key: <value>`: a default for a project key, a value for others.
        spec = after_round_trip(
            entry if isinstance(entry, dict) else {"default" if namespaced_here else "value": entry}
        )
        unknown = sorted(set(spec) - PROJECT_CONFIG_FIELDS)
        if unknown:
            raise StackConfigError(
                f"{where}: unknown field '{unknown[0]}' (a project config entry has "
                f"{', '.join(sorted(PROJECT_CONFIG_FIELDS))})"
            )
        if spec.get("default") is not None and spec.get("value") is not None:
            raise StackConfigError(f"{where}: cannot have both a 'default' and a 'value'")
        if not namespaced_here and ("type" in spec or spec.get("default") is not None):
            raise StackConfigError(
                f"{where}: a key of another namespace takes only a 'value' (no type or default)"
            )
        if not namespaced_here and spec.get("value") is None:
            raise StackConfigError(f"{where}: a key of another namespace needs a 'value'")
        for kind in ("value", "default"):
            if spec.get(kind) is not None:
                try:
                    values[key] = project_value(
                        spec[kind], f"Pulumi.yaml {kind}", f"{where}.{kind}"
                    )
                except StackConfigError as exc:
                    values[key] = exc
        if namespaced_here and ("type" in spec or spec.get("secret") is True):
            declared[key] = spec
    return name, values, declared
