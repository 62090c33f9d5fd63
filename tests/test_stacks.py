"""The user's stacks/: what holds for any valid edit (every test here is marked `stacks`).

Nothing here knows which flows or stacks exist: adding, removing or renaming a flow or a stack
keeps these tests passing as long as the stacks stay valid (tests/test_editing_stacks.py proves
it on an edited copy of the repository).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.__main__ import main
from components.config.load import load_stack_file
from components.config.models import PROJECT, SECRET_KEYS, SEGMENT_SECRET_KEYS
from components.guards.placeholders import is_placeholder
from tests.fixture_stacks import ROOT, USER_STACKS, user_stack_files

pytestmark = pytest.mark.stacks


def stack_names() -> list[str]:
    return [p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in user_stack_files()]


def test_there_are_stacks() -> None:
    assert user_stack_files(), f"no Pulumi.*.yaml in {USER_STACKS}"


def test_every_stack_passes_check(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--stacks-dir", str(USER_STACKS), "--project-root", str(ROOT)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out == f"{len(user_stack_files())} stack file(s) valid; all policies pass\n"


@pytest.mark.parametrize("stack", stack_names())
def test_every_stack_has_an_offline_plan(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--stack", stack, "--stacks-dir", str(USER_STACKS), "--project-root", str(ROOT)]
    code = main(["plan", *args, "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0, out


def secret_leaves(value: Any) -> list[Any]:
    """The leaves of a secret key's value: a `{secure: ...}` counts as one leaf."""
    if isinstance(value, dict) and set(value) != {"secure"}:
        return [leaf for item in value.values() for leaf in secret_leaves(item)]
    return [value]


@pytest.mark.parametrize("path", user_stack_files(), ids=lambda p: p.name)
def test_credentials_are_secure_or_placeholders_outside_the_sandbox(path: Path) -> None:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))["config"]
    if load_stack_file(path).sandbox:
        return  # the sandbox stack's throwaway credentials are plaintext by design
    keys = [f"{PROJECT}:{k}" for k in SECRET_KEYS] + [f"segment:{k}" for k in SEGMENT_SECRET_KEYS]
    for key in keys:
        for leaf in secret_leaves(config.get(key, {})):
            secure = isinstance(leaf, dict) and set(leaf) == {"secure"}
            assert secure or is_placeholder(leaf), (path.name, key)


def test_every_stack_has_its_policy_pack_config() -> None:
    for stack in stack_names():
        assert (ROOT / "policy" / "config" / f"{stack}.json").is_file(), (
            f"policy/config/{stack}.json is missing: "
            f"`venv/bin/python -m components new-stack {stack} --from dev` writes it"
        )
