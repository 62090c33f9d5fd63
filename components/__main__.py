"""``python -m components <command>``: the project's command line (plan, check, adopt, …)."""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

COMMANDS = (
    "components.commands.check",
    "components.commands.plan",
    "components.commands.send_test_event",
    "components.commands.adopt",
    "components.commands.new_stack",
    "components.commands.backtest",
)
"""Each module defines ``register(subparsers)``, which adds its sub-command and sets
``func(args) -> int`` as the handler."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        import_module(name).register(subparsers)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
