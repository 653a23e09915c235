"""serve's own work: its dead runs settled at start-up, an inbox watcher that runs only for work."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.states import Running, Scheduled, Submitting

from flows.digitise_flow import digitise_forms
from flows.serve import watch_schedule
from flows.watch import FOLDER_WATCH, InboxWatcher, serve_lock, settle_dead_runs
from ocr_core.errors import ConfigurationError
from ocr_core.settings import load_settings
from tests.folders import use_run_folders

SAMPLE = Path("data/samples/scan-001.png")

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run-time folders under tmp_path, all made; files settle after 1 s."""
    for folder in use_run_folders(tmp_path, monkeypatch, settle_s=1).values():
        folder.mkdir(exist_ok=True)
    return tmp_path


@pytest.fixture(scope="module")
def folder_watch() -> UUID:
    """The folder-watch deployment, registered as serve registers it (nothing executes it)."""
    deployment = digitise_forms.to_deployment(name="folder-watch", parameters={"watch_inbox": True})
    deployment_id = deployment.apply()  # type: ignore[union-attr]
    assert isinstance(deployment_id, UUID)
    return deployment_id


def _runs(deployment_id: UUID) -> list[object]:
    with get_client(sync_client=True) as client:
        return list(
            client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )
        )


def test_the_watcher_starts_runs_only_for_work_and_one_at_a_time(
    folders: Path, folder_watch: UUID
) -> None:
    before = len(_runs(folder_watch))
    watcher = InboxWatcher(load_settings(), period_s=0.2)
    watcher.start()
    try:
        time.sleep(3)  # 15 looks at an empty inbox
        assert len(_runs(folder_watch)) == before and not watcher.started_runs
        shutil.copy(SAMPLE, folders / "inbox" / "a.png")  # settles 1 s after it was written
        deadline = time.monotonic() + 20
        while not watcher.started_runs and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(watcher.started_runs) == 1
        shutil.copy(SAMPLE, folders / "inbox" / "b.png")
        time.sleep(2)  # the first run has not ended (nothing serves it here): no second one
        assert len(watcher.started_runs) == 1
    finally:
        watcher.stop()
        watcher.join(timeout=10)
    assert len(_runs(folder_watch)) == before + 1


def test_files_left_by_a_dead_run_start_a_run_in_schedule_mode(
    folders: Path, folder_watch: UUID
) -> None:
    (folders / "processing" / "20260101T000000Z-dead").mkdir()
    shutil.copy(SAMPLE, folders / "processing" / "20260101T000000Z-dead" / "left.png")
    shutil.copy(SAMPLE, folders / "inbox" / "waits-for-the-schedule.png")
    watcher = InboxWatcher(load_settings(), period_s=0.2, inbox_too=False)
    watcher.start()
    try:
        deadline = time.monotonic() + 20
        while not watcher.started_runs and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        watcher.stop()
        watcher.join(timeout=10)
    assert len(watcher.started_runs) == 1


def test_serve_settles_the_runs_a_killed_serve_left(folder_watch: UUID) -> None:
    manual = digitise_forms.to_deployment(name="manual").apply()  # type: ignore[union-attr]
    assert isinstance(manual, UUID)
    with get_client(sync_client=True) as client:
        asked = client.create_flow_run_from_deployment(
            manual, state=Scheduled(scheduled_time=datetime.now(UTC) - timedelta(minutes=10))
        )
        running = client.create_flow_run_from_deployment(folder_watch, state=Running())
        submitting = client.create_flow_run_from_deployment(folder_watch, state=Submitting())
        late = datetime.now(UTC) - timedelta(minutes=10)
        missed = client.create_flow_run_from_deployment(
            folder_watch,
            state=Scheduled(scheduled_time=late),
        )
        upcoming = client.create_flow_run_from_deployment(
            folder_watch,
            state=Scheduled(scheduled_time=datetime.now(UTC) + timedelta(minutes=1)),
        )
    crashed, cancelled = settle_dead_runs(datetime.now(UTC), timedelta(seconds=60))
    assert crashed >= 2 and cancelled >= 1
    with get_client(sync_client=True) as client:
        states = [client.read_flow_run(run.id).state for run in (running, submitting)]
        assert all(s is not None and s.is_crashed() for s in states)
        missed_state = client.read_flow_run(missed.id).state
        assert missed_state is not None and missed_state.is_cancelled()
        for kept in (upcoming, asked):  # not yet due, or a run someone asked for
            kept_state = client.read_flow_run(kept.id).state
            assert kept_state is not None and kept_state.is_scheduled()


def test_one_serve_per_project(tmp_path: Path) -> None:
    refused = pytest.raises(ConfigurationError, match="another serve process")
    with serve_lock(tmp_path), refused, serve_lock(tmp_path):
        pass
    with serve_lock(tmp_path):  # released when the first ends
        pass


def test_the_schedule_is_an_interval_a_cron_or_none(monkeypatch: pytest.MonkeyPatch) -> None:
    assert watch_schedule(load_settings()) == {}  # immediate: the watcher starts runs
    monkeypatch.setenv("DIGITISE_WATCH_MODE", "schedule")
    monkeypatch.setenv("DIGITISE_POLL_INTERVAL_S", "10")
    assert watch_schedule(load_settings()) == {"interval": 10}
    monkeypatch.setenv("DIGITISE_WATCH_CRON", "0 2 * * *")
    assert watch_schedule(load_settings()) == {"cron": "0 2 * * *"}
    monkeypatch.setenv("DIGITISE_WATCH_CRON", "every night")
    with pytest.raises(ConfigurationError, match="DIGITISE_WATCH_CRON"):
        watch_schedule(load_settings())
    assert FOLDER_WATCH == "digitise-forms/folder-watch"
