"""Adopt a hand-made Segment → Pendula setup: read it, then describe it as a stack and an import.

``read_setup`` reads a source's Webhooks (Actions) destinations and their mappings through the
Public API and turns every mapping our component can represent into a flow of the stack-file
form (components/config.py), with the exact trigger text and canonical settings Segment holds,
so that the first ``pulumi preview`` after ``pulumi import`` shows no change to Segment.
Mappings it cannot represent are listed with the reason, never dropped silently. Secrets are
never read into the result: Authorization headers yield only their scheme (and the Basic user
name), and the user is told which ``pulumi config set --secret`` commands to run."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from components import webhook_url
from components.config.models import (
    DEFAULT_ALLOWED_HOSTS,
    DEFAULT_DATA_MAPPING,
    LOOPBACK_HOSTS,
)
from components.mapping import MappingError, validate_mapping
from components.segment.api import SegmentApi
from components.segment.translate import custom_context_to_config, token_config, trigger_to_config
from components.trigger import (
    CUSTOM_CONTEXT_HEADER,
    SEND_ACTION_ID,
    WEBHOOKS_ACTIONS_METADATA_ID,
)

DESTINATION_TYPE = "segment:index/destination:Destination"
SUBSCRIPTION_TYPE = "segment:index/destinationSubscription:DestinationSubscription"

SETTINGS_KEYS = frozenset({"batch_size", "data", "enable_batching", "headers", "method", "url"})
"""The Send action fields our component writes, always all of them."""

MAX_NAME_LENGTH = 40
"""Flow and destination names match ``^[a-z][a-z0-9-]{0,39}$`` (config.NAME_PATTERN)."""


class AdoptError(RuntimeError):
    """Nothing can be adopted (no such source, no Webhooks (Actions) destination, …)."""


@dataclass(frozen=True)
class SecretToSet:
    """A secret the user must store before the first preview; the value is never known here."""

    key: str
    """The ``--path`` key, e.g. ``pendulaTokens.welcome``."""
    where: str
    """Where in Segment the current value is, so the user can copy the same one."""


@dataclass(frozen=True)
class AdoptedFlow:
    """One mapping written as a flow."""

    name: str
    subscription_id: str
    config: dict[str, Any]
    """The flow in stack-file form."""
    trigger_form: str
    """``conditions``, ``trigger`` (kept verbatim) or ``unsafe trigger``."""


@dataclass(frozen=True)
class AdoptedDestination:
    """One Webhooks (Actions) destination written as a ``PendulaTrigger``."""

    name: str
    destination_id: str
    display_name: str | None
    config: dict[str, Any]
    flows: tuple[AdoptedFlow, ...]


@dataclass(frozen=True)
class Skipped:
    """A mapping (or destination) left out, and why."""

    what: str
    reasons: tuple[str, ...]


@dataclass
class Adoption:
    """Everything ``read_setup`` found, ready to be written."""

    segment_url: str
    source_id: str
    sandbox: bool
    destinations: list[AdoptedDestination] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    secrets: list[SecretToSet] = field(default_factory=list)

    @property
    def flow_count(self) -> int:
        return sum(len(d.flows) for d in self.destinations)


# --- reading Segment ----------------------------------------------------------------------


def _quiet(_: str) -> None:
    """The default progress reporter: say nothing."""


PROGRESS_EVERY = 100
"""Report progress every this many mappings read (Segment pages hold up to 200)."""


def read_setup(
    api: SegmentApi,
    source_id: str,
    destination_id: str | None = None,
    *,
    progress: Callable[[str], None] = _quiet,
) -> Adoption:
    """Read a source's Webhooks (Actions) destinations (or the one given) and their mappings.

    Raises ``AdoptError`` when there is nothing to adopt and ``SegmentApiError`` when a call
    fails (401/403 for a token without permission). ``progress`` hears what is being read, so
    a workspace with many mappings does not look stuck.
    """
    progress(f"reading source {source_id} from {api.base_url}")
    api.get_source(source_id)  # a clear 404 for a wrong source before anything else
    host = (urlsplit(api.base_url).hostname or "").lower()
    adoption = Adoption(api.base_url, source_id, sandbox=host in LOOPBACK_HOSTS)
    if destination_id is not None:
        destination = api.get_destination(destination_id)
        if destination.get("sourceId") != source_id:
            raise AdoptError(
                f"--destination {destination_id}: belongs to source "
                f"{destination.get('sourceId')!r}, not to --source {source_id}"
            )
        if _metadata_id(destination) != WEBHOOKS_ACTIONS_METADATA_ID:
            raise AdoptError(
                f"--destination {destination_id}: is a {_kind(destination)} destination; only "
                f"Webhooks (Actions) (catalog id {WEBHOOKS_ACTIONS_METADATA_ID}) can be adopted"
            )
        candidates = [destination]
    else:
        connected = list(api.connected_destinations(source_id))
        candidates = [d for d in connected if _metadata_id(d) == WEBHOOKS_ACTIONS_METADATA_ID]
        if not candidates:
            others = ", ".join(sorted({_kind(d) for d in connected})) or "none"
            raise AdoptError(
                f"source {source_id} has no Webhooks (Actions) destination "
                f"(catalog id {WEBHOOKS_ACTIONS_METADATA_ID}); connected destinations: {others}. "
                "Create the destination in Segment first, or declare a new stack by hand"
            )
    destination_names: set[str] = set()
    flow_names: set[str] = set()
    for destination in candidates:
        _adopt_destination(
            api, destination, adoption, destination_names, flow_names, progress=progress
        )
    if not adoption.destinations:
        details = "".join(
            f"\n  {skipped.what}: {'; '.join(skipped.reasons)}" for skipped in adoption.skipped
        )
        raise AdoptError(f"source {source_id}: no mapping can be adopted:{details}")
    return adoption


def _adopt_destination(
    api: SegmentApi,
    destination: Mapping[str, Any],
    adoption: Adoption,
    destination_names: set[str],
    flow_names: set[str],
    *,
    progress: Callable[[str], None] = _quiet,
) -> None:
    destination_id = str(destination.get("id", ""))
    display_name = destination.get("name") if isinstance(destination.get("name"), str) else None
    label = f"destination {destination_id}" + (f" ({display_name!r})" if display_name else "")
    name = unique_slug(display_name or "webhooks", "destination", destination_names)
    flows: list[AdoptedFlow] = []
    progress(f"reading the mappings of {label}")
    read = 0
    for subscription in api.subscriptions(destination_id):
        read += 1
        if read % PROGRESS_EVERY == 0:
            progress(f"  {read} mappings read so far")
        flow, reasons = _adopt_subscription(subscription, adoption, flow_names, name)
        if flow is None:
            adoption.skipped.append(Skipped(_mapping_label(subscription), tuple(reasons)))
        else:
            flows.append(flow)
    progress(f"  {read} mapping(s) read")
    if not flows:
        reason = "none of its mappings can be represented" if adoption.skipped else "no mappings"
        adoption.skipped.append(Skipped(label, (reason,)))
        return
    destination_names.add(name)
    for flow in flows:
        flow_names.add(flow.name)
    if display_name is None:
        adoption.warnings.append(
            f"{label}: Segment holds no name; the program names it 'Pendula ({name})', so the "
            "first preview shows a name change"
        )
    settings = destination.get("settings") if isinstance(destination.get("settings"), dict) else {}
    assert isinstance(settings, dict)
    extra = sorted(set(settings) - {"sharedSecret"})
    if extra:
        adoption.warnings.append(
            f"{label}: settings {', '.join(extra)} are not managed by the component; the first "
            "preview may show them as a change"
        )
    if settings.get("sharedSecret"):
        adoption.secrets.append(
            SecretToSet(
                f"sharedSecrets.{name}",
                f"the Shared Secret setting of Segment {label} (Segment shows it masked; "
                "copy it from where you keep it)",
            )
        )
    config: dict[str, Any] = {"name": name, "sourceId": adoption.source_id}
    if display_name is not None:
        config["displayName"] = display_name
    config["enabled"] = bool(destination.get("enabled", False))
    config["flows"] = [f.config for f in flows]
    adoption.destinations.append(
        AdoptedDestination(name, destination_id, display_name, config, tuple(flows))
    )


def _adopt_subscription(
    subscription: Mapping[str, Any], adoption: Adoption, flow_names: set[str], destination: str
) -> tuple[AdoptedFlow | None, list[str]]:
    """A flow for one mapping, or None and every reason it cannot be represented."""
    label = _mapping_label(subscription)
    reasons: list[str] = []
    warnings: list[str] = []
    if subscription.get("actionId") != SEND_ACTION_ID:
        reasons.append(
            f"action {subscription.get('actionSlug') or '?'} ({subscription.get('actionId')}) "
            f"is not Webhooks (Actions) Send ({SEND_ACTION_ID})"
        )
    if subscription.get("modelId"):
        reasons.append("it is a Reverse ETL mapping (modelId is set)")
    raw_settings = subscription.get("settings")
    settings: dict[str, Any] = raw_settings if isinstance(raw_settings, dict) else {}
    unknown = sorted(set(settings) - SETTINGS_KEYS)
    if unknown:
        reasons.append(f"settings {', '.join(unknown)} are not fields the component manages")
    missing = sorted(SETTINGS_KEYS - set(settings) - {"headers", "url"})
    if missing:
        warnings.append(
            f"{label}: settings {', '.join(missing)} are not set in Segment; the program writes "
            "them explicitly, so the first preview shows a settings change"
        )
    method = settings.get("method", "POST")
    if method != "POST":
        reasons.append(f"method is {method!r}; Pendula webhook triggers take POST only")
    if settings.get("enable_batching", False) is not False:
        reasons.append(
            f"enable_batching is {settings.get('enable_batching')!r}; batches send a JSON array, "
            "which a Pendula flow does not read as one event"
        )
    batch_size = settings.get("batch_size", 0)
    if batch_size != 0 or isinstance(batch_size, bool):
        reasons.append(f"batch_size is {batch_size!r}; the component writes 0 (Pendula's setup)")

    url = settings.get("url")
    url_problem = _url_problem(url, adoption.sandbox)
    if url_problem:
        reasons.append(url_problem)

    headers = settings.get("headers") if isinstance(settings.get("headers"), dict) else {}
    assert isinstance(headers, dict)
    extra_headers = sorted(set(headers) - {"Authorization", CUSTOM_CONTEXT_HEADER})
    if extra_headers:
        reasons.append(
            f"headers {', '.join(extra_headers)} are not managed by the component (it writes "
            f"Authorization and {CUSTOM_CONTEXT_HEADER} only)"
        )
    token, token_problem, token_warning = token_config(headers.get("Authorization"))
    if token_problem:
        reasons.append(token_problem)
    if token_warning:
        warnings.append(f"{label}: {token_warning}")

    custom_context = headers.get(CUSTOM_CONTEXT_HEADER)
    if custom_context is not None and (
        not isinstance(custom_context, str)
        or not custom_context.isascii()
        or any(c in custom_context for c in "\r\n")
    ):
        reasons.append(f"{CUSTOM_CONTEXT_HEADER} is not an ASCII single-line string")

    data = settings.get("data", DEFAULT_DATA_MAPPING)
    try:
        validate_mapping(data, "data")
    except MappingError as exc:
        reasons.append(f"its data mapping is not valid: {exc}")

    trigger = subscription.get("trigger")
    trigger_config: dict[str, Any] = {}
    trigger_form = ""
    if not isinstance(trigger, str) or not trigger.strip():
        reasons.append("it has no trigger")
    else:
        trigger_config, trigger_form, trigger_warning = trigger_to_config(trigger)
        if trigger_warning:
            warnings.append(f"{label}: {trigger_warning}")

    if reasons:
        return None, reasons
    display_name = str(subscription.get("name") or "")
    name = unique_slug(display_name or "flow", "flow", flow_names)
    flow_names.add(name)
    config: dict[str, Any] = {"name": name}
    if display_name:
        config["displayName"] = display_name
    assert isinstance(url, str)
    config["url"] = url
    config["enabled"] = bool(subscription.get("enabled", False))
    config.update(trigger_config)
    if data != DEFAULT_DATA_MAPPING:
        config["data"] = data
    if custom_context is not None:
        config["customContext"] = custom_context_to_config(custom_context)
    if token:
        config["token"] = token
    adoption.warnings.extend(warnings)
    adoption.secrets.append(
        SecretToSet(
            f"pendulaTokens.{name}",
            f"the token in the Authorization header of Segment {label}",
        )
    )
    return AdoptedFlow(name, str(subscription.get("id", "")), config, trigger_form), []


def _url_problem(url: Any, sandbox: bool) -> str | None:
    if not isinstance(url, str) or not url:
        return "it has no url"
    if not webhook_url.origin_allowed(
        url, DEFAULT_ALLOWED_HOSTS, allow_loopback=sandbox
    ) or webhook_url.shape_problem(url):
        return (
            f"url {webhook_url.shown(url)!r} is not a Pendula webhook trigger URL "
            f"(https://{DEFAULT_ALLOWED_HOSTS[0]}{webhook_url.PATH_SHAPE})"
        )
    return None


def _metadata_id(destination: Mapping[str, Any]) -> str | None:
    metadata = destination.get("metadata")
    return metadata.get("id") if isinstance(metadata, dict) else None


def _kind(destination: Mapping[str, Any]) -> str:
    metadata = destination.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return f"{name or 'unknown'} ({_metadata_id(destination) or 'no catalog id'})"


def _mapping_label(subscription: Mapping[str, Any]) -> str:
    return f"mapping {subscription.get('id')} ({str(subscription.get('name') or '')!r})"


def unique_slug(text: str, prefix: str, taken: Iterable[str]) -> str:
    """A name matching ``^[a-z][a-z0-9-]{0,39}$`` derived from ``text``, not in ``taken``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = f"{prefix}-{slug}".strip("-")
    slug = slug[:MAX_NAME_LENGTH].rstrip("-")
    used = set(taken)
    candidate, number = slug, 2
    while candidate in used:
        suffix = f"-{number}"
        candidate = slug[: MAX_NAME_LENGTH - len(suffix)].rstrip("-") + suffix
        number += 1
    return candidate
