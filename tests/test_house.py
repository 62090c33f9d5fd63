"""The house (docs/layout.md): one concern per module, imports pointing one way."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ("components", "policy", "provider", "sandbox", "scripts", "bench")
"""Directories of production code; sdks/ is generated and not ours to arrange."""
MAX_LINES = 600


def python_files(*directories: str) -> list[Path]:
    return sorted(
        path
        for directory in directories
        for path in (ROOT / directory).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_nothing_in_components_imports_policy() -> None:
    files = python_files("components")
    assert len(files) > 50
    upward = {
        str(path.relative_to(ROOT)): sorted(
            module for module in imported_modules(path) if module.split(".")[0] == "policy"
        )
        for path in files
    }
    assert {name: modules for name, modules in upward.items() if modules} == {}


def test_the_policy_pack_imports_its_rules_from_components() -> None:
    assert "components.rules.model" in imported_modules(ROOT / "policy" / "rules.py")
    from components.rules.stack_rules import check_resource, check_stack
    from policy import rules

    assert rules.check_resource is check_resource
    assert rules.check_stack is check_stack


def test_every_production_module_is_at_most_600_lines() -> None:
    files = python_files(*PRODUCTION)
    assert len(files) > 100
    too_long = {
        str(path.relative_to(ROOT)): count
        for path in files
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}
