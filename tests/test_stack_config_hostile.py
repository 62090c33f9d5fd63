"""No input crashes a tool: every command over a corpus of hostile stack files.

tests/fixtures/hostile/ holds stack files a careless or hostile user could write (huge ints,
impossible dates, over-long names and paths, odd scalars, bad YAML, alias bombs, lone
surrogates, …). Every tool that reads config goes through components.config.stack_config, so each one
must answer every file with its documented exit code and a clear message naming the file or the
key path — never a traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pulumi.runtime
import pytest

from components.__main__ import main
from components.config.load import load_from_pulumi
from components.config.models import ConfigError
from components.config.stack_config import StackConfigError, resolve_stack_file
from components.review.document import EXIT_INVALID_CONFIG, EXIT_OK, EXIT_UNREADABLE
from components.segment.adopt import AdoptedDestination, AdoptedFlow, Adoption
from components.segment.stack_file import config_problems
from policy.rules import PolicyConfig
from sandbox.seed import SeedError, read_seed_config

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
FILES = sorted(HOSTILE.glob("*.yaml"))
NAMES = [path.stem for path in FILES]

VALID = {
    # Odd, but the engine reads them to values this project accepts (the measured readings
    # are in docs/configuration.md); the plan must show them, not crash on them.
    "bom": "a UTF-8 byte order mark is skipped",
    "control-chars": "escape sequences in a display name are shown escaped",
    "date-as-name": "a timestamp display name is Go's time text",
    "huge-float": "1e999 is past float64: Go keeps the text",
    "huge-int-data": "a 400-digit number is past float64: Go keeps the text",
    "huge-list-index": "3000 list items",
    "impossible-date": "2023-02-30 is no date: a string",
    "int-as-source": "a hex number past uint64 is a string",
    "year-zero": "0000-01-01 is not a date Python has: a string",
    "environment-import": "valid, but not reviewable offline",
}


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 40
    assert set(VALID) <= set(NAMES)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "stacks").mkdir()
    return tmp_path


def one_stack(project: Path, name: str) -> Path:
    directory = project / "stacks" / name
    directory.mkdir()
    shutil.copy(HOSTILE / f"{name}.yaml", directory / f"Pulumi.{name}.yaml")
    return directory


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "Traceback" not in output
    return code, output


def names_it(output: str, name: str) -> bool:
    return f"Pulumi.{name}.yaml" in output or "segment-pendula:" in output or "segment:" in output


@pytest.mark.parametrize("name", NAMES)
def test_plan_answers_every_hostile_file_with_its_exit_code(
    project: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = one_stack(project, name)
    code, output = run(capsys, "plan", "--stack", name, "--stacks-dir", str(stacks))
    expected = {EXIT_OK} if name in VALID else {EXIT_INVALID_CONFIG, EXIT_UNREADABLE}
    assert code in expected, output[-2000:]
    assert names_it(output, name)


@pytest.mark.parametrize("name", NAMES)
def test_send_test_event_answers_every_hostile_file(
    project: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = one_stack(project, name)
    argv = ["send-test-event", "--stack", name, "--flow", "welcome", "--dry-run"]
    code, output = run(capsys, *argv, "--stacks-dir", str(stacks))
    assert code == 1  # every file here is unusable, or its flow has no sampleEvent
    assert output.startswith("error: ")


def test_check_reports_every_hostile_file_and_goes_on_with_the_others(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = project / "stacks"
    for path in FILES:
        shutil.copy(path, stacks / f"Pulumi.{path.stem}.yaml")
    code, output = run(capsys, "check", "--stacks-dir", str(stacks))
    assert code == 1
    assert f"problem(s) in {len(FILES)} stack file(s)" in output
    flagged = {name for name in NAMES if f"Pulumi.{name}.yaml: " in output}
    assert flagged == (set(NAMES) - set(VALID)) | {"environment-import"}


@pytest.mark.parametrize("name", NAMES)
def test_the_program_and_the_seed_read_every_hostile_file_without_crashing(name: str) -> None:
    """What the engine would hand the program decodes to a config or a ConfigError."""
    try:
        resolved = resolve_stack_file(HOSTILE / f"{name}.yaml")
    except StackConfigError as exc:
        assert f"{name}.yaml" in str(exc)
        return
    texts = {key: entry.text or "[secret]" for key, entry in resolved.config.items()}
    secret = [key for key, entry in resolved.config.items() if entry.secret]
    pulumi.runtime.set_mocks(_Mocks(), project="segment-pendula", stack=name, preview=False)
    try:
        pulumi.runtime.set_all_config(texts, secret_keys=secret)
        try:
            load_from_pulumi()
        except ConfigError as exc:
            assert exc.problems
    finally:
        pulumi.runtime.set_all_config({})
    with pytest.raises(SeedError):  # none of them is a sandbox stack
        read_seed_config(HOSTILE / f"{name}.yaml")


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[str]]:
        return {}, []


HOSTILE_TEXTS = ["0o17", "1e3", "on", "2023-02-30", "2024-01-31", "012", "~", "9" * 30, "2:30"]


def test_adopts_output_check_reads_back_what_it_wrote_for_odd_texts() -> None:
    """Texts Segment holds that the engine would read as numbers or dates are written quoted."""
    flows = tuple(
        AdoptedFlow(
            name=f"flow-{i}",
            subscription_id=f"sub{i}",
            config={
                "name": f"flow-{i}",
                "url": "https://pendula.app/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10",
                "displayName": text,
                "trigger": 'type = "track"',
                "customContext": {"k": text},
            },
            trigger_form="trigger",
        )
        for i, text in enumerate(HOSTILE_TEXTS[:5])
    )
    destination = AdoptedDestination(
        name="web",
        destination_id="d1",
        display_name=None,
        config={"name": "web", "sourceId": "src1", "flows": [f.config for f in flows]},
        flows=flows,
    )
    adoption = Adoption("https://api.segmentapis.com", "src1", False, [destination])
    problems = config_problems(adoption)
    assert not [p for p in problems if "read back" in p], problems
    assert all("pendulaTokens" in p for p in problems), problems


POLICY_VALUES = [*HOSTILE_TEXTS, 10**400, 1e308, float("inf"), float("nan"), -1, None, [], {}]


@pytest.mark.parametrize("field", ["allowedHosts", "allowLoopback", "maxMappingsPerDestination"])
@pytest.mark.parametrize("value", POLICY_VALUES, ids=repr)
def test_the_policy_config_loader_refuses_odd_values_by_name(field: str, value: Any) -> None:
    """The policy config arrives as JSON from the engine; an odd value is a clear error."""
    try:
        PolicyConfig.from_pack_config({"a-policy": {field: value}})
    except ValueError as exc:
        assert str(exc).startswith(f"a-policy.{field}: ")
        assert "is not allowed" in str(exc)
