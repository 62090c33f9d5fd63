"""components.config.stack_config: one reading of a stack's config, the engine's, for every tool."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pulumi.runtime
import pytest
import yaml

from components.__main__ import main
from components.config.load import load_from_pulumi, load_stack_file, read_stack_document
from components.config.stack_config import (
    StackConfigError,
    find_project_file,
    resolve_stack_file,
    resolve_stack_text,
)

PROJECT_YAML = """\
name: segment-pendula
runtime: python
stackConfigDir: stacks
config:
  sandbox:
    type: boolean
    default: false
  maxMappingsPerDestination: 4
  allowedPendulaHosts:
    default: [pendula.app, eu.pendula.app]
  segment:url:
    value: https://eu1.api.segmentapis.com
"""

FLOW = {
    "name": "welcome",
    "url": "https://pendula.app/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10",
    "trigger": 'type = "track"',
}


def write_project(tmp_path: Path, stack: dict[str, Any] | str, project: str = PROJECT_YAML) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(project)
    stacks = tmp_path / "stacks"
    stacks.mkdir(exist_ok=True)
    path = stacks / "Pulumi.x.yaml"
    path.write_text(stack if isinstance(stack, str) else yaml.safe_dump(stack))
    return path


TOKENS = {"welcome": {"secure": "v1:c2VjcmV0"}}


def destinations() -> list[dict[str, Any]]:
    return [{"name": "web", "sourceId": "src1", "flows": [dict(FLOW)]}]


def base_config() -> dict[str, Any]:
    return {"segment-pendula:destinations": destinations(), "segment-pendula:pendulaTokens": TOKENS}


def test_project_values_and_defaults_apply_under_the_stack(tmp_path: Path) -> None:
    path = write_project(tmp_path, {"config": base_config()})
    resolved = resolve_stack_file(path)
    assert resolved.project_label == str(tmp_path / "Pulumi.yaml")
    url = resolved.config["segment:url"]
    assert (url.text, url.origin) == ("https://eu1.api.segmentapis.com", "Pulumi.yaml value")
    assert resolved.config["segment-pendula:maxMappingsPerDestination"].text == "4"
    assert resolved.config["segment-pendula:sandbox"].text == "false"
    hosts = resolved.config["segment-pendula:allowedPendulaHosts"]
    assert (hosts.is_object, hosts.value) == (True, ["pendula.app", "eu.pendula.app"])
    # ...and so the reviewed config is the deployed one: segment:url from Pulumi.yaml is checked.
    config = load_stack_file(path)
    assert config.segment_url == "https://eu1.api.segmentapis.com"
    assert config.allowed_pendula_hosts == ("pendula.app", "eu.pendula.app")
    assert config.max_mappings_per_destination == 4


def test_a_segment_url_in_pulumi_yaml_is_reviewed(tmp_path: Path) -> None:
    project = PROJECT_YAML.replace("https://eu1.api.segmentapis.com", "https://evil.example.com")
    path = write_project(tmp_path, {"config": base_config()}, project)
    with pytest.raises(ValueError, match=r"segment:url.*evil\.example\.com"):
        load_stack_file(path)


def test_the_stack_value_wins_whole(tmp_path: Path) -> None:
    stack = {
        "config": {
            **base_config(),
            "segment-pendula:allowedPendulaHosts": ["pendula.app"],
            "segment:url": "https://api.segmentapis.com",
        }
    }
    resolved = resolve_stack_file(write_project(tmp_path, stack))
    assert resolved.config["segment-pendula:allowedPendulaHosts"].value == ["pendula.app"]
    assert resolved.config["segment:url"].origin == "stack"
    assert resolved.config["segment:url"].text == "https://api.segmentapis.com"


def test_keys_without_namespace_belong_to_the_project(tmp_path: Path) -> None:
    resolved = resolve_stack_file(write_project(tmp_path, {"config": {"sandbox": True}}))
    assert resolved.config["segment-pendula:sandbox"].text == "true"


def test_the_old_config_module_form_is_namespaced(tmp_path: Path) -> None:
    resolved = resolve_stack_text("config:\n  aws:config:region: eu-west-1\n", "f")
    assert resolved.config["aws:region"].text == "eu-west-1"


def test_the_same_key_with_and_without_namespace_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackConfigError, match="set twice"):
        resolve_stack_text("config:\n  sandbox: true\n  segment-pendula:sandbox: false\n", "f")


@pytest.mark.parametrize(
    ("key", "hint"),
    [("confg", "config"), ("Config", "config"), ("enviroment", "environment"), ("zzz", None)],
)
def test_unknown_top_level_keys_are_refused_with_a_hint(key: str, hint: str | None) -> None:
    with pytest.raises(StackConfigError) as error:
        resolve_stack_text(f"{key}:\n  a: 1\n", "stacks/Pulumi.x.yaml")
    message = str(error.value)
    assert message.startswith(f"stacks/Pulumi.x.yaml: {key}: unknown top-level key")
    assert (f"(did you mean '{hint}'?)" in message) if hint else "did you mean" not in message


def test_a_secure_value_is_never_decrypted() -> None:
    entry = resolve_stack_text("config:\n  p:k:\n    secure: v1:abc\n", "f").config["p:k"]
    assert (entry.text, entry.secret, entry.value) == (None, True, {"secure": "v1:abc"})


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ("[common, dev]", ("common", "dev")),
        ("\n  imports: [team/base]\n", ("team/base",)),
        ("\n  imports: [team/base]\n  values: {pulumiConfig: {x: 1}}\n", ("team/base", "<inline>")),
    ],
)
def test_esc_environment_imports_are_reported(environment: str, expected: tuple[str, ...]) -> None:
    resolved = resolve_stack_text(f"environment: {environment}\nconfig: {{}}\n", "f")
    assert resolved.environment == expected


def stack_with_environment(tmp_path: Path) -> Path:
    stack = {"environment": ["team/prod"], "config": base_config()}
    return write_project(tmp_path, stack)


def test_plan_says_an_environment_cannot_be_reviewed_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = stack_with_environment(tmp_path)
    main(["plan", "--stack", "x", "--stacks-dir", str(path.parent)])
    out = capsys.readouterr().out
    assert "NOT REVIEWABLE OFFLINE: this stack imports ESC environment(s) team/prod" in out
    main(["plan", "--stack", "x", "--stacks-dir", str(path.parent), "--format", "markdown"])
    assert "**Not reviewable offline**" in capsys.readouterr().out


def test_check_fails_an_environment_unless_the_reviewer_opts_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = stack_with_environment(tmp_path)
    assert main(["check", "--stacks-dir", str(path.parent)]) == 1
    out = capsys.readouterr().out
    assert "imports ESC environment(s) team/prod" in out
    assert "--allow-environment" in out
    assert main(["check", "--stacks-dir", str(path.parent), "--allow-environment"]) == 0


def test_pulumi_yaml_is_found_at_or_above_the_stack_directory(tmp_path: Path) -> None:
    path = write_project(tmp_path, {"config": {}})
    assert find_project_file(path.parent) == tmp_path / "Pulumi.yaml"
    assert find_project_file(Path("/")) is None


@pytest.mark.parametrize(
    ("project", "message"),
    [
        ("name: other\n", "is not this project"),
        ("runtime: python\n", "the project needs a name"),
        ("name: segment-pendula\nconfig:\n  a: {default: 1, value: 2}\n", "both a 'default'"),
        ("name: segment-pendula\nconfig:\n  aws:region: {default: x}\n", "takes only a 'value'"),
        ("name: segment-pendula\nconfig:\n  a: {defualt: 1}\n", "unknown field 'defualt'"),
        ("name: segment-pendula\nconfig: [a]\n", "config: must be a mapping"),
    ],
)
def test_a_bad_pulumi_yaml_is_a_clear_error(project: str, message: str) -> None:
    with pytest.raises(StackConfigError, match=message):
        resolve_stack_text("config: {}\n", "f", project, "Pulumi.yaml")


def test_read_stack_document_keeps_its_shape(tmp_path: Path) -> None:
    path = write_project(tmp_path, {"config": {"segment:token": {"secure": "v1:t"}}})
    document = read_stack_document(path)
    assert document.segment.values["token"] == "[secret]"
    assert document.segment.secret_keys == frozenset({"token"})
    assert document.values["sandbox"] is False  # from Pulumi.yaml's default


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[str]]:
        return {}, []


def test_the_program_reads_what_the_offline_tools_read(tmp_path: Path) -> None:
    """The engine hands the program each key's text; it decodes it to the same config."""
    stack = f"""\
config:
  segment-pendula:maxMappingsPerDestination: 0o4
  segment-pendula:pendulaTokens: {{welcome: {{secure: v1:c2VjcmV0}}}}
  segment-pendula:destinations:
    - name: web
      sourceId: src1
      flows:
        - name: welcome
          url: {FLOW["url"]}
          trigger: 'type = "track"'
          enabled: true
          displayName: '0o17'
          customContext: {{n: 1e3, when: 2024-01-31}}
"""
    path = write_project(tmp_path, stack)
    resolved = resolve_stack_file(path)
    offline = load_stack_file(path)
    pulumi.runtime.set_mocks(_Mocks(), project="segment-pendula", stack="x", preview=False)
    try:
        # What the engine hands over: each key's text, the secret decrypted (here: its mask).
        texts = {k: v.text or "" for k, v in resolved.config.items()}
        tokens = "segment-pendula:pendulaTokens"
        texts[tokens] = json.dumps({"welcome": "[secret]"})
        pulumi.runtime.set_all_config(texts, secret_keys=[tokens])
        assert load_from_pulumi() == offline
    finally:
        pulumi.runtime.set_all_config({})
    flow = offline.destinations[0].flows[0]
    assert offline.max_mappings_per_destination == 4
    assert flow.display_name == "0o17"
    assert flow.custom_context == '{"n":1000,"when":"2024-01-31 00:00:00 +0000 UTC"}'


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_plan_against_a_ref_reads_that_refs_pulumi_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A segment:url changed only in Pulumi.yaml is a reviewed change of where the token goes."""
    path = write_project(tmp_path, {"config": base_config()})
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    (tmp_path / "Pulumi.yaml").write_text(
        PROJECT_YAML.replace("eu1.api.segmentapis.com", "api.segmentapis.com")
    )
    code = main(["check", "--stacks-dir", str(path.parent), "--against", "HEAD"])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        'review: segment:url changed: "https://eu1.api.segmentapis.com" → '
        '"https://api.segmentapis.com"'
    ) in out


@pytest.mark.parametrize("shorthand", ["0.0", "1.5", "18446744073709551615", "2024-01-31"])
def test_pulumi_yaml_shorthands_the_engine_cannot_read_are_refused(shorthand: str) -> None:
    project = f"name: segment-pendula\nconfig:\n  a: {shorthand}\n"
    with pytest.raises(StackConfigError, match=r"Pulumi\.yaml: config: a: "):
        resolve_stack_text("config: {}\n", "f", project, "Pulumi.yaml")


def test_pulumi_yaml_shorthands_the_engine_reads() -> None:
    project = "name: segment-pendula\nconfig:\n  a: 0x10\n  b: [1.5, 2024-01-31]\n  aws:c: on\n"
    config = resolve_stack_text("config: {}\n", "f", project, "Pulumi.yaml").config
    assert config["segment-pendula:a"].text == "16"
    assert config["segment-pendula:b"].text == '[1.5,"2024-01-31T00:00:00Z"]'
    assert config["aws:c"].text == "on"
