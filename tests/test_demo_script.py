"""`make demo` / `make demo-down`: the clear stop without the Pulumi CLI, the event step, and (where
the CLI exists) the real `pulumi up` / `preview` / `destroy` on the local stack."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.seed import seed_database
from sandbox.server import SandboxServer, free_port
from sandbox.settings import SandboxSettings
from tests.engine.project import toolchain_problem
from tests.fixture_stacks import fixture_stack
from tests.prerequisites import require
from tests.test_editing_stacks import copy_repository
from tests.test_journey import Journey

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scripts" / "demo.sh"
DEMO_DOWN = ROOT / "scripts" / "demo-down.sh"
PINNED = (ROOT / ".pulumi-version").read_text().strip()


def sandbox_processes() -> set[int]:
    """Pids of running `python -m sandbox` processes."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"-m" in cmdline and b"sandbox" in cmdline:
            pids.add(int(entry.name))
    return pids


TOOLS = ("bash", "sh", "env", "curl", "tr", "cat", "dirname", "mkdir", "rm", "seq", "sleep",
         "make", "sed", "grep", "kill")  # fmt: skip


def path_without_pulumi(tmp_path: Path) -> str:
    """A PATH holding the tools the script needs, and no `pulumi`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found and tool != "pulumi":
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


@pytest.mark.skipif(
    (ROOT / ".pulumi-cli" / "bin" / "pulumi").exists(),
    reason="a project-local Pulumi CLI is installed in .pulumi-cli/, so the demo would deploy",
)
def test_without_the_cli_and_no_download_the_demo_stops_clearly(tmp_path: Path) -> None:
    before = sandbox_processes()
    pid_file_before = (ROOT / ".sandbox" / "sandbox.pid").exists()
    unreachable = f"http://127.0.0.1:{free_port()}/install.sh"
    env = {
        "PATH": path_without_pulumi(tmp_path),
        "HOME": str(tmp_path),
        "PULUMI_INSTALLER_URL": unreachable,
        "DEMO_SKIP_SETUP": "1",  # the venv exists; `make setup` is not what is under test
        # Hide the CLI `make toolchain` built, as on a machine without it.
        "SEGMENT_PENDULA_TOOLCHAIN_BIN": str(tmp_path / "no-toolchain"),
    }

    done = subprocess.run(
        ["bash", str(DEMO)], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 3, done.stdout + done.stderr
    # Each step shows the time so far, so a long one reads as moving (issue 13).
    assert re.search(r"^==> Pulumi CLI  \(\d+ s so far\)$", done.stdout, re.MULTILINE)
    assert f"installing Pulumi {PINNED} into {ROOT / '.pulumi-cli'}" in done.stdout
    assert (
        f"error: the Pulumi CLI is not installed and could not be downloaded from {unreachable}."
        in done.stderr
    )
    assert f"Install Pulumi {PINNED} (https://www.pulumi.com/docs/install/)" in done.stderr
    assert "Nothing was started." in done.stderr
    assert "pulumi up" not in done.stdout
    assert sandbox_processes() == before
    assert (ROOT / ".sandbox" / "sandbox.pid").exists() == pid_file_before
    assert not (ROOT / ".pulumi-cli" / "bin" / "pulumi").exists()


@pytest.mark.skipif(
    (ROOT / ".pulumi-cli" / "bin" / "pulumi").exists(),
    reason="a project-local Pulumi CLI is installed in .pulumi-cli/, so the demo would deploy",
)
def test_make_demo_exits_as_the_readme_says(tmp_path: Path) -> None:
    """The script exits 3; `make` turns any failing recipe into its own exit code 2."""
    env = {
        "PATH": path_without_pulumi(tmp_path),
        "HOME": str(tmp_path),
        "PULUMI_INSTALLER_URL": f"http://127.0.0.1:{free_port()}/install.sh",
        "DEMO_SKIP_SETUP": "1",
        "SEGMENT_PENDULA_TOOLCHAIN_BIN": str(tmp_path / "no-toolchain"),
    }

    done = subprocess.run(
        ["make", "--no-print-directory", "demo"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Error 3" in done.stderr
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "the script exits 3, so `make demo` reports `Error 3` and exits 2" in readme


def test_with_the_built_cli_but_no_language_host_the_demo_stops_clearly(tmp_path: Path) -> None:
    """The CLI `make toolchain` builds cannot run __main__.py without pulumi-language-python
    (not served by the Go module proxy here): the demo says so and starts nothing."""
    require("the Pulumi CLI from make toolchain", toolchain_problem())
    before = sandbox_processes()
    env = {
        "PATH": path_without_pulumi(tmp_path),
        "HOME": str(tmp_path),
        "DEMO_SKIP_SETUP": "1",
    }

    done = subprocess.run(
        ["bash", str(DEMO)], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 3, done.stdout + done.stderr
    assert f"using {ROOT / '.toolchain' / 'bin' / 'pulumi'} (v{PINNED})" in done.stdout
    assert "has no Python language host (pulumi-language-python)" in done.stderr
    assert "Nothing was started." in done.stderr
    assert sandbox_processes() == before


def test_demo_down_is_idempotent_without_anything_running(tmp_path: Path) -> None:
    if (ROOT / ".sandbox" / "sandbox.pid").exists():
        pytest.skip("a demo sandbox is running in this checkout; demo-down would stop it")
    env = {"PATH": path_without_pulumi(tmp_path), "HOME": str(tmp_path)}
    for _ in range(2):
        done = subprocess.run(
            ["bash", str(DEMO_DOWN)], env=env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.endswith(f"removed {ROOT / '.sandbox'}\n")


def test_the_demo_event_step_prints_the_experience(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """scripts/demo_event.py after a deploy (here: the journey's mock deploy, not the CLI)."""
    spec = importlib.util.spec_from_file_location("demo_event", ROOT / "scripts" / "demo_event.py")
    assert spec is not None and spec.loader is not None
    demo_event = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo_event)
    settings = SandboxSettings(db_path=tmp_path / "db.sqlite3", subscription_writes_per_minute=0)
    with SandboxServer(settings) as server:
        stack_file = tmp_path / "Pulumi.local.yaml"
        text = fixture_stack("local").read_text()
        stack_file.write_text(text.replace("127.0.0.1:8787", f"127.0.0.1:{server.port}"))
        seed_database(settings.db_path, stack_file)
        journey = Journey(server, stack_file)
        monkeypatch.setenv("PENDULA_API_URL", f"{server.url}/api/v1")
        monkeypatch.setenv("PENDULA_API_TOKEN", "sandbox-pendula-admin-token")
        journey.deploy()

        code = demo_event.main(
            [
                "--stack-file",
                str(stack_file),
                "--event",
                str(ROOT / "tests/fixtures/events/signed-up.json"),
            ]
        )

    out = capsys.readouterr().out
    assert code == 0
    assert "tracked track 'Signed Up' as messageId demo-" in out
    assert "Pendula flow 'welcome' started experience " in out
    assert "  auth scheme: bearer (token " in out
    assert (
        '  X-PENDULA-CUSTOM-CONTEXT: {"flow": "welcome", "source": "segment", "stack": "local"}'
        in out
    )
    assert '      "event": "Signed Up",' in out


pulumi_cli = shutil.which("pulumi") or (
    str(ROOT / ".pulumi-cli" / "bin" / "pulumi")
    if (ROOT / ".pulumi-cli" / "bin" / "pulumi").exists()
    else None
)


@pytest.mark.skipif(
    pulumi_cli is None
    or shutil.which("pulumi-language-python", path=str(Path(pulumi_cli).parent)) is None,
    reason="needs a Pulumi CLI with its Python language host (on PATH or in .pulumi-cli/) and "
    "internet for Segment's Terraform provider, none of which this machine can build or fetch "
    "(docs/toolchain.md); tests/engine runs the real engine on what it can reach",
)
def test_e2e_pulumi_up_preview_destroy_on_the_local_stack(tmp_path: Path) -> None:
    """In a copy of the repository, on a free port (SANDBOX_PORT moves the sandbox and the
    copy's local stack together): no fixed port, no running demo and no file here is touched."""
    assert pulumi_cli is not None
    root = copy_repository(tmp_path / "repo")
    (root / "venv").symlink_to(Path(sys.prefix).resolve())
    port = free_port()
    env = {**os.environ, "DEMO_SKIP_SETUP": "1", "SANDBOX_PORT": str(port)}
    demo, demo_down = root / "scripts" / "demo.sh", root / "scripts" / "demo-down.sh"
    try:
        up = subprocess.run(
            ["bash", str(demo)], env=env, capture_output=True, text=True, timeout=900, check=False
        )
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"sandbox running on http://127.0.0.1:{port} " in up.stdout
        assert "Pendula flow 'welcome' started experience" in up.stdout
        preview_env = {
            **env,
            "PULUMI_BACKEND_URL": f"file://{root / '.pulumi'}",
            "PULUMI_CONFIG_PASSPHRASE": "segment-pendula-local-sandbox-only",
        }
        preview = subprocess.run(
            [pulumi_cli, "preview", "--stack", "local", "--expect-no-changes", "--non-interactive"],
            cwd=root, env=preview_env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert preview.returncode == 0, preview.stdout + preview.stderr
    finally:
        down = subprocess.run(
            ["bash", str(demo_down)], env=env, capture_output=True, text=True, timeout=600,
            check=False,
        )  # fmt: skip
    assert down.returncode == 0, down.stdout + down.stderr
    assert "pulumi destroy --stack local" in down.stdout
