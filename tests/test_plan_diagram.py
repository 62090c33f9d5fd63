"""The Mermaid flowchart that opens a markdown plan, checked with Mermaid's own parser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from components.review.diagram import escape_label, mermaid_lines, trigger_in_words
from components.review.plan import PlanRequest, build_plan
from components.review.render_markdown import render_markdown
from tests.node.mermaid_client import parse_diagrams
from tests.test_plan import ROOT, STACKS, edit_dev, git, make_project

HOSTILE = [
    'x"] --> evil["owned',
    "<img src=x onerror=alert(1)>",
    "#quot; #35; &amp; %% comment",
    "```\n## not a heading\nclick dst0 call alert()",
    "a|b;c{d}[e]\\f `g` *h* _i_ ~j~ $k ^l",
    "Ünïcødé → ✓ 🚀",
]


def plan_markdown(root: Path, stack: str, against: str | None = None) -> str:
    request = PlanRequest(stack, root / "stacks", root, against)
    return render_markdown(build_plan(request))


def diagram_of(markdown: str) -> str:
    """The mermaid block, which must come right under the plan's heading."""
    match = re.match(r"## Offline plan: stack `[^`]+`\n\n```mermaid\n(.*?)\n```\n", markdown, re.S)
    assert match is not None, markdown[:300]
    return match.group(1)


def read(diagram: str) -> dict[str, Any]:
    (result,) = parse_diagrams([diagram])
    assert "ok" in result, f"{result.get('error')}\n{diagram}"
    parsed: dict[str, Any] = result["ok"]
    return parsed


def vertices(parsed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in parsed["vertices"]}


# --- escaping and words -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("Welcome on Signed Up", "Welcome on Signed Up"),
        ('a "b"', "a #34;b#34;"),
        ("#quot;", "#35;quot#59;"),
        ("<b>", "#60;b#62;"),
        ("a\nb", "a#10;b"),
        ("`x`", "#96;x#96;"),
        ("é", "#233;"),
        ("🚀", "#128640;"),
    ],
)
def test_escape_label_encodes_what_mermaid_or_html_would_read(text: str, escaped: str) -> None:
    assert escape_label(text) == escaped


def test_escape_label_removes_secrets_before_encoding_them() -> None:
    assert escape_label('tok "s3cr3t-value"', ["s3cr3t-value"]) == "tok #34;#91;secret#93;#34;"


def test_escape_label_shortens_long_texts() -> None:
    assert escape_label("a" * 500) == "a" * 119 + "#8230;"


@pytest.mark.parametrize(
    ("fql", "words"),
    [
        (
            'type = "track" and event = "Signed Up"',
            'event type is "track" and event is "Signed Up"',
        ),
        ('traits.plan != "pro"', 'trait plan is not "pro"'),
        ('match(userId, "SA*")', 'user ID starts with "SA"'),
        (
            'event = "A" or (properties.total >= 100 and context.app.version = "2")',
            'event is "A" or (property total >= 100 and context app.version is "2")',
        ),
        ("", "no trigger"),
        (None, "no trigger"),
    ],
)
def test_trigger_in_words(fql: str | None, words: str) -> None:
    assert trigger_in_words(fql) == words


def test_a_trigger_segment_may_misread_is_shown_as_fql() -> None:
    unsafe = '(event = "a" and contains(name, "b")) or type = "track"'
    assert trigger_in_words(unsafe) == f"FQL {unsafe}"


def test_nothing_to_draw_draws_nothing() -> None:
    assert mermaid_lines({"destinations": [], "against": None}) == []


# --- every stack's plan, through Mermaid's parser ---------------------------------------------


def test_every_stacks_markdown_plan_opens_with_a_diagram_mermaid_parses(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    plans = {stack: build_plan(PlanRequest(stack, root / "stacks", root)) for stack in STACKS}
    diagrams = [diagram_of(render_markdown(plans[stack])) for stack in STACKS]
    results = parse_diagrams(diagrams)
    for stack, result, diagram in zip(STACKS, results, diagrams, strict=True):
        assert "ok" in result, f"{stack}: {result.get('error')}\n{diagram}"
        parsed = result["ok"]
        assert parsed["type"] == "flowchart-v2"
        shown = vertices(parsed)
        flows = [f for d in plans[stack]["destinations"] for f in d["flows"]]
        # A source, each destination, and per flow its mapping and the Pendula flow it calls.
        sources = {d["sourceId"] for d in plans[stack]["destinations"]}
        assert len(shown) == len(sources) + len(plans[stack]["destinations"]) + 2 * len(flows)
        assert len(parsed["edges"]) == len(plans[stack]["destinations"]) + 2 * len(flows)
        for d_index, destination in enumerate(plans[stack]["destinations"]):
            assert shown[f"dst{d_index}"]["lines"][1] == (
                f"{destination['name']}: {destination['displayName']}"
            )
            for f_index, flow in enumerate(destination["flows"]):
                mapping = shown[f"dst{d_index}m{f_index}"]
                assert mapping["lines"][0].startswith(f"mapping {flow['name']}")
                assert mapping["lines"][1] == f"when {trigger_in_words(flow['trigger'])}"
                assert mapping["lines"][2] == (
                    "enabled" if flow["enabled"] else "disabled: sends nothing"
                )
                assert ("disabled" in mapping["classes"]) is not flow["enabled"]
                target = shown[f"dst{d_index}m{f_index}p"]
                assert target["lines"] == ["Pendula flow", f"POST {flow['url']}"]


def test_changes_against_a_ref_are_marked(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    gone = {
        "name": "app",
        "sourceId": "appSource00000000000001",
        "flows": [
            {
                "name": "churn",
                "url": "https://pendula.app/webhook/inbound/7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                "conditions": {"all": [{"event": {"is": "Churned"}}]},
            }
        ],
    }

    def base(config: dict[str, Any]) -> None:
        config["segment-pendula:destinations"].append(gone)
        config["segment-pendula:pendulaTokens"]["churn"] = {"secure": "v1:Y2h1cm4="}

    edit_dev(root, base)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")

    def head(config: dict[str, Any]) -> None:
        config["segment-pendula:destinations"].pop()  # the app destination goes
        flows = config["segment-pendula:destinations"][0]["flows"]
        flows[0]["conditions"] = {"all": [{"event": {"is": "Account Created"}}]}  # changed
        flows[1]["url"] = "https://pendula.app/webhook/inbound/1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a"
        flows.pop(2)  # vip goes
        del config["segment-pendula:pendulaTokens"]["vip"]
        del config["segment-pendula:pendulaTokens"]["churn"]
        flows.append(
            {
                "name": "winback",
                "url": "https://pendula.app/webhook/inbound/2f0c6a1e-9b3d-4c7a-8e5f-1a2b3c4d5e6f",
                "conditions": {"all": [{"event": {"is": "Churned"}}]},
            }
        )
        config["segment-pendula:pendulaTokens"]["winback"] = {"secure": "v1:d2luYmFjaw=="}

    edit_dev(root, head)
    parsed = read(diagram_of(plan_markdown(root, "dev", against="HEAD")))
    shown = vertices(parsed)

    assert shown["dst0m0"]["lines"][-1] == "CHANGED: trigger"
    assert shown["dst0m0"]["classes"] == ["changed"]
    # A new URL replaces the flow's token resource; the mapping's settings change with it.
    assert shown["dst0m1"]["lines"][-1] == "REPLACED"
    assert shown["dst0m1"]["classes"] == ["replaced"]
    assert shown["dst0m2"]["lines"][0] == "mapping winback"
    assert shown["dst0m2"]["lines"][-1] == "ADDED"
    assert shown["dst0m2"]["classes"] == ["added"]
    removed = {tuple(v["lines"]): v for v in parsed["vertices"] if "removed" in v["classes"]}
    assert set(removed) == {
        ("Webhooks (Actions) destination", "app", "REMOVED"),
        ("mapping", "vip", "REMOVED"),
        ("mapping", "churn", "REMOVED"),
    }
    edges = {(e["start"], e["end"]) for e in parsed["edges"]}
    by_lines = {lines: v["id"] for lines, v in removed.items()}
    assert ("dst0", by_lines[("mapping", "vip", "REMOVED")]) in edges
    assert (
        by_lines[("Webhooks (Actions) destination", "app", "REMOVED")],
        by_lines[("mapping", "churn", "REMOVED")],
    ) in edges
    assert shown["dst0"]["classes"] == []  # the destination itself is unchanged


def test_every_user_string_is_escaped(tmp_path: Path) -> None:
    """Hostile names and values show as written and add no node, edge, class or link."""
    root = make_project(tmp_path)

    def hostile(config: dict[str, Any]) -> None:
        destination = config["segment-pendula:destinations"][0]
        destination["displayName"] = HOSTILE[0]
        for flow, text in zip(destination["flows"], HOSTILE[1:], strict=False):
            flow["displayName"] = text
        destination["flows"][0]["conditions"] = {
            "all": [{"event": {"is": HOSTILE[1]}}, {"property": {"name": "a`b", "is": "#35;"}}]
        }

    edit_dev(root, hostile)
    markdown = plan_markdown(root, "dev")
    diagram = diagram_of(markdown)
    assert "```" not in diagram and '"' not in "".join(re.findall(r'\["(.*?)"\]', diagram))
    parsed = read(diagram)
    shown = vertices(parsed)
    flows = 3
    assert len(shown) == 2 + 2 * flows
    assert len(parsed["edges"]) == 1 + 2 * flows
    assert set(parsed["classes"]) <= {"disabled"}
    assert shown["dst0"]["lines"][1] == f"web: {HOSTILE[0]}"
    for index, text in enumerate(HOSTILE[1 : 1 + flows]):
        name = ["welcome", "upgrade-nudge", "vip"][index]
        assert shown[f"dst0m{index}"]["lines"][0] == f"mapping {name}: {text}"
    assert shown["dst0m0"]["lines"][1] == (
        f'when event is "{HOSTILE[1]}" and property a`b is "#35;"'
    )


def test_the_docs_show_the_diagram_the_example_dev_stack_prints(tmp_path: Path) -> None:
    """From the fixture (the dev stack as shipped), so editing stacks/ never breaks the docs."""
    printed = diagram_of(plan_markdown(make_project(tmp_path), "dev"))
    docs = (ROOT / "docs" / "review.md").read_text(encoding="utf-8")
    assert f"```mermaid\n{printed}\n```\n" in docs
