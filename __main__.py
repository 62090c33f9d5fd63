"""segment-pendula stack program: validate the stack config, then declare one PendulaTrigger
per configured destination. All logic lives in ``components`` (importable by the dynamic
provider host and by the offline plan)."""

from components.config.load import load_from_pulumi
from components.program import build

build(load_from_pulumi())
