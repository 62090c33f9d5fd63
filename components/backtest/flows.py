"""The flows a backtest checks: each flow's trigger read from a stack file, or from the stack file
as of a git ref (``--against``).

The stack file is read through ``components.config.load.read_stack_document`` (the one reader of
stack files); only the triggers are interpreted here, flow by flow, so one refused trigger is
reported on its flow instead of stopping the run. A raw ``trigger`` kept with
``unsafeTrigger: true`` is evaluated as Segment's own parser reads it, since that is what
Segment would run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.config.at_ref import resolve_stack_at_ref
from components.config.load import mask_secure, read_stack_document, split_resolved
from components.config.models import PROJECT, ConfigError
from components.config.stack_config import StackConfigError
from components.fql import ConditionError, conditions_from_yaml, generate_fql, parse_fql
from components.fql.segment_parser import SegmentParseError, segment_parse


class StackError(ValueError):
    """The stack file (or the stack as of ``--against``) cannot be read."""


@dataclass(frozen=True)
class FlowTrigger:
    """One flow of the stack and the trigger to evaluate (``ast`` None: ``refused`` says why)."""

    destination: str
    name: str
    enabled: bool
    """The flow and its destination are both enabled (what Segment would deliver today)."""
    fql: str
    ast: dict[str, Any] | None
    refused: str | None = None
    note: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.destination, self.name


def stack_path(stacks_dir: Path, stack: str) -> Path:
    return stacks_dir / f"Pulumi.{stack}.yaml"


def read_flows(path: Path) -> list[FlowTrigger]:
    """Every flow of the stack file at ``path``, in file order."""
    if not path.is_file():
        raise StackError(f"{path}: no such stack file")
    try:
        document = read_stack_document(path)
    except ConfigError as exc:
        raise StackError(str(exc)) from None
    return _flows(document.values, str(path))


def read_flows_at_ref(path: Path, ref: str) -> list[FlowTrigger] | None:
    """The flows of the stack file as of git ``ref`` (None: the file did not exist there)."""
    try:
        resolved = resolve_stack_at_ref(path, ref)
    except StackConfigError as exc:
        raise StackError(str(exc)) from None
    if resolved is None:
        return None
    return _flows(split_resolved(resolved, mask_secure).values, resolved.label)


def _flows(values: Mapping[str, Any], label: str) -> list[FlowTrigger]:
    destinations = values.get("destinations")
    if not isinstance(destinations, list):
        raise StackError(f"{label}: {PROJECT}:destinations must be a list of destinations")
    flows: list[FlowTrigger] = []
    for d_index, destination in enumerate(destinations):
        d_key = f"{PROJECT}:destinations[{d_index}]"
        if not isinstance(destination, Mapping) or not isinstance(destination.get("flows"), list):
            raise StackError(f"{label}: {d_key} must be a mapping with a list of flows")
        d_name = str(destination.get("name", f"destination-{d_index}"))
        d_enabled = destination.get("enabled", True) is True
        for f_index, flow in enumerate(destination["flows"]):
            f_key = f"{d_key}.flows[{f_index}]"
            if not isinstance(flow, Mapping):
                raise StackError(f"{label}: {f_key} must be a mapping")
            flows.append(_flow(flow, f_key, d_name, d_enabled))
    return flows


def _flow(flow: Mapping[str, Any], key: str, destination: str, d_enabled: bool) -> FlowTrigger:
    name = str(flow.get("name", key))
    enabled = d_enabled and flow.get("enabled", False) is True
    conditions, trigger = flow.get("conditions"), flow.get("trigger")

    def made(fql: str, ast: dict[str, Any] | None, refused: str | None = None) -> FlowTrigger:
        return FlowTrigger(destination, name, enabled, fql, ast, refused)

    if (conditions is None) == (trigger is None):
        refused = f"{key}: give exactly one of 'conditions' or 'trigger'"
        return made("", None, refused)
    if conditions is not None:
        try:
            ast = conditions_from_yaml(conditions, f"{key}.conditions")
            return made(generate_fql(ast), ast)
        except ConditionError as exc:
            return made("", None, str(exc))
    if not isinstance(trigger, str):
        return made("", None, f"{key}.trigger: must be FQL text")
    try:
        return made(trigger, parse_fql(trigger))
    except ConditionError as exc:
        if flow.get("unsafeTrigger") is not True:
            return made(trigger, None, f"{key}.trigger: {exc}")
    try:
        ast = segment_parse(trigger)
    except SegmentParseError as exc:
        refused = f"{key}.trigger: Segment's parser rejects it, so it matches no event ({exc})"
        return made(trigger, None, refused)
    note = "unsafe trigger: evaluated as Segment's parser reads it"
    return FlowTrigger(destination, name, enabled, trigger, ast, None, note)
