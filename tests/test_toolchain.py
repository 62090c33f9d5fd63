"""`make toolchain` and `scripts/local-env.sh`: pins agree, the build is cached, the environment
is project-local and the CLI it selects is the pinned one."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.engine.project import PULUMI, toolchain_problem
from tests.fixture_stacks import FIXTURE_STACKS
from tests.prerequisites import require

ROOT = Path(__file__).resolve().parent.parent
PINNED = (ROOT / ".pulumi-version").read_text().strip()
GO_MOD = ROOT / "toolchain" / "pulumi" / "go.mod"


def require_toolchain() -> None:
    require("the Pulumi CLI from make toolchain", toolchain_problem())


def go_mod_version(module: str) -> str:
    match = re.search(rf"^\s*{re.escape(module)} (v\S+)", GO_MOD.read_text(), re.MULTILINE)
    assert match, f"{module} is not pinned in {GO_MOD}"
    return match.group(1)


def test_the_cli_and_sdk_modules_are_pinned_to_the_version_the_project_names() -> None:
    assert go_mod_version("github.com/pulumi/pulumi/pkg/v3") == f"v{PINNED}"
    assert go_mod_version("github.com/pulumi/pulumi/sdk/v3") == f"v{PINNED}"
    assert "tool github.com/pulumi/pulumi/pkg/v3/cmd/pulumi" in GO_MOD.read_text()
    # go.sum is the integrity check of every module the build downloads.
    go_sum = (GO_MOD.parent / "go.sum").read_text()
    assert f"github.com/pulumi/pulumi/pkg/v3 v{PINNED} h1:" in go_sum


def test_no_binary_is_committed() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    assert not [p for p in tracked if p.startswith(b".toolchain/")]
    assert ".toolchain/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_dynamic_bridge_and_provider_pins_match_pulumi_yaml() -> None:
    """What docs/toolchain.md reports as not served is what Pulumi.yaml actually names."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    segment = project["packages"]["segment"]
    assert (segment["source"], segment["version"]) == ("terraform-provider", "1.1.0")
    assert segment["parameters"] == ["segmentio/segment", "1.6.1"]
    build = (ROOT / "toolchain" / "build.sh").read_text()
    assert "github.com/segmentio/terraform-provider-segment@v1.6.1" in build


def test_a_second_make_toolchain_rebuilds_nothing() -> None:
    require_toolchain()
    done = subprocess.run(
        ["bash", "toolchain/build.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Pulumi CLI v{PINNED} is up to date in .toolchain/bin (nothing to rebuild)" in (
        done.stdout
    )
    assert "building" not in done.stdout


def test_local_env_selects_the_pinned_cli_and_project_local_state(tmp_path: Path) -> None:
    require_toolchain()
    script = f'source "{ROOT}/scripts/local-env.sh" && env && command -v pulumi && pulumi version'
    done = subprocess.run(
        ["bash", "-c", script],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    env = dict(line.split("=", 1) for line in lines if "=" in line)
    assert env["PULUMI_HOME"] == f"{ROOT}/.pulumi/home"
    assert env["PULUMI_BACKEND_URL"] == f"file://{ROOT}/.pulumi"
    assert env["PULUMI_SKIP_UPDATE_CHECK"] == "true"
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert env["PULUMI_CONFIG_PASSPHRASE"]
    assert env["PATH"].split(":")[0] == str(PULUMI.parent)
    assert lines[-2:] == [str(PULUMI), f"v{PINNED}"]


def test_local_env_keeps_a_passphrase_the_user_chose(tmp_path: Path) -> None:
    script = f'source "{ROOT}/scripts/local-env.sh" 2>/dev/null; echo "$PULUMI_CONFIG_PASSPHRASE"'
    done = subprocess.run(
        ["bash", "-c", script],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PULUMI_CONFIG_PASSPHRASE": "mine"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "mine"


def test_the_real_cli_refuses_the_program_without_a_language_host(tmp_path: Path) -> None:
    """`pulumi preview` of this project needs pulumi-language-python, which `make toolchain`
    cannot build here (docs/toolchain.md): the engine says so and changes nothing."""
    require_toolchain()
    env = {
        "PATH": f"{PULUMI.parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PULUMI_HOME": str(tmp_path / "home"),
        "PULUMI_BACKEND_URL": f"file://{tmp_path}",
        "PULUMI_CONFIG_PASSPHRASE": "x",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
    }
    # A copy: `stack init` writes an encryption salt into the stack file.
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "requirements.txt"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(FIXTURE_STACKS, project / "stacks")
    run = {"cwd": project, "env": env, "capture_output": True, "text": True, "timeout": 120}
    subprocess.run([str(PULUMI), "stack", "init", "local", "--non-interactive"], check=True, **run)
    done = subprocess.run(
        [str(PULUMI), "preview", "--stack", "local", "--non-interactive"], check=False, **run
    )
    assert done.returncode != 0
    assert "pulumi-language-python" in done.stdout + done.stderr
