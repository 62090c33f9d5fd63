"""README, Pulumi.yaml, the config models and the stack files agree with each other."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config.models import PROJECT, SECRET_KEYS, _ProjectConfig
from components.config.stack_config import resolve_stack_text

ROOT = Path(__file__).resolve().parent.parent
PULUMI_YAML = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
SCHEMA: dict[str, dict[str, Any]] = PULUMI_YAML["config"]


def readme_config_table() -> dict[str, dict[str, str]]:
    """Rows of the configuration table (docs/configuration.md), keyed by the config key."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    block = text.split("<!-- config-table:start -->")[1].split("<!-- config-table:end -->")[0]
    rows: dict[str, dict[str, str]] = {}
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        key, type_, default, secret, _description = cells
        rows[key.strip("`")] = {"type": type_, "default": default.strip("`"), "secret": secret}
    return rows


def test_pulumi_yaml_project_settings() -> None:
    assert PULUMI_YAML["name"] == PROJECT
    assert PULUMI_YAML["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": "venv"},
    }
    assert PULUMI_YAML["stackConfigDir"] == "stacks"
    segment = PULUMI_YAML["packages"]["segment"]
    assert segment["source"] == "terraform-provider"
    assert segment["parameters"][0] == "segmentio/segment"
    assert segment["parameters"][1].startswith("1.6.")


def test_every_config_key_has_type_and_description() -> None:
    for key, spec in SCHEMA.items():
        assert spec.get("type") in {"string", "integer", "boolean", "array", "object"}, key
        assert spec.get("description"), key
        if key != "destinations":  # the one required key
            assert "default" in spec, key


def test_schema_matches_the_config_model() -> None:
    model_keys = {f.alias or n for n, f in _ProjectConfig.model_fields.items()}
    assert set(SCHEMA) == model_keys
    for name, field in _ProjectConfig.model_fields.items():
        key = field.alias or name
        if "default" in SCHEMA[key]:
            default = field.get_default(call_default_factory=True)
            assert (default or None) == (SCHEMA[key]["default"] or None), key


def test_config_table_matches_pulumi_yaml() -> None:
    table = readme_config_table()
    assert set(table) == set(SCHEMA)
    for key, spec in SCHEMA.items():
        row = table[key]
        expected_type = spec["type"]
        if expected_type == "array":
            expected_type = f"array of {spec['items']['type']}"
        assert row["type"] == expected_type, key
        default = json.dumps(spec["default"]) if "default" in spec else "required"
        assert row["default"] == default, key
        assert row["secret"] == ("yes" if key in SECRET_KEYS else "no"), key


@pytest.mark.stacks
def test_stack_files_use_only_declared_keys() -> None:
    allowed_providers = {"segment:url", "segment:token"}
    for path in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        # The engine's reading of the stack file alone (no Pulumi.yaml defaults mixed in).
        config = resolve_stack_text(path.read_text(encoding="utf-8"), str(path)).config
        for key in config:
            if key.startswith(f"{PROJECT}:"):
                assert key.removeprefix(f"{PROJECT}:") in SCHEMA, (path.name, key)
            else:
                assert key in allowed_providers, (path.name, key)


def test_readme_names_the_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = re.search(r"# The README's test command:\n(.+)\n", ci)
    assert test_command is not None
    assert f"\n{test_command.group(1)}\n" in readme


def test_packages_entry_matches_the_generated_sdk() -> None:
    plugin = json.loads((ROOT / "sdks/segment/pulumi_segment/pulumi-plugin.json").read_text())
    segment = PULUMI_YAML["packages"]["segment"]
    assert plugin["name"] == "terraform-provider"
    assert segment["version"] == plugin["version"]
    assert segment["parameters"] == ["segmentio/segment", plugin["parameterization"]["version"]]


def test_requirements_link_the_sdk_like_pulumi_package_add() -> None:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert "sdks/segment" in lines


@pytest.mark.stacks
def test_policy_pack_config_agrees_with_each_stack() -> None:
    """The pack's per-stack config repeats stack settings; they must not drift apart."""
    from components.config.load import load_stack_file
    from policy.rules import PolicyConfig

    for path in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        config = load_stack_file(path)
        pack = PolicyConfig.from_pack_config(
            json.loads((ROOT / "policy" / "config" / f"{stack}.json").read_text())
        )
        assert tuple(pack.allowed_hosts) == config.allowed_pendula_hosts, stack
        assert pack.allow_loopback is config.sandbox, stack
        assert pack.max_mappings_per_destination == config.max_mappings_per_destination, stack


def test_files_the_documented_commands_generate_are_git_ignored() -> None:
    """`--sample-out` as the docs show it and adopt's default import file never show up as
    untracked files to commit by mistake."""
    docs = (ROOT / "README.md").read_text() + (ROOT / "docs" / "test-events.md").read_text()
    samples = set(re.findall(r"--sample-out (\S+)", docs))
    assert samples, "the docs show --sample-out"
    generated = [*(s.replace("<flow>", "welcome") for s in samples), "import.prod.json"]
    for path in generated:
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"{path} is not git-ignored"
