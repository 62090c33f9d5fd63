"""A stack as the plan reads it, and the recorded run of the program on it.

The file (or the file at a git ref) is resolved by the engine's loader; ``secure:`` leaves are
replaced by private stand-ins so no secret value reaches the plan; the real program then runs
under the mock runtime (``components.review.offline``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.config.at_ref import resolve_stack_at_ref
from components.config.load import parse_stack_config, split_resolved
from components.config.models import (
    SECRET_KEYS,
    ConfigError,
    SegmentConfig,
    StackConfig,
)
from components.config.stack_config import (
    ResolvedStack,
    StackConfigError,
    resolve_stack_file,
    resolve_stack_text,
)
from components.guards import placeholders
from components.guards.validators import json_leaves
from components.review.document import EXIT_UNREADABLE, KNOWN_AFTER_APPLY, SECRET, PlanError
from components.review.offline import (
    RecordedResource,
    run_program,
)
from components.trigger import subscription_settings


@dataclass(frozen=True)
class StackInput:
    """One stack file read offline: project values (secure ones replaced), provider config."""

    label: str
    values: dict[str, Any] = field(repr=False)
    """Project values; a sandbox (or mistaken plaintext) credential is among them as is."""
    secret_keys: frozenset[str]
    provider: dict[str, str | None]
    secrets: frozenset[str] = field(repr=False)
    """Every secret text the program may see (plaintext sandbox values and stand-ins), so the
    rendered plan can be scrubbed of them as a last line of defence."""
    segment: SegmentConfig = field(default_factory=SegmentConfig, repr=False)
    """The ``segment:`` keys (``token`` replaced like a project secret)."""
    other_keys: tuple[str, ...] = ()
    """Keys of other namespaces, checked for near-miss typos of ours."""
    environment: tuple[str, ...] = ()
    """ESC environments the stack imports; what they provide cannot be reviewed offline."""
    other_secret_keys: frozenset[str] = frozenset()
    """Those of ``other_keys`` that are ``secure:`` (a plaintext credential key is refused)."""
    other_values: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Their values (stand-ins for ``secure:`` leaves), searched for credentials."""


def read_stack_text(
    text: str, label: str, project_text: str | None = None, project_label: str | None = None
) -> StackInput:
    """Parse a stack file's text (on top of a Pulumi.yaml's); ``secure:`` leaves become
    stand-ins, never decrypted."""
    try:
        resolved = resolve_stack_text(text, label, project_text, project_label)
    except StackConfigError as exc:
        raise PlanError(str(exc), EXIT_UNREADABLE) from None
    return stack_input(resolved)


def stack_input(resolved: ResolvedStack) -> StackInput:
    """The plan's input from a stack resolved as the engine resolves it."""
    secrets: set[str] = set()
    split = split_resolved(resolved, lambda value: _replace_secure(value, secrets))
    for name in SECRET_KEYS & set(split.values):
        leaves = _leaf_strings(split.values[name])
        secrets.update(s for s in leaves if s and not placeholders.is_placeholder(s))
    provider: dict[str, str | None] = {}
    url = split.segment.values.get("url")
    if url is not None:
        provider["url"] = None if "url" in split.segment.secret_keys else str(url)
    if "token" in split.segment.values:
        provider["token"] = SECRET
        token = split.segment.values["token"]
        if isinstance(token, str) and token and not placeholders.is_placeholder(token):
            secrets.add(token)
    return StackInput(
        resolved.label,
        split.values,
        frozenset(split.secret_keys),
        provider,
        frozenset(secrets),
        split.segment,
        split.other_keys,
        split.environment,
        split.other_secret_keys,
        split.other_values,
    )


def _replace_secure(value: Any, secrets: set[str]) -> tuple[Any, bool]:
    """``{secure: <ciphertext>}`` -> a stand-in unique to that ciphertext; report all-secure."""
    if isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str):
        digest = hashlib.sha256(str(value["secure"]).encode()).hexdigest()[:16]
        stand_in = f"secure-{digest}"
        secrets.add(stand_in)
        return stand_in, True
    if isinstance(value, dict):
        pairs = {k: _replace_secure(v, secrets) for k, v in value.items()}
        secure = bool(pairs) and all(s for _, s in pairs.values())
        return {k: v for k, (v, _) in pairs.items()}, secure
    if isinstance(value, list):
        items = [_replace_secure(v, secrets) for v in value]
        return [v for v, _ in items], bool(items) and all(s for _, s in items)
    return value, False


def _leaf_strings(value: Any) -> Iterator[str]:
    return (leaf for _, leaf in json_leaves(value, "") if isinstance(leaf, str))


# --- running the program ----------------------------------------------------------------


@dataclass
class ProgramRun:
    """The program's result for one stack input: config, resources, or the problems."""

    stack: StackInput
    config: StackConfig | None = None
    resources: list[RecordedResource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def run_stack(stack: StackInput, stack_name: str) -> ProgramRun:
    """Validate the config and run the real program under mocks, as a preview would."""
    run = ProgramRun(stack)
    try:
        run.config = parse_stack_config(
            stack.values,
            stack.secret_keys,
            source=stack.label,
            segment=stack.segment,
            other_keys=stack.other_keys,
            other_secret_keys=stack.other_secret_keys,
            other_values=stack.other_values,
        )
        provider_config = {
            f"segment:{name}": value if isinstance(value, str) else json.dumps(value)
            for name, value in stack.segment.values.items()
        }
        run.resources = run_program(
            stack.values,
            stack.secret_keys,
            stack=stack_name,
            preview=True,
            provider_config=provider_config,
            provider_secret_keys=[f"segment:{name}" for name in stack.segment.secret_keys],
        )
    except ConfigError as exc:
        run.problems = list(exc.problems)
    except Exception as exc:  # any program failure is a finding of the plan, not a crash
        run.problems = [f"the stack program failed: {type(exc).__name__}: {exc}"]
    return run


# --- describing what the stack declares ---------------------------------------------------


def ordered_resources(run: ProgramRun) -> list[RecordedResource]:
    """Registrations in tree order (registration order is not deterministic)."""
    expected: list[str] = []
    if run.config is not None:
        for destination in run.config.destinations:
            expected += [destination.name, f"{destination.name}-destination"]
            for flow in destination.flows:
                expected += [
                    f"{destination.name}-{flow.name}-token",
                    f"{destination.name}-{flow.name}-subscription",
                ]
    rank = {name: index for index, name in enumerate(expected)}
    return sorted(run.resources, key=lambda r: (rank.get(r.name, len(rank)), r.type, r.name))


def settings_fallback(flow: Any) -> str:
    """What a flow's settings will be once its managed token exists (the header is unknown)."""
    return subscription_settings(
        url=flow.url, authorization=KNOWN_AFTER_APPLY, data=flow.data,
        custom_context=flow.custom_context,
    )  # fmt: skip


def stack_file(stacks_dir: Path, stack: str) -> Path:
    return stacks_dir / f"Pulumi.{stack}.yaml"


def find_project_root(stacks_dir: Path) -> Path:
    """The nearest directory at or above the stacks directory holding Pulumi.yaml, else cwd."""
    for directory in [stacks_dir.resolve(), *stacks_dir.resolve().parents]:
        if (directory / "Pulumi.yaml").is_file():
            return directory
    return Path.cwd()


def read_stack_file(path: Path) -> StackInput:
    try:
        return stack_input(resolve_stack_file(path))
    except StackConfigError as exc:
        raise PlanError(str(exc), EXIT_UNREADABLE) from None


def read_stack_at_ref(path: Path, ref: str) -> StackInput | None:
    """The stack file as of a git ref (with that ref's Pulumi.yaml), or None when the file did
    not exist there."""
    try:
        resolved = resolve_stack_at_ref(path, ref)
    except StackConfigError as exc:
        raise PlanError(str(exc), EXIT_UNREADABLE) from None
    return None if resolved is None else stack_input(resolved)
