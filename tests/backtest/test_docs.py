"""The README and docs/review.md show the real backtest output on the bundled sample."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from components.__main__ import main

ROOT = Path(__file__).resolve().parent.parent.parent
COMMAND = [
    "backtest", "--stack", "sample", "--stacks-dir", "tests/fixtures/backtest",
    "--events", "examples/events",
]  # fmt: skip


def block(path: Path, name: str) -> str:
    text = path.read_text(encoding="utf-8")
    match = re.search(
        rf"<!-- {name}:start -->\n *(`{{3,}})[a-z]*\n(.*?)\n *\1\n *<!-- {name}:end -->",
        text,
        re.DOTALL,
    )
    assert match is not None, f"{path.name} has no {name} block"
    return textwrap.dedent(match.group(2)) + "\n"


def output(
    extra: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    monkeypatch.chdir(ROOT)  # the documented command runs from the repository root
    assert main([*COMMAND, *extra]) == 0
    return capsys.readouterr().out


def test_readme_shows_the_start_of_the_text_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    documented = block(ROOT / "README.md", "backtest-text")
    assert len(documented.splitlines()) >= 8  # the summary and the first flow at least
    assert output([], monkeypatch, capsys).startswith(documented)


def test_review_page_shows_the_markdown_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    documented = block(ROOT / "docs" / "review.md", "backtest-markdown")
    assert documented == output(["--format", "markdown"], monkeypatch, capsys)


def test_the_documented_command_is_the_one_compared() -> None:
    review = (ROOT / "docs" / "review.md").read_text(encoding="utf-8")
    assert "venv/bin/python -m components " + " ".join(COMMAND) + "\n" in review
