"""Secrets not set yet, under the real engine.

A `secure:` ciphertext the stack's secrets provider cannot open (the kind of placeholder the
project used to ship) stops the engine before the program runs, with its own message that
names no key: the program cannot help there. `PLACEHOLDER` reaches the program, which refuses
it naming each key and the command that sets it; once that command has run, preview passes.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml
from pulumi import automation as auto

from tests.engine.conftest import Sandbox
from tests.engine.programs import flow_tokens
from tests.engine.support import MakeProject, assert_no_secret_anywhere
from tests.fixture_stacks import fixture_stack


def recording(program: Callable[[], None], runs: list[str]) -> Callable[[], None]:
    def run() -> None:
        runs.append("ran")
        program()

    return run


def test_an_undecryptable_secure_value_stops_the_engine_before_the_program(
    engine_project: MakeProject, sandbox_stack: Sandbox
) -> None:
    runs: list[str] = []
    project = engine_project(recording(flow_tokens, runs))
    config = dict(sandbox_stack.config)
    # The shape of the old shipped placeholders: base64 text, not this stack's ciphertext.
    dev = yaml.safe_load(fixture_stack("dev").read_text())["config"]
    config["segment-pendula:pendulaTokens"] = dev["segment-pendula:pendulaTokens"]
    project.write_stack_config(config)

    with pytest.raises(auto.CommandError) as failed:
        project.preview()

    assert "validating stack config: bad value" in str(failed.value)
    assert runs == [], "the engine fails before the program could name the keys"


def test_placeholders_are_refused_by_the_program_naming_each_key_and_command(
    engine_project: MakeProject, sandbox_stack: Sandbox
) -> None:
    runs: list[str] = []
    project = engine_project(recording(flow_tokens, runs))
    config = dict(sandbox_stack.config)
    config["segment-pendula:pendulaTokens"] = {"upgrade-nudge": "PLACEHOLDER", "vip": "PLACEHOLDER"}
    project.write_stack_config(config)
    before = sandbox_stack.last_seq()

    with pytest.raises(auto.CommandError) as failed:
        project.preview()

    message = str(failed.value)
    assert runs == ["ran"]
    for flow in ("upgrade-nudge", "vip"):
        assert (
            f"segment-pendula:pendulaTokens.{flow}: is still the placeholder PLACEHOLDER; set the "
            f"real secret first: pulumi config set --secret --path "
            f"'segment-pendula:pendulaTokens.{flow}' <Pendula API token>"
        ) in message
    assert "validating stack config" not in message
    assert sandbox_stack.requests_since(before) == [], "no API call with a placeholder"

    # The command the message names, as printed, is the fix: preview passes after it.
    tokens = sandbox_stack.config["segment-pendula:pendulaTokens"]
    for flow in ("upgrade-nudge", "vip"):
        project.cli("config", "set", "--secret", "--path", f"segment-pendula:pendulaTokens.{flow}",
                    tokens[flow], "--stack", project.stack_name)  # fmt: skip
    project.preview()
    assert_no_secret_anywhere(project, list(tokens.values()))
