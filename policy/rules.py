"""The guard rails as pure functions, shared by the policy pack and the offline ``plan`` command.

Every check takes plain values (a resource's inputs as the engine sends them: camelCase for the
bridged Segment resources, snake_case for our dynamic ``PendulaFlowToken``) and returns messages.
A value that is not known yet (an output of a resource still to be created, at preview) is
passed as ``UNKNOWN``; a check that needs it raises ``NotCheckableError`` and runs again at ``up``,
when the engine analyzes the resource with its resolved inputs before creating it.

Messages never contain a credential: header values, tokens and shared secrets are described,
not shown, and URLs are shown as their origin only.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

SUBSCRIPTION_TYPE: Final = "segment:index/destinationSubscription:DestinationSubscription"
DESTINATION_TYPE: Final = "segment:index/destination:Destination"
FLOW_TOKEN_TYPE: Final = "pulumi-python:dynamic/pendula:FlowToken"

WEBHOOKS_ACTIONS_METADATA_ID: Final = "614a3c7d791c91c41bae7599"
"""Catalog id of "Webhooks (Actions)" (reference/segment.md §2.1)."""
SEND_ACTION_ID: Final = "nFPnRozhz1mh4Gbx4MLvT5"
"""Catalog id of its only action, "Send" (reference/segment.md §2.2)."""

DEFAULT_ALLOWED_HOSTS: Final = ("pendula.app",)
DEFAULT_MAX_MAPPINGS: Final = 5
"""The Webhooks (Actions) page says "You can create up to 5 mappings" (segment.md §2.2)."""
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})

CONFIG_ALLOWED_HOSTS: Final = "allowedHosts"
CONFIG_ALLOW_LOOPBACK: Final = "allowLoopback"
CONFIG_MAX_MAPPINGS: Final = "maxMappingsPerDestination"

_AUTHORIZATION_FORM = re.compile(r"^(Bearer|Basic) (\S+)\Z")
_MIN_LEAK_LENGTH = 8
"""Shorter credentials would make the plain-text search match ordinary words."""

Severity = Literal["low", "medium", "high", "critical"]


class _Unknown:
    """The type of ``UNKNOWN``; compare with ``is``."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
"""Stands for an input whose value is not known yet (preview of a resource not yet created)."""


class NotCheckableError(Exception):
    """A rule cannot judge this resource yet (or at all); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Violation:
    """One broken rule: the policy's name, the resource it concerns, and what to fix."""

    policy: str
    urn_or_name: str
    message: str


@dataclass(frozen=True)
class PolicyConfig:
    """The pack's tunables, read from the policy pack config (camelCase keys per policy)."""

    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    allow_loopback: bool = False
    max_mappings_per_destination: int = DEFAULT_MAX_MAPPINGS

    @classmethod
    def from_policy_config(cls, config: Mapping[str, Any], key: str = "config") -> PolicyConfig:
        """Reads one policy's config object; unset keys keep their defaults.

        Raises ValueError naming ``<key>.<field>``, the bad value and what is allowed.
        """
        allowed_hosts = config.get(CONFIG_ALLOWED_HOSTS, list(DEFAULT_ALLOWED_HOSTS))
        if (
            not isinstance(allowed_hosts, list | tuple)
            or not allowed_hosts
            or not all(isinstance(host, str) and host.strip() for host in allowed_hosts)
        ):
            raise ValueError(
                f"{key}.{CONFIG_ALLOWED_HOSTS}: {_show(allowed_hosts)} is not allowed; "
                'give a non-empty list of host names, e.g. ["pendula.app"]'
            )
        allow_loopback = config.get(CONFIG_ALLOW_LOOPBACK, False)
        if not isinstance(allow_loopback, bool):
            raise ValueError(
                f"{key}.{CONFIG_ALLOW_LOOPBACK}: {_show(allow_loopback)} is not allowed; "
                "give true or false"
            )
        max_mappings = config.get(CONFIG_MAX_MAPPINGS, DEFAULT_MAX_MAPPINGS)
        # The engine hands JSON numbers over as floats; 5.0 is a fine way to say 5.
        if isinstance(max_mappings, float) and max_mappings.is_integer():
            max_mappings = int(max_mappings)
        if not isinstance(max_mappings, int) or isinstance(max_mappings, bool) or max_mappings < 1:
            raise ValueError(
                f"{key}.{CONFIG_MAX_MAPPINGS}: {_show(max_mappings)} is not allowed; "
                "give a whole number of at least 1"
            )
        return cls(
            allowed_hosts=tuple(host.strip().lower() for host in allowed_hosts),
            allow_loopback=allow_loopback,
            max_mappings_per_destination=max_mappings,
        )

    @classmethod
    def from_pack_config(cls, pack_config: Mapping[str, Any]) -> PolicyConfig:
        """Reads a whole ``--policy-pack-config`` document (``{policy name: {key: value}}``).

        Entries that only set an enforcement level (a string) carry no tunables.
        """
        merged: dict[str, Any] = {}
        for policy_name, entry in pack_config.items():
            if not isinstance(entry, Mapping):
                continue
            for name, value in entry.items():
                if name in (
                    CONFIG_ALLOWED_HOSTS,
                    CONFIG_ALLOW_LOOPBACK,
                    CONFIG_MAX_MAPPINGS,
                ):
                    PolicyConfig.from_policy_config({name: value}, key=str(policy_name))
                    merged[name] = value
        return cls.from_policy_config(merged)


ResourceCheck = Callable[[Mapping[str, Any], Sequence[str], PolicyConfig], list[str]]
"""A resource rule's check: (inputs, additionalSecretOutputs, config) -> messages."""


@dataclass(frozen=True)
class ResourceRule:
    """A check of one resource's inputs and resource options."""

    name: str
    description: str
    resource_types: frozenset[str]
    check: ResourceCheck
    severity: Severity
    config_keys: tuple[str, ...] = ()


_RESOURCE_RULES: list[ResourceRule] = []


def _resource_rule(
    name: str,
    resource_type: str,
    severity: Severity,
    description: str,
    config_keys: tuple[str, ...] = (),
) -> Callable[[ResourceCheck], ResourceCheck]:
    """Declares the decorated check as resource rule ``name``; keeps each rule beside its check."""

    def register(check: ResourceCheck) -> ResourceCheck:
        rule = ResourceRule(
            name, description, frozenset({resource_type}), check, severity, config_keys
        )
        _RESOURCE_RULES.append(rule)
        return check

    return register


@dataclass(frozen=True)
class StackResource:
    """What a stack rule needs to know about one resource of the stack."""

    urn: str
    resource_type: str
    props: Mapping[str, Any]
    parent: str | None = None
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class StackRule:
    """A check across the stack; each finding is ``(urn or None, message)``."""

    name: str
    description: str
    check: Callable[[Sequence[StackResource], PolicyConfig], list[tuple[str | None, str]]]
    severity: Severity
    config_keys: tuple[str, ...] = ()


# --- helpers ------------------------------------------------------------------------------


def _show(value: Any, limit: int = 120) -> str:
    """A short JSON rendering of a non-secret value for a message."""
    if value is None:
        return "missing"
    if value is UNKNOWN:
        return "unknown"
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _known(props: Mapping[str, Any], key: str) -> Any:
    value = props.get(key)
    if value is UNKNOWN:
        raise NotCheckableError(
            f"{key} is not known until an earlier resource exists; checked at up"
        )
    return value


def _settings_object(props: Mapping[str, Any]) -> dict[str, Any]:
    """The parsed ``settings`` JSON object, or NotCheckableError when it is unknown or malformed."""
    raw = _known(props, "settings")
    problem = settings_json_problem(raw)
    if problem is not None:
        raise NotCheckableError(f"settings cannot be read ({problem}); see settings-json")
    parsed: dict[str, Any] = json.loads(raw)
    return parsed


def settings_json_problem(raw: Any) -> str | None:
    """Why ``raw`` is not a JSON object string, or None when it is one."""
    if not isinstance(raw, str):
        return f"it is {_type_name(raw)}, not a string holding a JSON object"
    try:
        parsed = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        return "it is nested too deeply"
    except ValueError as exc:
        # JSONDecodeError's text names a position, never the content, so it is safe to show.
        return f"it is not valid JSON: {exc}"
    if not isinstance(parsed, dict):
        return f"it holds JSON {_type_name(parsed)}, not an object"
    return None


def _refuse_constant(name: str) -> Any:
    """NaN/Infinity are not JSON; Segment's parser refuses them, so the settings would fail."""
    raise ValueError(f"{name} is not a JSON number (JSON has no NaN/Infinity)")


def _library(name: str) -> Any:
    """A module of the program's library (``components``), imported when a rule runs.

    Imported lazily so the pack loads (and reports this clearly) even where the library
    cannot be imported; a rule that needs it then fails closed with a violation.
    """
    return importlib.import_module(f"components.{name}")


_LIBRARY_MISSING = (
    "Fix: run the pack from the repository checkout (policy/__main__.py puts the repository "
    "root on sys.path) with the program's requirements installed in the pack's virtualenv."
)


def _type_name(value: Any) -> str:
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


def _leaks(
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


def _readable_settings(props: Mapping[str, Any]) -> dict[str, Any]:
    """The settings object when it is known and well-formed, else an empty one."""
    raw = props.get("settings")
    if not isinstance(raw, str) or settings_json_problem(raw) is not None:
        return {}
    parsed: dict[str, Any] = json.loads(raw)
    return parsed


def _authorization_credentials(settings: Mapping[str, Any]) -> list[str]:
    headers = settings.get("headers")
    if not isinstance(headers, Mapping):
        return []
    found: list[str] = []
    for name, value in headers.items():
        if str(name).lower() == "authorization" and isinstance(value, str):
            match = _AUTHORIZATION_FORM.match(value)
            found.extend([value, match.group(2)] if match else [value])
    return found


# --- resource rules -----------------------------------------------------------------------


@_resource_rule(
    "webhooks-actions-destination",
    DESTINATION_TYPE,
    "high",
    "A Pendula trigger destination is Segment's Webhooks (Actions) destination.",
)
def check_destination_type(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """The destination is Webhooks (Actions), not the classic Webhooks or another webhook kind."""
    metadata = _known(props, "metadata")
    metadata_id = metadata.get("id") if isinstance(metadata, Mapping) else None
    if metadata_id is UNKNOWN:
        raise NotCheckableError("metadata.id is not known yet; checked at up")
    if metadata_id == WEBHOOKS_ACTIONS_METADATA_ID:
        return []
    return [
        f"metadata.id is {_show(metadata_id)}; a Pendula trigger destination must be "
        f'Webhooks (Actions), metadata id "{WEBHOOKS_ACTIONS_METADATA_ID}" (not the classic '
        '"Webhooks" 54521fdc25e721e32a72ef04). Fix: create the destination with '
        f'metadata=DestinationMetadataArgs(id="{WEBHOOKS_ACTIONS_METADATA_ID}").'
    ]


@_resource_rule(
    "subscription-send-action",
    SUBSCRIPTION_TYPE,
    "high",
    'A Pendula mapping uses the Webhooks (Actions) action "Send".',
)
def check_send_action(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """The mapping uses the destination's "Send" action."""
    action_id = _known(props, "actionId")
    if action_id == SEND_ACTION_ID:
        return []
    return [
        f"actionId is {_show(action_id)}; a Pendula mapping must use the Webhooks (Actions) "
        f'action "Send" ({SEND_ACTION_ID}). Fix: set action_id="{SEND_ACTION_ID}".'
    ]


@_resource_rule(
    "subscription-settings-json",
    SUBSCRIPTION_TYPE,
    "high",
    "A mapping's settings is a string holding one JSON object.",
)
def check_settings_json(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """The mapping's settings is a string holding a JSON object."""
    problem = settings_json_problem(_known(props, "settings"))
    if problem is None:
        return []
    return [
        f"settings cannot be read: {problem}. Fix: pass the Send action's fields as one JSON "
        'object, e.g. json.dumps({"url": ..., "method": "POST", ...}, sort_keys=True).'
    ]


@_resource_rule(
    "subscription-post-unbatched",
    SUBSCRIPTION_TYPE,
    "high",
    "A Pendula mapping sends one event per POST: method POST, no batching.",
)
def check_post_unbatched(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """Method POST, batching off and batch size 0, all written out (Segment fills no defaults)."""
    settings = _settings_object(props)
    messages = []
    if settings.get("method") != "POST":
        messages.append(
            f"settings.method is {_show(settings.get('method'))}; Pendula webhook triggers "
            'accept POST only. Fix: set "method": "POST".'
        )
    if settings.get("enable_batching") is not False:
        messages.append(
            f"settings.enable_batching is {_show(settings.get('enable_batching'))}; allowed: "
            "false (with batching Segment posts a JSON array of events in one request, not one "
            'event per call, and it applies no default). Fix: set "enable_batching": false.'
        )
    batch_size = settings.get("batch_size")
    if batch_size != 0 or isinstance(batch_size, bool):
        messages.append(
            f"settings.batch_size is {_show(batch_size)}; allowed: 0 (batching off). "
            'Fix: set "batch_size": 0.'
        )
    return messages


@_resource_rule(
    "subscription-pendula-url",
    SUBSCRIPTION_TYPE,
    "critical",
    "A Pendula mapping posts over https to an allowed Pendula host.",
    config_keys=(CONFIG_ALLOWED_HOSTS, CONFIG_ALLOW_LOOPBACK),
)
def check_pendula_url(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], config: PolicyConfig
) -> list[str]:
    """The mapping posts over https to an allowed Pendula host (loopback only for the sandbox).

    The rule is ``components.endpoints.endpoint_problem``, the one the stack config and the
    token provider apply to every URL that receives a credential.
    """
    settings = _settings_object(props)
    url = settings.get("url")
    fix = (
        "Fix: use the POST URL of the flow's Webhook trigger "
        "(https://pendula.app/webhook/inbound/<uuid>)."
    )
    try:
        endpoints = _library("endpoints")
    except ImportError as exc:
        return [f"cannot check settings.url: {type(exc).__name__}: {exc}. {_LIBRARY_MISSING}"]
    problem = endpoints.endpoint_problem(
        url,
        config.allowed_hosts,
        config.allow_loopback,
        loopback_switch=f"policy config {CONFIG_ALLOW_LOOPBACK} is true",
        # A webhook URL's path can itself be a secret (many services put one there).
        origin_only=True,
    )
    if problem is None:
        return []
    return [f"settings.url {problem} (policy config {CONFIG_ALLOWED_HOSTS}). {fix}"]


@_resource_rule(
    "subscription-authorization-header",
    SUBSCRIPTION_TYPE,
    "high",
    "A Pendula mapping sends an Authorization header; header values are ASCII.",
)
def check_authorization_header(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """An Authorization header of Pendula's form; every header value a string of ASCII."""
    settings = _settings_object(props)
    headers = settings.get("headers")
    fix = "Fix: set headers.Authorization to the flow's PendulaFlowToken authorization output."
    if headers is not None and not isinstance(headers, Mapping):
        return [
            f"settings.headers is {_type_name(headers)}; it must be an object of header name "
            f"to string value with an Authorization header. {fix}"
        ]
    headers = headers or {}
    messages = []
    names = [name for name in headers if str(name).lower() == "authorization"]
    if not names:
        messages.append(
            "settings.headers has no Authorization header; Pendula answers 401 to webhook "
            f"calls without one. {fix}"
        )
    for name in names:
        value = headers[name]
        if not isinstance(value, str) or not _AUTHORIZATION_FORM.match(value):
            messages.append(
                f'settings.headers.{name} is not of the form "Bearer <token>" or '
                '"Basic <base64(tenant_id:token)>" (value not shown: it is a credential). '
                f"{fix}"
            )
    for name in sorted(headers, key=str):
        value = headers[name]
        if not isinstance(value, str):
            messages.append(
                f"settings.headers.{name} is {_type_name(value)}; header values must be "
                "strings. Fix: send the value as a string."
            )
        elif not value.isascii():
            messages.append(
                f"settings.headers.{name} contains non-ASCII characters (value not shown); "
                "Segment sends only ASCII header values and fails the request otherwise. "
                "Fix: use ASCII only (encode other text, e.g. as JSON with \\u escapes)."
            )
    return messages


@_resource_rule(
    "subscription-settings-secret",
    SUBSCRIPTION_TYPE,
    "critical",
    "A mapping's settings, which hold the Pendula token, are kept secret.",
)
def check_subscription_settings_secret(
    props: Mapping[str, Any], secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """The mapping's settings (it holds the token) is a secret output and leaks nowhere.

    The Python policy SDK strips the engine's secret markers before a policy sees the inputs
    (``pulumi_policy`` deserializes Analyze requests with ``proxy_secrets=False``), so whether
    ``settings`` is a secret cannot be observed here. The resource option is observable, and it
    keeps the provider's copy of the value encrypted in the state: require it.
    """
    messages = []
    if "settings" not in secret_outputs:
        messages.append(
            "settings is not listed in additionalSecretOutputs; it holds the Pendula token "
            "(headers.Authorization), and a policy cannot see whether an input is a secret, "
            "so the resource option is required. Fix: create the subscription with "
            'opts=pulumi.ResourceOptions(additional_secret_outputs=["settings"]) and pass '
            "settings as a pulumi secret."
        )
    settings = _readable_settings(props)
    credentials = _authorization_credentials(settings)
    secret_keys = [*secret_outputs, "settings"]
    messages.extend(_leaks(credentials, props, secret_keys, "the Authorization credential"))
    return messages


@_resource_rule(
    "destination-settings-secret",
    DESTINATION_TYPE,
    "critical",
    "A destination's settings holding a shared secret are kept secret.",
)
def check_destination_settings_secret(
    props: Mapping[str, Any], secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """A destination's settings holding a shared secret is a secret output and leaks nowhere."""
    if props.get("settings") is UNKNOWN:
        raise NotCheckableError("settings is not known yet; checked at up")
    shared_secret = _readable_settings(props).get("sharedSecret")
    if not isinstance(shared_secret, str) or not shared_secret:
        return []
    messages = []
    if "settings" not in secret_outputs:
        messages.append(
            "settings holds sharedSecret but is not listed in additionalSecretOutputs; a "
            "policy cannot see whether an input is a secret, so the resource option is "
            "required. Fix: create the destination with opts=pulumi.ResourceOptions("
            'additional_secret_outputs=["settings"]) and pass settings as a pulumi secret.'
        )
    secret_keys = [*secret_outputs, "settings"]
    messages.extend(_leaks([shared_secret], props, secret_keys, "the shared secret"))
    return messages


@_resource_rule(
    "subscription-trigger-fql",
    SUBSCRIPTION_TYPE,
    "high",
    "A mapping's trigger is FQL that Segment's runtime reads as written.",
)
def check_trigger_fql(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """Segment's runtime parser reads the trigger (``components.fql.parse_fql``)."""
    trigger = _known(props, "trigger")
    fix = (
        "Fix: declare the flow's conditions in the stack file so the trigger is generated, "
        "or correct the FQL."
    )
    if not isinstance(trigger, str) or not trigger.strip():
        return [
            f'trigger is {_show(trigger)}; it must be FQL that Segment reads, e.g. type = "track". '
            f"{fix}"
        ]
    try:
        # Imported here, not at module level: the pack must load (and report this clearly)
        # even where the program's library cannot be imported.
        conditions = importlib.import_module("components.fql")
    except ImportError as exc:
        return [
            f"cannot check trigger: components.fql is not importable "
            f"({type(exc).__name__}: {exc}). Fix: run the pack from the repository checkout "
            "(policy/__main__.py puts the repository root on sys.path) with the program's "
            "requirements installed in the pack's virtualenv."
        ]
    try:
        conditions.parse_fql(trigger)
    except ValueError as exc:
        return [
            f"trigger {_show(trigger, 200)} is not FQL that Segment's runtime "
            f"(@segment/destination-subscriptions) reads as written: {exc}. {fix}"
        ]
    return []


@_resource_rule(
    "flow-token-secret",
    FLOW_TOKEN_TYPE,
    "critical",
    "A Pendula flow token keeps its credential secret.",
)
def check_flow_token_secret(
    props: Mapping[str, Any], secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """The token resource keeps its credential outputs secret and out of plain inputs.

    A dynamic provider's outputs are plain text in the state unless listed in
    ``additional_secret_outputs`` (reference/pulumi.md §1.5), and secret markers on inputs are
    invisible to a Python policy, so the listing is what is checked.
    """
    messages = []
    fix = (
        "Fix: register PendulaFlowToken with "
        'opts=pulumi.ResourceOptions(additional_secret_outputs=["authorization", "token"]).'
    )
    if "authorization" not in secret_outputs:
        messages.append(
            "authorization is not listed in additional_secret_outputs; it is the full "
            "Authorization header (the Pendula token) and a dynamic provider's outputs are "
            f"stored in plain text unless listed. {fix}"
        )
    token = props.get("token")
    if (token is UNKNOWN or (isinstance(token, str) and token)) and "token" not in secret_outputs:
        messages.append(
            "token is not listed in additional_secret_outputs; a policy cannot see whether "
            "the token input is a secret, and a dynamic provider's outputs are stored in plain "
            f"text unless listed. {fix}"
        )
    credentials = [
        value
        for value in (props.get("token"), props.get("authorization"))
        if isinstance(value, str)
    ]
    messages.extend(
        _leaks(credentials, props, [*secret_outputs, "token", "authorization"], "the token")
    )
    return messages


@_resource_rule(
    "flow-token-fields",
    FLOW_TOKEN_TYPE,
    "high",
    "A Pendula flow token's tenant, name and description are values Pendula accepts.",
)
def check_flow_token_fields(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """The validators the stack config and the token provider use (``components.validators``)."""
    try:
        validators = _library("validators")
    except ImportError as exc:
        return [f"cannot check the token: {type(exc).__name__}: {exc}. {_LIBRARY_MISSING}"]
    checks = (
        ("tenant_id", validators.tenant_id_problem),
        ("token_name", validators.token_name_problem),
        ("token_description", validators.token_description_problem),
    )
    messages = []
    for key, check in checks:
        value = props.get(key)
        if value is None or value is UNKNOWN or (key != "tenant_id" and value == ""):
            continue
        if problem := check(value):
            messages.append(f"{key} {problem}. Fix: correct {key} in the stack configuration.")
    return messages


RESOURCE_RULES: Final[tuple[ResourceRule, ...]] = tuple(_RESOURCE_RULES)
"""Every resource rule, in the order the checks above are defined."""


# --- stack rules --------------------------------------------------------------------------


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _destination_key(resource: StackResource, types_by_urn: Mapping[str, str]) -> str:
    """Which destination a subscription belongs to, even at preview when ids are unknown.

    The engine records which resources an input came from, so ``destinationId``'s dependency
    names the destination's URN before Segment has assigned an id.
    """
    dependencies = list(resource.property_dependencies.get("destinationId", ()))
    destinations = [urn for urn in dependencies if types_by_urn.get(urn) == DESTINATION_TYPE]
    if destinations or dependencies:
        return (destinations or dependencies)[0]
    destination_id = resource.props.get("destinationId")
    if isinstance(destination_id, str) and destination_id:
        return f"destination id {destination_id}"
    if resource.parent:
        return f"parent {resource.parent}"
    return "an unknown destination"


def check_mapping_limit(
    resources: Sequence[StackResource], config: PolicyConfig
) -> list[tuple[str | None, str]]:
    """At most ``max_mappings_per_destination`` subscriptions per destination."""
    types_by_urn = {resource.urn: resource.resource_type for resource in resources}
    groups: dict[str, list[StackResource]] = {}
    for resource in resources:
        if resource.resource_type == SUBSCRIPTION_TYPE:
            groups.setdefault(_destination_key(resource, types_by_urn), []).append(resource)
    findings: list[tuple[str | None, str]] = []
    limit = config.max_mappings_per_destination
    for key, subscriptions in groups.items():
        if len(subscriptions) <= limit:
            continue
        is_urn = key in types_by_urn
        label = f'destination "{_urn_name(key)}"' if is_urn else key
        names = ", ".join(sorted(_urn_name(s.urn) for s in subscriptions))
        findings.append(
            (
                key if is_urn else subscriptions[-1].urn,
                f"{label} has {len(subscriptions)} mappings ({names}); Segment allows at most "
                f"{limit} on one Webhooks (Actions) destination (policy config "
                f"{CONFIG_MAX_MAPPINGS}). Fix: move some flows to a second PendulaTrigger "
                "(its own destination) or remove flows.",
            )
        )
    return findings


STACK_RULES: Final[tuple[StackRule, ...]] = (
    StackRule(
        name="destination-mapping-limit",
        description="A Webhooks (Actions) destination has at most 5 mappings (configurable).",
        check=check_mapping_limit,
        severity="medium",
        config_keys=(CONFIG_MAX_MAPPINGS,),
    ),
)


# --- entry points for the offline plan -----------------------------------------------------


def check_resource(
    resource_type: str,
    props: Mapping[str, Any],
    opts_additional_secret_outputs: Sequence[str],
    config: PolicyConfig | None = None,
    urn_or_name: str = "",
) -> list[Violation]:
    """Every resource rule for one resource; rules that cannot judge yet are skipped."""
    config = config or PolicyConfig()
    violations: list[Violation] = []
    for rule in RESOURCE_RULES:
        if resource_type not in rule.resource_types:
            continue
        try:
            messages = rule.check(props, list(opts_additional_secret_outputs), config)
        except NotCheckableError:
            continue
        violations.extend(Violation(rule.name, urn_or_name, message) for message in messages)
    return violations


def check_stack(
    resources: Sequence[StackResource], config: PolicyConfig | None = None
) -> list[Violation]:
    """Every stack rule over all resources of a stack."""
    config = config or PolicyConfig()
    return [
        Violation(rule.name, urn or "", message)
        for rule in STACK_RULES
        for urn, message in rule.check(resources, config)
    ]
