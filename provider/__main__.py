"""The segment-pendula component provider: serves PendulaTrigger to every Pulumi language."""

import os
import sys
from pathlib import Path
from typing import Any

# Run from a checkout (tests, `pulumi package add <path>`), the library is the directory above.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider.experimental import component_provider_host

from components import __version__, trigger

ALLOW_DYNAMIC_ENV = "SEGMENT_PENDULA_ALLOW_DYNAMIC_IN_COMPONENT"
"""Set to 1 only if the consuming project's dynamic-provider host can import ``components``
(e.g. ``PULUMI_PYTHON_CMD`` points at a Python with segment-pendula installed)."""

UNSUPPORTED = (
    "PendulaTrigger cannot be used through the cross-language component package: each flow's "
    "Pendula token is a Python dynamic resource (PendulaFlowToken), and Pulumi runs dynamic "
    "resources in a host started by the engine with the consuming program's working directory "
    "and Python, where this package's `components` module is not importable (pulumi/pulumi#5455). "
    "Supported: in a Python program, `pip install` segment-pendula (see the repository README) "
    "and use `from components.trigger import PendulaTrigger` directly, as "
    "examples/two-workspaces does. To try anyway with a Python whose environment has "
    f"segment-pendula installed (PULUMI_PYTHON_CMD), set {ALLOW_DYNAMIC_ENV}=1."
)


class PendulaTrigger(trigger.PendulaTrigger):
    __doc__ = trigger.PendulaTrigger.__doc__

    def __init__(self, name: str, args: trigger.PendulaTriggerArgs, opts: Any = None) -> None:
        # Fail before anything is registered, with the reason and the supported way, instead
        # of a dynamic-provider host failing later with "No module named 'components'".
        if os.environ.get(ALLOW_DYNAMIC_ENV) != "1":
            raise RuntimeError(UNSUPPORTED)
        super().__init__(name, args, opts)


if __name__ == "__main__":
    component_provider_host(
        components=[PendulaTrigger], name="segment-pendula", version=__version__
    )
