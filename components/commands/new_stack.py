"""``python -m components new-stack NAME --from dev``: a new stack, ready for its secrets.

Writes ``stacks/Pulumi.<NAME>.yaml`` as a copy of the ``--from`` stack whose every ``secure:``
value is ``PLACEHOLDER`` (a secret not set yet: the offline review passes, ``pulumi preview``
refuses it), writes the policy pack's ``policy/config/<NAME>.json``, and prints the exact
commands still needed: ``pulumi stack init`` and one ``pulumi config set --secret`` per secret.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from components.config.models import PROJECT, SECRET_KEYS
from components.config.stack_config import StackConfigError, read_limited, resolve_stack_text
from components.guards import placeholders
from components.guards.escaping import escape_terminal
from components.review.stack_run import find_project_root

EXIT_ERROR = 1
STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
"""Stack names as this project writes them (Pulumi allows more; file names stay simple)."""

# `key:` followed by one more-indented `secure: <ciphertext>` line, or `key: {secure: …}`.
_BLOCK_SECURE = re.compile(r"^( *)([^\s#][^\n]*?):[ \t]*\n\1[ \t]+secure:[ \t]*\S+[ \t]*$", re.M)
_INLINE_SECURE = re.compile(
    r"^( *)([^\s#][^\n]*?):[ \t]*\{[ \t]*secure:[ \t]*[^}\s]+[ \t]*\}", re.M
)

EPILOG = """\
The copy keeps the --from stack's destinations, flows, conditions and comments; review each
sourceId and flow url for the new environment. Exit codes: 0 written; 1 an error (nothing is
written); 2 bad arguments. Docs: docs/configuration.md#a-new-stack.
"""


class NewStackError(ValueError):
    """Why the stack cannot be created; nothing was written."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "new-stack",
        help="create stacks/Pulumi.<NAME>.yaml from another stack, secrets as PLACEHOLDER",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", metavar="NAME", help="the new stack's name, e.g. qa")
    parser.add_argument(
        "--from", dest="source", required=True, metavar="STACK", help="the stack to copy (dev…)"
    )
    parser.add_argument("--stacks-dir", type=Path, default=Path("stacks"))
    parser.add_argument(
        "--project-root",
        type=Path,
        default=None,
        help="where policy/config/ lives (default: the directory holding Pulumi.yaml)",
    )
    parser.set_defaults(func=run)


def placeholder_text(text: str) -> str:
    """The stack file's text with every ``secure:`` value replaced by ``PLACEHOLDER``."""
    text = _BLOCK_SECURE.sub(rf"\1\2: {placeholders.PLACEHOLDER}", text)
    return _INLINE_SECURE.sub(rf"\1\2: {placeholders.PLACEHOLDER}", text)


def _secure_leaves(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_secure_leaves(v) for v in value.values())
    if isinstance(value, list):
        return any(_secure_leaves(v) for v in value)
    return False


def secret_paths(config: dict[str, Any]) -> list[str]:
    """Every secret the new stack still needs, as config paths (``key`` or ``key.<name>``)."""
    keys = ["segment:token", *(f"{PROJECT}:{name}" for name in sorted(SECRET_KEYS))]
    return [
        path
        for key in keys
        if key in config
        for path in placeholders.placeholder_paths(key, config[key])
    ]


def create(
    stacks_dir: Path, project_root: Path, name: str, source: str
) -> tuple[list[Path], list[str]]:
    """Write the stack file and the policy config; return them and the secrets to set."""
    if not STACK_NAME.match(name):
        raise NewStackError(
            f"NAME: {name!r} is not allowed; use a lowercase letter, then lowercase letters, "
            "digits or '-' (at most 40 characters), e.g. qa"
        )
    source_file = stacks_dir / f"Pulumi.{source}.yaml"
    target_file = stacks_dir / f"Pulumi.{name}.yaml"
    source_policy = project_root / "policy" / "config" / f"{source}.json"
    target_policy = project_root / "policy" / "config" / f"{name}.json"
    if not source_file.is_file():
        known = sorted(
            p.name.removeprefix("Pulumi.").removesuffix(".yaml")
            for p in stacks_dir.glob("Pulumi.*.yaml")
        )
        raise NewStackError(
            f"--from: {source_file} does not exist (stacks: {', '.join(known) or 'none'})"
        )
    for path in (target_file, target_policy):
        if path.exists():
            raise NewStackError(f"{path} already exists; choose another NAME or remove it first")
    if not source_policy.is_file():
        raise NewStackError(
            f"--from: {source_policy} does not exist (the policy pack's config of {source})"
        )
    try:
        # The engine's reading (components.config.stack_config), like every other tool's.
        original = read_limited(source_file)
        config = resolve_stack_text(original, str(source_file)).values()
    except StackConfigError as exc:
        raise NewStackError(str(exc)) from None
    if config.get(f"{PROJECT}:sandbox") is True:
        raise NewStackError(
            f"--from: {source} is the sandbox stack (plaintext throwaway credentials, loopback "
            "URLs); copy a real stack, e.g. --from dev"
        )
    body = placeholder_text(_without_header(original))
    try:
        new_config = resolve_stack_text(body, str(target_file)).values()
    except StackConfigError as exc:
        raise NewStackError(str(exc)) from None
    if _secure_leaves(new_config):
        raise NewStackError(
            f"{source_file}: a secure: value is written in a form new-stack does not rewrite; "
            f"copy the file by hand and write {placeholders.PLACEHOLDER} for each secret"
        )
    header = (
        f"# Stack {name}, created with `venv/bin/python -m components new-stack {name} --from "
        f"{source}`.\n# {placeholders.PLACEHOLDER} marks a secret not set yet: the offline "
        "review passes, pulumi preview\n# refuses it until `pulumi config set --secret …` "
        "has replaced it\n# (docs/configuration.md#a-new-stack).\n"
    )
    target_file.write_text(header + body, encoding="utf-8")
    shutil.copyfile(source_policy, target_policy)
    return [target_file, target_policy], secret_paths(new_config)


def _without_header(text: str) -> str:
    """The stack file without its leading comment block (it describes the --from stack)."""
    lines = text.splitlines(keepends=True)
    while lines and lines[0].lstrip().startswith("#"):
        lines.pop(0)
    return "".join(lines)


def next_steps(name: str, secrets: list[str]) -> list[str]:
    lines = [
        "Next, from the project root:",
        f"  pulumi stack init {name}        # or: pulumi stack select --create {name}",
    ]
    lines += [f"  {placeholders.set_secret_command(path)}" for path in secrets]
    lines += [
        f"  venv/bin/python -m components plan --stack {name}   # review: sourceId, each flow url",
        f"  pulumi preview --stack {name} --policy-pack policy --policy-pack-config "
        f"policy/config/{name}.json",
    ]
    return lines


def run(args: argparse.Namespace) -> int:
    project_root = args.project_root or find_project_root(args.stacks_dir)
    try:
        written, secrets = create(args.stacks_dir, project_root, args.name, args.source)
    except NewStackError as exc:
        print(f"error: {escape_terminal(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    for path in written:
        print(f"wrote {escape_terminal(str(path))}")
    print(f"{len(secrets)} secret(s) are {placeholders.PLACEHOLDER} until you set them.")
    print("\n".join(escape_terminal(line) for line in next_steps(args.name, secrets)))
    return 0
