import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ocr_core.intake.inbox import Claim, Folders, RunClaims, is_settled, sha256_of


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    f = Folders(tmp_path / "inbox", tmp_path / "processing", tmp_path / "archive", tmp_path / "q")
    f.inbox.mkdir()
    return f


def drop(folder: Path, name: str, data: bytes = b"%PDF-1.4 data", age_s: float = 60) -> Path:
    path = folder / name
    path.write_bytes(data)
    past = time.time() - age_s
    os.utime(path, (past, past))
    return path


def test_claims_only_settled_complete_files(folders: Folders) -> None:
    drop(folders.inbox, "done.pdf")
    drop(folders.inbox, "fresh.pdf", age_s=0)  # still being written
    drop(folders.inbox, "copying.pdf.part")
    drop(folders.inbox, ".hidden.pdf")
    with RunClaims(folders, "run1") as claims:
        claimed = claims.claim_settled(settle_s=5)
        assert [p.name for p in claimed] == ["done.pdf"]
        assert claimed[0].parent == folders.processing / "run1"
    assert sorted(p.name for p in folders.inbox.iterdir()) == [
        ".hidden.pdf",
        "copying.pdf.part",
        "fresh.pdf",
    ]


def test_settled_check(tmp_path: Path) -> None:
    path = drop(tmp_path, "a.png", age_s=10)
    assert is_settled(path, settle_s=5)
    assert not is_settled(path, settle_s=30)
    assert not is_settled(tmp_path / "gone.png", settle_s=0)


def test_archive_records_the_ledger_then_moves(folders: Folders) -> None:
    drop(folders.inbox, "a.pdf", b"same bytes")
    with RunClaims(folders, "run1") as claims:
        [path] = claims.claim_settled(settle_s=1)
        claim = Claim("a.pdf", path, sha256_of(path))
        [archived] = claims.archive([claim])
    assert archived == folders.archive / "run1" / "a.pdf"
    assert archived.read_bytes() == b"same bytes"
    assert not (folders.processing / "run1").exists()  # the run folder is tidied away
    with RunClaims(folders, "run2") as claims:
        assert claims.ledger.entries() == {claim.sha256: "run1"}


def test_quarantine_keeps_the_file_and_its_reason(folders: Folders) -> None:
    drop(folders.inbox, "bad.pdf", b"not a pdf")
    with RunClaims(folders, "run1") as claims:
        [path] = claims.claim_settled(settle_s=1)
        target = claims.quarantine(path, "input_file: not a PDF")
    assert target.read_bytes() == b"not a pdf"
    assert target.with_name("bad.pdf.reason.txt").read_text() == "input_file: not a PDF\n"


def test_two_runs_never_take_the_same_file(folders: Folders) -> None:
    for i in range(20):
        drop(folders.inbox, f"{i:02d}.pdf")
    with RunClaims(folders, "a") as first, RunClaims(folders, "b") as second:
        taken_a = first.claim_settled(settle_s=1, limit=7)
        taken_b = second.claim_settled(settle_s=1)
    names_a = {p.name for p in taken_a}
    names_b = {p.name for p in taken_b}
    assert len(names_a) == 7 and len(names_b) == 13 and not names_a & names_b


def test_symlink_is_moved_not_followed(folders: Folders, tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("keep me")
    link = folders.inbox / "link.pdf"
    link.symlink_to(secret)
    past = time.time() - 60
    os.utime(link, (past, past), follow_symlinks=False)
    with RunClaims(folders, "run1") as claims:
        [claimed] = claims.claim_settled(settle_s=5)
        assert claimed.is_symlink()
        target = claims.quarantine(claimed, "a symbolic link: not followed")
    assert target.is_symlink() and secret.read_text() == "keep me"


def test_files_of_a_killed_run_are_adopted_by_the_next(folders: Folders) -> None:
    drop(folders.inbox, "orphan.pdf")
    # A real run process claims a file, then dies by SIGKILL while holding its lock.
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from ocr_core.intake.inbox import Folders, RunClaims\n"
        "f = Folders(*(Path(p) for p in sys.argv[1:5]))\n"
        "claims = RunClaims(f, 'dead').__enter__()\n"
        "claims.claim_settled(settle_s=1)\n"
        "print('claimed', flush=True)\n"
        "time.sleep(60)\n"
    )
    args = [
        str(folders.inbox),
        str(folders.processing),
        str(folders.archive),
        str(folders.quarantine),
    ]
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "claimed"
        with RunClaims(folders, "live") as claims:
            assert claims.adopt_orphans() == []  # the dead-to-be run still holds its lock
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        with RunClaims(folders, "next") as claims:
            assert claims.adopt_orphans() == ["orphan.pdf"]
            assert [p.name for p in claims.pending()] == ["orphan.pdf"]
        assert not (folders.processing / "dead").exists()
    finally:
        process.kill()


def test_work_is_a_settled_inbox_file_or_a_dead_runs_leftovers(tmp_path: Path) -> None:
    from ocr_core.intake.inbox import has_work, orphan_folders

    folders = Folders(*(tmp_path / n for n in ("inbox", "processing", "archive", "quarantine")))
    assert not has_work(folders, settle_s=0)  # no folders at all yet
    folders.inbox.mkdir()
    (folders.inbox / "sub").mkdir()
    (folders.inbox / "copying.pdf.part").write_bytes(b"%PDF")
    (folders.inbox / "fresh.pdf").write_bytes(b"%PDF")
    assert not has_work(folders, settle_s=60)
    assert has_work(folders, settle_s=0)
    (folders.inbox / "fresh.pdf").unlink()
    dead = folders.processing / "20260101T000000Z-dead"
    dead.mkdir(parents=True)
    (dead / ".lock").write_text("")
    assert not has_work(folders, settle_s=0)  # an empty folder is nothing to adopt
    (dead / "left.png").write_bytes(b"png")
    assert orphan_folders(folders.processing) == [dead]
    with RunClaims(folders, "20260101T000001Z-alive") as alive:
        (alive.folder / "mine.png").write_bytes(b"png")
        assert orphan_folders(folders.processing) == [dead]  # a live run's folder is not


def test_a_dead_runs_half_made_result_folder_is_marked(tmp_path: Path) -> None:
    from ocr_core.intake.inbox import INCOMPLETE_NOTE, mark_incomplete

    (tmp_path / "half" / "crops").mkdir(parents=True)
    (tmp_path / "whole").mkdir()
    (tmp_path / "whole" / "run.json").write_text("{}")
    assert mark_incomplete(tmp_path, {"half", "whole", "gone"}, "next") == ["half"]
    assert "next" in (tmp_path / "half" / INCOMPLETE_NOTE).read_text()
    assert not (tmp_path / "whole" / INCOMPLETE_NOTE).exists()
