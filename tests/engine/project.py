"""A throwaway Pulumi project run by the REAL engine: the CLI built by `make toolchain`.

The Python language host (`pulumi-language-python`) is not served by the Go module proxy here,
so the program runs the way the Automation API runs inline programs: the CLI (engine, state,
diffs, secrets, plugins) connects back to a language server inside this test process
(`pulumi up --client=…`). Everything else is the engine's own: the file backend, the
passphrase secrets manager and the bundled dynamic-provider host `pulumi-resource-pulumi-python`,
which runs `python -m pulumi.dynamic` from `venv/` with the project directory as its cwd.

Segment's Terraform provider is not served either, so programs here declare only what the
engine can deploy on this machine (docs/toolchain.md).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

ROOT = Path(__file__).resolve().parents[2]
TOOLCHAIN = ROOT / ".toolchain"
PULUMI = TOOLCHAIN / "bin" / "pulumi"
PROJECT = "segment-pendula"
PASSPHRASE = "engine-tests-only"


def toolchain_problem() -> str | None:
    """Why the real engine cannot run here, or None."""
    if not PULUMI.is_file() or not os.access(PULUMI, os.X_OK):
        return f"{PULUMI.relative_to(ROOT)} is missing: run `make toolchain`"
    launcher = TOOLCHAIN / "bin" / "pulumi-resource-pulumi-python"
    if not os.access(launcher, os.X_OK):
        return f"{launcher.relative_to(ROOT)} is missing or not executable: run `make toolchain`"
    return None


@dataclass
class EngineProject:
    """One project directory, one file backend and one stack, all under `directory`."""

    directory: Path
    program: Callable[[], None]
    stack_name: str = "local"
    output: list[str] = field(default_factory=list)
    """Everything the CLI printed (stdout and stderr of every command), for leak checks."""

    def __post_init__(self) -> None:
        self.project_dir = self.directory / "project"
        self.state_dir = self.directory / "state"
        self.home = self.directory / "home"
        for path in (self.project_dir, self.state_dir, self.home):
            path.mkdir(parents=True, exist_ok=True)
        # The dynamic-provider host imports the provider by reference from the project
        # directory (its cwd), exactly as it would from this repository's root.
        (self.project_dir / "components").symlink_to(ROOT / "components")
        self._stack: auto.Stack | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": f"file://{self.state_dir}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
            # With an inline program the engine does not pass Pulumi.yaml's runtime options to
            # the dynamic-provider host (it does for a program run by the language host), so
            # the host's launcher would fall back to the system python3: name the venv here.
            "PULUMI_RUNTIME_VIRTUALENV": str(ROOT / "venv"),
            # Plain text, no colour codes: what the leak checks search.
            "NO_COLOR": "1",
            "PATH": f"{TOOLCHAIN / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    def write_stack_config(
        self, config: Mapping[str, Any], secret_keys: Collection[str] = ()
    ) -> None:
        """Write `Pulumi.<stack>.yaml`: plain values, then each of `secret_keys` encrypted by
        `pulumi config set --secret` (per entry for objects), as a real stack holds them."""
        path = self.project_dir / f"Pulumi.{self.stack_name}.yaml"
        document = yaml.safe_load(path.read_text()) if path.exists() else {}
        document = document or {}
        document["config"] = {k: v for k, v in config.items() if k not in secret_keys}
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        self.stack  # noqa: B018 - selects (or creates) the stack before `config set`
        for key in secret_keys:
            value = config[key]
            entries = (
                [(f"{key}.{name}", item) for name, item in value.items()]
                if isinstance(value, Mapping)
                else [(key, value)]
            )
            for entry, item in entries:
                path_flag = ["--path"] if entry != key else []
                self.cli("config", "set", "--secret", *path_flag, entry, str(item),
                         "--stack", self.stack_name)  # fmt: skip

    @property
    def stack(self) -> auto.Stack:
        if self._stack is None:
            settings = auto.ProjectSettings(
                name=PROJECT,
                runtime=auto.ProjectRuntimeInfo(
                    name="python", options={"toolchain": "pip", "virtualenv": str(ROOT / "venv")}
                ),
            )
            options = auto.LocalWorkspaceOptions(
                work_dir=str(self.project_dir),
                pulumi_home=str(self.home),
                pulumi_command=auto.PulumiCommand(root=str(TOOLCHAIN)),
                env_vars=self.env,
                project_settings=settings,
                secrets_provider="passphrase",
            )
            self._stack = auto.create_or_select_stack(
                stack_name=self.stack_name,
                project_name=PROJECT,
                program=self.program,
                opts=options,
            )
        return self._stack

    def _record(self, result: Any) -> Any:
        for name in ("stdout", "stderr"):
            text = getattr(result, name, None)
            if text:
                self.output.append(text)
        return result

    def up(self, **kwargs: Any) -> auto.UpResult:
        return self._record(self.stack.up(color="never", on_output=self.output.append, **kwargs))

    def preview(self, **kwargs: Any) -> auto.PreviewResult:
        return self._record(
            self.stack.preview(color="never", on_output=self.output.append, **kwargs)
        )

    def refresh(self, **kwargs: Any) -> auto.RefreshResult:
        return self._record(
            self.stack.refresh(color="never", on_output=self.output.append, **kwargs)
        )

    def destroy(self, **kwargs: Any) -> auto.DestroyResult:
        return self._record(
            self.stack.destroy(color="never", on_output=self.output.append, **kwargs)
        )

    def cli(self, *args: str) -> str:
        """Run the CLI itself in the project directory, as a user would; returns stdout."""
        done = subprocess.run(
            [str(PULUMI), *args, "--non-interactive"],
            cwd=self.project_dir,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        self.output.extend([done.stdout, done.stderr])
        if done.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def export(self) -> dict[str, Any]:
        """`pulumi stack export` (secrets stay encrypted, as a user or a backup sees them).

        Not `Stack.export_stack()`: the Automation API exports with --show-secrets."""
        exported: dict[str, Any] = json.loads(
            self.cli("stack", "export", "--stack", self.stack_name)
        )
        return exported

    def state_files(self) -> str:
        """Every byte the file backend wrote (state, history, backups), as text."""
        texts = []
        for path in sorted(self.state_dir.rglob("*")):
            if path.is_file():
                texts.append(path.read_bytes().decode("utf-8", "replace"))
        return "\n".join(texts)

    def resources(self, type_: str) -> list[dict[str, Any]]:
        resources: list[dict[str, Any]] = self.export()["deployment"].get("resources") or []
        return [r for r in resources if r.get("type") == type_]

    def remove(self) -> None:
        """Delete the project, its state and home. No CLI runs between commands and the
        sandbox is per test, so nothing outlives this (destroy has its own test)."""
        shutil.rmtree(self.directory, ignore_errors=True)
