"""``python -m components check``: every stack file validated at once, one line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.__main__ import main
from components.config.load import load_stack_file
from tests.fixture_stacks import FIXTURE_STACK_NAMES, fixture_stack
from tests.test_plan import UNSAFE_TRIGGER, make_project


def check(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, str, str]:
    code = main(["check", "--stacks-dir", str(root / "stacks"), "--project-root", str(root)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_repository_stacks_are_all_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path)
    count = len(FIXTURE_STACK_NAMES)

    code, out, err = check(capsys, root)

    assert (code, out, err) == (0, f"{count} stack file(s) valid; all policies pass\n", "")


def test_every_problem_is_one_line_prefixed_with_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = yaml.safe_load(fixture_stack("dev").read_text())
    bad_config = yaml.safe_load(yaml.safe_dump(dev))
    bad_config["config"]["segment-pendula:destinations"][0]["flows"][1]["url"] = (
        "http://pendula.app/x"
    )
    bad_policy = yaml.safe_load(yaml.safe_dump(dev))
    flow = bad_policy["config"]["segment-pendula:destinations"][0]["flows"][0]
    del flow["conditions"]
    flow.update(trigger=UNSAFE_TRIGGER, unsafeTrigger=True)
    root = make_project(
        tmp_path,
        {
            "Pulumi.good.yaml": yaml.safe_dump(dev),
            "Pulumi.badconfig.yaml": yaml.safe_dump(bad_config),
            "Pulumi.badpolicy.yaml": yaml.safe_dump(bad_policy),
        },
    )
    stacks = root / "stacks"
    (stacks / "Pulumi.broken.yaml").write_text("config: [unclosed\n")
    flow_name = load_stack_file(stacks / "Pulumi.good.yaml").destinations[0].flows[1].name
    assert flow_name

    code, out, err = check(capsys, root)
    lines = out.splitlines()

    assert code == 1
    assert err == "3 problem(s) in 4 stack file(s)\n"
    assert len(lines) == 3
    assert lines[0].startswith(
        f"{stacks / 'Pulumi.badconfig.yaml'}: segment-pendula:destinations[0].flows[1].url: "
        "'http://pendula.app/x' is not allowed"
    )
    assert lines[1].startswith(
        f"{stacks / 'Pulumi.badpolicy.yaml'}: policy subscription-trigger-fql on "
        "web-welcome-subscription: trigger "
    )
    broken = stacks / "Pulumi.broken.yaml"
    assert lines[2] == (
        f"{broken}: not valid YAML (expected ',' or ']', but got '<stream end>' at line 2)"
    )
    assert not any("Pulumi.good.yaml" in line for line in lines)


def test_no_stack_files_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path, {})
    code, out, err = check(capsys, root)
    assert (code, out) == (5, "")
    assert err == f"error: no Pulumi.*.yaml stack files in {root / 'stacks'}\n"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("segment:url", "https://eu1.api.segmentapis.com"),
        ("segment-pendula:allowedPendulaHosts", ["pendula.app", "eu.pendula.app"]),
        ("segment-pendula:production", True),
    ],
)
def test_check_against_flags_a_stack_whose_credential_endpoints_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: object
) -> None:
    from tests.test_plan import git

    root = make_project(tmp_path)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    path = root / "stacks" / "Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"][key] = value
    path.write_text(yaml.safe_dump(document, sort_keys=False))

    code = main(["check", "--stacks-dir", str(root / "stacks"), "--project-root", str(root),
                 "--against", "HEAD"])  # fmt: skip
    out = capsys.readouterr().out

    assert code == 1
    (line,) = out.splitlines()
    assert line.startswith(f"{path}: review: {key} changed: ")
    # Without --against nothing is flagged: the change itself is valid.
    assert check(capsys, root)[0] == 0


def test_check_lines_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev = yaml.safe_load(fixture_stack("dev").read_text())
    dev["config"]["segment-pendula:destinations"][0]["flows"][0]["url"] = (
        "https://evil.example/\x1b[2Jx\nforged line"
    )
    root = make_project(tmp_path, {"Pulumi.dev.yaml": yaml.safe_dump(dev)})
    code, out, _ = check(capsys, root)
    assert code == 1
    assert "\x1b" not in out
    assert all(line.startswith(str(root / "stacks")) for line in out.splitlines())


def test_a_trigger_that_does_not_parse_gets_column_caret_and_the_conditions_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = yaml.safe_load(fixture_stack("dev").read_text())
    flow = dev["config"]["segment-pendula:destinations"][0]["flows"][0]
    del flow["conditions"]
    flow["trigger"] = 'type = "track" and evnt = "Signed Up"'
    root = make_project(tmp_path, {"Pulumi.dev.yaml": yaml.safe_dump(dev)})

    code, out, err = check(capsys, root)

    path = root / "stacks" / "Pulumi.dev.yaml"
    assert (code, err) == (1, "1 problem(s) in 1 stack file(s)\n")
    assert out == (
        f'{path}: segment-pendula:destinations[0].flows[0].trigger: trigger \'type = "track" '
        "and evnt = \"Signed Up\"', column 20: unsupported field 'evnt'; Segment's trigger "
        "parser reads only type, event, name, userId, properties.*, traits.*, context.*. "
        "Did you mean conditions: {all: [{event_type: {is: track}}, {event: {is: Signed Up}}]}\n"
        '      type = "track" and evnt = "Signed Up"\n'
        "                         ^^^^\n"
    )
    # Never "set unsafeTrigger: true": the policy pack would refuse that trigger anyway.
    assert "unsafeTrigger" not in out


def test_a_trigger_segment_misreads_gets_its_exact_conditions_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = yaml.safe_load(fixture_stack("dev").read_text())
    flow = dev["config"]["segment-pendula:destinations"][0]["flows"][0]
    del flow["conditions"]
    flow["trigger"] = "event = 'Signed Up'"
    root = make_project(tmp_path, {"Pulumi.dev.yaml": yaml.safe_dump(dev)})

    code, out, _ = check(capsys, root)

    assert code == 1
    lines = out.splitlines()
    assert lines[0].endswith(
        "column 9: single-quoted value 'Signed Up': Segment's parser keeps the quotes as part of "
        "the value, so it never matches; use double quotes. "
        "Did you mean conditions: {all: [{event: {is: Signed Up}}]}"
    )
    assert lines[1:] == ["      event = 'Signed Up'", "              ^^^^^^^^^^^"]
