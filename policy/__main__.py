"""Entry point the Pulumi engine runs: builds the segment-pendula-guardrails policy pack."""

import sys
from pathlib import Path

# The engine starts `python -u -m pulumi.policy <engine address> .` with cwd = this directory
# and runs it with runpy, so only policy/ itself is on sys.path. The rules live in the package
# `policy` and check triggers with `components.fql`, the very parser the program uses,
# so pack and program cannot disagree about FQL. Both sit at the repository root: put the root
# on the path rather than install a copy of `components` that could drift from the checkout
# under review (and the `policy` package is not part of the pip distribution at all).
_REPOSITORY_ROOT = str(Path(__file__).resolve().parent.parent)
if _REPOSITORY_ROOT not in sys.path:
    sys.path.insert(0, _REPOSITORY_ROOT)

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.pack import PACK_DESCRIPTION, PACK_NAME, build_policies  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(),
)
