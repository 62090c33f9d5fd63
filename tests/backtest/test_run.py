"""components.backtest.run: tallies per flow, --against differences, --jobs, redaction."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from components.backtest.report import render_json, render_markdown, render_text
from components.backtest.run import BacktestRequest, run_backtest
from tests.backtest.support import event, flow, write_events, write_stack

SIGNED_UP = {"all": [{"event_type": {"is": "track"}}, {"event": {"is": "Signed Up"}}]}


def run(folder: Path, events: list[str], against: str | None = None, jobs: int = 1) -> Any:
    request = BacktestRequest("test", folder, tuple(events), against=against, jobs=jobs)
    return run_backtest(request)


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["flow"]: f for f in document["flows"]}


def test_matched_events_people_days_and_examples(tmp_path: Path) -> None:
    write_stack(tmp_path / "stacks", [flow("welcome", conditions=SIGNED_UP)])
    signed = {"type": "track", "event": "Signed Up"}
    path = write_events(
        tmp_path / "events.jsonl",
        [
            event("m1", userId="u1", **signed),
            event("m2", userId="u1", **signed, timestamp="2026-12-01T01:00:00Z"),
            event("m3", anonymousId="a9", **signed),
            event("m4", userId="u2", type="track", event="Other"),
            event("m5", userId=None, anonymousId="a9", **signed),
            event("m6", userId="u3", **signed, timestamp=None),
        ],
    )
    document = run(tmp_path / "stacks", [str(path)])
    matched = by_name(document)["welcome"]["matched"]
    assert matched["events"] == 5
    assert matched["people"] == 3  # u1, a9 (twice, once with a null userId), u3
    assert matched["perDay"] == {"2026-11-30": 3, "2026-12-01": 1, "unknown": 1}
    assert [e["messageId"] for e in matched["examples"]] == ["m1", "m2", "m3"]
    assert matched["examples"][0]["values"] == {"type": "track", "event": "Signed Up"}
    assert document["events"] | {"badLineSamples": []} == {
        "files": 1, "lines": 6, "events": 6, "badLines": 0, "badLineSamples": [],
    }  # fmt: skip


def test_bad_lines_are_counted_with_numbers_and_never_fatal(tmp_path: Path) -> None:
    write_stack(tmp_path / "stacks", [flow("welcome", conditions=SIGNED_UP)])
    path = write_events(
        tmp_path / "e.jsonl.gz",
        [event("m1", type="track", event="Signed Up"), "{not json", "[1, 2]", "", '"text"'],
    )
    document = run(tmp_path / "stacks", [str(path)])
    assert document["events"]["events"] == 1
    assert document["events"]["badLines"] == 3
    samples = [
        (s["line"], s["problem"].split(" (")[0]) for s in document["events"]["badLineSamples"]
    ]
    assert samples == [(2, "not JSON"), (3, "not a JSON object"), (5, "not a JSON object")]
    assert all(s["file"] == str(path) for s in document["events"]["badLineSamples"])
    assert f"bad line {path}:2: not JSON" in render_text(document)


def test_disabled_flows_are_backtested_and_refused_triggers_reported(tmp_path: Path) -> None:
    write_stack(
        tmp_path / "stacks",
        [
            flow("off", enabled=False, conditions=SIGNED_UP),
            flow("broken", trigger='type = "track" or event = "a" and event = "b"'),
        ],
    )
    path = write_events(tmp_path / "e.jsonl", [event("m1", type="track", event="Signed Up")])
    flows = by_name(run(tmp_path / "stacks", [str(path)]))
    assert flows["off"]["enabled"] is False and flows["off"]["matched"]["events"] == 1
    assert (
        flows["broken"]["matched"] is None and "mixes 'and' and 'or'" in flows["broken"]["refused"]
    )
    text = render_text(run(tmp_path / "stacks", [str(path)]))
    assert "Flow web/off [DISABLED (would fire once enabled)]" in text
    assert "REFUSED: segment-pendula:destinations[0].flows[1].trigger" in text


def test_examples_never_show_credentials(tmp_path: Path) -> None:
    conditions = {"all": [{"property": {"name": "api_key", "exists": True}}]}
    url_flow = {"all": [{"context": {"name": "page.url", "contains": "example"}}]}
    write_stack(
        tmp_path / "stacks",
        [flow("keyed", conditions=conditions), flow("url", conditions=url_flow)],
    )
    secret = "sk_live_abcdef123456"
    path = write_events(
        tmp_path / "e.jsonl",
        [
            event(
                f"id-with-token={secret}",
                properties={"api_key": secret},
                context={
                    "page": {
                        "url": f"https://user:{secret}@shop.example.com/?access_token={secret}"
                    }
                },
            )
        ],
    )
    document = run(tmp_path / "stacks", [str(path)])
    assert by_name(document)["keyed"]["matched"]["events"] == 1
    assert by_name(document)["url"]["matched"]["events"] == 1
    for rendered in (render_text(document), render_markdown(document), render_json(document)):
        assert secret not in rendered
        assert "[hidden]" in rendered


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def test_against_a_ref_shows_newly_and_no_longer_matched(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks"
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    write_stack(
        stacks,
        [
            flow("changed", trigger='event = "A"'),
            flow("same", trigger='event = "B"'),
            flow("removed", trigger='event = "A"'),
        ],
    )
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    write_stack(
        stacks,
        [
            flow("changed", trigger='contains(event, "A")'),
            flow("same", trigger='event = "B"'),
            flow("added", trigger='event = "B"'),
        ],
    )
    path = write_events(
        tmp_path / "e.jsonl",
        [
            event("m1", userId="u1", event="A"),
            event("m2", userId="u2", event="AA"),
            event("m3", userId="u2", event="xA"),
            event("m4", userId="u3", event="B"),
        ],
    )
    document = run(stacks, [str(path)], against="HEAD")
    flows = by_name(document)
    changed = flows["changed"]["against"]
    assert changed["status"] == "changed" and changed["trigger"] == 'event = "A"'
    assert changed["matched"]["events"] == 1 and flows["changed"]["matched"]["events"] == 3
    assert changed["newlyMatched"]["events"] == 2 and changed["newlyMatched"]["people"] == 1
    assert [e["messageId"] for e in changed["newlyMatched"]["examples"]] == ["m2", "m3"]
    assert changed["noLongerMatched"]["events"] == 0
    same = flows["same"]["against"]
    assert same["status"] == "unchanged" and same["newlyMatched"]["events"] == 0
    assert flows["added"]["against"]["status"] == "new"
    assert flows["added"]["against"]["newlyMatched"]["events"] == 1
    removed = flows["removed"]
    assert removed["enabled"] is None and removed["against"]["status"] == "removed"
    assert removed["against"]["noLongerMatched"]["events"] == 1
    markdown = render_markdown(document)
    assert (
        "| `web/changed` | enabled | 3 | 2 | trigger changed | 2 events, 1 person | 0 |" in markdown
    )
    assert "| `web/removed` | removed | — | — | flow removed | 0 | 1 event, 1 person |" in markdown
    text = render_text(document)
    assert '  at HEAD: trigger changed\n    trigger: event = "A"\n' in text


def test_jobs_split_files_and_give_the_same_report(tmp_path: Path) -> None:
    write_stack(tmp_path / "stacks", [flow("welcome", conditions=SIGNED_UP)])
    signed = {"type": "track", "event": "Signed Up"}
    for day in range(4):
        write_events(
            tmp_path / "events" / f"2026-12-0{day + 1}" / "part.jsonl.gz",
            [event(f"m{day}-{i}", userId=f"u{i % 3}", **signed) for i in range(day + 2)] + ["{"],
        )
    one = run(tmp_path / "stacks", [str(tmp_path / "events")], jobs=1)
    two = run(tmp_path / "stacks", [str(tmp_path / "events")], jobs=2)
    assert one == two
    assert one["flows"][0]["matched"]["events"] == 2 + 3 + 4 + 5
    assert one["events"]["badLines"] == 4
