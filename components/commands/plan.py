"""``python -m components plan``: what a stack declares, offline, and how it differs from a ref."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.guards.escaping import escape_terminal
from components.guards.redaction import redact_text
from components.review.document import (
    EXIT_INVALID_CONFIG,
    EXIT_OK,
    EXIT_POLICY,
    EXIT_UNREADABLE,
    PlanError,
    exit_code,
)
from components.review.plan import PlanRequest, build_plan, redact
from components.review.render_json import render_json
from components.review.render_markdown import render_markdown
from components.review.render_text import render_text
from components.review.stack_run import find_project_root

RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}

EPILOG = f"""\
exit codes:
  {EXIT_OK}  the configuration is valid and every policy passes
  2  bad command-line arguments
  {EXIT_INVALID_CONFIG}  the configuration is invalid (each problem is printed with its key path)
  {EXIT_POLICY}  the configuration is valid but a guard-rail policy fails (printed with its fix)
  {EXIT_UNREADABLE}  the stack file, or the stack as of --against, cannot be read or planned

The real stack program runs under Pulumi's mock runtime: no CLI, credentials or network are
used, secure values are never decrypted, and every secret is printed as [secret].
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="show what a stack declares (offline), optionally the changes against a git ref",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", required=True, help="stack name: stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    parser.add_argument(
        "--against",
        metavar="GIT_REF",
        help="compare with the stack file at this git ref (missing there: everything is new)",
    )
    parser.add_argument("--stacks-dir", type=Path, default=Path("stacks"))
    parser.add_argument(
        "--project-root",
        type=Path,
        default=None,
        help="where sampleEvent paths start (default: the directory holding Pulumi.yaml)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    request = PlanRequest(
        stack=args.stack,
        stacks_dir=args.stacks_dir,
        project_root=args.project_root or find_project_root(args.stacks_dir),
        against=args.against,
    )
    try:
        document = build_plan(request)
    except PlanError as exc:
        message = escape_terminal(redact_text(str(exc)), keep_newlines=True)
        print(f"error: {message}", file=sys.stderr)
        return exc.exit_code
    # Each renderer escapes for its medium; the redaction is the last line of defence.
    rendered = RENDERERS[args.format](document)
    sys.stdout.write(redact(rendered, document, structured=args.format == "json"))
    return exit_code(document)
