"""Failures under the real engine: bad config stops before any API call; a token API that
fails during `up` leaves no orphan, and the next `up` finishes the job with exactly one token."""

from __future__ import annotations

import time

import pytest
import requests
from pulumi import automation as auto

from tests.engine.conftest import Sandbox
from tests.engine.programs import flow_tokens
from tests.engine.support import (
    SECRET_KEYS,
    TOKEN_TYPE,
    WELCOME,
    MakeProject,
    assert_no_secret_anywhere,
    authorizations,
)
from tests.pendula.fake_token_api import FakeTokenApi


def test_bad_config_fails_the_update_before_any_api_call_naming_the_key(
    engine_project: MakeProject, sandbox_stack: Sandbox
) -> None:
    config = sandbox_stack.config
    flows = config["segment-pendula:destinations"][0]["flows"]
    flows[2]["token"]["tenantId"] = "bad tenant\r\nX-Injected: 1"
    project = engine_project(flow_tokens)
    project.write_stack_config(config, SECRET_KEYS)
    before = sandbox_stack.last_seq()

    with pytest.raises(auto.CommandError) as failed:
        project.up()

    message = str(failed.value)
    assert "segment-pendula:destinations[0].flows[2].token.tenantId" in message
    assert sandbox_stack.requests_since(before) == [], "no API call on bad input"
    assert project.resources(TOKEN_TYPE) == [], "nothing half-created"
    assert_no_secret_anywhere(
        project,
        [
            sandbox_stack.config["segment-pendula:pendulaApiToken"],
            "sandbox-provided-token-upgrade-nudge",
        ],
    )


def test_a_failing_token_api_leaves_no_orphan_and_the_next_up_completes(
    engine_project: MakeProject, sandbox_stack: Sandbox
) -> None:
    project = engine_project(flow_tokens)
    project.write_stack_config(sandbox_stack.config, SECRET_KEYS)
    # Every try of the client's create fails (5 attempts; components.pendula.client.RetryPolicy).
    armed = requests.post(
        f"{sandbox_stack.url}/_sandbox/faults",
        json={"path_prefix": "/api/v1/tokens", "method": "POST", "count": 5, "status": 503},
        timeout=10,
    )
    assert armed.status_code < 300, armed.text

    with pytest.raises(auto.CommandError) as failed:
        project.up()

    assert "503" in str(failed.value)
    assert sandbox_stack.tokens() == [], "no token was made, so none can be orphaned"
    names = {r["urn"].rsplit("::", 1)[1] for r in project.resources(TOKEN_TYPE)}
    assert WELCOME not in names, "the failed create is not in state"

    before = sandbox_stack.last_seq()
    result = project.up()

    assert result.summary.resource_changes is not None
    assert result.summary.resource_changes.get("create") == 1
    assert sandbox_stack.writes_since(before) == [("POST", "/api/v1/tokens")]
    (token,) = sandbox_stack.tokens()
    assert token["status"] == "active"
    assert authorizations(project)[WELCOME].startswith("Bearer ")
    project.preview(expect_no_changes=True)


def test_a_create_the_token_api_finished_late_is_deactivated_by_the_next_up(
    engine_project: MakeProject, sandbox_stack: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every try of the create times out, and the token API finishes each one afterwards:
    the first `up` fails with tokens nobody holds; the next `up` finds them by their
    idempotency key, deactivates them with a warning, and leaves exactly one active token."""
    monkeypatch.setenv("PENDULA_API_TIMEOUT_SECONDS", "0.5")
    attempts = 5  # components.pendula.client.RetryPolicy
    with FakeTokenApi(["late"] * attempts, late_seconds=1.0) as fake:
        config = sandbox_stack.config
        config["segment-pendula:pendulaApiUrl"] = fake.url
        project = engine_project(flow_tokens)
        project.write_stack_config(config, SECRET_KEYS)

        with pytest.raises(auto.CommandError) as failed:
            project.up()
        assert "timed out" in str(failed.value)
        deadline = time.monotonic() + 10
        while len(fake.tokens) < attempts and time.monotonic() < deadline:
            time.sleep(0.05)
        # The client's sweep after its last try deactivated what had been created by then;
        # the last try's token was finished after it, and nobody holds it.
        late = {t["id"] for t in fake.tokens.values() if t["status"] == "active"}
        assert len(fake.tokens) == attempts and late, [(m, p) for m, p, _ in fake.requests]

        result = project.up()

    active = [t for t in fake.tokens.values() if t["status"] == "active"]
    (state,) = [r for r in project.resources(TOKEN_TYPE) if r["urn"].endswith(WELCOME)]
    assert [t["id"] for t in active] == [state["id"]], "one active token, the one in state"
    assert all(fake.tokens[token_id]["status"] == "inactive" for token_id in late)
    assert "an earlier create of this token timed out but the token API finished it" in (
        result.stdout
    )
