"""Run states that say what happened: Failed with failed documents, 'Nothing to do' when idle."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, TaskRunFilter

from flows.digitise import digitise_forms
from flows.digitise_flow import NOTHING_TO_DO
from ocr_core.intake.inbox import INCOMPLETE_NOTE
from ocr_core.results.write import RunSummary
from tests.folders import use_run_folders

SAMPLES = Path("data/samples")
TEMPLATES = Path("data/templates")

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run-time folders of a fresh installation under tmp_path; files settle at once."""
    use_run_folders(tmp_path, monkeypatch, settle_s=0)
    return tmp_path


def _artifacts(run_id: UUID | None) -> dict[str, str]:
    assert run_id is not None
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
    return {str(a.key): str(a.data) for a in found}


def test_an_empty_inbox_ends_at_once_with_nothing_made(folders: Path) -> None:
    state = digitise_forms(watch_inbox=True, return_state=True)
    assert state.is_completed() and state.name == NOTHING_TO_DO
    summary = state.result()
    assert isinstance(summary, RunSummary) and summary.documents == 0 and not summary.run_dir
    assert not (folders / "output").exists()  # no result folder, not even the output root
    assert not (folders / "processing").exists()
    assert _artifacts(state.state_details.flow_run_id) == {}
    # A file still being copied is no work yet either.
    (folders / "inbox" / "scan.png.part").write_bytes(b"...")
    assert digitise_forms(watch_inbox=True, return_state=True).name == NOTHING_TO_DO


def test_a_quarantined_document_fails_the_run_and_its_task(folders: Path) -> None:
    shutil.copy(SAMPLES / "scan-001.png", folders / "inbox" / "good.png")
    (folders / "inbox" / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    state = digitise_forms(watch_inbox=True, templates=[str(TEMPLATES)], return_state=True)
    assert state.is_failed(), state  # not green in the UI; automations can alert on it
    assert "broken.pdf" in (state.message or "")
    summary = state.result(raise_on_failure=False)
    assert isinstance(summary, RunSummary) and (summary.processed, summary.failed) == (1, 1)
    assert (Path(summary.run_dir) / "fields.csv").exists()  # results written all the same
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
            task_run_filter=TaskRunFilter(),
        )
    by_name = {t.name: t.state for t in tasks if t.name.startswith("digitise ")}
    assert by_name["digitise broken.pdf"] is not None and by_name["digitise broken.pdf"].is_failed()
    assert by_name["digitise good.png"] is not None and by_name["digitise good.png"].is_completed()
    report = _artifacts(run_id)["digitise-forms-report"]
    assert "broken.pdf" in report and "Fields to review" in report
    assert f"python -m flows.review serve {summary.run_dir}" in report
    assert str(Path(summary.run_dir) / "review.html") in report


def test_a_killed_runs_half_made_folder_is_marked_and_reported(folders: Path) -> None:
    dead = "20260101T000000Z-killed-mid-read"
    (folders / "processing" / dead).mkdir(parents=True)
    shutil.copy(SAMPLES / "scan-002.png", folders / "processing" / dead / "left.png")
    (folders / "output" / dead / "crops").mkdir(parents=True)  # crops, no CSVs, no run.json
    past = time.time() - 60
    os.utime(folders / "processing" / dead / "left.png", (past, past))
    state = digitise_forms(watch_inbox=True, templates=[str(TEMPLATES)], return_state=True)
    summary = state.result()
    assert state.is_completed() and summary.processed == 1
    note = (folders / "output" / dead / INCOMPLETE_NOTE).read_text(encoding="utf-8")
    assert Path(summary.run_dir).name in note
    report = _artifacts(state.state_details.flow_run_id)["digitise-forms-report"]
    assert dead in report and "incomplete" in report
