"""Fault injection: SIGKILL mid-batch, unwritable or full output, broken model bundles."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import time
from pathlib import Path

import pytest

from benchmarks.faults.badfiles import SAMPLES, distinct_scans
from benchmarks.faults.kills import audit, inputs_of, kill_loop
from flows.digitise import main, run_digitise_forms
from ocr_core.errors import ModelError, OutputError
from ocr_core.intake.inbox import LEDGER_NAME, sha256_of
from ocr_core.recognition.normalise import CONTRACT
from ocr_core.results.csvfiles import read_csv_rows

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _kill_and_audit(
    folders: dict[str, Path], api: str, log: Path, documents: int, kills: int, delay_s: float
) -> None:
    paths = distinct_scans(folders["inbox"], documents)
    inputs = inputs_of(paths)
    env = {"DIGITISE_SETTLE_S": "0", "DIGITISE_INBOX_BATCH": "2", "PREFECT_API_URL": api}
    seed = time.time_ns() % 10_000
    record = kill_loop(env, log, kills=kills, max_delay_s=delay_s, seed=seed)
    where = {k: v for k, v in folders.items() if k != "reviewed"}
    result = audit(inputs, **where)
    context = f"seed {seed}, kills after {record.delays} s, log {log}: {result}"
    assert record.hangs == 0, context
    assert record.kills >= 1, context  # (a fast machine may finish before a later kill)
    assert result.ok, context
    assert result.processed == documents, context  # sample scans all read: none quarantined
    assert result.complete_runs >= 1


def test_sigkill_at_random_points_loses_and_repeats_nothing(
    folders: dict[str, Path], prefect_harness: str, tmp_path: Path
) -> None:
    # Kills within 1.5 s of a run starting land inside the 5 runs of 2 documents even on a
    # quiet machine, where a whole run takes about a second.
    _kill_and_audit(folders, prefect_harness, tmp_path / "worker.log", 10, kills=2, delay_s=1.5)


@pytest.mark.slow
def test_sigkill_loop_on_a_larger_batch(
    folders: dict[str, Path], prefect_harness: str, tmp_path: Path
) -> None:
    _kill_and_audit(folders, prefect_harness, tmp_path / "worker.log", 20, kills=6, delay_s=4)


def test_output_under_a_file_is_an_output_error_before_any_claim(
    folders: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGITISE_SETTLE_S", "0")  # work to do: an empty poll makes no folder
    # Root ignores permissions, so the unwritable folder is one whose parent is a file.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    dropped = shutil.copy(SAMPLES / "scan-001.png", folders["inbox"] / "waiting.png")
    with pytest.raises(OutputError, match="not-a-folder"):
        run_digitise_forms(watch_inbox=True, output=str(blocker / "results"))
    assert Path(dropped).exists()
    code = main([str(SAMPLES / "scan-001.png"), "--output", str(blocker / "results")])
    assert code == OutputError.exit_code


def test_full_disk_while_writing_results_keeps_the_inputs(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGITISE_SETTLE_S", "0")
    for name in ("a.png", "b.png"):
        shutil.copy(
            SAMPLES / ("scan-001.png" if name == "a.png" else "scan-002.png"),
            folders["inbox"] / name,
        )
    # A full disk, as this process sees it: no file grows past 100 KiB (EFBIG, not SIGXFSZ).
    # The result CSVs of two scans would fit; their page overlays (about 300 KiB) do not.
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100 * 1024, hard))
    try:
        with pytest.raises(OutputError, match=r"overlays/\S+\.jpg: cannot write image") as caught:
            run_digitise_forms(watch_inbox=True)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert str(folders["output"]) in str(caught.value)  # names the file it could not write
    held = sorted(p.name for p in folders["processing"].rglob("*.png"))
    assert held == ["a.png", "b.png"]  # claimed, not archived, not quarantined
    assert not folders["quarantine"].exists()
    assert not folders["archive"].exists() or not any(folders["archive"].rglob("*.png"))
    # Space again: the next run takes the files over and finishes them.
    summary = run_digitise_forms(watch_inbox=True)
    assert (summary.processed, summary.failed) == (2, 0)
    assert sorted(p.name for p in folders["archive"].rglob("*.png")) == ["a.png", "b.png"]


def _bundle(folder: Path, meta: dict[str, object] | str, model: bytes | None = None) -> Path:
    folder.mkdir(parents=True)
    text = meta if isinstance(meta, str) else json.dumps(meta)
    (folder / "bundle.json").write_text(text, encoding="utf-8")
    if model is not None:
        (folder / "model.keras").write_bytes(model)
    return folder


def _meta(name: str) -> dict[str, object]:
    labels = [str(d) for d in range(10)]
    return {
        "name": name,
        "labels": labels,
        "contract": CONTRACT,
        "temperature": 1.0,
        "threshold": 0.9,
    }


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("corrupt-json", r"bundle\.json is corrupt"),
        ("corrupt-model", r"model\.keras cannot be loaded"),
        ("missing-model", r"has no model\.keras"),
    ],
    ids=["corrupt-json", "corrupt-model", "missing-model"],
)
def test_broken_bundle_is_a_model_error_before_any_claim(
    folders: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    case: str,
    expected: str,
) -> None:
    models = tmp_path / f"models-{case}"
    if case == "corrupt-json":
        _bundle(models / "digits", '{"name": "digits", "labels": [', b"PK\x03\x04")
    elif case == "corrupt-model":
        _bundle(models / "digits", _meta("digits"), b"PK\x03\x04 not really a zip archive")
    else:
        _bundle(models / "digits", _meta("digits"))
    monkeypatch.setenv("DIGITISE_MODELS_DIR", str(models))
    monkeypatch.setenv("DIGITISE_SETTLE_S", "0")
    dropped = Path(shutil.copy(SAMPLES / "scan-001.png", folders["inbox"] / "waiting.png"))
    with pytest.raises(ModelError, match=expected) as caught:
        run_digitise_forms(watch_inbox=True, model="digits")
    assert str(models / "digits") in str(caught.value)
    assert dropped.exists() and not folders["processing"].exists()


def test_a_run_killed_after_its_results_is_not_read_twice(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a run killed between writing run.json and archiving leaves: complete results, and
    # its claimed file still in processing/ (its lock died with it).
    monkeypatch.setenv("DIGITISE_SETTLE_S", "0")
    dead = "20260101T000000Z-killed-after-results"
    claimed = folders["processing"] / dead / "done.png"
    claimed.parent.mkdir(parents=True)
    shutil.copy(SAMPLES / "scan-001.png", claimed)
    (folders["output"] / dead).mkdir(parents=True)
    manifest_sha = sha256_of(claimed)
    manifest = {"inputs": {manifest_sha: "done.png"}, "summary": {}}
    (folders["output"] / dead / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    unfinished = folders["processing"] / "20260101T000001Z-killed-before-results" / "redo.png"
    unfinished.parent.mkdir(parents=True)
    shutil.copy(SAMPLES / "scan-002.png", unfinished)

    summary = run_digitise_forms(watch_inbox=True)
    assert (summary.processed, summary.skipped, summary.failed) == (1, 1, 0)
    documents = {r["document"] for r in read_csv_rows(Path(summary.run_dir) / "fields.csv")}
    assert documents == {"redo.png"}  # done.png's rows are in the dead run's results only
    assert sorted(p.name for p in folders["archive"].rglob("*.png")) == ["done.png", "redo.png"]
    assert not [p for p in folders["processing"].rglob("*") if p.is_file()]
    # The ledger names the dead run as done.png's reader, written before this run read anything:
    # had this run died too, the run adopting done.png from it would still not read it again.
    ledger = (folders["archive"] / LEDGER_NAME).read_text(encoding="utf-8").splitlines()
    assert ledger[0].startswith(f"{manifest_sha}\tdone.png\t{dead}\t")
