"""segment-pendula's reusable library: the PendulaTrigger component and what it stands on.

``from components import PendulaTrigger, PendulaTriggerArgs, PendulaFlowArgs`` is the public
path. Those names load on first use (PEP 562), so that importing the package stays free of
side effects: Pulumi's dynamic-provider host imports ``components.pendula`` by reference when it
unpickles a provider (reference/pulumi.md §1.1), and must not load the component with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.pendula import PendulaFlowToken
    from components.trigger import PendulaFlowArgs, PendulaTrigger, PendulaTriggerArgs

__version__ = "0.1.0"

_PUBLIC = {
    "PendulaTrigger": "components.trigger",
    "PendulaTriggerArgs": "components.trigger",
    "PendulaFlowArgs": "components.trigger",
    "PendulaFlowToken": "components.pendula",
}
"""Each public name and the module that defines it."""

__all__ = [
    "PendulaFlowArgs",
    "PendulaFlowToken",
    "PendulaTrigger",
    "PendulaTriggerArgs",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value
