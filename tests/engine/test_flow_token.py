"""`PendulaFlowToken` under the real engine (CLI from `make toolchain`) against the sandbox.

What only the engine decides is asserted here: the steps it plans (create / same / update /
replace and their order), what it stores in state and prints, and what the dynamic-provider
host it launches sends to the Pendula stand-in (counted in the sandbox's own request log).
"""

from __future__ import annotations

import re

import pytest
import requests
from pulumi import automation as auto

from tests.engine.conftest import Sandbox
from tests.engine.programs import flow_tokens
from tests.engine.support import (
    NUDGE,
    SECRET_KEYS,
    TOKEN_TYPE,
    VIP,
    WELCOME,
    MakeProject,
    assert_no_secret_anywhere,
    authorizations,
    deployed,
    fingerprints,
    token_state,
)


def test_up_creates_one_managed_token_then_nothing_changes(
    engine_project: MakeProject, sandbox_stack: Sandbox
) -> None:
    project = engine_project(flow_tokens)
    project.write_stack_config(sandbox_stack.config, SECRET_KEYS)
    project.preview(diff=True)
    before = sandbox_stack.last_seq()

    result = project.up(diff=True)

    assert result.summary.resource_changes == {"create": 4}  # the stack and three tokens
    assert sandbox_stack.writes_since(before) == [("POST", "/api/v1/tokens")]
    (token,) = sandbox_stack.tokens()
    assert (token["name"], token["status"]) == ("segment-welcome", "active")
    assert token_state(project, WELCOME)["id"] == token["id"]

    headers = authorizations(project)
    assert headers[NUDGE] == "Bearer sandbox-provided-token-upgrade-nudge"
    assert headers[VIP].startswith("Basic ")
    assert re.fullmatch(r"Bearer \S{16,}", headers[WELCOME])
    # The header the engine stored is one the Pendula stand-in accepts for that flow.
    flow_url = sandbox_stack.config["segment-pendula:destinations"][0]["flows"][0]["url"]
    accepted = requests.post(
        flow_url, json={"probe": True}, headers={"Authorization": headers[WELCOME]}, timeout=10
    )
    assert accepted.status_code == 202, accepted.text

    # Right after: the engine sees no change, and a second `up` writes nothing anywhere.
    project.preview(expect_no_changes=True, diff=True)
    before = sandbox_stack.last_seq()
    again = project.up(expect_no_changes=True)
    assert again.summary.resource_changes == {"same": 4}
    assert sandbox_stack.writes_since(before) == []

    assert_no_secret_anywhere(
        project,
        [
            headers[WELCOME].removeprefix("Bearer "),
            "sandbox-provided-token-upgrade-nudge",
            "sandbox-provided-token-vip",
            headers[VIP].removeprefix("Basic "),
            sandbox_stack.config["segment-pendula:pendulaApiToken"],
            sandbox_stack.config["segment:token"],
        ],
    )


def test_token_rename_is_one_in_place_update_and_one_patch(
    engine_project: MakeProject, sandbox_stack: Sandbox
) -> None:
    project = deployed(engine_project, sandbox_stack)
    header = authorizations(project)[WELCOME]
    config = sandbox_stack.config
    config["segment-pendula:destinations"][0]["flows"][0]["token"]["name"] = "segment-welcome-2"
    project.write_stack_config(config, SECRET_KEYS)
    before = sandbox_stack.last_seq()

    result = project.up()

    assert result.summary.resource_changes == {"update": 1, "same": 3}
    (patch,) = sandbox_stack.writes_since(before)
    assert patch[0] == "PATCH" and patch[1].startswith("/api/v1/tokens/")
    (token,) = sandbox_stack.tokens()
    assert (token["name"], token["status"]) == ("segment-welcome-2", "active")
    assert authorizations(project)[WELCOME] == header, "a rename keeps the credential"


def test_provided_token_rotated_in_config_updates_only_that_token(
    engine_project: MakeProject, sandbox_stack: Sandbox
) -> None:
    project = deployed(engine_project, sandbox_stack)
    old = fingerprints(project)
    config = sandbox_stack.config
    config["segment-pendula:pendulaTokens"]["upgrade-nudge"] = "sandbox-rotated-token-nudge-2"
    project.write_stack_config(config, SECRET_KEYS)
    before = sandbox_stack.last_seq()

    result = project.up()

    assert result.summary.resource_changes == {"update": 1, "same": 3}
    assert sandbox_stack.requests_since(before) == [], "a provided token calls no API"
    new = fingerprints(project)
    assert new[NUDGE] != old[NUDGE]
    assert {k: v for k, v in new.items() if k != NUDGE} == {
        k: v for k, v in old.items() if k != NUDGE
    }
    assert authorizations(project)[NUDGE] == "Bearer sandbox-rotated-token-nudge-2"
    assert_no_secret_anywhere(
        project, ["sandbox-rotated-token-nudge-2", "sandbox-provided-token-upgrade-nudge"]
    )


def test_token_deactivated_out_of_band_is_replaced_create_before_delete(
    engine_project: MakeProject, sandbox_stack: Sandbox
) -> None:
    project = deployed(engine_project, sandbox_stack)
    (old_token,) = sandbox_stack.tokens()
    old_header = authorizations(project)[WELCOME]
    sandbox_stack.deactivate(old_token["id"])

    # `pulumi refresh` reads the token from Pendula and records the deactivation in state.
    refreshed = project.refresh()
    assert refreshed.summary.resource_changes == {"update": 1, "same": 3}
    assert token_state(project, WELCOME)["outputs"]["status"] == "inactive"

    # The next preview plans a replacement of that token only.
    with pytest.raises(auto.CommandError):
        project.preview(expect_no_changes=True)
    before = sandbox_stack.last_seq()
    result = project.up()

    assert result.summary.resource_changes == {"replace": 1, "same": 3}
    writes = sandbox_stack.writes_since(before)
    # Create the replacement first, deactivate the old one last: deliveries never stop.
    assert writes == [
        ("POST", "/api/v1/tokens"),
        ("POST", f"/api/v1/tokens/{old_token['id']}/deactivate"),
    ]
    tokens = {t["id"]: t for t in sandbox_stack.tokens()}
    (new_id,) = set(tokens) - {old_token["id"]}
    assert tokens[new_id]["status"] == "active"
    assert token_state(project, WELCOME)["id"] == new_id
    new_header = authorizations(project)[WELCOME]
    assert new_header != old_header
    project.preview(expect_no_changes=True)
    assert_no_secret_anywhere(
        project,
        [old_header.removeprefix("Bearer "), new_header.removeprefix("Bearer ")],
    )


def test_destroy_deactivates_the_managed_token_and_empties_the_stack(
    engine_project: MakeProject, sandbox_stack: Sandbox
) -> None:
    project = deployed(engine_project, sandbox_stack)
    before = sandbox_stack.last_seq()

    result = project.destroy()

    assert result.summary.resource_changes == {"delete": 4}
    (token,) = sandbox_stack.tokens()
    assert token["status"] == "inactive"
    assert sandbox_stack.writes_since(before) == [
        ("POST", f"/api/v1/tokens/{token['id']}/deactivate")
    ]
    assert project.resources(TOKEN_TYPE) == []
