"""What ``serve`` does beside serving: settle its dead runs, watch the inbox, start runs for it.

The watcher is a thread of the serve process that lists the inbox (no TensorFlow, no flow run):
when a settled file is there, or a run that died left files in ``processing/``, it starts the
``digitise-forms/folder-watch`` deployment, one run at a time. An empty inbox makes no runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled, Crashed

from ocr_core.errors import ConfigurationError
from ocr_core.intake.inbox import Folders, has_work, orphan_folders
from ocr_core.settings import Settings

log = logging.getLogger("digitise.watch")

FOLDER_WATCH: Final = "digitise-forms/folder-watch"
_ALIVE: Final = (StateType.PENDING, StateType.RUNNING, StateType.CANCELLING)


@contextlib.contextmanager
def serve_lock(home: Path) -> Iterator[None]:
    """Hold the one-serve-per-project lock, so that serve knows every live run is its own.

    Raises:
        ConfigurationError: another serve process holds it.
    """
    home.mkdir(parents=True, exist_ok=True)
    path = home / "serve.lock"
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigurationError(
                "another serve process is running for this project",
                path=path,
                remedy="Stop it first (Ctrl-C in its terminal); one serve runs every deployment",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def settle_dead_runs(started: datetime, missed_after: timedelta) -> tuple[int, int]:
    """Mark Crashed the runs a killed serve left Pending or Running; drop missed folder watches.

    Only one serve runs per project (``serve_lock``) and its runs are its own subprocesses, so
    a deployment run that is Pending, Submitting or Running when serve starts has no process
    left. Scheduled folder-watch runs that should have started more than ``missed_after`` ago
    (while serve was down) are cancelled rather than all started at once; the next run takes
    their work. Runs of other deployments that someone asked for wait to be run.

    Returns:
        (runs marked Crashed, scheduled runs cancelled).
    """
    crashed = cancelled = 0
    with get_client(sync_client=True) as client:
        alive = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(is_null_=False),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(_ALIVE))),
            )
        )
        for run in alive:
            message = "serve stopped while this run was in progress; its process is gone"
            client.set_flow_run_state(run.id, Crashed(message=message), force=True)
            crashed += 1
        try:  # only the folder watch's own schedule: a run someone asked for is kept
            watch = client.read_deployment_by_name(FOLDER_WATCH).id
        except ObjectNotFound:
            return crashed, cancelled
        missed = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[watch]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
                expected_start_time=FlowRunFilterExpectedStartTime(
                    before_=started - missed_after,  # type: ignore[arg-type]  # a DateTime base
                ),
            )
        )
        for run in missed:
            message = "missed while serve was not running; the next run takes its work"
            client.set_flow_run_state(run.id, Cancelled(message=message), force=True)
            cancelled += 1
    return crashed, cancelled


class InboxWatcher(threading.Thread):
    """Start a folder-watch run when there is work, never two at once, never for nothing."""

    def __init__(self, settings: Settings, period_s: float, inbox_too: bool = True) -> None:
        """Watch every ``period_s`` s.

        Args:
            settings: the folders and the settle time.
            period_s: seconds between two looks.
            inbox_too: watch the inbox and ``processing/``; False (schedule mode) watches only
                ``processing/``, for files left by runs that died.
        """
        super().__init__(name="inbox-watcher", daemon=True)
        self.folders = Folders.from_settings(settings)
        self.settle_s = settings.settle_s
        self.period_s = period_s
        self.inbox_too = inbox_too
        self.started_runs: list[UUID] = []
        self._halt = threading.Event()

    def stop(self) -> None:
        """Stop watching (the thread ends within one period)."""
        self._halt.set()

    def run(self) -> None:
        """Check, start a run when there is work and none is in progress, sleep, again."""
        wait_for_deployment(FOLDER_WATCH)  # serve registers it as it starts
        while not self._halt.is_set():
            try:
                if self._work() and not self._in_progress():
                    self.started_runs.append(self._start())
            except Exception as e:  # a server hiccup: try again next period
                log.warning("folder watch: %s: %s", type(e).__name__, e)
            self._halt.wait(self.period_s)

    def _work(self) -> bool:
        if self.inbox_too:
            return has_work(self.folders, self.settle_s)
        return bool(orphan_folders(self.folders.processing))

    def _in_progress(self) -> bool:
        if not self.started_runs:
            return False
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(self.started_runs[-1]).state
        return state is not None and not state.is_final()

    def _start(self) -> UUID:
        run = run_deployment(FOLDER_WATCH, timeout=0, as_subflow=False)
        assert isinstance(run, FlowRun)  # sync context: never a coroutine
        log.info("folder watch: files to read in %s; started run %s", self.folders.inbox, run.name)
        return run.id


def wait_for_deployment(name: str, timeout_s: float = 60.0) -> bool:
    """Wait until ``serve`` has registered deployment ``name``; True once it exists."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client, contextlib.suppress(Exception):
            client.read_deployment_by_name(name)
            return True
        time.sleep(0.5)
    return False
