"""Shared by the real-engine tests: the local stack's token names, the secret config keys, and
checks of what the engine stored and printed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.review.offline import FLOW_TOKEN_TYPE
from tests.engine.conftest import Sandbox
from tests.engine.programs import OUTPUT_AUTHORIZATIONS, OUTPUT_FINGERPRINTS, flow_tokens
from tests.engine.project import EngineProject

TOKEN_TYPE = FLOW_TOKEN_TYPE
WELCOME = "web-welcome-token"  # managed
NUDGE = "web-upgrade-nudge-token"  # provided, bearer
VIP = "web-vip-token"  # provided, basic
MakeProject = Callable[[Callable[[], None]], EngineProject]


# Encrypted in the test stack as in every real one (the sandbox's own stack file may keep
# its throwaway credentials in plain text; a plain config value is stored in plain text).
SECRET_KEYS = ("segment:token", "segment-pendula:pendulaApiToken", "segment-pendula:pendulaTokens")


def deployed(make_project: MakeProject, sandbox: Sandbox) -> EngineProject:
    project = make_project(flow_tokens)
    project.write_stack_config(sandbox.config, SECRET_KEYS)
    project.up()
    return project


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value in state


def authorizations(project: EngineProject) -> dict[str, str]:
    """The Authorization headers (decrypted), after checking the state holds them encrypted."""
    (stack,) = project.resources("pulumi:pulumi:Stack")
    stored = stack["outputs"][OUTPUT_AUTHORIZATIONS]
    assert stored and all(
        isinstance(v, dict) and v.get(SECRET_SIG) and "ciphertext" in v for v in stored.values()
    ), f"every Authorization header must be an encrypted secret in state: {stored!r}"
    values: dict[str, str] = project.stack.outputs()[OUTPUT_AUTHORIZATIONS].value
    return values


def fingerprints(project: EngineProject) -> dict[str, str]:
    values: dict[str, str] = project.stack.outputs()[OUTPUT_FINGERPRINTS].value
    return values


def token_state(project: EngineProject, name: str) -> dict[str, Any]:
    (resource,) = [r for r in project.resources(TOKEN_TYPE) if r["urn"].endswith(f"::{name}")]
    return resource


def assert_no_secret_anywhere(project: EngineProject, secrets: list[str]) -> None:
    """No secret in `pulumi stack export`, the backend's files or anything the CLI printed."""
    haystacks = {
        "stack export": str(project.export()),
        "state files": project.state_files(),
        "CLI output": "\n".join(project.output),
    }
    for secret in secrets:
        assert len(secret) >= 8
        for where, text in haystacks.items():
            # A bare boolean, so a failure never prints the text (or the secret) it searched.
            leaked = secret in text
            assert not leaked, f"a secret ({secret[:4]}…) appears in the {where}"
