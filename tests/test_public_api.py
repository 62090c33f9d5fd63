"""The package's public names (components/__init__.py): importable from ``components``, and
loaded only when used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import components
import components.pendula
import components.trigger

ROOT = Path(__file__).resolve().parent.parent


def test_the_component_and_its_args_import_from_the_package() -> None:
    from components import PendulaFlowArgs, PendulaFlowToken, PendulaTrigger, PendulaTriggerArgs

    assert PendulaTrigger is components.trigger.PendulaTrigger
    assert PendulaTriggerArgs is components.trigger.PendulaTriggerArgs
    assert PendulaFlowArgs is components.trigger.PendulaFlowArgs
    assert PendulaFlowToken is components.pendula.PendulaFlowToken
    assert set(components.__all__) >= {"PendulaTrigger", "PendulaTriggerArgs", "PendulaFlowArgs"}


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'PendulaTriger'"):
        components.PendulaTriger  # noqa: B018


def test_importing_the_package_loads_neither_the_component_nor_pulumi() -> None:
    """What the dynamic-provider host relies on when it imports components.pendula."""
    probe = "import sys, components; print('components.trigger' in sys.modules, 'pulumi' in sys.modules)"
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert shown.stdout.split() == ["False", "False"]
