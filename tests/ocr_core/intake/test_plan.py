"""Planning a folder-watch batch without Prefect: duplicates, refusals, copies of failures."""

import json
import os
import time
from pathlib import Path

import pytest

from ocr_core.intake.inbox import Folders, RunClaims, sha256_of
from ocr_core.intake.plan import manual_jobs, plan_inbox, record_inherited, settle_plan
from ocr_core.reading.document import DocumentResult
from ocr_core.results.records import ErrorRow


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    f = Folders(tmp_path / "inbox", tmp_path / "processing", tmp_path / "archive", tmp_path / "q")
    f.inbox.mkdir()
    return f


def drop(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    past = time.time() - 60
    os.utime(path, (past, past))
    return path


def result(document: str) -> DocumentResult:
    return DocumentResult(document, 1, (), (), ("t",), (), 0.1)


def test_a_batch_reads_each_content_once_and_refuses_links(
    folders: Folders, tmp_path: Path
) -> None:
    drop(folders.inbox, "a.png", b"one")
    drop(folders.inbox, "b.png", b"one")  # a copy of a.png in the same batch
    drop(folders.inbox, "c.png", b"two")
    link = folders.inbox / "d.png"
    link.symlink_to(tmp_path / "elsewhere")
    past = time.time() - 60
    os.utime(link, (past, past), follow_symlinks=False)
    with RunClaims(folders, "run1") as claims:
        claims.claim_settled(settle_s=1)
        plan = plan_inbox(claims, tmp_path / "output", folders.quarantine)
    assert [j.document for j in plan.jobs] == ["a.png", "c.png"]
    assert [(d.claim.name, d.run) for d in plan.duplicates] == [("b.png", "run1")]
    assert [(e.document, e.quarantined_to) for e in plan.refused] == [
        ("d.png", str(folders.quarantine / "run1" / "d.png"))
    ]


def test_a_copy_of_a_failed_file_fails_with_it(folders: Folders, tmp_path: Path) -> None:
    drop(folders.inbox, "a.png", b"bad")
    drop(folders.inbox, "b.png", b"bad")
    drop(folders.inbox, "c.png", b"good")
    with RunClaims(folders, "run1") as claims:
        claims.claim_settled(settle_s=1)
        plan = plan_inbox(claims, tmp_path / "output", folders.quarantine)
        failed = ErrorRow("a.png", "input_file", "a.png: not an image", "")
        batch = settle_plan(plan, [result("c.png")], [failed], folders.quarantine)
    assert [(e.document, e.message) for e in batch.errors] == [
        ("a.png", "a.png: not an image"),
        ("b.png", "b.png: identical to a.png: not an image"),
    ]
    assert {e.quarantined_to for e in batch.errors} == {
        str(folders.quarantine / "run1" / n) for n in ("a.png", "b.png")
    }
    assert [c.name for c in batch.archived] == ["c.png"] and batch.skipped == ()
    assert batch.inputs == {sha256_of(claims.folder / "c.png"): "c.png"}


def test_files_a_dead_run_completed_are_duplicates_recorded_in_the_ledger(
    folders: Folders, tmp_path: Path
) -> None:
    dead = folders.processing / "dead"
    dead.mkdir(parents=True)
    done = drop(dead, "done.png", b"done")
    drop(dead, "todo.png", b"todo")
    output = tmp_path / "output"
    (output / "dead").mkdir(parents=True)
    manifest = {"inputs": {sha256_of(done): "done.png"}}
    (output / "dead" / "run.json").write_text(json.dumps(manifest))
    with RunClaims(folders, "run2") as claims:
        claims.adopt_orphans()
        plan = plan_inbox(claims, output, folders.quarantine)
        record_inherited(claims, plan)
        assert [j.document for j in plan.jobs] == ["todo.png"]
        assert [(d.claim.name, d.run) for d in plan.duplicates] == [("done.png", "dead")]
        assert claims.ledger.entries() == {sha256_of(claims.folder / "done.png"): "dead"}


def test_manual_jobs_keep_the_order_of_the_inputs(tmp_path: Path) -> None:
    for name in ("b.png", "a.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    jobs = manual_jobs([str(tmp_path), str(tmp_path / "a.png")])
    assert [(Path(j.path).name, j.slot) for j in jobs] == [("a.png", 0), ("b.png", 1)]


def test_a_folders_unsupported_files_are_listed_not_lost(tmp_path: Path) -> None:
    from ocr_core.intake.plan import manual_batch

    (tmp_path / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "letter.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "NOTES").write_bytes(b"plain words")
    (tmp_path / "scan.json").write_text("{}")  # ground truth beside a scan
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    jobs, skipped = manual_batch([str(tmp_path)])
    assert [Path(j.document).name for j in jobs] == ["scan.png"]
    assert [(Path(e.document).name, e.error) for e in skipped] == [
        ("NOTES", "unsupported"),
        ("letter.docx", "unsupported"),
    ]
    assert "a .docx file is not a PDF" in skipped[1].message
