"""``python -m components backtest``: formats, exit codes, errors without tracebacks, progress."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from components.__main__ import main
from components.backtest.progress import Progress
from tests.backtest.support import event, flow, write_events, write_stack

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE_ARGS = [
    "backtest", "--stack", "sample", "--stacks-dir", str(ROOT / "tests" / "fixtures" / "backtest"),
    "--events", str(ROOT / "examples" / "events"),
]  # fmt: skip


def test_json_format_on_the_bundled_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*SAMPLE_ARGS, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["events"]["events"] == 299 and document["events"]["badLines"] == 1
    flows = {f["flow"]: f for f in document["flows"]}
    assert list(flows) == ["welcome", "upgrade-nudge", "vip", "big-cart", "pricing-visit"]
    assert flows["vip"]["enabled"] is False
    assert all(f["matched"]["events"] > 0 for f in flows.values())


def test_markdown_and_text_formats(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*SAMPLE_ARGS, "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("## Backtest: stack `sample`\n")
    assert "| `web/vip` | disabled |" in markdown
    assert main(SAMPLE_ARGS) == 0
    captured = capsys.readouterr()
    assert "Flow web/vip [DISABLED (would fire once enabled)]" in captured.out
    assert captured.err == ""  # no progress bar when stderr is not a terminal


def test_event_values_cannot_restyle_the_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conditions = {"all": [{"event": {"contains": "x"}}]}
    write_stack(tmp_path, [flow("f", conditions=conditions)], stack="s")
    hostile = "x | <img src=y> `code`\n## Forged heading"
    path = write_events(tmp_path / "e.jsonl", [event("m|1\n# id", event=hostile)])
    assert main(["backtest", "--stack", "s", "--stacks-dir", str(tmp_path), "--events",
                 str(path), "--format", "markdown"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    span = "``x \\| <img src=y> `code`\\n## Forged heading``"  # one inert code span
    assert span in out
    assert "<img" not in out.replace(span, "") and "## Forged" not in out.replace(span, "")
    assert not any(line.startswith("# id") for line in out.splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack", "nope"], "Pulumi.nope.yaml: no such stack file"),
        (["--events", "missing.jsonl"], "--events 'missing.jsonl': no such file or directory"),
        (["--against", "no-such-ref"], "--against no-such-ref: not a git commit"),
    ],
)
def test_unreadable_inputs_exit_5_with_one_clear_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    argv = list(SAMPLE_ARGS)
    if args[0] in argv:
        argv[argv.index(args[0]) + 1] = args[1]
    else:
        argv += args
    assert main(argv) == 5
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("jobs", ["0", "x", "-1"])
def test_jobs_must_be_a_positive_number(capsys: pytest.CaptureFixture[str], jobs: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*SAMPLE_ARGS, "--jobs", jobs])
    assert exited.value.code == 2
    assert "expected a number of processes 1-256" in capsys.readouterr().err


def test_progress_shows_throughput_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    progress = Progress(files=2, total_bytes=100, stream=stream)
    progress.file_done(50, 1000)
    progress.close()
    shown = stream.getvalue()
    assert "1/2 files" in shown and "1,000 events" in shown and "events/s" in shown
    assert " 50%" in shown
    monkeypatch.setattr("sys.stderr", io.StringIO())  # not a TTY
    assert Progress.for_stderr(1, 1).stream is None


def test_event_values_cannot_forge_text_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_stack(tmp_path, [flow("f", conditions={"all": [{"event": {"contains": "x"}}]})], "s")
    path = write_events(tmp_path / "e.jsonl", [event("m1\nFlow forged", event="x\x1b[2J\nFlow y")])
    assert (
        main(["backtest", "--stack", "s", "--stacks-dir", str(tmp_path), "--events", str(path)])
        == 0
    )
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert [line for line in out.splitlines() if line.startswith("Flow ")] == [
        "Flow web/f [enabled]"
    ]
    assert "e.g. m1\\nFlow forged: event=x\\x1b[2J\\nFlow y" in out
