"""``python -m components backtest``: what each flow's trigger would have matched on recorded
Segment events (and, with --against, what a change of trigger adds or removes)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.backtest.events import EventsError
from components.backtest.flows import StackError
from components.backtest.report import render_json, render_markdown, render_text
from components.backtest.run import BacktestRequest, run_backtest
from components.commands import TerminalOutput
from components.guards.escaping import escape_terminal
from components.guards.redaction import redact_text

RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}
EXIT_OK = 0
EXIT_UNREADABLE = 5

EPILOG = f"""\
events: JSON-lines files (one Segment event per line), gzip-compressed or not, directories
(searched recursively for .jsonl, .ndjson, .json and .gz files) or globs ('archive/**/*.gz').
Unparseable lines are counted and listed with their line numbers; they never stop the run.

exit codes:
  {EXIT_OK}  the backtest ran (refused triggers and bad lines are in the report)
  2  bad command-line arguments
  {EXIT_UNREADABLE}  the stack file, the stack as of --against, or the events cannot be read
"""


def _jobs(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"expected a number of processes 1-256, got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "backtest",
        help="what each flow's trigger would have matched on recorded events",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", required=True, help="stack name: stacks/Pulumi.<stack>.yaml")
    parser.add_argument(
        "--events", required=True, nargs="+", metavar="PATH", help="files, directories, globs"
    )
    parser.add_argument(
        "--against", metavar="GIT_REF", help="also backtest the triggers at this git ref"
    )
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    parser.add_argument(
        "--jobs", type=_jobs, default=1, metavar="N", help="worker processes (files are split)"
    )
    parser.add_argument(
        "--stacks-dir", type=Path, default=Path("stacks"), help="where Pulumi.<stack>.yaml is"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    request = BacktestRequest(
        stack=args.stack,
        stacks_dir=args.stacks_dir,
        events=tuple(args.events),
        against=args.against,
        jobs=args.jobs,
    )
    try:
        document = run_backtest(request)
    except (StackError, EventsError, OSError) as exc:
        message = escape_terminal(redact_text(str(exc)), keep_newlines=True)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_UNREADABLE
    text = RENDERERS[args.format](document)
    if args.format == "text":
        TerminalOutput(sys.stdout).write(text)
    else:
        sys.stdout.write(redact_text(text))
    return EXIT_OK
