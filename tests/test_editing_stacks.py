"""Editing stacks/ never breaks the tests: the stack-facing tests pass on an edited copy.

The copy is the repository's files (`git ls-files`, uncommitted ones included) in tmp_path;
the edits are what a team does in a pull request: add a flow to dev and local (the `big-order`
flow, its token not at hand yet), remove a flow, rename one, add a stack with `new-stack`,
change conditions. Then the tests marked `stacks` run there, in a subprocess, and pass. An
invalid edit makes them fail, so they do look at stacks/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixture_stacks import FIXTURE_STACKS, ROOT

Config = dict[str, Any]
BIG_ORDER = {
    "name": "big-order",
    "displayName": "Big order follow-up",
    "enabled": False,
    "conditions": {
        "all": [
            {"event_type": {"is": "track"}},
            {"event": {"is": "Order Completed"}},
            {"property": {"name": "total", "gt": 100}},
        ]
    },
}


def copy_repository(target: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted but not yet committed is listed too
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def edit(root: Path, stack: str, change: Callable[[Config], None]) -> None:
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    change(document["config"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def flows(config: Config) -> list[dict[str, Any]]:
    return config["segment-pendula:destinations"][0]["flows"]


def add_big_order(config: Config) -> None:
    sandbox = config.get("segment-pendula:sandbox") is True
    base = flows(config)[0]["url"].rsplit("/", 1)[0]
    flows(config).append({**BIG_ORDER, "url": f"{base}/1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b"})
    tokens = config["segment-pendula:pendulaTokens"]
    tokens["big-order"] = "sandbox-provided-token-big-order" if sandbox else "PLACEHOLDER"


def remove_flow(name: str) -> Callable[[Config], None]:
    def change(config: Config) -> None:
        config["segment-pendula:destinations"][0]["flows"] = [
            f for f in flows(config) if f["name"] != name
        ]
        config["segment-pendula:pendulaTokens"].pop(name, None)

    return change


def rename_flow(old: str, new: str) -> Callable[[Config], None]:
    def change(config: Config) -> None:
        for flow in flows(config):
            if flow["name"] == old:
                flow["name"] = new
        tokens = config["segment-pendula:pendulaTokens"]
        tokens[new] = tokens.pop(old)

    return change


def change_conditions(config: Config) -> None:
    flows(config)[0]["conditions"]["all"].append({"user_id": {"starts_with": "SA"}})


def as_shipped(root: Path) -> None:
    """The copy's stacks/ reset to the stacks as shipped, so the edits below apply whatever
    the user's stacks/ holds now (this test must not depend on it either)."""
    shutil.rmtree(root / "stacks")
    shutil.copytree(FIXTURE_STACKS, root / "stacks")
    for stack in ("qa",):
        (root / "policy" / "config" / f"{stack}.json").unlink(missing_ok=True)


def realistic_edits(root: Path) -> None:
    edit(root, "dev", add_big_order)
    edit(root, "local", add_big_order)
    edit(root, "staging", remove_flow("vip"))
    edit(root, "prod", rename_flow("upgrade-nudge", "nudge"))
    edit(root, "dev", change_conditions)
    subprocess.run(
        [sys.executable, "-m", "components", "new-stack", "qa", "--from", "staging"],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip


def stack_facing_tests(root: Path) -> subprocess.CompletedProcess[str]:
    (root / "venv").symlink_to(Path(sys.prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "stacks", "-v", "-rs"],
        cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


@pytest.fixture
def edited(tmp_path: Path) -> Path:
    root = copy_repository(tmp_path / "repo")
    as_shipped(root)
    realistic_edits(root)
    return root


def test_the_stack_facing_tests_pass_on_realistically_edited_stacks(edited: Path) -> None:
    names = sorted(p.name for p in (edited / "stacks").glob("Pulumi.*.yaml"))
    assert names == [f"Pulumi.{s}.yaml" for s in ("dev", "local", "prod", "qa", "staging")]

    done = stack_facing_tests(edited)

    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "deselected" in done.stdout


def test_an_invalid_edit_fails_them(edited: Path) -> None:
    def break_url(config: Config) -> None:
        flows(config)[0]["url"] = "http://pendula.app/webhook/inbound/x"

    edit(edited, "dev", break_url)

    done = stack_facing_tests(edited)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "test_every_stack_passes_check" in done.stdout
