"""`python -m sandbox`: serve the Pendula and Segment stand-ins until interrupted."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from sandbox.app import create_app
from sandbox.port import DEFAULT_PORT, move_stack_port, stack_port
from sandbox.seed import SeedError, seed_store
from sandbox.settings import SandboxSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        help="TCP port (default: the port of the --seed stack's segment:url, else 8787); with "
        "--seed, the stack file's loopback URLs are moved to this port first",
    )
    parser.add_argument(
        "--db", type=Path, default=Path(".sandbox/sandbox.sqlite3"), help="SQLite state file"
    )
    parser.add_argument(
        "--subscription-writes-per-minute",
        type=int,
        default=5,
        help="Segment's limit on subscription writes; 0 lifts it (default 5, as documented)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=SandboxSettings.max_body_bytes,
        help="largest request body any route accepts; larger ones get 413 (default 4 MiB)",
    )
    parser.add_argument(
        "--seed",
        type=Path,
        metavar="STACK_FILE",
        help="first seed the workspace, source, tenant, flows and tokens of a sandbox stack file",
    )
    parser.add_argument(
        "--seed-only",
        action="store_true",
        help="seed --db from --seed and exit (idempotent; a running sandbox on that db sees it)",
    )
    args = parser.parse_args(argv)
    if args.seed_only and args.seed is None:
        parser.error("--seed-only needs --seed STACK_FILE")
    port = DEFAULT_PORT if args.port is None else args.port
    if args.seed is not None:
        try:
            port = _stack_port(args.seed, args.port)
        except SeedError as exc:
            raise SystemExit(f"error: {exc}") from None
    settings = SandboxSettings(
        db_path=args.db,
        subscription_writes_per_minute=args.subscription_writes_per_minute,
        max_body_bytes=args.max_body_bytes,
        seed_stack=args.seed,
    )
    app = create_app(settings)
    if args.seed is not None:
        try:
            print(seed_store(app.state.store, args.seed).summary(), flush=True)
        except SeedError as exc:
            raise SystemExit(f"error: {exc}") from None
    if args.seed_only:
        return
    uvicorn.run(app, host=args.host, port=port, log_level="info")


def _stack_port(stack_file: Path, requested: int | None) -> int:
    """The port to serve on: the stack's, after moving the stack's URLs to `requested`."""
    if requested is not None:
        moved = move_stack_port(stack_file, requested)
        if moved:
            print(f"moved {moved} URL(s) in {stack_file} to port {requested}", flush=True)
    return stack_port(stack_file)


if __name__ == "__main__":
    main()
