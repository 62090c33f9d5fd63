"""The offline `plan --against` and the real engine's preview name the same token steps.

The offline plan runs the program under mocks and decides create / update / replace / delete
itself (components/plan.py); here the real engine decides for the same change, after an `up` of
the base config. Only the flow tokens are compared: the engine cannot load Segment's provider on
this machine (docs/toolchain.md), so the Segment children are out of its reach.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from pulumi.automation import EngineEvent, OpType

from components.review.diff import diff_runs
from components.review.offline import FLOW_TOKEN_TYPE
from components.review.stack_run import read_stack_text, run_stack
from tests.engine.conftest import Sandbox
from tests.engine.programs import flow_tokens
from tests.engine.project import EngineProject
from tests.engine.support import SECRET_KEYS, MakeProject

Config = dict[str, Any]

# What the engine's step operations mean in the offline plan's words.
ENGINE_ACTIONS = {
    OpType.SAME: "same",
    OpType.CREATE: "create",
    OpType.UPDATE: "update",
    OpType.REPLACE: "replace",
    OpType.CREATE_REPLACEMENT: "replace",
    OpType.DELETE_REPLACED: "replace",
    OpType.DELETE: "delete",
}


def _flow(config: Config, name: str) -> dict[str, Any]:
    flows: list[dict[str, Any]] = config["segment-pendula:destinations"][0]["flows"]
    (flow,) = [f for f in flows if f["name"] == name]
    return flow


def new_flow_url(config: Config) -> None:
    _flow(config, "welcome")["url"] = _flow(config, "welcome")["url"][:-1] + "9"


def rename_managed_token(config: Config) -> None:
    _flow(config, "welcome")["token"]["name"] = "segment-welcome-renamed"


def rotate_provided_token(config: Config) -> None:
    config["segment-pendula:pendulaTokens"]["vip"] = "sandbox-rotated-token-vip-2"


def edit_conditions_only(config: Config) -> None:
    _flow(config, "vip")["conditions"]["all"][1] = {"user_id": {"starts_with": "VIP"}}


def remove_a_flow(config: Config) -> None:
    flows = config["segment-pendula:destinations"][0]["flows"]
    flows[:] = [f for f in flows if f["name"] != "upgrade-nudge"]
    del config["segment-pendula:pendulaTokens"]["upgrade-nudge"]


def switch_scheme(config: Config) -> None:
    _flow(config, "upgrade-nudge")["token"] = {"scheme": "basic", "tenantId": "sandbox-tenant"}


CHANGES: list[Callable[[Config], None]] = [
    new_flow_url,
    rename_managed_token,
    rotate_provided_token,
    edit_conditions_only,
    remove_a_flow,
    switch_scheme,
]


def offline_token_actions(base: Config, head: Config) -> dict[str, str]:
    runs = [
        run_stack(read_stack_text(yaml.safe_dump({"config": c}), label), "local")
        for c, label in ((base, "base"), (head, "head"))
    ]
    for run in runs:
        assert not run.problems, run.problems
    return {e["name"]: e["action"] for e in diff_runs(*runs) if e["type"] == FLOW_TOKEN_TYPE}


def engine_token_actions(project: EngineProject) -> dict[str, str]:
    actions: dict[str, str] = {}

    def record(event: EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is None or pre.metadata.type != FLOW_TOKEN_TYPE:
            return
        name = pre.metadata.urn.rsplit("::", 1)[1]
        actions[name] = ENGINE_ACTIONS[pre.metadata.op]

    project.preview(on_event=record)
    return actions


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.__name__)
def test_offline_plan_and_engine_preview_agree_on_token_steps(
    engine_project: MakeProject, sandbox_stack: Sandbox, change: Callable[[Config], None]
) -> None:
    base = sandbox_stack.config
    head = copy.deepcopy(base)
    change(head)
    project = engine_project(flow_tokens)
    project.write_stack_config(base, SECRET_KEYS)
    project.up()
    project.write_stack_config(head, SECRET_KEYS)

    engine = engine_token_actions(project)
    offline = offline_token_actions(base, head)

    assert engine == offline
    assert len(engine) == len({**offline, **engine}) >= 3, "every token is compared"
    assert set(engine.values()) != {"same"} or change is edit_conditions_only
