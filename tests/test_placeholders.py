"""PLACEHOLDER, a secret not set yet: the offline review accepts it and says what to set; the
program refuses it naming each key and command (under the real engine: tests/engine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.__main__ import main
from components.config.load import load_from_pulumi
from components.config.models import ConfigError
from components.guards.placeholders import placeholder_paths, set_secret_command
from components.review.offline import RecordingMocks, RecordingMonitor, run_program
from tests.fixture_stacks import fixture_stack
from tests.test_plan import make_project, plan_args, run_cli

TOKEN_COMMAND = (
    "pulumi config set --secret --path 'segment-pendula:pendulaTokens.{}' <Pendula API token>"
)


def dev_with_placeholders() -> dict[str, Any]:
    """The dev fixture as `new-stack` writes it: Segment token and two flow tokens not set yet."""
    document = yaml.safe_load(fixture_stack("dev").read_text())
    config = document["config"]
    config["segment:token"] = "PLACEHOLDER"
    config["segment-pendula:pendulaTokens"]["upgrade-nudge"] = "PLACEHOLDER"
    config["segment-pendula:pendulaTokens"]["vip"] = "PLACEHOLDER"
    return document


def project(tmp_path: Path) -> Path:
    return make_project(tmp_path, {"Pulumi.dev.yaml": yaml.safe_dump(dev_with_placeholders())})


def test_check_accepts_placeholders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path)
    code = main(["check", "--stacks-dir", str(root / "stacks"), "--project-root", str(root)])
    assert (code, capsys.readouterr().out) == (0, "1 stack file(s) valid; all policies pass\n")


def test_plan_lists_the_secrets_not_set_yet_with_their_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path)
    commands = [
        TOKEN_COMMAND.format("upgrade-nudge"),
        TOKEN_COMMAND.format("vip"),
        "pulumi config set --secret segment:token <Segment Public API token>",
    ]

    code, text, _ = run_cli(capsys, *plan_args(root, "dev", "text"))
    assert code == 0
    assert (
        "\nSecrets not set yet (3, still PLACEHOLDER): the offline review passes, `pulumi "
        "preview` refuses them until you run:\n"
        + "".join(f"  {c}\n" for c in commands)
        + "Configuration valid; all policies pass.\n"
    ) in text

    code, markdown, _ = run_cli(capsys, *plan_args(root, "dev", "markdown"))
    assert code == 0
    assert "".join(f"> - `{c}`\n" for c in commands) in markdown

    code, out, _ = run_cli(capsys, *plan_args(root, "dev", "json"))
    assert code == 0
    assert json.loads(out)["notSetYet"] == [
        {"key": "segment-pendula:pendulaTokens.upgrade-nudge", "command": commands[0]},
        {"key": "segment-pendula:pendulaTokens.vip", "command": commands[1]},
        {"key": "segment:token", "command": commands[2]},
    ]


def test_a_plan_without_placeholders_lists_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path)
    code, out, _ = run_cli(capsys, *plan_args(root, "dev", "json"))
    assert (code, json.loads(out)["notSetYet"]) == (0, [])


def test_placeholder_is_not_taken_for_a_secrets_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plain keys may say PLACEHOLDER: it is no credential, so it is neither refused nor hidden."""
    document = dev_with_placeholders()
    document["config"]["segment-pendula:destinations"][0]["flows"][0]["displayName"] = "PLACEHOLDER"
    root = make_project(tmp_path, {"Pulumi.dev.yaml": yaml.safe_dump(document)})
    code, out, _ = run_cli(capsys, *plan_args(root, "dev", "text"))
    assert code == 0, out
    assert 'Flow welcome ("PLACEHOLDER")' in out


def set_config(document: dict[str, Any], secure: tuple[str, ...] = ()) -> None:
    config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in document["config"].items()}
    pulumi.runtime.set_all_config(config, list(secure))
    pulumi.runtime.set_mocks(RecordingMonitor(RecordingMocks()).mocks, project="segment-pendula",
                             stack="dev")  # fmt: skip


def test_the_program_refuses_placeholders_naming_each_key_and_command() -> None:
    document = dev_with_placeholders()
    document["config"]["segment-pendula:pendulaTokens"]["welcome"] = "real-secret-token-Xy71"
    set_config(document, secure=("segment-pendula:pendulaTokens",))

    with pytest.raises(ConfigError) as refused:
        load_from_pulumi()

    assert str(refused.value) == (
        "3 problems in stack 'dev':\n"
        "  - segment-pendula:pendulaTokens.upgrade-nudge: is still the placeholder PLACEHOLDER; "
        f"set the real secret first: {TOKEN_COMMAND.format('upgrade-nudge')}  "
        "(docs/configuration.md#secrets-not-set-yet)\n"
        "  - segment-pendula:pendulaTokens.vip: is still the placeholder PLACEHOLDER; "
        f"set the real secret first: {TOKEN_COMMAND.format('vip')}  "
        "(docs/configuration.md#secrets-not-set-yet)\n"
        "  - segment:token: is still the placeholder PLACEHOLDER; set the real secret first: "
        "pulumi config set --secret segment:token <Segment Public API token>  "
        "(docs/configuration.md#secrets-not-set-yet)"
    )
    assert "real-secret-token-Xy71" not in str(refused.value)


def test_the_offline_run_of_the_program_accepts_them() -> None:
    document = dev_with_placeholders()
    config = document["config"]
    config["segment-pendula:pendulaTokens"]["welcome"] = "[secret]"  # as read offline
    values = {
        k.removeprefix("segment-pendula:"): v
        for k, v in config.items()
        if k.startswith("segment-pendula:")
    }
    # As the offline review reads the file: a key of secure values and placeholders is secret.
    resources = run_program(
        values,
        ["pendulaTokens"],
        provider_config={"segment:token": "PLACEHOLDER"},
        provider_secret_keys=["segment:token"],
    )
    assert any(r.name == "web-vip-subscription" for r in resources)


@pytest.mark.parametrize(
    ("key", "value", "paths"),
    [
        ("segment:token", "PLACEHOLDER", ["segment:token"]),
        (
            "segment:token",
            "placeholder",
            [],
        ),  # exactly PLACEHOLDER: a real value is never taken for one
        (
            "segment-pendula:pendulaTokens",
            {"a": "PLACEHOLDER", "b": {"secure": "v1:x"}},
            ["segment-pendula:pendulaTokens.a"],
        ),
        ("segment-pendula:pendulaTokens", {}, []),
    ],
)
def test_placeholder_paths(key: str, value: Any, paths: list[str]) -> None:
    assert list(placeholder_paths(key, value)) == paths


def test_set_secret_commands() -> None:
    assert set_secret_command("segment-pendula:sharedSecrets.web") == (
        "pulumi config set --secret --path 'segment-pendula:sharedSecrets.web' <shared secret>"
    )
    assert set_secret_command("segment-pendula:pendulaApiToken") == (
        "pulumi config set --secret segment-pendula:pendulaApiToken <Pendula token API credential>"
    )
