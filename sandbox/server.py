"""Run the sandbox in a background thread on a free loopback port (tests, demos, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn

from sandbox.app import create_app
from sandbox.settings import SandboxSettings


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class SandboxServer:
    """A sandbox listening on 127.0.0.1; use as a context manager so it is always stopped."""

    def __init__(self, settings: SandboxSettings, port: int | None = None) -> None:
        self.settings = settings
        self.host = "127.0.0.1"
        self.port = port or free_port(self.host)
        config = uvicorn.Config(
            create_app(settings),
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._app = config.app
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._app.state.store.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_in_thread(db_path: Path, **overrides: object) -> SandboxServer:
    """Start a sandbox with `SandboxSettings(db_path, **overrides)`; the caller stops it."""
    return SandboxServer(SandboxSettings(db_path=db_path, **overrides)).start()  # type: ignore[arg-type]
