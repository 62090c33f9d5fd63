"""Failures under the real engine: bad config stops before any API call; a token API that
fails during `up` leaves no orphan, and the next `up` finishes the job with exactly one token."""

from __future__ import annotations

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
