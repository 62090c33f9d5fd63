"""components.backtest.flows: each flow's trigger from the stack file, refusals per flow."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from components.backtest.flows import StackError, read_flows, read_flows_at_ref
from tests.backtest.support import flow, write_stack

TRACK = {"all": [{"event_type": {"is": "track"}}]}


def test_conditions_raw_triggers_and_enabled_states(tmp_path: Path) -> None:
    path = write_stack(
        tmp_path,
        [
            flow("a", conditions=TRACK),
            flow("b", enabled=False, trigger='event = "X"'),
        ],
    )
    a, b = read_flows(path)
    assert (a.key, a.enabled, a.fql, a.refused) == (("web", "a"), True, 'type = "track"', None)
    assert (b.enabled, b.fql, b.ast is not None) == (False, 'event = "X"', True)


def test_a_refused_trigger_is_reported_on_its_flow_only(tmp_path: Path) -> None:
    path = write_stack(
        tmp_path,
        [
            flow("bad", trigger='type = "track" or event = "a" and event = "b"'),
            flow("good", conditions=TRACK),
            flow("typo", conditions={"all": [{"evnt": {"is": "x"}}]}),
        ],
    )
    bad, good, typo = read_flows(path)
    assert bad.ast is None and bad.refused is not None
    assert bad.refused.startswith("segment-pendula:destinations[0].flows[0].trigger: ")
    assert "mixes 'and' and 'or'" in bad.refused
    assert good.ast is not None and good.refused is None
    assert typo.refused is not None and "did you mean 'event'" in typo.refused


def test_an_unsafe_trigger_runs_as_segments_parser_reads_it(tmp_path: Path) -> None:
    text = 'type = "track" or event = "a" and event = "b"'  # Segment: all joined by "and"
    path = write_stack(tmp_path, [flow("raw", trigger=text, unsafeTrigger=True)])
    (raw,) = read_flows(path)
    assert raw.refused is None and raw.note is not None
    assert raw.ast is not None and raw.ast["operator"] == "and"


def test_a_missing_stack_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StackError, match=r"Pulumi\.nope\.yaml: no such stack file"):
        read_flows(tmp_path / "Pulumi.nope.yaml")


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def test_the_stack_at_a_git_ref(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    path = write_stack(tmp_path, [flow("a", trigger='event = "Old"')])
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "old")
    write_stack(tmp_path, [flow("a", trigger='event = "New"')])
    (old,) = read_flows_at_ref(path, "HEAD") or []
    assert old.fql == 'event = "Old"'
    assert read_flows_at_ref(tmp_path / "Pulumi.other.yaml", "HEAD") is None
    with pytest.raises(StackError, match="--against nope: not a git commit"):
        read_flows_at_ref(path, "nope")
    with pytest.raises(StackError, match="cannot start with '-'"):
        read_flows_at_ref(path, "--output=x")
