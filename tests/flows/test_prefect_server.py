"""Detection of killed runs: the server marks a run Crashed once its heartbeats stop."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
from prefect.events.schemas.automations import AutomationCore
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    temporary_settings,
)

from flows.prefect_server import (
    CRASH_AUTOMATION,
    MISSED_HEARTBEATS,
    check_server_is_ours,
    ensure_crash_detection,
    local_server,
)
from ocr_core.errors import ConfigurationError

# The shortest heartbeat period Prefect allows.
HEARTBEAT_S = 30
# A flow that says which run it is, then works for longer than any test waits.
SLEEPER = """
import time
from prefect import flow
from prefect.runtime import flow_run

@flow(name="sleeper")
def sleeper():
    print(flow_run.get_id(), flush=True)
    time.sleep(600)

sleeper()
"""


def test_crash_detection_is_set_up_once_and_follows_the_heartbeat(prefect_harness: str) -> None:
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 45}):
        assert ensure_crash_detection() and ensure_crash_detection()
        # Two commands starting at once may both create it: the next call keeps one.
        with get_client(sync_client=True) as client:
            found = client.read_automations_by_name(CRASH_AUTOMATION)
            assert len(found) == 1
            client.create_automation(AutomationCore(**found[0].model_dump(exclude={"id"})))
        assert ensure_crash_detection()
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: HEARTBEAT_S}):
        assert ensure_crash_detection()
    with get_client(sync_client=True) as client:
        found = client.read_automations_by_name(CRASH_AUTOMATION)
    assert len(found) == 1
    within = getattr(found[0].trigger, "within", None)
    assert within is not None and within.total_seconds() == MISSED_HEARTBEATS * HEARTBEAT_S


def test_a_killed_run_is_marked_crashed(prefect_harness: str) -> None:
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: HEARTBEAT_S}):
        assert ensure_crash_detection()
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_harness,
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_S),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", SLEEPER], env=env, stdout=subprocess.PIPE, text=True
    )
    with get_client(sync_client=True) as client:
        try:
            assert process.stdout is not None
            run_id = UUID(process.stdout.readline().strip())
            # Kill it once the server has its first heartbeat: a run that never sent one is
            # not tracked (Prefect's recipe starts watching a run at its first heartbeat).
            beats = EventFilter(
                event=EventNameFilter(name=["prefect.flow-run.heartbeat"]),
                resource=EventResourceFilter(id=[f"prefect.flow-run.{run_id}"]),
            )
            deadline = time.monotonic() + 60
            while not client.read_events(beats, limit=1).events and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        killed = time.monotonic()
        state = client.read_flow_run(run_id).state
        assert state is not None and state.is_running()  # nothing else ends it
        # Measured: about 125 s here (the server may let a second window pass), 105 s on a
        # real server with 60 s heartbeats; the limit leaves room for a loaded machine.
        while not state.is_crashed() and time.monotonic() < killed + 6 * HEARTBEAT_S:
            time.sleep(5)
            state = client.read_flow_run(run_id).state
            assert state is not None
    waited = time.monotonic() - killed
    assert state.is_crashed(), f"still {state.name} {waited:.0f} s after the kill"
    assert "heartbeat" in (state.message or "")


class _NotOurs(http.server.BaseHTTPRequestHandler):
    """A server that answers like another project's Prefect: healthy, another version and home."""

    def do_GET(self) -> None:
        replies = {"/api/health": "true", "/api/admin/version": '"2.0.0"'}
        replies["/api/admin/settings"] = json.dumps({"home": "/somewhere/else/.prefect"})
        body = replies.get(self.path, "null").encode()
        self.send_response(200 if self.path in replies else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serving(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.HTTPServer:
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_another_projects_server_is_refused_in_one_line(prefect_harness: str) -> None:
    check_server_is_ours(prefect_harness)  # the test server shares our home and version
    server = _serving(_NotOurs)
    url = f"http://127.0.0.1:{server.server_port}/api"
    try:
        started = time.monotonic()
        refused = pytest.raises(ConfigurationError, match="is not this project's")
        work: list[str] = []  # e.g. loading the models: not for a run that cannot start
        with (
            temporary_settings(updates={PREFECT_API_URL: url}),
            refused as caught,
            local_server(while_starting=lambda: work.append("models")),
        ):
            pass
        assert time.monotonic() - started < 10 and not work
        assert "2.0.0" in str(caught.value) and "/somewhere/else" in str(caught.value)
        assert "\n" not in str(caught.value)
    finally:
        server.shutdown()


def test_work_beside_the_servers_start_is_done_once_before_the_run(prefect_harness: str) -> None:
    work: list[str] = []
    with (
        temporary_settings(updates={PREFECT_API_URL: prefect_harness}),
        local_server(while_starting=lambda: work.append("models")) as url,
    ):
        assert url == prefect_harness and work == ["models"]
    assert work == ["models"]


def test_a_port_taken_by_something_else_is_refused(tmp_path: Path) -> None:
    with socket.socket() as listener:  # takes connections, answers nothing
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/api"
        refused = pytest.raises(ConfigurationError, match="not a working Prefect server")
        with (
            temporary_settings(updates={PREFECT_API_URL: url}),
            refused,
            local_server(log_path=tmp_path / "server.log"),
        ):
            pass
    assert not (tmp_path / "server.log").exists()  # no server was started
