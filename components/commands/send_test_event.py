"""``python -m components send-test-event``: check a test event against a flow, then send it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from components.commands import TerminalOutput
from components.config.load import load_stack_file
from components.config.models import ConfigError, Destination, Flow, StackConfig
from components.guards.files import FileError, project_path
from components.guards.redaction import redact_header_value, redact_value
from components.mapping import MappingError
from components.review.test_event import (
    TOKEN_ENV,
    MatchReport,
    PendulaUnreachableError,
    SendTestEventError,
    TokenSource,
    customer_data_findings,
    load_event,
    match_report,
    redacted_authorization,
    render_body,
    request_headers,
    resolve_authorization,
    scrub,
    send,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_REFUSED = 3
EXIT_REJECTED = 4

EPILOG = f"""\
The flow's token is never an argument and never printed. It comes from ${TOKEN_ENV}; else, in
a `sandbox: true` stack file, from its plaintext pendulaTokens; else from
`pulumi config get --path pendulaTokens.<flow>` when the Pulumi CLI is installed. Managed-mode
tokens exist only in the stack state: export ${TOKEN_ENV} for those flows.

exit codes:
  {EXIT_OK}  sent and accepted by Pendula (or --dry-run finished)
  {EXIT_ERROR}  bad input: stack file, flow, event file, token, or the POST failed
  2  bad command-line arguments
  {EXIT_REFUSED}  refused: customer data, an event the trigger does not match, or an
     unconfirmed production send
  {EXIT_REJECTED}  Pendula answered with an error status
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "send-test-event",
        help="show whether a test event matches a flow, what Pendula receives, then send it",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", default="local", help="stack name (default: local, the sandbox)")
    parser.add_argument("--flow", required=True, help="flow name as in the stack file")
    parser.add_argument(
        "--event",
        type=Path,
        default=None,
        help="JSON file with one Segment event (default: the flow's sampleEvent)",
    )
    parser.add_argument("--dry-run", action="store_true", help="show everything, send nothing")
    parser.add_argument(
        "--sample-out",
        type=Path,
        default=None,
        help="write the rendered body here: the payload sample for Pendula's webhook trigger",
    )
    parser.add_argument(
        "--allow-customer-data",
        action="store_true",
        help="send even if values look like real emails, phone numbers or card numbers",
    )
    parser.add_argument(
        "--yes", action="store_true", help="skip the confirmation on a production stack"
    )
    parser.add_argument("--stacks-dir", type=Path, default=Path("stacks"))
    parser.set_defaults(func=run)


class _RefusedError(Exception):
    """The command declines to go on; the message says why and how to proceed."""


def run(args: argparse.Namespace) -> int:
    out: Any = TerminalOutput(sys.stdout)
    err: Any = TerminalOutput(sys.stderr)
    try:
        return _run(args, out)
    except _RefusedError as exc:
        print(f"refused: {exc}", file=err)
        return EXIT_REFUSED
    except (SendTestEventError, ConfigError, MappingError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_ERROR


def _run(args: argparse.Namespace, out: TextIO) -> int:
    stack_path = args.stacks_dir / f"Pulumi.{args.stack}.yaml"
    if not stack_path.is_file():
        raise SendTestEventError(f"--stack: '{stack_path}' does not exist")
    config = load_stack_file(stack_path)
    destination, flow = _find_flow(config, args.flow)
    project_root = args.stacks_dir.resolve().parent
    event_path = args.event
    if event_path is None:
        if flow.sample_event is None:
            raise SendTestEventError(
                f"--event: flow '{flow.name}' has no sampleEvent; pass --event <file.json>"
            )
        key = f"flow '{flow.name}' sampleEvent"
        try:
            # A path from the stack file: it must stay inside the project.
            event_path = project_path(project_root, flow.sample_event, key)
        except FileError as exc:
            raise SendTestEventError(str(exc)) from None
    event = load_event(event_path)

    print(f"Stack {args.stack} ({stack_path}), destination {destination.name}", file=out)
    print(f"Flow {flow.name} ({flow.display_name}) -> POST {flow.url}", file=out)
    print(f"Event {event_path} ({event.get('type', 'no type')})", file=out)

    findings = customer_data_findings(event)
    if findings and not args.allow_customer_data:
        lines = "\n".join(f"  - {f.path}: {f.rule}" for f in findings)
        raise _RefusedError(
            "the event looks like real customer data; a test event triggers the flow, and "
            "Pendula's article says not to use customer data:\n"
            f"{lines}\nuse fictional values, or pass --allow-customer-data if they are not real"
        )

    report = match_report(flow, event)
    _print_match(report, out)

    body = render_body(flow, event)
    if body is None:
        raise SendTestEventError(
            f"flow '{flow.name}': its data mapping renders nothing for this event, so there is "
            "no body to send"
        )
    source = TokenSource.default(args.stack, config.sandbox, project_root)
    authorization: str | None = None
    token_note = ""
    try:
        authorization = resolve_authorization(flow, source)
    except SendTestEventError as exc:
        if not args.dry_run:
            raise
        token_note = f"  (token not resolved: {exc})"
    secrets = [authorization] if authorization else []

    shown = request_headers(flow, "")
    shown["Authorization"] = redacted_authorization(flow, authorization) + token_note
    print("Headers Pendula will receive:", file=out)
    for name, value in shown.items():
        # The Authorization value is our own scheme-and-fingerprint text; the rest by structure.
        printed = value if name == "Authorization" else redact_header_value(value)
        print(f"  {name}: {printed}", file=out)
    print("Body:", file=out)
    # What is shown and what --sample-out writes get the same redaction: credentials typed
    # into the event (credential-named keys, URL user info) and the flow's token.
    pretty = scrub(json.dumps(redact_value(body), indent=2, ensure_ascii=False), secrets)
    print(_indent(pretty), file=out)

    if args.sample_out is not None:
        args.sample_out.parent.mkdir(parents=True, exist_ok=True)  # e.g. samples/, git-ignored
        args.sample_out.write_text(pretty + "\n", encoding="utf-8")
        print(
            f"Wrote the payload sample to {args.sample_out}: paste it as the sample payload of "
            "the flow's webhook trigger in Pendula.",
            file=out,
        )

    if args.dry_run:
        print("Dry run: nothing was sent.", file=out)
        return EXIT_OK
    if report.matched is not True:
        raise _RefusedError(
            f"the event does not match flow '{flow.name}''s trigger, so Segment would not send "
            "it; change the event or the conditions marked ✗ above (or use --dry-run to inspect)"
            if report.matched is False
            else f"flow '{flow.name}''s trigger cannot be evaluated: {report.note}"
        )
    if config.production:
        _confirm_production(args, flow)
    assert authorization is not None
    try:
        response = send(flow.url, body, request_headers(flow, authorization))
    except PendulaUnreachableError as exc:
        raise SendTestEventError(
            f"{exc}\n{_unreachable_hint(config, stack_path, exc.url)}"
        ) from None
    print(f"Pendula answered {response.status}: {response.text}", file=out)
    if not response.ok:
        if config.sandbox and response.status == 404:
            print(_sandbox_reseed_hint(stack_path), file=sys.stderr)
        else:
            print(_hint(response.status), file=sys.stderr)
        return EXIT_REJECTED
    print("Sent: if the flow is active, it runs now. Then enable the mapping.", file=out)
    return EXIT_OK


def _find_flow(config: StackConfig, name: str) -> tuple[Destination, Flow]:
    for destination, flow in config.flows():
        if flow.name == name:
            return destination, flow
    names = ", ".join(f.name for _, f in config.flows())
    raise SendTestEventError(f"--flow: '{name}' is not a flow of this stack (flows: {names})")


def _print_match(report: MatchReport, out: TextIO) -> None:
    print(f"Trigger: {report.fql}", file=out)
    for verdict in report.verdicts:
        print(f"  {'✓' if verdict.matched else '✗'} {verdict.fql}", file=out)
    if report.matched is True:
        print("Match: yes, Segment sends this event to the flow.", file=out)
    elif report.matched is False:
        print("Match: no, Segment would not send this event to the flow.", file=out)
    else:
        print(f"Match: unknown: {report.note}", file=out)


def _confirm_production(args: argparse.Namespace, flow: Flow) -> None:
    if args.yes:
        return
    stdin = sys.stdin
    if stdin is None or not stdin.isatty():
        raise _RefusedError(
            f"stack '{args.stack}' is a production stack; sending triggers the real flow "
            f"'{flow.name}'. Run in a terminal to confirm, or pass --yes"
        )
    print(
        f"Stack '{args.stack}' is production: this triggers the real flow '{flow.name}'. "
        "Type the flow name to send: ",
        end="",
        flush=True,
    )
    if stdin.readline().strip() != flow.name:
        raise _RefusedError("not confirmed; nothing was sent")


def _unreachable_hint(config: StackConfig, stack_path: Path, url: str) -> str:
    """What to do when nothing answers at the flow's URL: for the sandbox, how to start it."""
    if not config.sandbox:
        return (
            f"hint: check the flow's url in {stack_path} (Pendula's webhook trigger URL) and "
            "this machine's network or proxy"
        )
    # `python -m sandbox --seed` listens on the port the stack's URLs name: no --port needed.
    return (
        f"hint: {stack_path} is a sandbox stack; its flows POST to the local sandbox, which is "
        "not running. Start it in another terminal:\n"
        f"  venv/bin/python -m sandbox --seed {stack_path}\n"
        "or run `make demo`, which starts it and leaves it running."
    )


def _sandbox_reseed_hint(stack_path: Path) -> str:
    """The sandbox knows the flows of the stack file it was seeded from."""
    return (
        f"hint: the sandbox knows no flow at this URL. A sandbox started with --seed "
        f"{stack_path} re-reads it for an unknown flow, so check the flow's url there; a "
        "sandbox started from another file (or without --seed) learns the flows of this one "
        f"with:\n  venv/bin/python -m sandbox --seed {stack_path} --seed-only"
    )


def _hint(status: int) -> str:
    hints: dict[int, str] = {
        401: "the token is wrong, deactivated or of another tenant (or the scheme is wrong)",
        404: "no flow has this webhook URL: check the flow's Webhook trigger URL in Pendula",
        409: "the flow is not active: activate it in Pendula",
        415: "Pendula wants a JSON body",
        429: "Pendula's rate limit (200 requests/s per flow): retry later",
    }
    return f"hint: {hints.get(status, 'see the response above')}"


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
