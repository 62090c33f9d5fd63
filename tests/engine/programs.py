"""Programs the real engine runs in tests (inline: see tests/engine/project.py)."""

from __future__ import annotations

import pulumi

from components.config.load import load_from_pulumi
from components.pendula import PendulaFlowToken
from components.program import flow_args
from components.trigger import token_args

OUTPUT_FINGERPRINTS = "tokenFingerprints"
OUTPUT_AUTHORIZATIONS = "authorizations"


def flow_tokens() -> None:
    """The stack's flow tokens exactly as `PendulaTrigger` declares them (same config path,
    same inputs, same names `<destination>-<flow>-token`), without the Segment children: the
    Segment provider cannot be built on this machine (docs/toolchain.md)."""
    config = load_from_pulumi()
    fingerprints: dict[str, pulumi.Output[str]] = {}
    authorizations: dict[str, pulumi.Output[str]] = {}
    for destination in config.destinations:
        for flow in destination.flows:
            name = f"{destination.name}-{flow.name}-token"
            token = PendulaFlowToken(name, token_args(flow_args(flow)))
            fingerprints[name] = token.fingerprint
            authorizations[name] = token.authorization
    pulumi.export(OUTPUT_FINGERPRINTS, fingerprints)
    # Exported on purpose: a secret output must stay secret in state and CLI output.
    pulumi.export(OUTPUT_AUTHORIZATIONS, authorizations)
