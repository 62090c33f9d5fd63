"""`python -m sandbox`: serve the Pendula and Segment stand-ins until interrupted."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from sandbox.app import create_app
from sandbox.seed import SeedError, seed_store
from sandbox.settings import SandboxSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="TCP port (default 8787)")
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
    args = parser.parse_args(argv)
    settings = SandboxSettings(
        db_path=args.db,
        subscription_writes_per_minute=args.subscription_writes_per_minute,
        max_body_bytes=args.max_body_bytes,
    )
    app = create_app(settings)
    if args.seed is not None:
        try:
            print(seed_store(app.state.store, args.seed).summary(), flush=True)
        except SeedError as exc:
            raise SystemExit(f"error: {exc}") from None
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
