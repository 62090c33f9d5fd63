"""`PendulaFlowToken`: the Authorization header value one Pendula webhook trigger accepts.

Two modes (reference/pendula.md §1.2, §2):

- ``provided`` (default): a token generated in Pendula's UI is passed in (as a secret); no
  network call is made, the resource only validates it and builds the header.
- ``managed``: the token is created through the Pendula token API (docs/pendula-token-api.md)
  with a name and description, renamed in place, and deactivated on delete. Pendula shows a
  token's text only in the create response, so it is kept in a secret output.

Replacement rules (diff is local, no network): a new ``flow_url`` or ``mode`` replaces the
resource (a new flow gets a fresh credential); a managed token found deactivated by a refresh
is replaced too (a token someone deactivated may have leaked, so it is never reactivated).
``scheme``, ``tenant_id``, ``token``, ``token_name`` and ``token_description`` update in place.
The replacement is created before the old token is deactivated, so deliveries never stop.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict
from urllib.parse import urlsplit, urlunsplit

import pulumi
import pulumi.dynamic
from pulumi.output import Unknown

from components.guards import validators
from components.guards.endpoints import DEFAULT_PENDULA_HOSTS, LOOPBACK_HOSTS, endpoint_problem
from components.pendula.client import PendulaApiError, PendulaClient, RetryPolicy, TokenInfo
from components.webhook_url import flow_id, shape_problem, shown

CONFIG_NAMESPACE = "segment-pendula"
API_URL_KEY = "pendulaApiUrl"
API_TOKEN_KEY = "pendulaApiToken"
ALLOWED_HOSTS_KEY = "allowedPendulaHosts"
SANDBOX_KEY = "sandbox"
API_URL_ENV = "PENDULA_API_URL"
API_TOKEN_ENV = "PENDULA_API_TOKEN"
TIMEOUT_ENV = "PENDULA_API_TIMEOUT_SECONDS"
"""Read timeout of each API call (seconds); tests shorten it to exercise timeouts quickly."""

MODES = ("provided", "managed")
SCHEMES = ("bearer", "basic")
SECRET_OUTPUTS = ["authorization", "token"]
FINGERPRINT_LENGTH = 12
MAX_NAME_LENGTH = validators.MAX_TOKEN_NAME_LENGTH
MAX_DESCRIPTION_LENGTH = validators.MAX_TOKEN_DESCRIPTION_LENGTH

# Header values must be visible ASCII (Segment rejects others; RFC 9110 token68 is narrower).
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")

# Fields whose change needs a new token; everything else is an in-place update.
REPLACING_FIELDS = ("flow_url", "mode")
_REPLACING_FIELDS = REPLACING_FIELDS  # older name of REPLACING_FIELDS, kept for its importers
_INPUT_FIELDS = ("flow_url", "mode", "scheme", "tenant_id", "token", "token_name")
_MANAGED_ONLY = ("token_name", "token_description")


class PendulaTokenError(ValueError):
    """A flow token cannot be built or managed; the message names the field, never a secret."""


class PendulaFlowTokenArgs(TypedDict):
    """Inputs of `PendulaFlowToken`."""

    flow_url: pulumi.Input[str]
    """The flow's webhook trigger POST URL, ``https://pendula.app/webhook/inbound/<uuid>``.
    A new URL replaces the resource."""
    mode: NotRequired[pulumi.Input[str]]
    """``provided`` (default): ``token`` comes from Pendula's UI. ``managed``: created via the API.
    A new mode replaces the resource."""
    scheme: NotRequired[pulumi.Input[str]]
    """``bearer`` (default): ``Bearer <token>``; ``basic``: ``Basic base64(<tenant_id>:<token>)``.
    Updates in place."""
    token: NotRequired[pulumi.Input[str]]
    """Provided mode only (required there): the Pendula API token. Made secret here."""
    tenant_id: NotRequired[pulumi.Input[str]]
    """Basic scheme: the Basic user name. Required in provided mode; in managed mode it
    defaults to the token's tenant and, when given, must equal it."""
    token_name: NotRequired[pulumi.Input[str]]
    """Managed mode: the token's name in Pendula. Defaults to the resource name. Ignored in
    provided mode."""
    token_description: NotRequired[pulumi.Input[str]]
    """Managed mode: the token's description in Pendula. Defaults to ``""``. Ignored in
    provided mode."""


@dataclass(frozen=True)
class _Endpoint:
    url: str
    token: str
    allowed_hosts: tuple[str, ...] = DEFAULT_PENDULA_HOSTS
    allow_loopback: bool = False

    def problem(self) -> str | None:
        """Why the admin token may not be sent to ``url`` (the stack config's own rule)."""
        problem = endpoint_problem(self.url, self.allowed_hosts, self.allow_loopback)
        return None if problem is None else f"{CONFIG_NAMESPACE}:{API_URL_KEY}: {problem}"


# Credentials live beside the provider, never on it: anything on the provider object is
# pickled into `__provider` and so into state (pulumi issue #8265).
_ENDPOINTS: weakref.WeakKeyDictionary[PendulaFlowTokenProvider, _Endpoint | None] = (
    weakref.WeakKeyDictionary()
)
# The stack's rule for URLs that receive a credential: (allowed Pendula hosts, sandbox).
_URL_RULES: weakref.WeakKeyDictionary[PendulaFlowTokenProvider, tuple[tuple[str, ...], bool]] = (
    weakref.WeakKeyDictionary()
)


class PendulaFlowTokenProvider(pulumi.dynamic.ResourceProvider):
    """Dynamic provider behind `PendulaFlowToken` (pickled by reference: keep it importable)."""

    def configure(self, req: pulumi.dynamic.ConfigureRequest) -> None:
        url = _config_value(req.config, API_URL_KEY)
        token = _config_value(req.config, API_TOKEN_KEY)
        _URL_RULES[self] = (_allowed_hosts(req.config), _sandbox(req.config))
        _ENDPOINTS[self] = (
            _Endpoint(url, token, _allowed_hosts(req.config), _sandbox(req.config))
            if url and token
            else None
        )

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        inputs, failures = _normalise(news)
        url = inputs.get("flow_url")
        rules = _URL_RULES.get(self)
        # The stack config's rule for the URL the flow's token is sent to, on the resource's
        # own inputs (a program other than ours may build them).
        if (
            isinstance(url, str)
            and rules is not None
            and not any(f.property == "flow_url" for f in failures)
            and (problem := endpoint_problem(url, rules[0], allow_loopback=rules[1]))
        ):
            failures.append(pulumi.dynamic.CheckFailure("flow_url", problem))
        endpoint = self._endpoint()
        if inputs.get("mode") == "managed" and endpoint is None:
            failures.append(
                pulumi.dynamic.CheckFailure(
                    "mode",
                    f"'managed' needs the Pendula token API: set {CONFIG_NAMESPACE}:{API_URL_KEY}"
                    f" and (as a secret) {CONFIG_NAMESPACE}:{API_TOKEN_KEY}",
                )
            )
        elif inputs.get("mode") == "managed" and endpoint is not None and endpoint.problem():
            failures.append(pulumi.dynamic.CheckFailure("mode", str(endpoint.problem())))
        return pulumi.dynamic.CheckResult(inputs, failures)

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        managed = olds.get("mode") == "managed"
        fields = [f for f in _INPUT_FIELDS if not (managed and f == "token")]
        if managed or news.get("mode") == "managed":
            fields.append("token_description")
        changed = [f for f in fields if _differs(olds, news, f)]
        replaces = [f for f in changed if f in REPLACING_FIELDS]
        if managed and olds.get("status") not in (None, "active"):
            replaces.append("status")
        return pulumi.dynamic.DiffResult(
            changes=bool(changed or replaces),
            replaces=replaces,
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        if props["mode"] != "managed":
            return pulumi.dynamic.CreateResult(f"provided-{_flow_id(props)}", _outputs(props))
        name, description = props["token_name"], props.get("token_description", "")
        prefix = create_key_prefix(props)
        with self._client() as api:
            # A create of this resource that an earlier run gave up on may have been finished
            # by the server afterwards: that token is active and unknown to the state.
            leftovers, unchecked = _leftovers(api, prefix, keep=None)
            created = api.create_token(name, description, key_prefix=prefix)
            wanted_tenant = props.get("tenant_id")
            if wanted_tenant is not None and wanted_tenant != created.info.tenant_id:
                # The header would be refused by Pendula; do not leave the token behind.
                api.deactivate_token(created.info.id)
                raise PendulaTokenError(
                    f"tenant_id: '{wanted_tenant}' is not the tenant of the Pendula API"
                    f" credential ('{created.info.tenant_id}');"
                    " leave tenant_id unset in managed mode"
                )
        if created.unidentified_orphans:
            # Shown by the engine under the stack's diagnostics (checked with the real CLI).
            pulumi.log.warn(
                f"Pendula token '{name}': an earlier attempt of this create may have made a "
                "token whose text never arrived, and the token API records no idempotency keys, "
                "so it cannot be told apart from other tokens and was left alone. Check the "
                "tenant's active tokens named like this one and deactivate the extra one."
            )
        _warn_leftovers(name, leftovers, unchecked)
        outs = _outputs(props, token=created.token, info=created.info)
        return pulumi.dynamic.CreateResult(created.info.id, outs)

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        if props.get("mode") != "managed":
            return pulumi.dynamic.ReadResult(id_, props)
        with self._client() as api:
            info = api.get_token(id_)
            # A refresh also finds a token that a timed-out attempt of this resource's create
            # made after the retry that succeeded (the state holds only the latter).
            leftovers, unchecked = _leftovers(api, create_key_prefix(props), keep=id_)
        _warn_leftovers(str(props.get("token_name", id_)), leftovers, unchecked)
        if info is None:
            return pulumi.dynamic.ReadResult(None, {})
        # Name, description and status as Pendula has them: a rename or deactivation made
        # out of band shows up as drift and the next update/replace corrects it.
        return pulumi.dynamic.ReadResult(id_, _outputs(props, token=props["token"], info=info))

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        if news["mode"] != "managed":
            return pulumi.dynamic.UpdateResult(_outputs(news))
        info = _info_from_outputs(id_, olds)
        name, description = news["token_name"], news.get("token_description", "")
        if (name, description) != (
            olds.get("token_name"),
            olds.get("token_description", ""),
        ):
            with self._client() as api:
                info = api.update_token(id_, name, description)
        wanted_tenant = news.get("tenant_id")
        if wanted_tenant is not None and wanted_tenant != info.tenant_id:
            raise PendulaTokenError(
                f"tenant_id: '{wanted_tenant}' is not the tenant of token {id_} "
                f"('{info.tenant_id}'); leave tenant_id unset in managed mode"
            )
        return pulumi.dynamic.UpdateResult(_outputs(news, token=olds["token"], info=info))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if props.get("mode") != "managed":
            return
        # No wait for the up-to-60-s propagation; an unknown token (404) is already gone.
        # Other failures raise so the token stays in state and a retry can deactivate it.
        with self._client() as api:
            api.deactivate_token(id_)

    def _endpoint(self) -> _Endpoint | None:
        env_url = os.environ.get(API_URL_ENV) or None
        token = os.environ.get(API_TOKEN_ENV) or None
        configured = _ENDPOINTS.get(self)
        url = env_url or (configured.url if configured else None)
        token = token or (configured.token if configured else None)
        if not (url and token):
            return None
        hosts = configured.allowed_hosts if configured else DEFAULT_PENDULA_HOSTS
        # A loopback URL is allowed for a sandbox stack, or when the operator set it in this
        # process's environment (tests, local runs): it never leaves the machine.
        loopback = bool(configured and configured.allow_loopback) or env_url is not None
        return _Endpoint(url, token, hosts, loopback)

    def _client(self) -> PendulaClient:
        endpoint = self._endpoint()
        if endpoint is None:
            raise PendulaTokenError(
                f"mode: 'managed' needs {CONFIG_NAMESPACE}:{API_URL_KEY} and "
                f"{CONFIG_NAMESPACE}:{API_TOKEN_KEY} (or {API_URL_ENV}/{API_TOKEN_ENV})"
            )
        # Defence in depth: the stack config refuses such a URL already, but the admin token
        # is never sent anywhere the config's rule would not allow, whoever set the URL.
        if problem := endpoint.problem():
            raise PendulaTokenError(problem)
        timeout = float(os.environ.get(TIMEOUT_ENV) or RetryPolicy.read_timeout)
        return PendulaClient(endpoint.url, endpoint.token, RetryPolicy(read_timeout=timeout))


class PendulaFlowToken(pulumi.dynamic.Resource, module="pendula", name="FlowToken"):
    """The credential of one Pendula flow's webhook trigger, as an Authorization header value.

    Type token ``pulumi-python:dynamic/pendula:FlowToken``. ``authorization`` is secret; use
    ``fingerprint`` in reviews to see that a credential changed without seeing it.
    """

    authorization: pulumi.Output[str]
    """Full Authorization header value (``Bearer …`` / ``Basic …``). Secret."""
    fingerprint: pulumi.Output[str]
    """First 12 hex digits of sha256(authorization): changes exactly when the header changes."""
    scheme: pulumi.Output[str]
    flow_url: pulumi.Output[str]
    flow_id: pulumi.Output[str]
    """The UUID in ``flow_url``."""
    token_id: pulumi.Output[str | None]
    """Managed mode: Pendula's token id. None in provided mode."""
    status: pulumi.Output[str | None]
    """Managed mode: ``active`` or ``inactive`` (as of the last create/update/refresh)."""

    def __init__(
        self,
        resource_name: str,
        args: PendulaFlowTokenArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        token = args.get("token")
        props: dict[str, Any] = {
            "flow_url": args["flow_url"],
            "mode": args.get("mode", "provided"),
            "scheme": args.get("scheme", "bearer"),
            "token": None if token is None else pulumi.Output.secret(token),
            "tenant_id": args.get("tenant_id"),
            "token_name": args.get("token_name", resource_name),
            "token_description": args.get("token_description"),
            # Computed outputs must be present (as None) to become attributes.
            "authorization": None,
            "fingerprint": None,
            "flow_id": None,
            "token_id": None,
            "status": None,
        }
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        super().__init__(
            PendulaFlowTokenProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret_opts),
        )
        # additional_secret_outputs is applied by the engine only; this keeps the header
        # secret in every program, mocks included.
        self.authorization = pulumi.Output.secret(self.authorization)


def create_key_prefix(props: Mapping[str, Any]) -> str:
    """The stable start of every ``Idempotency-Key`` this resource's creates send.

    Derived from what identifies the token resource across runs, its flow URL and token name
    (a flow URL belongs to one stack, and a flow's token name is unique in it); a replace
    changes the flow URL, so it never matches the token it replaces. Opaque: a hash.
    """
    identity = f"{props.get('flow_url', '')}\n{props.get('token_name', '')}"
    return "spt-" + hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24]


def _leftovers(
    api: PendulaClient, prefix: str, keep: str | None
) -> tuple[tuple[str, ...], str | None]:
    """Leftover tokens deactivated, or why they could not be looked for.

    Best effort: when the token API fails here, the create (or read) that follows reports
    its own failure, which is the one worth reading; after a success, a warning says the
    check could not run.
    """
    try:
        return api.deactivate_leftovers(prefix, keep=keep), None
    except (PendulaApiError, KeyError, TypeError, ValueError) as exc:
        return (), str(exc) or type(exc).__name__


def _warn_leftovers(name: str, leftovers: tuple[str, ...], unchecked: str | None) -> None:
    # Shown by the engine under the stack's diagnostics.
    if leftovers:
        pulumi.log.warn(
            f"Pendula token '{name}': an earlier create of this token timed out but the token "
            f"API finished it afterwards; that token ({', '.join(leftovers)}) was active "
            "without being in the stack's state, and has been deactivated so only one token "
            "stays active."
        )
    if unchecked is not None:
        pulumi.log.warn(
            f"Pendula token '{name}': could not look for a token an earlier timed-out create "
            f"may have left active ({unchecked}); the next `pulumi up` or refresh looks again."
        )


def authorization_header(scheme: str, token: str, tenant_id: str | None = None) -> str:
    """The Authorization value Pendula accepts (pendula.md §1.2)."""
    if scheme == "bearer":
        return f"Bearer {token}"
    if tenant_id is None:
        raise PendulaTokenError("tenant_id: required with scheme 'basic' (the Basic user name)")
    credentials = base64.b64encode(f"{tenant_id}:{token}".encode("ascii")).decode("ascii")
    return f"Basic {credentials}"


def fingerprint(authorization: str) -> str:
    """A short, non-secret digest of a header value, so reviews show that it rotated."""
    return hashlib.sha256(authorization.encode("ascii")).hexdigest()[:FINGERPRINT_LENGTH]


# -- pure helpers ---------------------------------------------------------------------------


def _normalise(
    news: Mapping[str, Any],
) -> tuple[dict[str, Any], list[pulumi.dynamic.CheckFailure]]:
    """Validated, normalised inputs (unknowns passed through) and one failure per bad field."""
    failures: list[pulumi.dynamic.CheckFailure] = []

    def fail(field: str, reason: str) -> None:
        failures.append(pulumi.dynamic.CheckFailure(field, reason))

    inputs: dict[str, Any] = {k: v for k, v in news.items() if v is not None}
    for field, allowed in (("mode", MODES), ("scheme", SCHEMES)):
        value = inputs.setdefault(field, allowed[0])
        if isinstance(value, Unknown):
            continue
        if not isinstance(value, str) or value.strip().lower() not in allowed:
            fail(field, f"{value!r} is not allowed (allowed: {', '.join(allowed)})")
        else:
            inputs[field] = value.strip().lower()
    mode, scheme = inputs["mode"], inputs["scheme"]

    url = inputs.get("flow_url")
    if url is None:
        fail("flow_url", "required: the flow's webhook trigger POST URL")
    elif not isinstance(url, Unknown):
        problem = _url_problem(url)
        if problem:
            fail("flow_url", problem)
        else:
            inputs["flow_url"] = _normalise_url(url)

    token = inputs.get("token")
    if mode == "managed":
        if token is not None:
            fail(
                "token",
                "not allowed with mode 'managed' (Pendula's API creates the token)",
            )
        inputs.setdefault("token_description", "")
        for field in ("token_name", "token_description"):
            value = inputs.get(field)
            if value is None and field == "token_name":
                fail(field, "required with mode 'managed'")
            elif isinstance(value, str):
                # Pendula trims both (as its UI does); trimming here keeps diffs quiet.
                inputs[field] = value.strip()
                check = (
                    validators.token_name_problem
                    if field == "token_name"
                    else validators.token_description_problem
                )
                if problem := check(value):
                    fail(field, problem)
            elif not isinstance(value, Unknown):
                fail(field, f"{value!r} is not a string")
    else:
        for field in _MANAGED_ONLY:
            inputs.pop(field, None)
        if token is None:
            fail(
                "token",
                "required with mode 'provided' (the API token from Pendula's UI)",
            )
        elif not isinstance(token, Unknown) and (problem := validators.token_text_problem(token)):
            fail("token", problem)

    tenant = inputs.get("tenant_id")
    if scheme == "bearer" and tenant is not None:
        fail("tenant_id", f"{tenant!r} is only used with scheme 'basic'")
    elif scheme == "basic" and tenant is None and mode == "provided":
        fail(
            "tenant_id",
            "required with scheme 'basic' (the Basic user name, the tenant id)",
        )
    elif (
        tenant is not None
        and not isinstance(tenant, Unknown)
        and (problem := validators.tenant_id_problem(tenant))
    ):
        fail("tenant_id", problem)
    return inputs, failures


def _outputs(
    inputs: Mapping[str, Any], token: str | None = None, info: TokenInfo | None = None
) -> dict[str, Any]:
    """Full outputs: the inputs plus everything computed (never partial: see DESIGN traps)."""
    token = token if token is not None else inputs["token"]
    outs = {k: v for k, v in inputs.items() if k != "__provider"}
    if info is not None:
        outs.update(
            token_id=info.id,
            status=info.status,
            # Kept whatever the scheme, so a later switch to basic needs no API call.
            tenant_id=info.tenant_id,
            token_name=info.name,
            token_description=info.description,
        )
    else:
        outs.update(token_id=None, status=None)
    if not _is_header_safe(token):
        raise PendulaTokenError("token: Pendula returned a token that is not visible ASCII")
    header = authorization_header(outs["scheme"], token, outs.get("tenant_id"))
    outs.update(
        token=token,
        authorization=header,
        fingerprint=fingerprint(header),
        flow_id=_flow_id(inputs),
    )
    return outs


def _info_from_outputs(id_: str, outs: Mapping[str, Any]) -> TokenInfo:
    return TokenInfo(
        id=id_,
        name=str(outs.get("token_name", "")),
        description=str(outs.get("token_description", "")),
        status=str(outs.get("status") or "active"),
        tenant_id=str(outs.get("tenant_id") or ""),
        created_at="",
    )


def _differs(olds: Mapping[str, Any], news: Mapping[str, Any], field: str) -> bool:
    new = news.get(field)
    if isinstance(new, Unknown):
        return True
    old = olds.get(field)
    if field == "token_description":
        return (old or "") != (new or "")
    if field == "tenant_id" and olds.get("mode") == "managed" and new is None:
        return False  # managed mode fills it from the token's tenant
    return bool(old != new)


def _url_problem(url: Any) -> str | None:
    if not isinstance(url, str):
        return f"{url!r} is not a string"
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    # The host allowlist is the stack config's and the policy's business; a token resource
    # only refuses to send its credential in clear text off this machine.
    if not (parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)):
        return f"'{shown(url)}' must be https (http only on 127.0.0.1/localhost, for the sandbox)"
    problem = shape_problem(url)
    return f"'{shown(url)}' {problem}" if problem else None


def _normalise_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", ""))


def _flow_id(inputs: Mapping[str, Any]) -> str:
    try:
        return flow_id(inputs["flow_url"])
    except ValueError as exc:
        raise PendulaTokenError(f"flow_url: {exc}") from None


def _is_header_safe(value: Any) -> bool:
    return isinstance(value, str) and bool(_VISIBLE_ASCII.fullmatch(value))


def _config_value(config: pulumi.dynamic.Config, key: str) -> str | None:
    # The engine sends dynamic providers the whole stack config, namespaced; accept the
    # project's own namespace too, for programs that reuse the component under another name.
    value = config.get(f"{CONFIG_NAMESPACE}:{key}") or config.get(key)
    return str(value) if value else None


def _allowed_hosts(config: pulumi.dynamic.Config) -> tuple[str, ...]:
    """``allowedPendulaHosts`` as the engine passes it (JSON text), else the default.

    A value that is set but not a list of host names is kept as given, so ``endpoint_problem``
    (``components.guards.endpoints.host_list_problem``) refuses it rather than a default
    replacing it.
    """
    raw = _config_value(config, ALLOWED_HOSTS_KEY)
    if not raw:
        return DEFAULT_PENDULA_HOSTS
    try:
        hosts = json.loads(raw)
    except ValueError:
        return (raw,)
    if isinstance(hosts, list):
        return tuple(h.lower() if isinstance(h, str) else repr(h) for h in hosts)
    return (raw,)


def _sandbox(config: pulumi.dynamic.Config) -> bool:
    return (_config_value(config, SANDBOX_KEY) or "").strip().lower() == "true"
