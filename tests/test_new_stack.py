"""``python -m components new-stack NAME --from STACK``: a new stack whose secrets are PLACEHOLDER."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from components.__main__ import main
from tests.fixture_stacks import FIXTURE_STACK_NAMES, FIXTURE_STACKS, ROOT
from tests.test_plan import make_project


def project(tmp_path: Path) -> Path:
    """The fixture stacks and their policy pack configs (whatever stacks/ holds now)."""
    root = make_project(tmp_path)
    (root / "policy" / "config").mkdir(parents=True)
    for stack in FIXTURE_STACK_NAMES:
        name = f"{stack}.json"
        shutil.copy(ROOT / "policy" / "config" / name, root / "policy" / "config" / name)
    return root


def new_stack(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["new-stack", *argv, "--stacks-dir", str(root / "stacks"),
                 "--project-root", str(root)])  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_new_stack_writes_the_stack_and_policy_config_and_prints_what_is_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path)
    source_text = (FIXTURE_STACKS / "Pulumi.dev.yaml").read_text()

    code, out, err = new_stack(capsys, root, "qa", "--from", "dev")

    assert (code, err) == (0, "")
    stack = root / "stacks" / "Pulumi.qa.yaml"
    assert out.splitlines() == [
        f"wrote {stack}",
        f"wrote {root / 'policy' / 'config' / 'qa.json'}",
        "4 secret(s) are PLACEHOLDER until you set them.",
        "Next, from the project root:",
        "  pulumi stack init qa        # or: pulumi stack select --create qa",
        "  pulumi config set --secret segment:token <Segment Public API token>",
        "  pulumi config set --secret --path 'segment-pendula:pendulaTokens.welcome' <Pendula API token>",
        "  pulumi config set --secret --path 'segment-pendula:pendulaTokens.upgrade-nudge' <Pendula API token>",
        "  pulumi config set --secret --path 'segment-pendula:pendulaTokens.vip' <Pendula API token>",
        "  venv/bin/python -m components plan --stack qa   # review: sourceId, each flow url",
        "  pulumi preview --stack qa --policy-pack policy --policy-pack-config policy/config/qa.json",
    ]
    text = stack.read_text()
    assert "secure:" not in text
    assert text.startswith("# Stack qa, created with `venv/bin/python -m components new-stack qa")
    # Everything but the secrets and the header is the --from stack's, comments included.
    config = yaml.safe_load(text)["config"]
    source = yaml.safe_load(source_text)["config"]
    assert config["segment:token"] == "PLACEHOLDER"
    assert set(config["segment-pendula:pendulaTokens"].values()) == {"PLACEHOLDER"}
    for key in ("segment:token", "segment-pendula:pendulaTokens"):
        config.pop(key), source.pop(key)
    assert config == source
    assert json.loads((root / "policy/config/qa.json").read_text()) == json.loads(
        (root / "policy/config/dev.json").read_text()
    )
    # The new stack passes the offline review as it is.
    assert main(["check", "--stacks-dir", str(root / "stacks"), "--project-root", str(root)]) == 0
    capsys.readouterr()


def test_inline_secure_values_become_placeholders_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path)
    dev = root / "stacks" / "Pulumi.dev.yaml"
    dev.write_text(
        dev.read_text().replace(
            "  segment:token:\n    secure: v1:cGxhY2Vob2xkZXItZGV2LXNlZ21lbnQtcHVibGljLWFwaS10b2tlbg==",
            "  segment:token: {secure: 'v1:abc'}  # kept comment",
        )
    )
    code, _, err = new_stack(capsys, root, "qa", "--from", "dev")
    assert (code, err) == (0, "")
    assert (
        "  segment:token: PLACEHOLDER  # kept comment\n"
        in (root / "stacks/Pulumi.qa.yaml").read_text()
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["dev", "--from", "prod"],
            "error: {stacks}/Pulumi.dev.yaml already exists; choose another NAME or remove it first\n",
        ),
        (
            ["Qa", "--from", "dev"],
            "error: NAME: 'Qa' is not allowed; use a lowercase letter, then lowercase letters, digits or '-' (at most 40 characters), e.g. qa\n",
        ),
        (
            ["qa", "--from", "nope"],
            "error: --from: {stacks}/Pulumi.nope.yaml does not exist (stacks: dev, local, prod, staging)\n",
        ),
        (
            ["qa", "--from", "local"],
            "error: --from: local is the sandbox stack (plaintext throwaway credentials, loopback URLs); copy a real stack, e.g. --from dev\n",
        ),
    ],
)
def test_refusals_name_the_problem_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    root = project(tmp_path)
    before = sorted(p.name for p in (root / "stacks").iterdir())

    code, out, err = new_stack(capsys, root, *argv)

    assert (code, out, err) == (1, "", message.format(stacks=root / "stacks"))
    assert sorted(p.name for p in (root / "stacks").iterdir()) == before
    assert not (root / "policy/config/qa.json").exists()
