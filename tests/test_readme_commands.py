"""README.md and docs/ stay honest: commands, flags, paths, exit codes and names match the code."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pulumi
import pulumi.runtime
import pytest
import yaml
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

import components.__main__ as components_cli
import sandbox.__main__ as sandbox_cli
from components.commands import adopt as adopt_command
from components.commands import backtest as backtest_command
from components.commands import check as check_command
from components.commands import send_test_event as send_command
from components.fql import YAML_FIELDS, YAML_OPERATORS
from components.pendula import flow_token
from components.review import document as plan_logic
from components.review.offline import (
    DESTINATION_TYPE,
    FLOW_TOKEN_TYPE,
    PROVIDER_TYPE,
    SUBSCRIPTION_TYPE,
    RecordingMocks,
    RecordingMonitor,
    unwrap,
)
from components.review.test_event import TOKEN_ENV
from components.trigger import PendulaFlowArgs, PendulaTrigger, PendulaTriggerArgs
from policy.rules import RESOURCE_RULES, STACK_RULES
from sandbox.seed import seed_database
from sandbox.server import SandboxServer
from tests.fixture_stacks import FIXTURE_STACK_NAMES, FIXTURE_STACKS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = sorted((ROOT / "docs").glob("*.md"))
GUIDES = {path: path.read_text(encoding="utf-8") for path in [ROOT / "README.md", *PAGES]}
"""The README and the docs/ pages: every section below is looked up across them."""
DOCS = {
    **GUIDES,
    **{
        path: path.read_text(encoding="utf-8")
        for path in [
            ROOT / "policy" / "README.md",
            ROOT / "examples" / "two-workspaces" / "README.md",
        ]
    },
}
ALL_TEXT = "\n".join(DOCS.values())
SUBCOMMANDS = ("check", "plan", "send-test-event", "adopt", "new-stack", "backtest")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# Pulumi CLI command lines carry pulumi's own flags; they are not ours to check here.
PULUMI_COMMAND = re.compile(
    r"\bpulumi (?:config|destroy|import|install|login|package|preview|refresh|stack|up)\b[^`\n#]*"
)


def section(heading: str) -> str:
    """The body of the one markdown section, in the README or a docs/ page, with this heading.

    It runs up to the next heading of the same or a higher level. Lines inside fenced code
    blocks are never headings (``# comment`` in a bash block).
    """
    found = [body for text in GUIDES.values() if (body := _section(text, heading)) is not None]
    assert len(found) == 1, f"{len(found)} sections named {heading!r} in README.md and docs/"
    return found[0]


def _section(text: str, heading: str) -> str | None:
    lines = text.splitlines(keepends=True)
    body: list[str] | None = None
    level = 0
    fenced = False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        heading_match = None if fenced else re.match(r"^(#+) (.*)$", line.rstrip("\n"))
        if body is None:
            if heading_match and heading_match.group(2) == heading:
                body, level = [], len(heading_match.group(1))
            continue
        if heading_match and len(heading_match.group(1)) <= level:
            break
        body.append(line)
    return None if body is None else "".join(body)


def help_text(argv: list[str], main: object, capsys: pytest.CaptureFixture[str]) -> str:
    """What ``--help`` prints for a command (argparse exits 0 after printing it)."""
    with pytest.raises(SystemExit) as exited:
        main(argv)  # type: ignore[operator]
    assert exited.value.code == 0
    return capsys.readouterr().out


def help_flags(text: str) -> set[str]:
    return set(FLAG.findall(text))


@pytest.fixture
def cli_flags(capsys: pytest.CaptureFixture[str]) -> dict[str, set[str]]:
    """The flags each real ``--help`` lists, per command."""
    flags = {
        name: help_flags(help_text([name, "--help"], components_cli.main, capsys))
        for name in SUBCOMMANDS
    }
    flags["sandbox"] = help_flags(help_text(["--help"], sandbox_cli.main, capsys))
    return flags


# --- commands and flags ------------------------------------------------------------------------


def documented_command_lines() -> Iterator[tuple[str, str, str]]:
    """(document, command, rest of the line) for every ``python -m components|sandbox`` use."""
    pattern = re.compile(r"python -m (components|sandbox)\b([^`\n#]*)")
    for path, text in DOCS.items():
        for match in pattern.finditer(text):
            module, rest = match.groups()
            if module == "sandbox":
                yield path.name, "sandbox", rest
                continue
            words = rest.split()
            assert words, f"{path.name}: 'python -m components' without a sub-command"
            # The layout names them all at once: plan|check|send-test-event|adopt.
            for name in words[0].strip("`").split("|"):
                yield path.name, name, " ".join(words[1:])


def test_every_documented_subcommand_exists(capsys: pytest.CaptureFixture[str]) -> None:
    listed = help_text(["--help"], components_cli.main, capsys)
    named = {command for _, command, _ in documented_command_lines()} - {"sandbox"}
    assert named == set(SUBCOMMANDS)
    for command in SUBCOMMANDS:
        assert re.search(rf"^\s+{re.escape(command)}\b", listed, re.MULTILINE), command


def test_every_flag_on_a_documented_command_line_exists(cli_flags: dict[str, set[str]]) -> None:
    for document, command, rest in documented_command_lines():
        unknown = set(FLAG.findall(rest)) - cli_flags[command]
        assert not unknown, f"{document}: {command} has no {sorted(unknown)}"


@pytest.mark.parametrize(
    ("heading", "command"),
    [
        ("Sending a test event", "send-test-event"),
        ("Offline plan (no CLI, credentials or network)", "plan"),
        ("Adopting an existing setup", "adopt"),
        ("Backtest on recorded events", "backtest"),
        ("What the sandbox serves", "sandbox"),
    ],
)
def test_every_flag_a_section_mentions_exists(
    heading: str, command: str, cli_flags: dict[str, set[str]]
) -> None:
    """Flags named in prose and comments ("add --segment-url …") belong to the section's command."""
    text = PULUMI_COMMAND.sub("", section(heading))
    if command != "sandbox":  # sandbox command lines are checked on their own
        text = re.sub(r"python -m sandbox\b[^`\n#]*", "", text)
    mentioned = set(FLAG.findall(text))
    assert mentioned, heading
    assert mentioned <= cli_flags[command], sorted(mentioned - cli_flags[command])


def test_sandbox_defaults_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    synopsis = re.search(r"`venv/bin/python -m sandbox (\[[^`]+)`", ALL_TEXT)
    assert synopsis is not None
    documented = dict(re.findall(r"\[(--[a-z-]+) ([^\]]+)\]", synopsis.group(1)))
    seen: dict[str, object] = {}

    class FakeApp:
        state = None

    def fake_create_app(settings: object) -> FakeApp:
        seen["db"] = settings.db_path  # type: ignore[attr-defined]
        seen["writes"] = settings.subscription_writes_per_minute  # type: ignore[attr-defined]
        return FakeApp()

    def fake_run(app: object, *, host: str, port: int, log_level: str) -> None:
        seen.update(host=host, port=port)

    monkeypatch.setattr(sandbox_cli, "create_app", fake_create_app)
    monkeypatch.setattr(sandbox_cli.uvicorn, "run", fake_run)
    sandbox_cli.main([])
    assert documented["--host"] == seen["host"]
    assert documented["--port"] == str(seen["port"])
    assert documented["--db"] == str(seen["db"])
    assert documented["--subscription-writes-per-minute"] == str(seen["writes"])


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))


def test_make_targets_the_docs_name_exist() -> None:
    targets = make_targets()
    named = set(re.findall(r"(?:^|`)make ([a-z][a-z-]*)", ALL_TEXT, re.MULTILINE))
    assert {"demo", "test", "bench"} <= named
    missing = named - targets
    assert not missing, sorted(missing)


# --- exit codes ----------------------------------------------------------------------------------


def documented_exit_codes(heading: str) -> dict[int, str]:
    """``Exit codes: 0 ok, 2 bad arguments, …`` of one section, as {code: meaning}."""
    match = re.search(r"Exit codes: (.+?)\.(?:\s|$)", section(heading), re.DOTALL)
    assert match is not None, f"section {heading!r} lists no exit codes"
    codes = {}
    for item in re.split(r",\s+(?=\d+ )", " ".join(match.group(1).split())):
        number, meaning = item.split(" ", 1)
        codes[int(number)] = meaning
    return codes


def test_send_test_event_exit_codes() -> None:
    codes = documented_exit_codes("Sending a test event")
    assert set(codes) == {
        send_command.EXIT_OK,
        send_command.EXIT_ERROR,
        2,
        send_command.EXIT_REFUSED,
        send_command.EXIT_REJECTED,
    }
    assert codes[send_command.EXIT_REFUSED].startswith("refused")
    assert codes[send_command.EXIT_REJECTED].startswith("Pendula")
    assert codes[2] == "bad arguments"


def test_plan_exit_codes() -> None:
    codes = documented_exit_codes("Offline plan (no CLI, credentials or network)")
    assert set(codes) == {
        plan_logic.EXIT_OK,
        2,
        plan_logic.EXIT_INVALID_CONFIG,
        plan_logic.EXIT_POLICY,
        plan_logic.EXIT_UNREADABLE,
    }
    assert codes[plan_logic.EXIT_INVALID_CONFIG] == "invalid config"
    assert codes[plan_logic.EXIT_POLICY] == "policy violation"


def test_backtest_exit_codes() -> None:
    codes = documented_exit_codes("Backtest on recorded events")
    assert set(codes) == {backtest_command.EXIT_OK, 2, backtest_command.EXIT_UNREADABLE}
    assert codes[backtest_command.EXIT_UNREADABLE].startswith("unreadable")


def test_check_exit_codes() -> None:
    codes = documented_exit_codes("Offline plan (no CLI, credentials or network)")
    check = re.search(
        r"`check` exits (.+?)\.(?:\s|$)",
        " ".join(section("Offline plan (no CLI, credentials or network)").split()),
    )
    assert check is not None
    parsed = {
        int(n): m for n, m in (i.split(" ", 1) for i in re.split(r",\s+(?=\d+ )", check.group(1)))
    }
    assert set(parsed) == {0, check_command.EXIT_PROBLEMS, 2, check_command.EXIT_NO_STACKS}
    assert codes[2] == parsed[2] == "bad arguments"


def test_adopt_exit_codes_are_what_it_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer
) -> None:
    codes = documented_exit_codes("Adopting an existing setup")
    assert set(codes) == {0, 1, 2}
    monkeypatch.chdir(tmp_path)
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.taken.yaml").write_text("config: {}\n")
    base = ["adopt", "--source", "src", "--stacks-dir", str(stacks)]
    monkeypatch.delenv(adopt_command.TOKEN_VARIABLE, raising=False)
    # 2: an existing output file without --force; a missing token.
    assert components_cli.main([*base, "--stack", "taken"]) == 2
    assert components_cli.main([*base, "--stack", "fresh"]) == 2
    # 1: Segment refuses the token (a real HTTP 401 from the sandbox).
    monkeypatch.setenv(adopt_command.TOKEN_VARIABLE, "not-a-workspace-token")
    assert components_cli.main([*base, "--stack", "fresh", "--segment-url", sandbox.url]) == 1
    assert not (stacks / "Pulumi.fresh.yaml").exists()


def test_demo_stops_with_the_documented_message_and_code() -> None:
    script = (ROOT / "scripts" / "demo.sh").read_text(encoding="utf-8")
    version = (ROOT / ".pulumi-version").read_text().strip()
    message = script.split("cat >&2 <<MSG\n", 1)[1].split("\nMSG\n", 1)
    assert message[1].lstrip().startswith("exit 3"), "the no-CLI branch must exit 3"
    text = (
        message[0]
        .replace("$INSTALLER_URL", "https://get.pulumi.com")
        .replace("$PULUMI_VERSION", version)
        .replace("\\`", "`")
    )
    quoted = section("What `make demo` does").split("```\nerror:", 1)[1].split("```")[0]
    for line in ("error:" + quoted).strip().splitlines():
        assert line.rstrip(" …") in text, line
    assert "exits 3" in section("What `make demo` does")


# --- names, versions, paths ---------------------------------------------------------------------


def test_environment_variables_the_readme_names_are_the_codes() -> None:
    for name in (
        TOKEN_ENV,
        flow_token.API_URL_ENV,
        flow_token.API_TOKEN_ENV,
        adopt_command.TOKEN_VARIABLE,
        adopt_command.URL_VARIABLE,
    ):
        assert name in ALL_TEXT, name


def test_pinned_versions_match_the_files() -> None:
    pulumi_version = (ROOT / ".pulumi-version").read_text().strip()
    assert f"`.pulumi-version` pins {pulumi_version}" in README
    segment = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["packages"]["segment"]
    add = f"pulumi package add terraform-provider {' '.join(segment['parameters'])}"
    assert add in ALL_TEXT
    assert add in DOCS[ROOT / "examples" / "two-workspaces" / "README.md"]
    npm = json.loads((ROOT / "tests" / "node" / "package.json").read_text())["dependencies"]
    for package in ("@segment/destination-subscriptions", "@segment/actions-core"):
        assert f"`{package}` {npm[package]}" in " ".join(ALL_TEXT.split()), package


def layout_paths() -> list[str]:
    """Every path docs/layout.md's block names (children indented under their directory)."""
    block = section("Layout and architecture").split("```\n", 2)[1]
    paths: list[str] = []
    parent = ""
    for line in block.splitlines():
        match = re.match(r"^( *)(\S+(?:, \S+)*)(?:\s{2,}|$)", line)
        assert match is not None, line
        indent, names = match.groups()
        for name in names.split(", "):
            path = f"{parent}{name}" if indent else name
            paths.append(path)
            if not indent and name.endswith("/"):
                parent = name
    return paths


def test_every_layout_path_exists() -> None:
    missing = [p for p in layout_paths() if not (ROOT / p).exists()]
    assert not missing


def test_the_layout_names_every_top_level_directory_and_library_module() -> None:
    named = {p.rstrip("/") for p in layout_paths()}
    # Directories git ignores (venv/, build/, *.egg-info/ …) are made by tools, not ours to list.
    ignored = [
        line.strip().strip("/")
        for line in (ROOT / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    top_level = {
        p.name
        for p in ROOT.iterdir()
        if p.is_dir()
        and not any(fnmatch.fnmatch(p.name, pattern) for pattern in ignored)
        and (not p.name.startswith(".") or p.name in {".ci", ".github"})
    }
    assert {d for d in top_level if not any(n.split("/")[0] == d for n in named)} == set()
    modules = {
        f"components/{p.name}"
        for p in (ROOT / "components").iterdir()
        if (p.suffix == ".py" and not p.name.startswith("__"))
        or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert modules - named == set()


def documented_repository_paths() -> Iterator[tuple[str, str]]:
    """(document, path) for every code span or link that names a file of this repository."""
    top_level = {p.name for p in ROOT.iterdir()}
    for path, text in DOCS.items():
        spans = re.findall(r"`([^`\n]+)`", text) + re.findall(r"\]\(([^)#]+)\)", text)
        for span in spans:
            for raw in span.split():
                word = raw.strip("(),;:").removeprefix("./")
                first = word.split("/")[0]
                if "/" not in word or first not in top_level or re.search(r"[<*…{|$]", word):
                    continue
                if "venv" in word.split("/"):  # created by a setup command the docs give
                    continue
                yield path.name, word


def test_every_repository_path_the_docs_name_exists() -> None:
    found = list(documented_repository_paths())
    assert len(found) > 20
    missing = [(doc, p) for doc, p in found if not (ROOT / p).exists()]
    assert not missing


# --- the language of the stack file, the component and the policy pack ------------------------


def test_condition_fields_and_operators_are_the_parsers() -> None:
    text = " ".join(section("Trigger conditions").split())
    leaves = re.search(r"Leaves: (.+?)\. Operators:", text)
    operators = re.search(r"Operators: (.+?) \(the last four", text)
    assert leaves is not None and operators is not None
    assert re.findall(r"`([a-z_]+)`", leaves.group(1)) == list(YAML_FIELDS)
    assert re.findall(r"`([a-z_]+)`", operators.group(1)) == list(YAML_OPERATORS)


def test_component_inputs_and_outputs_are_the_typed_ones() -> None:
    text = " ".join(section("Reusing the component").split())
    trigger = re.search(r"Inputs \(`PendulaTriggerArgs`\): (.+?)\. Each flow", text)
    flow = re.search(r"Each flow \(`PendulaFlowArgs`\): (.+?)\. Outputs", text)
    outputs = re.search(r"Outputs: (.+?)\. Children", text)
    assert trigger and flow and outputs
    assert set(re.findall(r"`([a-z_]+)`", trigger.group(1))) == set(
        PendulaTriggerArgs.__annotations__
    )
    assert set(re.findall(r"`([a-z_]+)`", flow.group(1))) == set(PendulaFlowArgs.__annotations__)
    declared = {k for k in PendulaTrigger.__annotations__ if not k.startswith("_")}
    assert set(re.findall(r"`([a-z_]+)`", outputs.group(1))) == declared


def test_policy_readme_lists_exactly_the_packs_rules() -> None:
    text = DOCS[ROOT / "policy" / "README.md"]
    table = re.findall(r"^\| `([a-z-]+)` \|", text, re.MULTILINE)
    assert sorted(table) == sorted(r.name for r in (*RESOURCE_RULES, *STACK_RULES))


def test_token_api_endpoints_exist_in_the_sandbox(sandbox: SandboxServer) -> None:
    doc = (ROOT / "docs" / "pendula-token-api.md").read_text(encoding="utf-8")
    routes = re.findall(r"^\| `(GET|POST|PATCH|DELETE) (/[^`? ]*)", doc, re.MULTILINE)
    routes += [
        (m, p)
        for pair in re.findall(r"^\| `GET` / `DELETE (/_sandbox/faults)`", doc, re.MULTILINE)
        for m, p in (("GET", pair), ("DELETE", pair))
    ]
    assert len(routes) >= 12
    paths = httpx.get(f"{sandbox.url}/openapi.json").json()["paths"]
    served = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, methods in paths.items()
        for method in methods
    }
    for method, documented in routes:
        # The UI mapping table names paths under the base URL (/api/v1).
        path = (
            documented if documented.startswith(("/api/", "/_sandbox/")) else f"/api/v1{documented}"
        )
        normalised = re.sub(r"\{[^}]+\}", "{}", path)
        if normalised.startswith("/_sandbox/faults"):
            # Fault injection is middleware, outside the OpenAPI document: ask it directly.
            assert httpx.get(f"{sandbox.url}{normalised}").status_code == 200
            continue
        assert (method, normalised) in served, (method, path)


def test_tracking_routes_are_the_documented_ones(sandbox: SandboxServer) -> None:
    documented = re.search(r"`/v1/([a-z|]+)`", section("What the sandbox serves"))
    assert documented is not None
    paths = httpx.get(f"{sandbox.url}/openapi.json").json()["paths"]
    served = {p.removeprefix("/v1/") for p in paths if p.startswith("/v1/")}
    assert set(documented.group(1).split("|")) == served


# --- the README's component snippet runs -------------------------------------------------------


def test_the_reuse_snippet_builds_the_documented_children(tmp_path: Path) -> None:
    code = section("Reusing the component").split("```python\n", 1)[1].split("```")[0]
    project = "readme-snippet"
    secrets = {"euToken": "eu-token-Zq81xv", "welcomeToken": "welcome-token-Pk27mw"}
    pulumi.runtime.set_all_config(
        {f"{project}:{k}": v for k, v in secrets.items()}, [f"{project}:{k}" for k in secrets]
    )
    monitor = RecordingMonitor(RecordingMocks())
    SETTINGS.package_refs = {}
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack="dev", monitor=monitor)
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    script = tmp_path / "__main__.py"
    script.write_text(code, encoding="utf-8")
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(script))))
    by_name = {r.name: r for r in monitor.recorded}
    assert by_name["eu"].type == PROVIDER_TYPE
    assert unwrap(by_name["eu"].inputs["url"]) == "https://eu1.api.segmentapis.com"
    assert by_name["web-destination"].type == DESTINATION_TYPE
    assert by_name["web-welcome-token"].type == FLOW_TOKEN_TYPE
    subscription = by_name["web-welcome-subscription"]
    assert subscription.type == SUBSCRIPTION_TYPE
    assert subscription.provider.startswith(by_name["eu"].urn + "::")
    assert unwrap(subscription.inputs["trigger"]) == 'type = "track" and event = "Signed Up"'
    for resource in monitor.recorded:
        text = repr(resource.inputs)
        assert not any(secret in text for secret in secrets.values()), resource.name


# --- the front door ----------------------------------------------------------------------------

FIRST_SCREEN_LINES = 24
"""What a reader sees before scrolling: a terminal or a GitHub page, about 24 lines."""


def test_the_readme_is_a_front_door_not_a_manual() -> None:
    assert len(README.encode("utf-8")) <= 12 * 1024


def test_the_first_screen_says_what_this_is_and_shows_the_commands() -> None:
    first = "\n".join(README.splitlines()[:FIRST_SCREEN_LINES])
    assert "Pendula" in first and "Segment" in first and "Pulumi" in first
    assert "For teams" in first  # for whom
    for command in ("make demo", "make test", "venv/bin/python -m components plan --stack dev"):
        assert re.search(rf"^{re.escape(command)}\b", first, re.MULTILINE), command
    assert "(docs/README.md)" in first  # where to look next


def test_the_five_minute_path_is_in_the_readme() -> None:
    path = section("Five minutes from clone to a safe rollout")
    steps = re.findall(r"^### (.+)$", path, re.MULTILINE)
    assert steps == [
        "1. The local stack and the sandbox",
        "2. Your first real stack (dev)",
        "3. The safe rollout (Pendula's article, as code)",
    ]
    rollout = section("3. The safe rollout (Pendula's article, as code)")
    assert "enabled: false" in rollout and "send-test-event" in rollout
    assert "enabled: true" in rollout


def test_every_docs_page_is_linked_from_the_readme_and_the_index() -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    pages = {p.name for p in PAGES} | {"security.md", "toolchain.md"}
    for page in pages - {"README.md"}:
        assert f"](docs/{page})" in README, page
        assert f"]({page})" in index, page


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_relative_link_and_anchor_resolves() -> None:
    checked = 0
    for path, text in DOCS.items():
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            assert linked.exists(), f"{path.name}: {target}"
            if anchor:
                headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.M)
                anchors = {github_anchor(h) for h in headings}
                assert anchor in anchors, f"{path.name}: {target} (anchors: {sorted(anchors)})"
            checked += 1
    assert checked > 30


# One convention for the project's Python in everything a user copies: `venv/bin/python`.
PYTHON_COMMAND = re.compile(r"(?<![\w/.-])python3?(?= -m | [\w/.-]+\.py\b)")


@pytest.mark.stacks
def test_every_python_command_uses_the_venv() -> None:
    texts = dict(DOCS)
    texts.update({p: p.read_text(encoding="utf-8") for p in (ROOT / "stacks").glob("*.yaml")})
    texts[ROOT / "scripts" / "demo.sh"] = (ROOT / "scripts" / "demo.sh").read_text()
    for path, text in texts.items():
        for line in text.splitlines():
            for match in PYTHON_COMMAND.finditer(line):
                # Creating a virtual environment is the one thing done with the system Python.
                assert line[match.start() :].startswith("python3 -m venv "), f"{path.name}: {line}"
    assert "venv/bin/python -m components" in README


def test_the_readmes_figures_are_the_ones_make_bench_printed() -> None:
    recorded = (ROOT / "bench" / "results.txt").read_text(encoding="utf-8")
    block = README.split("<!-- bench:start -->\n```\n", 1)[1].split("```\n<!-- bench:end -->")[0]
    assert block == recorded
    assert recorded.startswith("machine: ") and " cores" in recorded.splitlines()[0]
    assert recorded.splitlines()[-1].startswith(("PASS: ", "MISS: "))


# --- every command in the README and docs/ runs as written -------------------------------------


def documented_shell_lines() -> list[tuple[str, str]]:
    """(document, command) for every command line of a ```bash block, comments removed."""
    lines = []
    for path, text in GUIDES.items():
        for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
            for raw in block.splitlines():
                line = re.sub(r"\s+#.*$", "", raw).strip()
                if line and not line.startswith("#"):
                    lines.append((path.name, line))
    return lines


RUN_OFFLINE = re.compile(
    r"^venv/bin/python -m components (?:plan|check|new-stack)\b"
    r"|^venv/bin/python -m components send-test-event .*--dry-run\b"
    r"|^venv/bin/python -m components backtest --stack sample --stacks-dir tests/fixtures/backtest "
)
"""Offline commands: run as written in a scratch copy of the project (git history included)."""
RUN_AGAINST_THE_SANDBOX = re.compile(r"^venv/bin/python -m components send-test-event --flow \S+$")
"""The local stack's commands: run as written, the local stack pointing at a test sandbox."""
RUN_IN_PLACE = re.compile(r"^venv/bin/python -m pytest tests/\S+\.py$")
NOT_RUN = {
    r"^make (?:demo|test|lint|setup)$": "a make target (checked to exist; CI runs make test)",
    r"^make toolchain$": "builds the CLI (CI runs it; tests/test_toolchain.py checks it is cached)",
    r"^source scripts/local-env\.sh$": "changes the shell (tests/test_toolchain.py sources it)",
    r"^pulumi ": "needs the Pulumi CLI, its plugins and credentials",
    r"^export PUBLIC_API_TOKEN=": "sets a credential",
    r"^venv/bin/python -m components adopt ": "needs a Segment workspace (test_adopt.py runs it)",
    r"^venv/bin/python -m components backtest --stack dev --events '?archive/": (
        "needs a recorded events archive (tests/backtest runs backtest on generated events)"
    ),
    r"^PENDULA_TOKEN=(?:'[^']*'|\S+) venv/bin/python -m components send-test-event --stack (?!local)": (
        "sends to a real Pendula flow"
    ),
    r"^venv/bin/python -m sandbox (?!.*--seed-only)": (
        "a server; the sandbox fixture runs it on a free port"
    ),
    r"^venv/bin/python -m sandbox .*--seed-only$": (
        "seeds the demo's database; tests/sandbox/test_port_and_reseed.py runs it"
    ),
    r"^SANDBOX_PORT=\d+ make demo$": (
        "make demo on another port; tests/sandbox/test_port_and_reseed.py tests the setting"
    ),
    r"^pip install ": "installs the package in another repository",
    r"^python3 -m venv policy/venv$": "creates the policy pack's environment",
    r"^policy/venv/bin/pip install ": "installs packages from the package index",
}


def how_checked(line: str) -> str:
    rules = {
        "offline": bool(RUN_OFFLINE.search(line)),
        "sandbox": bool(RUN_AGAINST_THE_SANDBOX.search(line)),
        "in place": bool(RUN_IN_PLACE.search(line)),
        **{reason: bool(re.search(rule, line)) for rule, reason in NOT_RUN.items()},
    }
    matched = [name for name, hit in rules.items() if hit]
    assert len(matched) == 1, f"{line!r} matches {matched or 'no rule'}: classify it here"
    return matched[0]


def test_every_documented_command_is_run_or_says_why_not() -> None:
    lines = documented_shell_lines()
    assert len(lines) > 40
    kinds = {how_checked(line) for _, line in lines}
    assert {"offline", "sandbox", "in place"} <= kinds


def scratch_project(tmp_path: Path, sandbox_port: int) -> Path:
    """A copy of what the commands read, as a git repository whose origin/main is HEAD."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    # The docs describe the stacks as shipped: their copies under tests/fixtures, not stacks/.
    shutil.copytree(FIXTURE_STACKS, root / "stacks")
    (root / "policy" / "config").mkdir(parents=True)  # new-stack copies the --from stack's
    for stack in FIXTURE_STACK_NAMES:
        shutil.copy(ROOT / "policy" / "config" / f"{stack}.json", root / "policy" / "config")
    shutil.copytree(ROOT / "tests" / "fixtures" / "events", root / "tests" / "fixtures" / "events")
    for folder in (("tests", "fixtures", "backtest"), ("examples", "events")):
        shutil.copytree(ROOT.joinpath(*folder), root.joinpath(*folder))
    local = root / "stacks" / "Pulumi.local.yaml"
    local.write_text(local.read_text().replace("127.0.0.1:8787", f"127.0.0.1:{sandbox_port}"))
    (root / "venv").symlink_to(Path(sys.prefix))  # the venv the tests run in
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=docs@test", "-c", "user.name=docs", "commit", "-qm", "docs"],
        ["update-ref", "refs/remotes/origin/main", "HEAD"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def test_documented_commands_run_as_written(tmp_path: Path, sandbox: SandboxServer) -> None:
    root = scratch_project(tmp_path, sandbox.port)
    seed_database(sandbox.settings.db_path, root / "stacks" / "Pulumi.local.yaml")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(TOKEN_ENV, None)
    ran = 0
    for line in sorted({line for _, line in documented_shell_lines()}):
        kind = how_checked(line)
        if kind not in ("offline", "sandbox", "in place"):
            continue
        done = subprocess.run(
            ["bash", "-c", line],
            cwd=ROOT if kind == "in place" else root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        assert done.stdout and "Traceback" not in done.stderr, line
        ran += 1
    assert ran >= 6
