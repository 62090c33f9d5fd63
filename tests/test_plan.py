"""``python -m components plan``: the offline plan of every stack, secrets, diffs, exit codes."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.__main__ import main
from components.config.load import load_stack_file
from components.mapping import render
from components.review.document import EXIT_INVALID_CONFIG, EXIT_POLICY, EXIT_UNREADABLE
from components.review.plan import PlanRequest, build_plan
from components.review.render_json import render_json
from components.review.render_markdown import render_markdown
from components.review.render_text import render_text
from tests.fixture_stacks import FIXTURE_STACK_NAMES, FIXTURE_STACKS, fixture_stack

ROOT = Path(__file__).resolve().parent.parent
STACKS = FIXTURE_STACK_NAMES
FORMATS = ("text", "markdown", "json")
SAMPLE_EVENT = {
    "type": "track",
    "event": "Order Completed",
    "userId": "SA-1042",
    "properties": {"order_id": "ord-77", "total": 129.5},
    "context": {"traits": {"first_name": "Ada", "phone": "+61400000000", "plan": "free"}},
}
PLAIN_TOKENS = {
    "welcome": "plan-test-token-welcome-7Qx2",
    "upgrade-nudge": "plan-test-token-nudge-9Kp4",
    "vip": "plan-test-token-vip-3Zr8",
}
UNSAFE_TRIGGER = '(event = "a" and contains(name, "b")) or type = "track"'


def make_project(tmp_path: Path, stacks: dict[str, str] | None = None) -> Path:
    """A project root with Pulumi.yaml, the given (default: the fixture) stack files and every
    sample event they reference, so body previews are deterministic."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    if stacks is None:
        stacks = {p.name: p.read_text() for p in FIXTURE_STACKS.glob("Pulumi.*.yaml")}
    for name, text in stacks.items():
        (root / "stacks" / name).write_text(text)
        config = (yaml.safe_load(text) or {}).get("config") or {}
        for destination in config.get("segment-pendula:destinations") or []:
            for flow in destination.get("flows") or []:
                if flow.get("sampleEvent"):
                    event_path = root / flow["sampleEvent"]
                    event_path.parent.mkdir(parents=True, exist_ok=True)
                    event_path.write_text(json.dumps(SAMPLE_EVENT))
    return root


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def plan_args(root: Path, stack: str, fmt: str = "text", *extra: str) -> list[str]:
    return [
        "plan",
        "--stack",
        stack,
        "--format",
        fmt,
        "--stacks-dir",
        str(root / "stacks"),
        "--project-root",
        str(root),
        *extra,
    ]


def secret_texts(stack_text: str) -> list[str]:
    """Every secret the stack file holds: ciphertexts and plaintext credentials."""
    config = yaml.safe_load(stack_text)["config"]
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict) and set(value) == {"secure"}:
            found.append(value["secure"])
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, str):
            found.append(value)

    for key in (
        "segment:token",
        *(f"segment-pendula:{k}" for k in ("pendulaTokens", "sharedSecrets", "pendulaApiToken")),
    ):
        if key in config:
            walk(config[key])
    return found


def authorization_values(token: str, tenant_id: str | None) -> list[str]:
    basic = base64.b64encode(f"{tenant_id}:{token}".encode()).decode()
    return [token, f"Bearer {token}", basic]


def sandbox_copy_with_plain_tokens(stack: str) -> str:
    """The stack file as a sandbox stack whose tokens are plaintext test values."""
    document = yaml.safe_load(fixture_stack(stack).read_text())
    config = document["config"]
    # A sandbox stack talks to this machine only (every URL loopback), and is never production.
    config["segment-pendula:sandbox"] = True
    config.pop("segment-pendula:production", None)
    config["segment:url"] = "http://127.0.0.1:8787"
    flows = [f for d in config["segment-pendula:destinations"] for f in d["flows"]]
    for flow in flows:
        flow["url"] = flow["url"].replace("https://pendula.app/", "http://127.0.0.1:8787/")
    config["segment-pendula:pendulaTokens"] = {
        f["name"]: PLAIN_TOKENS.get(f["name"], f"plan-test-token-{f['name']}-Xy7")
        for f in flows
        if (f.get("token") or {}).get("mode", "provided") == "provided"
    }
    config["segment:token"] = "plan-test-segment-token-Lm3"
    return yaml.safe_dump(document, sort_keys=False)


# --- every stack, every format --------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_json_plan_describes_every_resource_and_flow(
    stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path)
    config = load_stack_file(root / "stacks" / f"Pulumi.{stack}.yaml")

    code, out, _ = run_cli(capsys, *plan_args(root, stack, "json"))
    document = json.loads(out)

    assert code == 0, out
    assert document["status"] == "ok"
    assert document["problems"] == [] and document["violations"] == []
    expected_rows = []
    for d in config.destinations:
        expected_rows += [
            ("segment-pendula:index:PendulaTrigger", d.name, None),
            ("segment:index/destination:Destination", f"{d.name}-destination", d.name),
        ]
        for f in d.flows:
            expected_rows += [
                ("pulumi-python:dynamic/pendula:FlowToken", f"{d.name}-{f.name}-token", d.name),
                (
                    "segment:index/destinationSubscription:DestinationSubscription",
                    f"{d.name}-{f.name}-subscription",
                    d.name,
                ),
            ]
    assert [(r["type"], r["name"], r["parent"]) for r in document["resources"]] == expected_rows
    assert document["segmentProvider"]["token"] in ("[secret]", None)
    for d, planned in zip(config.destinations, document["destinations"], strict=True):
        assert (planned["name"], planned["sourceId"], planned["displayName"]) == (
            d.name,
            d.source_id,
            d.display_name,
        )
        for f, flow in zip(d.flows, planned["flows"], strict=True):
            assert flow["trigger"] == f.fql
            assert (flow["url"], flow["method"], flow["enabled"]) == (f.url, "POST", f.enabled)
            assert (flow["batchSize"], flow["enableBatching"]) == (0, False)
            assert flow["customContext"] == f.custom_context
            assert flow["headers"]["Authorization"].startswith("[secret]")
            assert flow["token"]["mode"] == f.token_mode.value
            assert flow["data"] == f.data
            expected_body = render(f.data, SAMPLE_EVENT) if f.sample_event else None
            assert flow["bodyPreview"] == expected_body


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stack", STACKS)
def test_plan_shows_tree_and_triggers_and_no_secret(
    stack: str, fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path)
    stack_text = (root / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    config = load_stack_file(root / "stacks" / f"Pulumi.{stack}.yaml")

    code, out, err = run_cli(capsys, *plan_args(root, stack, fmt))

    assert code == 0, out + err
    for destination, flow in config.flows():
        assert f"{destination.name}-{flow.name}-subscription" in out
        assert f"{destination.name}-{flow.name}-token" in out
        trigger = json.dumps(flow.fql) if fmt == "json" else flow.fql
        assert trigger in out
    assert "segment:index/destination:Destination" in out
    assert "[secret]" in out
    for secret in secret_texts(stack_text):
        assert secret not in out + err
    assert "secure-" not in out  # the private stand-ins of secure values never show


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stack", STACKS)
def test_plaintext_tokens_are_masked(
    stack: str, fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_text = sandbox_copy_with_plain_tokens(stack)
    root = make_project(tmp_path, {f"Pulumi.{stack}.yaml": stack_text})
    config = load_stack_file(root / "stacks" / f"Pulumi.{stack}.yaml")
    forbidden = ["plan-test-segment-token-Lm3"]
    for _, flow in config.flows():
        if flow.token is not None:
            forbidden += authorization_values(flow.token, flow.tenant_id)
    assert len(forbidden) > 1

    code, out, err = run_cli(capsys, *plan_args(root, stack, fmt))

    assert code == 0, out + err
    assert "[secret]" in out
    for secret in forbidden:
        assert secret not in out + err

    # Masked by construction, not only by the final scrub of the command line.
    document = build_plan(PlanRequest(stack, root / "stacks", root))
    for rendered in (render_text(document), render_markdown(document), render_json(document)):
        for secret in forbidden:
            assert secret not in rendered


# --- markdown shape -------------------------------------------------------------------------


def test_markdown_is_fit_for_a_pr_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path)
    config = load_stack_file(root / "stacks" / "Pulumi.dev.yaml")

    code, out, _ = run_cli(capsys, *plan_args(root, "dev", "markdown"))

    assert code == 0
    assert out.startswith("## Offline plan: stack `dev`\n")
    assert "| flow | enabled | trigger | target | batching | custom context | token |" in out
    with_sample = [f for _, f in config.flows() if f.sample_event]
    assert out.count("<details>") == len(with_sample) == out.count("</details>")
    for flow in with_sample:
        assert f"<summary>Body preview: <code>{flow.name}</code>" in out


# --- --against --------------------------------------------------------------------------------


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=plan@test", "-c", "user.name=plan", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_project(tmp_path)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


def edit_dev(root: Path, edit: Any) -> None:
    path = root / "stacks" / "Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    edit(document["config"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def against(capsys: pytest.CaptureFixture[str], root: Path, ref: str = "HEAD") -> dict[str, Any]:
    code, out, err = run_cli(capsys, *plan_args(root, "dev", "json", "--against", ref))
    assert code == 0, out + err
    result: dict[str, Any] = json.loads(out)["against"]
    return result


def changes_by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result["changes"]}


def test_against_unchanged_stack_has_no_changes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = against(capsys, repo)
    count = len(load_stack_file(repo / "stacks" / "Pulumi.dev.yaml").destinations[0].flows)
    assert result["changes"] == []
    assert result["summary"] == {
        "create": 0,
        "update": 0,
        "replace": 0,
        "delete": 0,
        "same": 2 + 2 * count,
    }


def test_against_added_flow_is_created(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def add_flow(config: dict[str, Any]) -> None:
        config["segment-pendula:destinations"][0]["flows"].append(
            {
                "name": "winback",
                "url": "https://pendula.app/webhook/inbound/2f0c6a1e-9b3d-4c7a-8e5f-1a2b3c4d5e6f",
                "conditions": {"all": [{"event": {"is": "Churned"}}]},
            }
        )
        config["segment-pendula:pendulaTokens"]["winback"] = {"secure": "v1:d2luYmFjaw=="}

    edit_dev(repo, add_flow)
    result = against(capsys, repo)

    assert {(c["name"], c["action"]) for c in result["changes"]} == {
        ("web-winback-token", "create"),
        ("web-winback-subscription", "create"),
    }
    assert result["summary"]["create"] == 2 and result["summary"]["replace"] == 0


def test_against_changed_trigger_updates_in_place(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = load_stack_file(repo / "stacks" / "Pulumi.dev.yaml").destinations[0].flows[0]

    def change_trigger(config: dict[str, Any]) -> None:
        config["segment-pendula:destinations"][0]["flows"][0]["conditions"] = {
            "all": [{"event_type": {"is": "track"}}, {"event": {"is": "Account Created"}}]
        }

    edit_dev(repo, change_trigger)
    new = load_stack_file(repo / "stacks" / "Pulumi.dev.yaml").destinations[0].flows[0]
    result = against(capsys, repo)

    assert list(changes_by_name(result)) == [f"web-{old.name}-subscription"]
    entry = changes_by_name(result)[f"web-{old.name}-subscription"]
    assert entry["action"] == "update"
    assert entry["changes"] == [
        {"key": "trigger", "action": "update", "old": old.fql, "new": new.fql}
    ]


def test_against_changed_source_replaces_destination_and_mappings(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_stack_file(repo / "stacks" / "Pulumi.dev.yaml")
    old_source = config.destinations[0].source_id

    def change_source(config: dict[str, Any]) -> None:
        config["segment-pendula:destinations"][0]["sourceId"] = "zzNewSource000000000001"

    edit_dev(repo, change_source)
    changes = changes_by_name(against(capsys, repo))

    assert changes["web-destination"]["action"] == "replace"
    assert changes["web-destination"]["changes"] == [
        {
            "key": "sourceId",
            "action": "replace",
            "old": old_source,
            "new": "zzNewSource000000000001",
        }
    ]
    for flow in config.destinations[0].flows:
        entry = changes[f"web-{flow.name}-subscription"]
        assert entry["action"] == "replace"
        assert [(c["key"], c["action"]) for c in entry["changes"]] == [("destinationId", "replace")]
    assert not any(name.endswith("-token") for name in changes)


def test_against_changed_secret_is_reported_never_shown(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def rotate(config: dict[str, Any]) -> None:
        config["segment-pendula:pendulaTokens"]["welcome"] = {"secure": "v1:cm90YXRlZA=="}

    edit_dev(repo, rotate)
    code, out, _ = run_cli(capsys, *plan_args(repo, "dev", "text", "--against", "HEAD"))
    changes = changes_by_name(against(capsys, repo))

    assert code == 0
    assert changes["web-welcome-token"]["changes"] == [
        {
            "key": "token",
            "action": "update",
            "old": "[secret]",
            "new": "[secret]",
            "note": "changed",
        }
    ]
    assert changes["web-welcome-subscription"]["changes"] == [
        {
            "key": "settings.headers.Authorization",
            "action": "update",
            "old": "[secret]",
            "new": "[secret]",
            "note": "changed",
        }
    ]
    assert "token: [secret] changed" in out
    assert "v1:cm90YXRlZA==" not in out


def test_against_changed_flow_url_replaces_the_token(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new_url = "https://pendula.app/webhook/inbound/4d3c2b1a-0f9e-4d8c-a7b6-5e4f3a2b1c0d"

    def move(config: dict[str, Any]) -> None:
        config["segment-pendula:destinations"][0]["flows"][0]["url"] = new_url

    edit_dev(repo, move)
    changes = changes_by_name(against(capsys, repo))

    token = changes["web-welcome-token"]
    assert token["action"] == "replace"
    assert [(c["key"], c["action"], c["new"]) for c in token["changes"]] == [
        ("flow_url", "replace", new_url)
    ]
    subscription = changes["web-welcome-subscription"]
    assert subscription["action"] == "update"
    assert ("settings.url", "update", new_url) in [
        (c["key"], c["action"], c["new"]) for c in subscription["changes"]
    ]


def test_against_ref_without_the_stack_file_shows_everything_new(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "stacks" / "Pulumi.qa.yaml").write_text(
        (repo / "stacks" / "Pulumi.dev.yaml").read_text()
    )

    code, out, _ = run_cli(capsys, *plan_args(repo, "qa", "json", "--against", "HEAD"))
    result = json.loads(out)

    assert code == 0
    assert result["against"]["existed"] is False
    assert {c["action"] for c in result["against"]["changes"]} == {"create"}
    assert [c["name"] for c in result["against"]["changes"]] == [
        r["name"] for r in result["resources"]
    ]


def test_against_unknown_ref_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, *plan_args(repo, "dev", "text", "--against", "no-such-branch"))

    assert code == EXIT_UNREADABLE
    assert out == ""
    assert err.startswith("error: --against no-such-branch: not a git commit, branch or tag here")


# --- exit codes ---------------------------------------------------------------------------------


def test_invalid_config_exits_3_with_the_config_error_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_text = fixture_stack("dev").read_text()
    bad = stack_text.replace(
        "https://pendula.app/webhook/inbound/", "https://evil.example.com/webhook/inbound/", 1
    )
    root = make_project(tmp_path, {"Pulumi.dev.yaml": bad})

    code, out, _ = run_cli(capsys, *plan_args(root, "dev"))

    assert code == EXIT_INVALID_CONFIG == 3
    assert "Configuration problems (1):" in out
    assert (
        "  - segment-pendula:destinations[0].flows[0].url: 'https://evil.example.com/webhook/inbound/"
        in out
    )
    assert "is not allowed" in out


def test_policy_failure_exits_4_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def unsafe(config: dict[str, Any]) -> None:
        flow = config["segment-pendula:destinations"][0]["flows"][0]
        del flow["conditions"]
        flow["trigger"] = UNSAFE_TRIGGER
        flow["unsafeTrigger"] = True

    root = make_project(tmp_path)
    edit_dev(root, unsafe)

    code, out, _ = run_cli(capsys, *plan_args(root, "dev", "json"))
    document = json.loads(out)

    assert code == EXIT_POLICY == 4
    assert document["status"] == "policy-violations"
    assert [(v["policy"], v["resource"]) for v in document["violations"]] == [
        ("subscription-trigger-fql", "web-welcome-subscription")
    ]
    assert "Fix:" in document["violations"][0]["message"]


def test_missing_stack_file_exits_5(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path, {})
    code, out, err = run_cli(capsys, *plan_args(root, "nope"))
    assert out == ""
    assert code == EXIT_UNREADABLE == 5
    assert err == f"error: {root / 'stacks' / 'Pulumi.nope.yaml'}: no such stack file\n"


def test_missing_sample_event_is_a_config_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path)
    config = load_stack_file(root / "stacks" / "Pulumi.dev.yaml")
    flow = config.destinations[0].flows[0]
    assert flow.sample_event is not None
    (root / flow.sample_event).unlink()

    code, out, _ = run_cli(capsys, *plan_args(root, "dev"))

    assert code == EXIT_INVALID_CONFIG
    assert (
        f"  - segment-pendula:destinations[0].flows[0].sampleEvent: '{flow.sample_event}' not found"
        in out
    )


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    out = capsys.readouterr().out
    for code in ("0", "2", "3", "4", "5"):
        assert f"\n  {code}  " in out


# --- hardening: credential endpoints in the reviewed plan --------------------------------------

ENDPOINT_EDITS = [
    ("segment:url", lambda c: c.update({"segment:url": "https://eu1.api.segmentapis.com"})),
    (
        "segment-pendula:allowedPendulaHosts",
        lambda c: c.update(
            {"segment-pendula:allowedPendulaHosts": ["pendula.app", "x.pendula.app"]}
        ),
    ),
    (
        "segment-pendula:allowedSegmentApiHosts",
        lambda c: c.update({"segment-pendula:allowedSegmentApiHosts": ["api.segmentapis.com"]}),
    ),
    ("segment-pendula:production", lambda c: c.update({"segment-pendula:production": True})),
]


@pytest.mark.parametrize(("key", "edit"), ENDPOINT_EDITS, ids=[k for k, _ in ENDPOINT_EDITS])
def test_against_lists_every_change_to_where_credentials_go(
    repo: Path, capsys: pytest.CaptureFixture[str], key: str, edit: Any
) -> None:
    edit_dev(repo, edit)
    outputs = {
        fmt: run_cli(capsys, *plan_args(repo, "dev", fmt, "--against", "HEAD")) for fmt in FORMATS
    }
    assert {code for code, _, _ in outputs.values()} == {0}
    document = json.loads(outputs["json"][1])
    (change,) = document["against"]["settingChanges"]
    assert change["key"] == key and change["old"] != change["new"]
    (review,) = document["review"]
    assert review.startswith(f"{key} changed: ")
    assert "REVIEW: credential endpoints changed (1):" in outputs["text"][1]
    assert f"~ setting {key}: " in outputs["text"][1]
    markdown = outputs["markdown"][1]
    assert "> [!WARNING]" in markdown and "**Credential endpoints changed**" in markdown
    assert f"| `{key}` |" in markdown


def test_pendula_api_url_change_is_listed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def managed(config: dict[str, Any]) -> None:
        config["segment-pendula:pendulaApiUrl"] = "https://pendula.app/api/v1"
        config["segment-pendula:pendulaApiToken"] = {"secure": "v1:YWRtaW4="}

    edit_dev(repo, managed)
    document = json.loads(run_cli(capsys, *plan_args(repo, "dev", "json", "--against", "HEAD"))[1])
    assert document["against"]["settingChanges"] == [
        {"key": "segment-pendula:pendulaApiUrl", "old": None, "new": "https://pendula.app/api/v1"}
    ]


def test_unchanged_endpoints_need_no_review(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, *plan_args(repo, "dev", "json", "--against", "HEAD"))
    document = json.loads(out)
    assert (code, document["review"], document["against"]["settingChanges"]) == (0, [], [])


@pytest.mark.parametrize("fmt", FORMATS)
def test_plan_shows_production_when_set(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path)
    code, prod, _ = run_cli(capsys, *plan_args(root, "prod", fmt))
    _, dev, _ = run_cli(capsys, *plan_args(root, "dev", fmt))
    assert code == 0
    if fmt == "json":
        assert json.loads(prod)["settings"]["segment-pendula:production"] is True
        assert json.loads(dev)["settings"]["segment-pendula:production"] is False
    else:
        assert "production stack" in prod and "production stack" not in dev


# --- hardening: files, encodings and YAML ---------------------------------------------------------


def test_non_utf8_stack_file_exits_5_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path)
    path = root / "stacks" / "Pulumi.dev.yaml"
    path.write_bytes(path.read_bytes().replace(b"Pendula", b"Pendul\xe4"))
    code, out, err = run_cli(capsys, *plan_args(root, "dev"))
    assert (code, out) == (EXIT_UNREADABLE, "")
    assert err.startswith(f"error: {path}: is not UTF-8 text (invalid byte at offset ")
    assert "Traceback" not in err


def test_check_reports_an_unreadable_stack_and_checks_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path)
    (root / "stacks" / "Pulumi.broken.yaml").write_bytes(b"config:\n  x: \xff\xfe\n")
    bomb = "\n".join(
        ["config:", "  a: &a [x, x, x, x, x, x, x, x, x]"]
        + [
            f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]"
            for i in range(7)
        ]
    )
    (root / "stacks" / "Pulumi.bomb.yaml").write_text(bomb)
    code, out, _ = run_cli(
        capsys, "check", "--stacks-dir", str(root / "stacks"), "--project-root", str(root)
    )
    lines = out.splitlines()
    assert code == 1
    assert [line.split(": ")[0] for line in lines] == [
        str(root / "stacks" / "Pulumi.bomb.yaml"),
        str(root / "stacks" / "Pulumi.broken.yaml"),
    ]
    assert "expands to more than" in lines[0] and "is not UTF-8 text" in lines[1]


@pytest.mark.parametrize(
    ("sample", "why"),
    [
        ("../outside.json", "leads outside the project root"),
        ("/etc/hostname", "must be relative to the project root"),
        ("stacks", "is not a regular file"),
    ],
)
def test_sample_event_must_be_a_file_inside_the_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sample: str, why: str
) -> None:
    root = make_project(tmp_path)
    (root.parent / "outside.json").write_text(json.dumps(SAMPLE_EVENT))

    def point(config: dict[str, Any]) -> None:
        config["segment-pendula:destinations"][0]["flows"][0]["sampleEvent"] = sample

    edit_dev(root, point)
    code, out, _ = run_cli(capsys, *plan_args(root, "dev"))
    assert code == EXIT_INVALID_CONFIG
    assert f"  - segment-pendula:destinations[0].flows[0].sampleEvent: '{sample}'" in out
    assert why in out


# --- hardening: untrusted text is escaped, typed credentials hidden -------------------------------

HOSTILE_NAME = "Evil \x1b[2J\x1b]8;;https://x\x07<img src=x onerror=alert(1)>\u202e|`**x**`\nok"


def hostile_project(tmp_path: Path) -> Path:
    root = make_project(tmp_path)

    def poison(config: dict[str, Any]) -> None:
        destination = config["segment-pendula:destinations"][0]
        destination["displayName"] = HOSTILE_NAME
        destination["flows"][0]["displayName"] = HOSTILE_NAME
        destination["flows"][0]["customContext"] = {"note": HOSTILE_NAME}

    edit_dev(root, poison)
    event = dict(
        SAMPLE_EVENT,
        properties={
            "note": HOSTILE_NAME,
            "password": "hunter22-secret",
            "callback": "https://u:pw-secret@example.com/cb",
        },
    )
    config = load_stack_file(root / "stacks" / "Pulumi.dev.yaml")
    for _, flow in config.flows():
        assert flow.sample_event is not None
        (root / flow.sample_event).write_text(json.dumps(event))
    return root


def test_text_plan_has_no_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = hostile_project(tmp_path)
    code, out, _ = run_cli(capsys, *plan_args(root, "dev", "text"))
    assert code == 0, out
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "\\x1b[2J" in out
    assert "\nok" not in out  # the value's line break does not forge a line
    assert "hunter22-secret" not in out and "pw-secret" not in out


def test_markdown_plan_has_no_raw_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = hostile_project(tmp_path)
    code, out, _ = run_cli(capsys, *plan_args(root, "dev", "markdown"))
    assert code == 0, out
    # Inside the Mermaid diagram only its own line break may appear (user text is entities).
    (diagram,) = re.findall(r"(?s)```mermaid\n(.*?)\n```", out)
    assert set(re.findall(r"</?([a-zA-Z]+)", diagram)) <= {"br"}
    # Outside code (where Markdown and HTML are inert) no tag may appear.
    prose = re.sub(r"(?s)```+(?:json|mermaid)\n.*?\n```+", "", out)
    prose = re.sub(r"(`+).+?\1", "", prose)
    tags = set(re.findall(r"</?([a-zA-Z]+)", prose))
    assert tags <= {"details", "summary", "code"}, tags
    assert "\x1b" not in out and "\u202e" not in out
    assert "hunter22-secret" not in out and "pw-secret" not in out
    # Every table row still has its columns: no value's pipe split a cell.
    for line in out.splitlines():
        if line.startswith("| `web-welcome"):
            assert len(re.split(r"(?<!\\)\|", line)) in (5, 8, 9), line


def test_json_plan_is_ascii_and_holds_the_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = hostile_project(tmp_path)
    code, out, _ = run_cli(capsys, *plan_args(root, "dev", "json"))
    assert code == 0, out
    assert out.isascii() and "\x1b" not in out
    document = json.loads(out)
    assert document["destinations"][0]["displayName"] == HOSTILE_NAME
    assert "hunter22-secret" not in out and "pw-secret" not in out


def test_tenant_id_with_line_break_is_refused_by_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path)

    def basic(config: dict[str, Any]) -> None:
        config["segment-pendula:destinations"][0]["flows"][0]["token"] = {
            "scheme": "basic",
            "tenantId": "acme\r\nX-Injected: yes",
        }

    edit_dev(root, basic)
    code, out, _ = run_cli(capsys, *plan_args(root, "dev"))
    assert code == EXIT_INVALID_CONFIG
    assert "segment-pendula:destinations[0].flows[0].token.tenantId: 'acme\\r\\nX-Injected" in out


def test_nan_in_data_is_refused_by_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path)
    edit_dev(
        root,
        lambda c: c["segment-pendula:destinations"][0]["flows"][0].update(
            data={"score": float("nan")}
        ),
    )
    assert ".nan" in (root / "stacks" / "Pulumi.dev.yaml").read_text()
    code, out, _ = run_cli(capsys, *plan_args(root, "dev"))
    assert code == EXIT_INVALID_CONFIG
    assert ".data.score: NaN/Infinity cannot be sent" in out


def test_segment_url_with_user_info_is_refused_and_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path)
    edit_dev(
        root, lambda c: c.update({"segment:url": "https://me:sta_leak_9f@api.segmentapis.com"})
    )
    for fmt in FORMATS:
        code, out, err = run_cli(capsys, *plan_args(root, "dev", fmt))
        assert code == EXIT_INVALID_CONFIG
        assert "sta_leak_9f" not in out + err
        assert "[hidden]@api.segmentapis.com" in out


FOREIGN_KEYS_STACK = """\
config:
  segment:token:
    secure: AAABAFsegmenttoken
  segment-pendula:destinations:
    - name: web
      sourceId: qRTqz5cTyodBXJ4Ex2Ka1W
      flows:
        - name: welcome
          url: https://pendula.app/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10
          conditions:
            all:
              - event: {is: Signed Up}
  segment-pendula:pendulaTokens:
    welcome:
      secure: AAABAFwelcometoken
  acme:apiToken:
    secure: AAABAFacmetoken
  acme:password: hunter22-plain-password
"""


def test_plan_refuses_a_plaintext_credential_key_in_any_namespace_never_printing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path, {"Pulumi.prod.yaml": FOREIGN_KEYS_STACK})
    code, out, err = run_cli(capsys, *plan_args(root, "prod", "json"))
    problems = json.loads(out)["problems"]
    assert code != 0
    assert any(p.startswith("acme:password: named like a credential") for p in problems)
    assert not any(p.startswith("acme:apiToken") for p in problems), "secure is fine"
    assert "hunter22-plain-password" not in out + err
