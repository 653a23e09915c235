"""Start, reuse and stop the local Prefect server (SQLite, loopback, analytics off)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import prefect
from prefect.settings import PREFECT_API_URL

from ocr_core.errors import ConfigurationError
from ocr_core.settings import project_root

if TYPE_CHECKING:
    from prefect.events.schemas.automations import AutomationCore

log = logging.getLogger(__name__)

CRASH_AUTOMATION: Final = "digitise: mark runs that stopped sending heartbeats Crashed"
# Heartbeats a run may miss before the server calls it Crashed.
MISSED_HEARTBEATS: Final = 2
_END_EVENTS: Final = tuple(
    f"prefect.flow-run.{state}" for state in ("Completed", "Failed", "Cancelled", "Crashed")
)


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


def flow_run_url(api: str, flow_run_id: object) -> str:
    """The Prefect UI page of a flow run on the server at ``api``."""
    return f"{api.removesuffix('/api')}/runs/flow-run/{flow_run_id}"


def quiet_console(verbose: bool = False) -> None:
    """Keep Prefect's per-run and per-task log lines off the terminal (the UI has them).

    A command prints its own summary; Prefect's console lines (two per document) only bury it.
    With ``verbose`` they stay.
    """
    if verbose:
        return
    from prefect.logging.handlers import PrefectConsoleHandler

    for logger in (logging.getLogger(), *_prefect_loggers()):
        for handler in logger.handlers:
            if isinstance(handler, PrefectConsoleHandler):
                handler.setLevel(logging.CRITICAL)


def _prefect_loggers() -> list[logging.Logger]:
    manager = logging.Logger.manager
    return [
        logger
        for name, logger in manager.loggerDict.items()
        if name.startswith("prefect") and isinstance(logger, logging.Logger)
    ]


def prefect_home() -> Path:
    """The Prefect home every entry point shares (set by ``flows/__init__.py``)."""
    return Path(os.environ.get("PREFECT_HOME") or project_root() / ".prefect").expanduser()


def _get_json(url: str, timeout_s: float) -> Any:
    with urllib.request.urlopen(url, timeout=timeout_s) as reply:
        return json.loads(reply.read().decode("utf-8"))


def check_server_is_ours(url: str, timeout_s: float = 5.0) -> None:
    """Refuse a server that is not this project's: another Prefect home, or another version.

    Raises:
        ConfigurationError: the server answers but is not ours, or does not answer in time.
    """
    remedy = (
        "Stop that server, or point this project at a free port with PREFECT_API_URL "
        "(or [api] url and [server.api] port in prefect.toml)"
    )
    try:
        version = str(_get_json(f"{url}/admin/version", timeout_s))
        home = str(_get_json(f"{url}/admin/settings", timeout_s).get("home", ""))
    except (urllib.error.URLError, OSError, ValueError, AttributeError) as e:
        raise ConfigurationError(
            f"the server at {url} does not answer as a Prefect server ({e})", remedy=remedy
        ) from e
    ours = prefect_home().resolve()
    if version != prefect.__version__ or Path(home).expanduser().resolve() != ours:
        raise ConfigurationError(
            f"the Prefect server at {url} is not this project's (Prefect {version}, home "
            f"{home or '?'}; ours: Prefect {prefect.__version__}, home {ours})",
            remedy=remedy,
        )


def _port_taken(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 1.0):
            return True
    except OSError:
        return False


def _drain_clients(timeout_s: float = 10.0) -> None:
    # Send queued logs and events while the server we are about to stop can still take them.
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):
            worker.drain_all(timeout=timeout_s)


@contextlib.contextmanager
def local_server(
    log_path: Path | None = None,
    start_timeout_s: float = 120.0,
    while_starting: Callable[[], object] | None = None,
) -> Iterator[str]:
    """Reuse this project's local Prefect server if it runs, else start one and stop it on exit.

    Args:
        log_path: where the started server's output goes (default ``PREFECT_HOME/server.log``).
        start_timeout_s: how long to wait for a started server to answer.
        while_starting: called once the server is starting (or found running), before waiting
            for it: work that can run beside the server's start, such as loading the models
            (the server is a process of its own, a few seconds on the other core).

    Yields:
        The API URL.

    Raises:
        ConfigurationError: something else answers at the URL (another project's server, or
            one starting or stopping), or the server did not start in time (its log is named).
    """
    url = api_url()
    if server_is_up(url):
        check_server_is_ours(url)
        if while_starting is not None:
            while_starting()
        ensure_crash_detection()
        yield url
        return
    if _port_taken(url):
        raise ConfigurationError(
            f"something at {url} takes connections but is not a working Prefect server",
            remedy="Stop it, or point this project at a free port with PREFECT_API_URL",
        )
    log_path = log_path or prefect_home() / "server.log"
    process = _start_server(log_path)
    try:
        deadline = time.monotonic() + start_timeout_s
        if while_starting is not None:
            while_starting()
        while not server_is_up(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ConfigurationError(
                    "the Prefect server did not start", path=log_path, remedy="See its log"
                )
            time.sleep(0.5)
        ensure_crash_detection()
        yield url
    finally:
        _drain_clients()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _start_server(log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``prefect server start`` in a session of its own, its output appended to the log."""
    prefect_home().mkdir(parents=True, exist_ok=True)  # the server's database goes there
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=project_root(),
            start_new_session=True,
        )


def ensure_crash_detection() -> bool:
    """Have the server mark a flow run Crashed once its heartbeats stop.

    A run whose process is killed outright (SIGKILL, the OOM killer, a power cut) cannot report
    its end, and the Prefect UI would show it Running for ever. Every flow run sends a heartbeat
    event every ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` seconds (60 in ``prefect.toml``); this
    automation, Prefect's own recipe for such runs, sets a run Crashed when ``MISSED_HEARTBEATS``
    periods pass with neither a heartbeat nor an end state. Creating it is idempotent; it is
    updated when the heartbeat frequency changed.

    Returns:
        True when the automation is in place; False (with a warning logged) when heartbeats are
        off or the server refused, which leaves everything else working.
    """
    from prefect.settings import get_current_settings

    frequency = get_current_settings().flows.heartbeat_frequency
    if frequency is None:
        log.warning("flow run heartbeats are off: a killed run will show Running in the UI")
        return False
    automation = crash_automation(timedelta(seconds=MISSED_HEARTBEATS * frequency))
    try:
        _install(automation)
    except Exception as e:  # any client or server error: detection is a convenience
        log.warning("could not set up detection of killed runs (%s: %s)", type(e).__name__, e)
        return False
    return True


def crash_automation(within: timedelta) -> AutomationCore:
    """The automation that marks a flow run Crashed after ``within`` with no heartbeat or end."""
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return AutomationCore(
        name=CRASH_AUTOMATION,
        description=(
            f"A flow run that sent no heartbeat or end state for {within.seconds} s has stopped "
            "without reporting (its process was killed); mark it Crashed."
        ),
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *_END_EVENTS},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=within,
        ),
        actions=[
            ChangeFlowRunState(
                name="Crashed",
                state=StateType.CRASHED,
                message=f"No heartbeat for {within.seconds} s: the run's process stopped.",
                force=False,  # a run that did end meanwhile keeps its end state
            )
        ],
    )


def _install(automation: AutomationCore) -> None:
    """Create the automation, or update it when its trigger changed; keep only one of it."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        found = client.read_automations_by_name(automation.name)
        if not found:
            client.create_automation(automation)
        elif found[0].trigger != automation.trigger:
            client.update_automation(found[0].id, automation)
        for extra in found[1:]:  # two commands that started at once may both have made one
            client.delete_automation(extra.id)
