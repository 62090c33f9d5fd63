"""``python -m components check``: validate every stack file at once (config, program, policies)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.fql.caret import lay_out
from components.guards.redaction import redact_text
from components.review.document import PlanError, environment_notice
from components.review.plan import PlanRequest, build_plan, redact
from components.review.stack_run import find_project_root

EXIT_PROBLEMS = 1
EXIT_NO_STACKS = 5

EPILOG = f"""\
Prints one line per problem, prefixed with the stack file; a stack file that cannot be read
is one such line, and the other stacks are still checked. With --against, a change to where
credentials are sent (segment:url, pendulaApiUrl, the allowed host lists, sandbox/production)
is flagged as "review: …" and counts as a problem, so it cannot pass unnoticed. A stack that
imports an ESC `environment:` cannot be reviewed offline and is a problem unless you pass
--allow-environment (after reviewing the environments in Pulumi ESC). Exit codes: 0
every stack is valid and passes the policies; {EXIT_PROBLEMS} at least one problem; 2 bad
arguments; {EXIT_NO_STACKS} no Pulumi.*.yaml in the stacks directory.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate every stacks/Pulumi.*.yaml: config, program under mocks, policies",
        description=__doc__,
        epilog=EPILOG,
    )
    parser.add_argument("--stacks-dir", type=Path, default=Path("stacks"))
    parser.add_argument(
        "--project-root",
        type=Path,
        default=None,
        help="where sampleEvent paths start (default: the directory holding Pulumi.yaml)",
    )
    parser.add_argument(
        "--against",
        metavar="GIT_REF",
        help="also flag every change to where credentials are sent since this git ref",
    )
    parser.add_argument(
        "--allow-environment",
        action="store_true",
        help="accept stacks that import ESC environments (their values are not reviewed here)",
    )
    parser.set_defaults(func=run)


def problems_of(
    stacks_dir: Path,
    project_root: Path,
    against: str | None = None,
    *,
    allow_environment: bool = False,
) -> tuple[int, list[str]]:
    """How many stack files were checked, and every problem as ``<file>: <problem>``."""
    files = sorted(stacks_dir.glob("Pulumi.*.yaml"))
    lines: list[str] = []
    for path in files:
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        request = PlanRequest(
            stack=stack, stacks_dir=stacks_dir, project_root=project_root, against=against
        )
        try:
            document = build_plan(request)
        except PlanError as exc:
            message = redact_text(str(exc))  # already names the file
            lines.append(message if message.startswith(str(path)) else f"{path}: {message}")
            continue
        found = [f"{path}: {p}" for p in document["problems"]]
        found += [
            f"{path}: policy {v['policy']} on {v['resource']}: {v['message']}"
            for v in document["violations"]
        ]
        found += [f"{path}: review: {message}" for message in document.get("review", [])]
        if document["environment"] and not allow_environment:
            notice = environment_notice(document["environment"])
            found.append(f"{path}: {notice} (pass --allow-environment once they are reviewed)")
        lines += [redact(line, document) for line in found]
    # One problem per line: whatever a stack file holds is shown escaped, on its own line.
    # A trigger problem's caret block (components/fql/caret.py) goes on indented lines below.
    return len(files), [lay_out(line) for line in lines]


def run(args: argparse.Namespace) -> int:
    project_root = args.project_root or find_project_root(args.stacks_dir)
    count, lines = problems_of(
        args.stacks_dir, project_root, args.against, allow_environment=args.allow_environment
    )
    if count == 0:
        print(f"error: no Pulumi.*.yaml stack files in {args.stacks_dir}", file=sys.stderr)
        return EXIT_NO_STACKS
    for line in lines:
        print(line)
    if lines:
        print(f"{len(lines)} problem(s) in {count} stack file(s)", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"{count} stack file(s) valid; all policies pass")
    return 0
