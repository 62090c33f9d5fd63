"""The stack config's models: pydantic structure, the typed result (``StackConfig``), and
``ConfigError``, whose every line is ``<stack-file key path>: <what is wrong> (<what is allowed>)``.

A secret's value never appears in an error; only its key does."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from components.config import stack_config
from components.fql.caret import escape_parts, lay_out
from components.guards import endpoints

PROJECT = stack_config.PROJECT
"""The Pulumi project name, which is also the namespace of our stack-file keys."""

SEGMENT = "segment"
"""The namespace of the Segment provider's keys, which this project reads too."""
SEGMENT_KEYS: Mapping[str, str] = {
    "url": "the Public API URL the Segment token is sent to",
    "token": "the Segment Public API token (secret)",
}
"""Every key the Segment provider (segmentio/segment 1.6.1) reads from the stack config."""
SEGMENT_SECRET_KEYS = frozenset({"token"})
SEGMENT_DEFAULT_URL = "https://api.segmentapis.com"
"""The provider's default when ``segment:url`` is not set."""
READ_NAMESPACES = (PROJECT, SEGMENT)

DEFAULT_ALLOWED_HOSTS = endpoints.DEFAULT_PENDULA_HOSTS
DEFAULT_SEGMENT_API_HOSTS = endpoints.DEFAULT_SEGMENT_API_HOSTS
LOOPBACK_HOSTS = endpoints.LOOPBACK_HOSTS

DEFAULT_DATA_MAPPING: dict[str, Any] = {"@path": "$."}
"""The whole event, which Pendula's Segment article calls "the easiest way to get started"."""

MAX_MAPPINGS_PER_DESTINATION = 5
"""Segment's documented limit for the Webhooks (Actions) destination (segment.md §2.2)."""

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"
"""Destination and flow names become Pulumi child names, so they are short stable slugs."""

SECRET_PLACEHOLDER = "[secret]"
"""What an undecrypted ``secure:`` value reads as when a stack file is loaded offline."""


class ConfigError(ValueError):
    """The stack configuration is invalid; the message lists every problem, one per line."""

    def __init__(self, problems: list[str], source: str = "stack configuration") -> None:
        # The engine prints this message as is: whatever a value holds is made visible, and a
        # line break in a value cannot forge another problem line.
        # A trigger problem may carry a caret block (components/fql/caret.py): its parts are
        # escaped one by one, and it is laid out on indented lines under the problem.
        problems = [escape_parts(problem) for problem in problems]
        self.problems = problems
        lines = "\n".join(f"  - {lay_out(p)}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} {noun} in {source}:\n{lines}")


class TokenMode(StrEnum):
    """Where a flow's Pendula API token comes from."""

    PROVIDED = "provided"
    """Generated in Pendula's UI and stored as a secret in ``pendulaTokens.<flow>``."""
    MANAGED = "managed"
    """Created through a Pendula token API (docs/pendula-token-api.md)."""


class AuthScheme(StrEnum):
    """How the token is put in the Authorization header (pendula.md §1.2)."""

    BEARER = "bearer"
    BASIC = "basic"


class StrictModel(BaseModel):
    """Stack-file keys are camelCase; unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False, frozen=True)


class FlowTokenConfig(StrictModel):
    """How one flow authenticates to its Pendula webhook trigger."""

    mode: TokenMode = TokenMode.PROVIDED
    scheme: AuthScheme = AuthScheme.BEARER
    tenant_id: str | None = Field(default=None, alias="tenantId")
    """Basic scheme only: the user name, "typically the tenant ID" (pendula.md §1.2)."""
    name: str | None = None
    """Managed mode only: the token's name in Pendula. Defaults to ``segment-<flow>``."""
    description: str | None = None
    """Managed mode only: the token's description in Pendula."""


class FlowConfig(StrictModel):
    """One Pendula flow: one Segment mapping plus the flow's token."""

    name: str = Field(pattern=NAME_PATTERN)
    url: str
    enabled: bool = False
    """Off by default: the safe rollout adds a flow disabled, tests it, then enables it."""
    display_name: str | None = Field(default=None, alias="displayName")
    conditions: dict[str, Any] | None = None
    trigger: str | None = None
    unsafe_trigger: bool = Field(default=False, alias="unsafeTrigger")
    data: Any = None
    custom_context: str | dict[str, Any] | None = Field(default=None, alias="customContext")
    token: FlowTokenConfig = FlowTokenConfig()
    sample_event: str | None = Field(default=None, alias="sampleEvent")


class DestinationConfig(StrictModel):
    """One Webhooks (Actions) destination on one Segment source."""

    name: str = Field(pattern=NAME_PATTERN)
    source_id: str = Field(alias="sourceId", min_length=1)
    display_name: str | None = Field(default=None, alias="displayName")
    enabled: bool = True
    flows: list[FlowConfig] = Field(min_length=1)


class _ProjectConfig(StrictModel):
    """The project keys of one stack file (``segment-pendula:<key>``)."""

    destinations: list[DestinationConfig] = Field(min_length=1)
    allowed_pendula_hosts: list[str] = Field(
        default=list(DEFAULT_ALLOWED_HOSTS), alias="allowedPendulaHosts", min_length=1
    )
    allowed_segment_api_hosts: list[str] = Field(
        default=list(DEFAULT_SEGMENT_API_HOSTS), alias="allowedSegmentApiHosts", min_length=1
    )
    sandbox: bool = False
    production: bool = False
    max_mappings_per_destination: int = Field(
        default=MAX_MAPPINGS_PER_DESTINATION, alias="maxMappingsPerDestination", ge=1, le=50
    )
    pendula_api_url: str | None = Field(default=None, alias="pendulaApiUrl")
    pendula_api_token: str | None = Field(default=None, alias="pendulaApiToken")
    pendula_tokens: dict[str, str] = Field(default_factory=dict, alias="pendulaTokens")
    shared_secrets: dict[str, str] = Field(default_factory=dict, alias="sharedSecrets")


SECRET_KEYS = frozenset({"pendulaTokens", "sharedSecrets", "pendulaApiToken"})
"""Project keys that hold credentials and must be ``secure:`` outside the sandbox."""


@dataclass(frozen=True)
class Flow:
    """A validated flow, ready for ``PendulaTrigger``."""

    name: str
    display_name: str
    url: str
    flow_id: str
    enabled: bool
    fql: str
    """The exact trigger text sent to Segment."""
    ast: dict[str, Any] | None
    """Segment's AST of the trigger; None only for an acknowledged unsafe raw trigger."""
    data: Any
    custom_context: str | None
    """The ``X-PENDULA-CUSTOM-CONTEXT`` header value (objects as canonical JSON)."""
    token_mode: TokenMode
    token_scheme: AuthScheme
    tenant_id: str | None
    token: str | None = field(repr=False)
    """Provided mode: the token text. Never printed (``repr=False``)."""
    token_name: str | None
    token_description: str | None
    sample_event: str | None


@dataclass(frozen=True)
class Destination:
    """A validated destination with its flows."""

    name: str
    source_id: str
    display_name: str
    enabled: bool
    shared_secret: str | None = field(repr=False)
    flows: tuple[Flow, ...]


@dataclass(frozen=True)
class StackConfig:
    """Everything the stack program needs, validated."""

    destinations: tuple[Destination, ...]
    allowed_pendula_hosts: tuple[str, ...]
    sandbox: bool
    production: bool
    max_mappings_per_destination: int
    pendula_api_url: str | None
    allowed_segment_api_hosts: tuple[str, ...] = DEFAULT_SEGMENT_API_HOSTS
    segment_url: str | None = None
    """``segment:url`` as set (None: the provider's default, ``SEGMENT_DEFAULT_URL``)."""

    def flows(self) -> Iterator[tuple[Destination, Flow]]:
        """Every flow of the stack with its destination."""
        for destination in self.destinations:
            for flow in destination.flows:
                yield destination, flow


@dataclass(frozen=True)
class SegmentConfig:
    """The ``segment:`` keys of a stack (un-namespaced), and which of them are secure."""

    values: Mapping[str, Any] = field(default_factory=dict, repr=False)
    secret_keys: frozenset[str] = frozenset()


def segment_url(segment: SegmentConfig) -> str:
    """Where the Segment provider sends its token: ``segment:url``, else its default."""
    url = segment.values.get("url")
    return url if isinstance(url, str) and url else SEGMENT_DEFAULT_URL


def canonical_json(value: Any) -> str:
    """One byte-exact JSON text per value, so the same config never shows a diff."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def custom_context_header(value: str | Mapping[str, Any] | None) -> str | None:
    """The ``X-PENDULA-CUSTOM-CONTEXT`` value: strings as is, objects as canonical JSON."""
    if value is None or isinstance(value, str):
        return value
    return canonical_json(value)
