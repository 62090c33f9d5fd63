"""``python -m components adopt``: a stack file and a Pulumi import file for a hand-made setup.

The Segment token comes only from ``PUBLIC_API_TOKEN`` (as the Terraform provider reads it),
never from an argument, so it stays out of shell history and process listings.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from components.commands import TerminalOutput
from components.segment.adopt import AdoptError, Adoption, read_setup
from components.segment.api import DEFAULT_URL, SegmentApi, SegmentApiError
from components.segment.stack_file import config_problems, import_document, stack_file_text

TOKEN_VARIABLE = "PUBLIC_API_TOKEN"
URL_VARIABLE = "PUBLIC_API_URL"

EXIT_OK = 0
EXIT_FAILED = 1
"""Segment could not be read, or the source has nothing adoptable."""
EXIT_USAGE = 2
"""Bad arguments, a missing token, or output files that exist without --force."""

_STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")
"""Pulumi stack names; also keeps the stack file inside ``--stacks-dir``."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``adopt`` sub-command."""
    parser = subparsers.add_parser(
        "adopt",
        help="describe an existing Segment Webhooks (Actions) setup as a stack + import file",
        description=(
            "Read a source's Webhooks (Actions) destination(s) and mappings through Segment's "
            f"Public API ({TOKEN_VARIABLE} from the environment) and write "
            "stacks/Pulumi.<stack>.yaml plus a `pulumi import --file` document."
        ),
        epilog=(
            f"exit codes: {EXIT_OK} written; {EXIT_FAILED} Segment could not be read or has "
            f"nothing to adopt; {EXIT_USAGE} bad arguments, no {TOKEN_VARIABLE}, or existing "
            "files without --force"
        ),
    )
    parser.add_argument("--stack", required=True, help="stack name, e.g. prod")
    parser.add_argument("--source", required=True, help="Segment source id")
    parser.add_argument("--destination", help="adopt only this destination id")
    parser.add_argument(
        "--segment-url",
        help=f"Public API URL (default: ${URL_VARIABLE}, else {DEFAULT_URL}; "
        "EU: https://eu1.api.segmentapis.com)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.add_argument("--stacks-dir", default="stacks", type=Path, help="default: stacks")
    parser.add_argument(
        "--import-file", type=Path, help="default: import.<stack>.json in the current directory"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, *, api: SegmentApi | None = None) -> int:
    """Adopt, write both files, print the next steps. ``api`` is for tests (a prepared client)."""
    # Names and messages come from Segment's answers: escaped and redacted on the way out.
    out: Any = TerminalOutput(sys.stdout)
    err: Any = TerminalOutput(sys.stderr)
    stack: str = args.stack
    if not _STACK_NAME.match(stack):
        print(
            f"error: --stack {stack!r} is not a stack name "
            "(letters, digits, '-', '_' and '.', starting with a letter or digit)",
            file=err,
        )
        return EXIT_USAGE
    stack_path: Path = args.stacks_dir / f"Pulumi.{stack}.yaml"
    import_path: Path = args.import_file or Path(f"import.{stack}.json")
    existing = [p for p in (stack_path, import_path) if p.exists()]
    if existing and not args.force:
        names = " and ".join(str(p) for p in existing)
        print(f"error: {names} already exist(s); pass --force to overwrite", file=err)
        return EXIT_USAGE
    if api is None:
        token = os.environ.get(TOKEN_VARIABLE, "")
        if not token.strip():
            print(
                f"error: {TOKEN_VARIABLE} is not set; export a Segment Public API token of the "
                "workspace (Settings → Workspace settings → Access Management → Tokens)",
                file=err,
            )
            return EXIT_USAGE
        url = args.segment_url or os.environ.get(URL_VARIABLE) or DEFAULT_URL
        try:
            api = SegmentApi(token, url)
        except ValueError as exc:
            print(f"error: --segment-url: {exc}", file=err)
            return EXIT_USAGE
    try:
        adoption = read_setup(api, args.source, args.destination, progress=_progress(err))
    except (AdoptError, SegmentApiError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_FAILED

    command = _command_line(args, adoption)
    stack_path.parent.mkdir(parents=True, exist_ok=True)
    stack_path.write_text(stack_file_text(adoption, command), encoding="utf-8")
    import_path.parent.mkdir(parents=True, exist_ok=True)
    import_path.write_text(json.dumps(import_document(adoption), indent=2) + "\n", encoding="utf-8")
    out.write(report(adoption, stack, stack_path, import_path))
    return EXIT_OK


def _progress(err: TextIO) -> Callable[[str], None]:
    """Progress lines on stderr (stdout keeps the report), flushed so they show at once."""

    def say(message: str) -> None:
        print(message, file=err, flush=True)

    return say


def report(adoption: Adoption, stack: str, stack_path: Path, import_path: Path) -> str:
    """What was adopted, what was not and why, and the commands to run next."""
    lines = [f"Read source {adoption.source_id} from {adoption.segment_url}."]
    for destination in adoption.destinations:
        label = f" ({destination.display_name!r})" if destination.display_name else ""
        lines.append(f"destination {destination.destination_id}{label} -> {destination.name}")
        for flow in destination.flows:
            lines.append(
                f"  mapping {flow.subscription_id} -> flow {flow.name} ({flow.trigger_form})"
            )
    if adoption.skipped:
        lines.append("")
        lines.append("NOT adopted (left in Segment as they are; Pulumi will not manage them):")
        for skipped in adoption.skipped:
            lines.append(f"  {skipped.what}:")
            lines.extend(f"    - {reason}" for reason in skipped.reasons)
    if adoption.warnings:
        lines.append("")
        lines.append("Warnings:")
        lines.extend(f"  - {warning}" for warning in adoption.warnings)
    lines.append("")
    lines.append(f"Wrote {stack_path} and {import_path}.")
    lines.append("")
    lines.append("Next steps (from the project directory):")
    lines.append(f"  pulumi stack select --create {shlex.quote(stack)}")
    lines.append(f'  pulumi config set --secret segment:token "${TOKEN_VARIABLE}"')
    lines.append(
        "  # Store the SAME values Segment holds now (a different token changes the mapping):"
    )
    for secret in adoption.secrets:
        lines.append(f"  #   {secret.key}: {secret.where}")
        placeholder = "<shared secret>" if secret.key.startswith("shared") else "<token>"
        lines.append(
            f"  pulumi config set --secret --path {shlex.quote(secret.key)} '{placeholder}'"
        )
    lines.append(f"  pulumi import --file {shlex.quote(str(import_path))} --generate-code=false")
    lines.append("  pulumi preview --diff")
    caveat = " (except where a warning above says otherwise)" if adoption.warnings else ""
    lines.append(
        f"Expect no change to the {len(adoption.destinations) + adoption.flow_count} "
        f"imported Segment resources{caveat}, and "
        f"{adoption.flow_count} PendulaFlowToken resource(s) to create: token resources are "
        "dynamic and cannot be imported (pulumi#16175); in provided mode they are computed "
        "locally from the secret (no network call) and change nothing in Segment."
    )
    problems = config_problems(adoption)
    if problems:
        lines.append("")
        lines.append("The stack file needs edits before `pulumi preview` accepts it:")
        lines.extend(f"  - {problem}" for problem in problems)
    return "\n".join(lines) + "\n"


def _command_line(args: argparse.Namespace, adoption: Adoption) -> str:
    """The command that wrote the stack file (for its header), without any credential."""
    parts: list[Any] = ["venv/bin/python -m components adopt", "--stack", args.stack]
    parts += ["--source", args.source]
    if args.destination:
        parts += ["--destination", args.destination]
    parts += ["--segment-url", adoption.segment_url]
    return " ".join(shlex.quote(str(p)) if i else str(p) for i, p in enumerate(parts))
