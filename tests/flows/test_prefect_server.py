"""Detection of killed runs: the server marks a run Crashed once its heartbeats stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
from prefect.events.schemas.automations import AutomationCore
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from flows.prefect_server import CRASH_AUTOMATION, MISSED_HEARTBEATS, ensure_crash_detection

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
