"""The pack against what the real program declares: PendulaTrigger must pass every rule."""

from __future__ import annotations

from components.review.offline import run_program, unwrap
from policy.rules import (
    DESTINATION_TYPE,
    FLOW_TOKEN_TYPE,
    SUBSCRIPTION_TYPE,
    StackResource,
    check_resource,
    check_stack,
)
from tests.test_config import SECRET, base


def test_the_program_declares_only_resources_the_pack_accepts() -> None:
    recorded = run_program(base(), SECRET)
    judged = [
        r for r in recorded if r.type in (DESTINATION_TYPE, SUBSCRIPTION_TYPE, FLOW_TOKEN_TYPE)
    ]
    assert {r.type for r in judged} == {DESTINATION_TYPE, SUBSCRIPTION_TYPE, FLOW_TOKEN_TYPE}
    violations = [
        violation
        for r in judged
        for violation in check_resource(
            r.type, unwrap(r.inputs), r.additional_secret_outputs, urn_or_name=r.urn
        )
    ]
    stack = [StackResource(r.urn, r.type, unwrap(r.inputs), r.parent) for r in recorded]
    assert violations + check_stack(stack) == []
