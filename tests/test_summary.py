"""`make test`'s summary is honest: skip reasons, and one line about real-engine tests not run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.fixture_stacks import ROOT
from tests.test_editing_stacks import copy_repository


def test_make_test_shows_skip_reasons() -> None:
    recipe = re.search(r"^test: setup\n\t(.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert recipe is not None
    assert recipe.group(1).split()[-2:] == ["pytest", "-rs"]


def test_without_the_toolchain_one_line_names_the_engine_tests_not_run(tmp_path: Path) -> None:
    root = copy_repository(tmp_path / "repo")  # git ls-files: no .toolchain/ in the copy
    (root / "venv").symlink_to(Path(sys.prefix))
    env = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("PYTEST_")}

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "tests/engine"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("real engine: ")]
    engine_files = sorted(
        str(p.relative_to(root)) for p in (root / "tests" / "engine").glob("test_*.py")
    )
    count = int(re.search(r"(\d+) skipped", done.stdout).group(1))  # type: ignore[union-attr]
    assert lines == [
        f"real engine: {count} test(s) did not run ({', '.join(engine_files)}): the Pulumi CLI "
        "is not built here; run `make toolchain`, then `make test` (docs/toolchain.md)"
    ]
    assert "SKIPPED [" in done.stdout  # -rs: each reason is listed


def test_with_everything_run_there_is_no_such_line(tmp_path: Path) -> None:
    root = copy_repository(tmp_path / "repo")
    (root / "venv").symlink_to(Path(sys.prefix))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "tests/test_escaping.py"],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "real engine:" not in done.stdout
