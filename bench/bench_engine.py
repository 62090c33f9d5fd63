"""Benchmark: the real engine (`make toolchain`'s CLI) beside the offline plan, same stack.

A generated stack of 10 destinations x 5 flows (50 flows, provided tokens, so no network) is
planned offline (`components.review.plan.build_plan`: the whole program, 50 mappings included, under
mocks) and deployed by the real engine. The engine runs only the 50 flow tokens: Segment's
Terraform provider cannot be built here (docs/toolchain.md), so the engine figures cover the
dynamic-provider half of the program and are a lower bound for a full stack.

Printed per figure: best wall time of `--repeat` runs. No target is named by the issue for
these figures; the ratio engine/offline is the point.

    venv/bin/python bench/bench_engine.py [--destinations 10] [--flows 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.review.plan import PlanRequest, build_plan  # noqa: E402
from tests.engine.programs import flow_tokens  # noqa: E402
from tests.engine.project import EngineProject, toolchain_problem  # noqa: E402

SECRET_KEYS = ("segment-pendula:pendulaTokens",)


def generated_config(destinations: int, flows: int) -> dict[str, Any]:
    tokens: dict[str, str] = {}
    declared = []
    for d in range(destinations):
        batch = []
        for i in range(flows):
            name = f"flow-{d}-{i}"
            tokens[name] = f"pdl_bench_token_{d}_{i}_0123456789"
            batch.append(
                {
                    "name": name,
                    "url": f"https://pendula.app/webhook/inbound/00000000-0000-4000-8000-{d:06d}{i:06d}",
                    "enabled": True,
                    "conditions": {
                        "all": [{"event_type": {"is": "track"}}, {"event": {"is": f"Event {i}"}}]
                    },
                }
            )
        declared.append({"name": f"dest-{d}", "sourceId": f"source{d}", "flows": batch})
    return {
        "segment:url": "https://api.segmentapis.com",
        "segment-pendula:destinations": declared,
        "segment-pendula:pendulaTokens": tokens,
    }


def best(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def offline_plan_seconds(config: dict[str, Any], workdir: Path, repeat: int) -> float:
    stacks = workdir / "stacks"
    stacks.mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", workdir / "Pulumi.yaml")
    # As a real stack file holds them: ciphertext the offline plan never decrypts.
    offline_config = {
        **config,
        "segment-pendula:pendulaTokens": {
            name: {"secure": "v1:bench-ciphertext"} for name in config[SECRET_KEYS[0]]
        },
    }
    (stacks / "Pulumi.bench.yaml").write_text(yaml.safe_dump({"config": offline_config}))
    request = PlanRequest(stack="bench", stacks_dir=stacks, project_root=workdir)

    def plan() -> None:
        document = build_plan(request)
        assert document["status"] == "ok", document["problems"]

    return best(repeat, plan)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--destinations", type=int, default=10)
    parser.add_argument("--flows", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    problem = toolchain_problem()
    if problem is not None:
        print(f"bench_engine: {problem}", file=sys.stderr)
        return 2
    config = generated_config(args.destinations, args.flows)
    flows = args.destinations * args.flows
    with tempfile.TemporaryDirectory() as tmp:
        offline = offline_plan_seconds(config, Path(tmp) / "plan", args.repeat)
        project = EngineProject(Path(tmp) / "engine", flow_tokens, stack_name="bench")
        project.write_stack_config(config, SECRET_KEYS)
        first_preview = best(1, project.preview)
        first_up = best(1, project.up)
        noop_preview = best(args.repeat, lambda: project.preview(expect_no_changes=True))
        noop_up = best(args.repeat, lambda: project.up(expect_no_changes=True))
    print(f"stack: {args.destinations} destinations x {args.flows} flows = {flows} flows")
    print(f"offline plan (whole program, {flows} mappings, mocks) : {offline:6.2f} s")
    print(f"engine preview, empty stack ({flows} tokens)          : {first_preview:6.2f} s")
    print(f"engine up, first deploy ({flows} tokens)              : {first_up:6.2f} s")
    print(
        f"engine preview, no changes                       : {noop_preview:6.2f} s"
        f"  ({noop_preview / offline:.1f}x the offline plan)"
    )
    print(
        f"engine up, no changes                            : {noop_up:6.2f} s"
        f"  ({noop_up / offline:.1f}x the offline plan)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
