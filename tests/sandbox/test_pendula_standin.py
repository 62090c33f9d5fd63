"""The Pendula stand-in over real HTTP: tenants, the token API, flows and the webhook trigger."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.pendula.ratelimit import RateLimiter
from sandbox.server import SandboxServer
from sandbox.settings import SandboxSettings

TIMEOUT = 10


class Tenant:
    """A tenant of a running stand-in, with helpers that call the API as that tenant."""

    def __init__(self, server: SandboxServer) -> None:
        response = requests.post(f"{server.url}/_sandbox/pendula/tenants", json={}, timeout=TIMEOUT)
        assert response.status_code == 201, response.text
        self.server = server
        self.id: str = response.json()["tenant_id"]
        self.admin_token: str = response.json()["admin_token"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, f"{self.server.url}{path}", headers=self.headers, timeout=TIMEOUT, **kwargs
        )

    def token(self, name: str = "segment", description: str = "") -> dict[str, Any]:
        response = self.call(
            "POST", "/api/v1/tokens", json={"name": name, "description": description}
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def flow(self, name: str = "welcome", state: str | None = None) -> dict[str, Any]:
        body = {"name": name} if state is None else {"name": name, "state": state}
        response = self.call("POST", "/api/v1/flows", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def experiences(self, flow_id: str, **params: Any) -> dict[str, Any]:
        response = self.call("GET", f"/api/v1/flows/{flow_id}/experiences", params=params)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(tenant_id: str, token: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{tenant_id}:{token}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def trigger(flow: dict[str, Any], headers: dict[str, str], body: Any = None) -> requests.Response:
    """POST a JSON event (a small track event unless `body` is given) to the flow's trigger."""
    event = {"event": "Signed Up", "userId": "SA-1"} if body is None else body
    return requests.post(flow["webhook_url"], headers=headers, json=event, timeout=TIMEOUT)


def error_of(response: requests.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


@pytest.fixture
def tenant(sandbox: SandboxServer) -> Tenant:
    return Tenant(sandbox)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    """Start sandboxes with custom settings on one db file; every one is stopped afterwards."""
    started: list[SandboxServer] = []

    def start(**overrides: Any) -> SandboxServer:
        settings = SandboxSettings(db_path=tmp_path / "sandbox.sqlite3", **overrides)
        server = SandboxServer(settings).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# --- tenants and management authentication -------------------------------------------------


def test_each_tenant_gets_its_own_id_and_admin_token(sandbox: SandboxServer) -> None:
    first, second = Tenant(sandbox), Tenant(sandbox)
    assert str(uuid.UUID(first.id)) == first.id
    assert first.id != second.id
    assert first.admin_token.startswith("pdla_") and first.admin_token != second.admin_token


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing Authorization header; send 'Authorization: Bearer <admin token>'"),
        (
            {"Authorization": "Basic Zm9vOmJhcg=="},
            "the management API accepts only 'Authorization: Bearer <admin token>'",
        ),
        ({"Authorization": "Bearer pdla_wrong"}, "the admin token is not valid for any tenant"),
    ],
)
def test_management_calls_without_a_valid_admin_token_get_401(
    sandbox: SandboxServer, headers: dict[str, str], message: str
) -> None:
    response = requests.get(f"{sandbox.url}/api/v1/tokens", headers=headers, timeout=TIMEOUT)
    assert error_of(response) == (401, "unauthorized", message)


def test_an_api_token_is_not_an_admin_token(tenant: Tenant) -> None:
    api_token = tenant.token()["token"]
    response = requests.get(
        f"{tenant.server.url}/api/v1/tokens", headers=bearer(api_token), timeout=TIMEOUT
    )
    assert response.status_code == 401
    assert api_token not in response.text


# --- tokens --------------------------------------------------------------------------------


def test_create_token_shows_the_token_once(tenant: Tenant) -> None:
    created = tenant.token("Segment prod", "events from Segment")
    assert set(created) == {
        "id",
        "name",
        "description",
        "status",
        "tenant_id",
        "created_at",
        "idempotency_key",
        "token",
    }
    assert created["idempotency_key"] is None  # none was sent
    assert (created["name"], created["description"], created["status"], created["tenant_id"]) == (
        "Segment prod",
        "events from Segment",
        "active",
        tenant.id,
    )
    assert created["token"].startswith("pdl_") and len(created["token"]) > 40
    fetched = tenant.call("GET", f"/api/v1/tokens/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == {k: v for k, v in created.items() if k != "token"}
    listed = tenant.call("GET", "/api/v1/tokens")
    assert created["token"] not in fetched.text + listed.text


def test_tokens_list_the_idempotency_key_they_were_created_with(tenant: Tenant) -> None:
    """What lets a client whose create answer was lost find exactly its own token."""
    created = requests.post(
        f"{tenant.server.url}/api/v1/tokens",
        json={"name": "t"},
        headers={**tenant.headers, "Idempotency-Key": "key-1"},
        timeout=TIMEOUT,
    ).json()
    assert created["idempotency_key"] == "key-1"
    listed = tenant.call("GET", "/api/v1/tokens").json()["items"]
    assert [t["idempotency_key"] for t in listed if t["id"] == created["id"]] == ["key-1"]


def test_token_description_defaults_to_empty_and_names_are_trimmed(tenant: Tenant) -> None:
    response = tenant.call("POST", "/api/v1/tokens", json={"name": "  padded  "})
    assert response.status_code == 201
    assert (response.json()["name"], response.json()["description"]) == ("padded", "")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "body.name: Field required"),
        ({"name": "   "}, "body.name: String should have at least 1 character"),
        ({"name": "x" * 101}, "body.name: String should have at most 100 characters"),
        (
            {"name": "a", "scope": "flow"},
            "body: Value error, unknown field(s) scope; accepted fields: name, description",
        ),
    ],
)
def test_create_token_rejects_bad_bodies_naming_the_field(
    tenant: Tenant, body: dict[str, Any], message: str
) -> None:
    response = tenant.call("POST", "/api/v1/tokens", json=body)
    assert error_of(response) == (422, "validation_error", message)


def test_unknown_and_foreign_tokens_are_404(sandbox: SandboxServer) -> None:
    owner, stranger = Tenant(sandbox), Tenant(sandbox)
    token_id = owner.token()["id"]
    for path in (f"/api/v1/tokens/{token_id}", "/api/v1/tokens/no-such-token"):
        wanted_id = path.rsplit("/", 1)[1]
        for method, body in (("GET", None), ("PATCH", {"name": "x"})):
            response = stranger.call(method, path, json=body)
            assert error_of(response) == (404, "not_found", f"token {wanted_id!r} does not exist")
        for action in ("deactivate", "reactivate"):
            response = stranger.call("POST", f"{path}/{action}")
            assert response.status_code == 404
    assert owner.call("GET", f"/api/v1/tokens/{token_id}").json()["status"] == "active"


def test_list_tokens_pages_with_a_cursor_in_creation_order(sandbox: SandboxServer) -> None:
    tenant, other = Tenant(sandbox), Tenant(sandbox)
    created = [tenant.token(f"token-{i}")["id"] for i in range(5)]
    other.token("not mine")
    seen: list[str] = []
    page_sizes = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = tenant.call("GET", "/api/v1/tokens", params=params).json()
        assert all("token" not in item for item in page["items"])
        seen += [item["id"] for item in page["items"]]
        page_sizes.append(len(page["items"]))
        if page["next_cursor"] is None:
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert seen == created
    assert page_sizes == [2, 2, 1]


def test_list_tokens_default_page_holds_everything_small(tenant: Tenant) -> None:
    ids = [tenant.token(f"t{i}")["id"] for i in range(3)]
    page = tenant.call("GET", "/api/v1/tokens").json()
    assert [item["id"] for item in page["items"]] == ids
    assert page["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "query.limit: must be between 1 and 100, got 0"),
        ({"limit": 101}, "query.limit: must be between 1 and 100, got 101"),
        (
            {"limit": "many"},
            "query.limit: Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            {"cursor": "bogus"},
            "query.cursor: 'bogus' is not a cursor returned by this API;"
            " pass the previous page's next_cursor, or omit it for the first page",
        ),
    ],
)
def test_list_tokens_rejects_bad_paging_parameters(
    tenant: Tenant, params: dict[str, Any], message: str
) -> None:
    response = tenant.call("GET", "/api/v1/tokens", params=params)
    assert error_of(response) == (422, "validation_error", message)


def test_patch_edits_only_name_and_description(tenant: Tenant) -> None:
    token = tenant.token("old", "old text")
    path = f"/api/v1/tokens/{token['id']}"
    renamed = tenant.call("PATCH", path, json={"name": "new"})
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["description"]) == ("new", "old text")
    described = tenant.call("PATCH", path, json={"description": "new text"})
    assert (described.json()["name"], described.json()["description"]) == ("new", "new text")
    assert tenant.call("GET", path).json() == described.json()
    assert error_of(tenant.call("PATCH", path, json={"status": "inactive"})) == (
        422,
        "validation_error",
        "body: Value error, unknown field(s) status; accepted fields: name, description",
    )
    assert error_of(tenant.call("PATCH", path, json={"name": None})) == (
        422,
        "validation_error",
        "body.name: Value error, must be a string; omit the field to leave it unchanged",
    )
    assert tenant.call("GET", path).json()["status"] == "active"


def test_deactivate_is_202_and_idempotent_and_reactivate_restores(tenant: Tenant) -> None:
    token = tenant.token()
    flow = tenant.flow()
    path = f"/api/v1/tokens/{token['id']}"
    for _ in range(2):
        response = tenant.call("POST", f"{path}/deactivate")
        assert response.status_code == 202
        assert response.json()["status"] == "inactive"
    assert error_of(trigger(flow, bearer(token["token"]))) == (
        401,
        "unauthorized",
        "the API token has been deactivated",
    )
    reactivated = tenant.call("POST", f"{path}/reactivate")
    assert reactivated.status_code == 200
    assert reactivated.json()["status"] == "active"
    assert trigger(flow, bearer(token["token"])).status_code == 202


def test_deactivation_takes_effect_after_the_configured_delay(server_factory: Any) -> None:
    server = server_factory(token_deactivation_delay_seconds=1.0)
    tenant = Tenant(server)
    token, flow = tenant.token(), tenant.flow()
    deactivated = tenant.call("POST", f"/api/v1/tokens/{token['id']}/deactivate")
    assert deactivated.json()["status"] == "inactive"
    assert trigger(flow, bearer(token["token"])).status_code == 202
    time.sleep(1.1)
    assert trigger(flow, bearer(token["token"])).status_code == 401


# --- flows ---------------------------------------------------------------------------------


def test_create_flow_defaults_to_active_with_a_webhook_url_on_this_server(tenant: Tenant) -> None:
    flow = tenant.flow("Welcome journey")
    assert set(flow) == {"id", "name", "state", "webhook_url"}
    assert (flow["name"], flow["state"]) == ("Welcome journey", "active")
    assert str(uuid.UUID(flow["id"])) == flow["id"]
    assert flow["webhook_url"] == f"{tenant.server.url}/webhook/inbound/{flow['id']}"
    assert tenant.call("GET", f"/api/v1/flows/{flow['id']}").json() == flow


def test_flows_of_other_tenants_are_404(sandbox: SandboxServer) -> None:
    flow = Tenant(sandbox).flow()
    stranger = Tenant(sandbox)
    for method, path, body in (
        ("GET", f"/api/v1/flows/{flow['id']}", None),
        ("PATCH", f"/api/v1/flows/{flow['id']}", {"state": "terminated"}),
        ("GET", f"/api/v1/flows/{flow['id']}/experiences", None),
    ):
        response = stranger.call(method, path, json=body)
        assert error_of(response) == (404, "not_found", f"flow {flow['id']!r} does not exist")


def test_flow_lifecycle_follows_pendula(tenant: Tenant) -> None:
    flow = tenant.flow(state="draft")
    path = f"/api/v1/flows/{flow['id']}"
    moves = [("active", 200), ("draining", 200), ("active", 409), ("terminated", 200)]
    for state, status in moves:
        assert tenant.call("PATCH", path, json={"state": state}).status_code == status
    assert error_of(tenant.call("PATCH", path, json={"state": "active"})) == (
        409,
        "invalid_state_transition",
        f"flow {flow['id']!r} is terminated and cannot become active;"
        " it can become: nothing (it is final)",
    )
    assert tenant.call("GET", path).json()["state"] == "terminated"


def test_flow_state_must_be_one_of_pendulas(tenant: Tenant) -> None:
    response = tenant.call("POST", "/api/v1/flows", json={"name": "f", "state": "paused"})
    assert error_of(response) == (
        422,
        "validation_error",
        "body.state: Input should be 'draft', 'active', 'draining' or 'terminated'",
    )


# --- the webhook trigger -------------------------------------------------------------------


def test_bearer_call_starts_an_experience_with_the_body_and_redacted_headers(
    tenant: Tenant,
) -> None:
    token, flow = tenant.token(), tenant.flow()
    event = {"type": "track", "event": "Signed Up", "userId": "SA-1", "properties": {"n": 1}}
    response = trigger(flow, bearer(token["token"]), event)
    assert response.status_code == 202
    experience_id = response.json()["experience_id"]
    page = tenant.experiences(flow["id"])
    assert page["next_cursor"] is None
    [experience] = page["items"]
    assert experience["id"] == experience_id
    assert experience["body"] == event
    assert (experience["auth_scheme"], experience["token_id"]) == ("bearer", token["id"])
    assert experience["headers"]["authorization"] == "Bearer [REDACTED]"
    assert experience["headers"]["content-type"] == "application/json"
    assert experience["custom_context"] is None
    assert token["token"] not in str(page)


def test_basic_call_with_tenant_id_and_token_is_accepted(tenant: Tenant) -> None:
    token, flow = tenant.token(), tenant.flow()
    assert trigger(flow, basic(tenant.id, token["token"])).status_code == 202
    [experience] = tenant.experiences(flow["id"])["items"]
    assert experience["auth_scheme"] == "basic"
    assert experience["headers"]["authorization"] == "Basic [REDACTED]"


def test_tokens_work_only_for_flows_of_their_own_tenant(sandbox: SandboxServer) -> None:
    owner, other = Tenant(sandbox), Tenant(sandbox)
    flow = owner.flow()
    foreign = other.token()["token"]
    mine = owner.token()["token"]
    assert error_of(trigger(flow, bearer(foreign))) == (
        401,
        "unauthorized",
        "the API token belongs to a different tenant than this flow",
    )
    assert error_of(trigger(flow, basic(other.id, mine))) == (
        401,
        "unauthorized",
        "the Basic user name is not the tenant ID of this API token",
    )
    assert owner.experiences(flow["id"])["items"] == []


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {},
            "missing Authorization header; send 'Bearer <API token>' or"
            " 'Basic base64(<tenant id>:<API token>)'",
        ),
        ({"Authorization": "Bearer pdl_unknown"}, "the API token is not valid"),
        (
            {"Authorization": "Token abc"},
            "unsupported Authorization scheme; use 'Bearer <API token>' or"
            " 'Basic base64(<tenant id>:<API token>)'",
        ),
        (
            {"Authorization": "Basic !!!"},
            "Basic credentials are not valid base64 of '<tenant id>:<API token>'",
        ),
        (
            {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
            "Basic credentials must be '<tenant id>:<API token>'",
        ),
    ],
)
def test_bad_credentials_get_401(tenant: Tenant, headers: dict[str, str], message: str) -> None:
    flow = tenant.flow()
    assert error_of(trigger(flow, headers)) == (401, "unauthorized", message)


def test_unknown_flow_is_404(tenant: Tenant) -> None:
    token = tenant.token()["token"]
    missing = str(uuid.uuid4())
    flow = {"webhook_url": f"{tenant.server.url}/webhook/inbound/{missing}"}
    assert error_of(trigger(flow, bearer(token))) == (
        404,
        "not_found",
        f"no webhook trigger at flow {missing!r}: this sandbox was started without --seed; "
        "seed it from the sandbox stack file (idempotent, while it runs): "
        "venv/bin/python -m sandbox --seed stacks/Pulumi.local.yaml --seed-only",
    )


@pytest.mark.parametrize(
    ("content_type", "data", "message"),
    [
        ("text/plain", b'{"a": 1}', "Content-Type must be application/json, got 'text/plain'"),
        (None, b'{"a": 1}', "Content-Type must be application/json, got 'none'"),
    ],
)
def test_non_json_requests_get_415(
    tenant: Tenant, content_type: str | None, data: bytes, message: str
) -> None:
    token, flow = tenant.token()["token"], tenant.flow()
    headers = bearer(token) | ({} if content_type is None else {"Content-Type": content_type})
    response = requests.post(flow["webhook_url"], data=data, headers=headers, timeout=TIMEOUT)
    assert error_of(response) == (415, "unsupported_media_type", message)


def test_invalid_json_with_a_json_media_type_gets_400(tenant: Tenant) -> None:
    token, flow = tenant.token()["token"], tenant.flow()
    headers = bearer(token) | {"Content-Type": "application/json"}
    response = requests.post(
        flow["webhook_url"], data=b"{not json", headers=headers, timeout=TIMEOUT
    )
    assert error_of(response) == (
        400,
        "invalid_json",
        "the request body is not valid JSON:"
        " Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    )


@pytest.mark.parametrize("state", ["draft", "draining", "terminated"])
def test_flows_that_are_not_active_answer_409(tenant: Tenant, state: str) -> None:
    token = tenant.token()["token"]
    flow = tenant.flow(state=state)
    assert error_of(trigger(flow, bearer(token))) == (
        409,
        "flow_not_active",
        f"flow {flow['id']!r} is {state}; only active flows start experiences",
    )
    assert tenant.experiences(flow["id"])["items"] == []


@pytest.mark.parametrize(
    ("header", "recorded"),
    [
        ('{"customKey1": "value1", "n": 2}', {"customKey1": "value1", "n": 2}),
        ("this-is-a-custom-context-value", "this-is-a-custom-context-value"),
        ("[1, 2]", "[1, 2]"),
    ],
)
def test_custom_context_is_an_object_when_json_else_the_string(
    tenant: Tenant, header: str, recorded: Any
) -> None:
    token, flow = tenant.token()["token"], tenant.flow()
    headers = bearer(token) | {"X-PENDULA-CUSTOM-CONTEXT": header}
    assert trigger(flow, headers).status_code == 202
    [experience] = tenant.experiences(flow["id"])["items"]
    assert experience["custom_context"] == recorded


def test_experiences_page_with_a_cursor(tenant: Tenant) -> None:
    token, flow = tenant.token()["token"], tenant.flow()
    sent = [trigger(flow, bearer(token), {"i": i}).json()["experience_id"] for i in range(3)]
    first = tenant.experiences(flow["id"], limit=2)
    second = tenant.experiences(flow["id"], limit=2, cursor=first["next_cursor"])
    assert [e["id"] for e in first["items"] + second["items"]] == sent
    assert [e["body"] for e in second["items"]] == [{"i": 2}]
    assert second["next_cursor"] is None


def test_rate_limit_per_flow_answers_429_with_retry_after(server_factory: Any) -> None:
    server = server_factory(pendula_flow_rate_per_second=2)
    tenant = Tenant(server)
    token = tenant.token()["token"]
    busy, quiet = tenant.flow("busy"), tenant.flow("quiet")
    statuses = [trigger(busy, bearer(token)).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    limited = trigger(busy, bearer(token))
    assert error_of(limited) == (
        429,
        "rate_limited",
        f"flow {busy['id']!r} accepts at most 2 requests per second; retry after 1 s",
    )
    assert limited.headers["Retry-After"] == "1"
    assert trigger(quiet, bearer(token)).status_code == 202
    time.sleep(1.0)
    assert trigger(busy, bearer(token)).status_code == 202
    assert len(tenant.experiences(busy["id"])["items"]) == 3


@pytest.mark.parametrize(("elapsed", "wait"), [(0.0, 1), (0.1, 1), (0.5, None)])
def test_rate_limiter_refills_and_rounds_retry_after_up(elapsed: float, wait: int | None) -> None:
    now = [100.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.acquire("flow"), limiter.acquire("flow")] == [None, None]
    now[0] += elapsed  # 2 requests/s: half a second refills exactly one request
    assert limiter.acquire("flow") == wait
    assert limiter.acquire("other flow") is None


def test_rate_limiter_slow_rate_waits_several_seconds() -> None:
    limiter = RateLimiter(0.25, clock=lambda: 0.0)
    assert limiter.acquire("flow") is None  # a burst of at least one request
    assert limiter.acquire("flow") == 4  # a quarter request per second: 4 s to the next one


def test_rate_limiter_rejects_non_positive_rates() -> None:
    with pytest.raises(ValueError, match="rate must be a positive number of requests per second"):
        RateLimiter(0)


# --- persistence ---------------------------------------------------------------------------


def test_state_survives_a_restart_and_credentials_are_stored_only_as_hashes(
    server_factory: Any, tmp_path: Path
) -> None:
    first = server_factory()
    tenant = Tenant(first)
    token, flow = tenant.token("kept"), tenant.flow("kept")
    experience_id = trigger(flow, bearer(token["token"]), {"before": "restart"}).json()[
        "experience_id"
    ]
    first.stop()

    second = server_factory()
    tenant.server = second
    assert second.port != first.port
    fetched = tenant.call("GET", f"/api/v1/tokens/{token['id']}")
    assert fetched.json()["name"] == "kept"
    moved_flow = tenant.call("GET", f"/api/v1/flows/{flow['id']}").json()
    assert moved_flow["webhook_url"] == f"{second.url}/webhook/inbound/{flow['id']}"
    assert trigger(moved_flow, bearer(token["token"]), {"after": "restart"}).status_code == 202
    items = tenant.experiences(flow["id"])["items"]
    assert [e["body"] for e in items] == [{"before": "restart"}, {"after": "restart"}]
    assert items[0]["id"] == experience_id
    second.stop()

    stored = b"".join(path.read_bytes() for path in tmp_path.glob("sandbox.sqlite3*"))
    assert b"kept" in stored  # proves the search looks at the real data
    for secret in (token["token"], tenant.admin_token):
        assert secret.encode() not in stored
