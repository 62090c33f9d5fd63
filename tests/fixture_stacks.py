"""The stack files the tests read: copies under tests/fixtures/stacks, never the user's stacks/.

`stacks/` is the user's configuration: adding, removing or renaming a flow there must never
break a test. Tests that need particular stacks read these fixtures (or build stack files in
tmp_path); the few tests that look at `stacks/` itself check only what holds for any valid
edit and carry the `stacks` marker (tests/test_editing_stacks.py runs them on an edited copy).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_STACKS = ROOT / "tests" / "fixtures" / "stacks"
FIXTURE_STACK_NAMES = sorted(
    p.name.removeprefix("Pulumi.").removesuffix(".yaml")
    for p in FIXTURE_STACKS.glob("Pulumi.*.yaml")
)
# The user's stacks: only for tests marked `@pytest.mark.stacks`.
USER_STACKS = ROOT / "stacks"


def fixture_stack(stack: str) -> Path:
    """The fixture stack file of `stack` (dev, local, prod or staging)."""
    return FIXTURE_STACKS / f"Pulumi.{stack}.yaml"


def user_stack_files() -> list[Path]:
    """Every stack file in the user's stacks/ (stack-facing tests only)."""
    return sorted(USER_STACKS.glob("Pulumi.*.yaml"))
