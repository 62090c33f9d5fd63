"""The sandbox's port lives in one place: the sandbox stack file's loopback URLs.

`python -m sandbox --seed stacks/Pulumi.local.yaml` listens on the port of the stack's
`segment:url`; `--port N` with `--seed` first moves every loopback URL of the stack file
(`segment:url`, `pendulaApiUrl`, each flow's `url`) to port N, so the sandbox and the stack
the program deploys always agree. The file is edited as text: comments and layout stay.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from components.guards.endpoints import LOOPBACK_HOSTS
from sandbox.seed import SeedError, read_seed_config

DEFAULT_PORT = 8787


def stack_port(stack_file: Path) -> int:
    """The port the sandbox stack's `segment:url` names (the sandbox serves Segment's API)."""
    config = read_seed_config(stack_file)
    url = config.get("segment:url")
    if not isinstance(url, str):
        raise SeedError(
            f"{stack_file}: segment:url: required (the sandbox's http://127.0.0.1:PORT)"
        )
    try:
        port = urlsplit(url).port
    except ValueError:
        port = None
    if port is None:
        raise SeedError(
            f"{stack_file}: segment:url: {url!r} names no port; write it as "
            f"http://127.0.0.1:{DEFAULT_PORT} so the sandbox knows where to listen"
        )
    return port


def move_stack_port(stack_file: Path, port: int) -> int:
    """Rewrite the stack file's loopback URLs from its current port to `port`.

    Returns how many URLs changed (0 when they already name `port`: safe to run again)."""
    if not 0 < port < 65536:
        raise SeedError(f"--port: {port} is not a TCP port (1-65535)")
    old = stack_port(stack_file)
    if old == port:
        return 0
    text = stack_file.read_text(encoding="utf-8")
    # The hosts the endpoint rule calls loopback, as they stand in a URL (``[::1]``).
    hosts = "|".join(re.escape(f"[{h}]" if ":" in h else h) for h in sorted(LOOPBACK_HOSTS))
    pattern = re.compile(rf"(https?://(?:{hosts})):{old}(?=[/\s\"']|$)", re.MULTILINE)
    moved, count = pattern.subn(rf"\g<1>:{port}", text)
    stack_file.write_text(moved, encoding="utf-8")
    return count
