"""Start, reuse and stop the local Prefect server (SQLite, loopback, analytics off)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from prefect.settings import PREFECT_API_URL


def api_url() -> str:
    """Return the API URL this project talks to (``prefect.toml`` or ``PREFECT_API_URL``)."""
    return str(PREFECT_API_URL.value() or "http://127.0.0.1:4200/api").rstrip("/")


def server_is_up(url: str | None = None, timeout_s: float = 2.0) -> bool:
    """Return True when the Prefect API at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url or api_url()}/health", timeout=timeout_s) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _drain_clients(timeout_s: float = 10.0) -> None:
    # Send queued logs and events while the server we are about to stop can still take them.
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):
            worker.drain_all(timeout=timeout_s)


@contextlib.contextmanager
def local_server(log_path: Path | None = None, start_timeout_s: float = 120.0) -> Iterator[str]:
    """Reuse the local Prefect server if it runs, else start one and stop it on exit.

    Args:
        log_path: where the started server's output goes (default ``.prefect/server.log``).
        start_timeout_s: how long to wait for a started server to answer.

    Yields:
        The API URL.

    Raises:
        RuntimeError: the server did not come up in time (its log is named).
    """
    url = api_url()
    if server_is_up(url):
        yield url
        return
    home = Path(os.environ.get("PREFECT_HOME", ".prefect"))
    home.mkdir(parents=True, exist_ok=True)
    log_path = log_path or home / "server.log"
    env = {**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + start_timeout_s
        while not server_is_up(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Prefect server did not start; see {log_path}")
            time.sleep(0.5)
        yield url
    finally:
        _drain_clients()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
