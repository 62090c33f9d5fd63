"""The guard rails as pure functions, shared by the policy pack and the offline ``plan`` command.

Every check takes plain values (a resource's inputs as the engine sends them: camelCase for the
bridged Segment resources, snake_case for our dynamic ``PendulaFlowToken``) and returns messages.
A value that is not known yet (an output of a resource still to be created, at preview) is
passed as ``UNKNOWN``; a check that needs it raises ``NotCheckableError`` and runs again at ``up``,
when the engine analyzes the resource with its resolved inputs before creating it.

Messages never contain a credential: header values, tokens and shared secrets are described,
not shown, and URLs are shown as their origin only."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any, Final

from components.rules.inputs import (
    AUTHORIZATION_FORM,
    LIBRARY_MISSING,
    authorization_credentials,
    credential_leaks,
    known_input,
    readable_settings,
    settings_json_problem,
    settings_object,
    type_name,
)
from components.rules.model import (
    CONFIG_ALLOW_LOOPBACK,
    CONFIG_ALLOWED_HOSTS,
    DESTINATION_TYPE,
    FLOW_TOKEN_TYPE,
    RESOURCE_RULE_REGISTRY,
    SEND_ACTION_ID,
    SUBSCRIPTION_TYPE,
    UNKNOWN,
    WEBHOOKS_ACTIONS_METADATA_ID,
    NotCheckableError,
    PolicyConfig,
    ResourceRule,
    library_module,
    resource_rule,
    show_value,
)

# --- resource rules -----------------------------------------------------------------------


@resource_rule(
    "webhooks-actions-destination",
    DESTINATION_TYPE,
    "high",
    "A Pendula trigger destination is Segment's Webhooks (Actions) destination.",
)
def check_destination_type(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """The destination is Webhooks (Actions), not the classic Webhooks or another webhook kind."""
    metadata = known_input(props, "metadata")
    metadata_id = metadata.get("id") if isinstance(metadata, Mapping) else None
    if metadata_id is UNKNOWN:
        raise NotCheckableError("metadata.id is not known yet; checked at up")
    if metadata_id == WEBHOOKS_ACTIONS_METADATA_ID:
        return []
    return [
        f"metadata.id is {show_value(metadata_id)}; a Pendula trigger destination must be "
        f'Webhooks (Actions), metadata id "{WEBHOOKS_ACTIONS_METADATA_ID}" (not the classic '
        '"Webhooks" 54521fdc25e721e32a72ef04). Fix: create the destination with '
        f'metadata=DestinationMetadataArgs(id="{WEBHOOKS_ACTIONS_METADATA_ID}").'
    ]


@resource_rule(
    "subscription-send-action",
    SUBSCRIPTION_TYPE,
    "high",
    'A Pendula mapping uses the Webhooks (Actions) action "Send".',
)
def check_send_action(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """The mapping uses the destination's "Send" action."""
    action_id = known_input(props, "actionId")
    if action_id == SEND_ACTION_ID:
        return []
    return [
        f"actionId is {show_value(action_id)}; a Pendula mapping must use the Webhooks (Actions) "
        f'action "Send" ({SEND_ACTION_ID}). Fix: set action_id="{SEND_ACTION_ID}".'
    ]


@resource_rule(
    "subscription-settings-json",
    SUBSCRIPTION_TYPE,
    "high",
    "A mapping's settings is a string holding one JSON object.",
)
def check_settings_json(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """The mapping's settings is a string holding a JSON object."""
    problem = settings_json_problem(known_input(props, "settings"))
    if problem is None:
        return []
    return [
        f"settings cannot be read: {problem}. Fix: pass the Send action's fields as one JSON "
        'object, e.g. json.dumps({"url": ..., "method": "POST", ...}, sort_keys=True).'
    ]


@resource_rule(
    "subscription-post-unbatched",
    SUBSCRIPTION_TYPE,
    "high",
    "A Pendula mapping sends one event per POST: method POST, no batching.",
)
def check_post_unbatched(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """Method POST, batching off and batch size 0, all written out (Segment fills no defaults)."""
    settings = settings_object(props)
    messages = []
    if settings.get("method") != "POST":
        messages.append(
            f"settings.method is {show_value(settings.get('method'))}; Pendula webhook triggers "
            'accept POST only. Fix: set "method": "POST".'
        )
    if settings.get("enable_batching") is not False:
        messages.append(
            f"settings.enable_batching is {show_value(settings.get('enable_batching'))}; allowed: "
            "false (with batching Segment posts a JSON array of events in one request, not one "
            'event per call, and it applies no default). Fix: set "enable_batching": false.'
        )
    batch_size = settings.get("batch_size")
    if batch_size != 0 or isinstance(batch_size, bool):
        messages.append(
            f"settings.batch_size is {show_value(batch_size)}; allowed: 0 (batching off). "
            'Fix: set "batch_size": 0.'
        )
    return messages


@resource_rule(
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

    The rule is ``components.guards.endpoints.endpoint_problem``, the one the stack config and the
    token provider apply to every URL that receives a credential.
    """
    settings = settings_object(props)
    url = settings.get("url")
    fix = (
        "Fix: use the POST URL of the flow's Webhook trigger "
        "(https://pendula.app/webhook/inbound/<uuid>)."
    )
    try:
        endpoints = library_module("guards.endpoints")
    except ImportError as exc:
        return [f"cannot check settings.url: {type(exc).__name__}: {exc}. {LIBRARY_MISSING}"]
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


@resource_rule(
    "subscription-authorization-header",
    SUBSCRIPTION_TYPE,
    "high",
    "A Pendula mapping sends an Authorization header; header values are ASCII.",
)
def check_authorization_header(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """An Authorization header of Pendula's form; every header value a string of ASCII."""
    settings = settings_object(props)
    headers = settings.get("headers")
    fix = "Fix: set headers.Authorization to the flow's PendulaFlowToken authorization output."
    if headers is not None and not isinstance(headers, Mapping):
        return [
            f"settings.headers is {type_name(headers)}; it must be an object of header name "
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
        if not isinstance(value, str) or not AUTHORIZATION_FORM.match(value):
            messages.append(
                f'settings.headers.{name} is not of the form "Bearer <token>" or '
                '"Basic <base64(tenant_id:token)>" (value not shown: it is a credential). '
                f"{fix}"
            )
    for name in sorted(headers, key=str):
        value = headers[name]
        if not isinstance(value, str):
            messages.append(
                f"settings.headers.{name} is {type_name(value)}; header values must be "
                "strings. Fix: send the value as a string."
            )
        elif not value.isascii():
            messages.append(
                f"settings.headers.{name} contains non-ASCII characters (value not shown); "
                "Segment sends only ASCII header values and fails the request otherwise. "
                "Fix: use ASCII only (encode other text, e.g. as JSON with \\u escapes)."
            )
    return messages


@resource_rule(
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
    settings = readable_settings(props)
    credentials = authorization_credentials(settings)
    secret_keys = [*secret_outputs, "settings"]
    messages.extend(
        credential_leaks(credentials, props, secret_keys, "the Authorization credential")
    )
    return messages


@resource_rule(
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
    shared_secret = readable_settings(props).get("sharedSecret")
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
    messages.extend(credential_leaks([shared_secret], props, secret_keys, "the shared secret"))
    return messages


@resource_rule(
    "subscription-trigger-fql",
    SUBSCRIPTION_TYPE,
    "high",
    "A mapping's trigger is FQL that Segment's runtime reads as written.",
)
def check_trigger_fql(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """Segment's runtime parser reads the trigger (``components.fql.parse_fql``)."""
    trigger = known_input(props, "trigger")
    fix = (
        "Fix: declare the flow's conditions in the stack file so the trigger is generated, "
        "or correct the FQL."
    )
    if not isinstance(trigger, str) or not trigger.strip():
        return [
            f"trigger is {show_value(trigger)}; "
            'it must be FQL that Segment reads, e.g. type = "track". '
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
            f"trigger {show_value(trigger, 200)} is not FQL that Segment's runtime "
            f"(@segment/destination-subscriptions) reads as written: {exc}. {fix}"
        ]
    return []


@resource_rule(
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
        credential_leaks(
            credentials, props, [*secret_outputs, "token", "authorization"], "the token"
        )
    )
    return messages


@resource_rule(
    "flow-token-fields",
    FLOW_TOKEN_TYPE,
    "high",
    "A Pendula flow token's tenant, name and description are values Pendula accepts.",
)
def check_flow_token_fields(
    props: Mapping[str, Any], _secret_outputs: Sequence[str], _config: PolicyConfig
) -> list[str]:
    """The validators the stack config and the token provider use.

    (``components.guards.validators``)
    """
    try:
        validators = library_module("guards.validators")
    except ImportError as exc:
        return [f"cannot check the token: {type(exc).__name__}: {exc}. {LIBRARY_MISSING}"]
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


RESOURCE_RULES: Final[tuple[ResourceRule, ...]] = tuple(RESOURCE_RULE_REGISTRY)
"""Every resource rule, in the order the checks above are defined."""
