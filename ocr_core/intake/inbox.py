"""The watched inbox: claim settled files atomically, archive or quarantine them, remember hashes.

A file moves ``inbox/`` -> ``processing/<run>/`` (an atomic rename, so two runs never take the same
file) -> ``archive/<run>/`` once its results are written, or -> ``quarantine/<run>/`` with its
reason. Each run holds an exclusive ``flock`` on its processing folder; a folder whose lock can be
taken belongs to a run that died, and the next run adopts its files. The ledger remembers the
SHA-256 of every archived file so that an identical file dropped again is not processed twice.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ocr_core.errors import ConfigurationError
from ocr_core.results.csvfiles import neutralise
from ocr_core.settings import Settings

# Names that copying tools give files they have not finished writing.
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".filepart")
LEDGER_NAME = "ledger.tsv"
LOCK_NAME = ".lock"


@dataclass(frozen=True, slots=True)
class Claim:
    """A file this run owns: its name in the inbox, where it is now, and its content hash."""

    name: str
    path: Path
    sha256: str


@dataclass(frozen=True, slots=True)
class Folders:
    """The folders of the watch, all on one file system (renames must be atomic)."""

    inbox: Path
    processing: Path
    archive: Path
    quarantine: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> Folders:
        """Take the folders from the settings."""
        return cls(
            settings.inbox_dir,
            settings.processing_dir,
            settings.archive_dir,
            settings.quarantine_dir,
        )


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Ledger:
    """Append-only record of processed files: ``sha256 <TAB> name <TAB> run <TAB> time``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> dict[str, str]:
        """Return content hash -> the run that processed it; a torn last line is ignored."""
        if not self.path.exists():
            return {}
        seen: dict[str, str] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) == 4 and len(parts[0]) == 64:
                seen[parts[0]] = parts[2]
        return seen

    def record(self, claims: list[Claim], run: str) -> None:
        """Append processed files in one write, durably (fsynced before returning)."""
        if not claims:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        lines = []
        for claim in claims:
            # Spreadsheets open .tsv files too: a name like "=cmd|..." must not run.
            name = neutralise(" ".join(claim.name.split()))
            lines.append(f"{claim.sha256}\t{name}\t{run}\t{stamp}\n")
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("".join(lines))
            handle.flush()
            os.fsync(handle.fileno())


def _move(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    stem, suffix, n = target.stem, target.suffix, 2
    while target.exists() or target.is_symlink():
        target = folder / f"{stem} ({n}){suffix}"
        n += 1
    try:
        os.rename(source, target)
    except OSError as e:
        if e.errno == errno.EXDEV:
            raise ConfigurationError(
                "inbox, processing, archive and quarantine must be on one file system",
                path=folder,
                remedy="Point the DIGITISE_*_DIR settings at folders on the same disk",
            ) from e
        raise
    return target


def is_settled(path: Path, settle_s: float, now: float | None = None) -> bool:
    """Return True when a file looks completely written: not a partial name, not touched lately."""
    if path.name.startswith(".") or path.name.lower().endswith(PARTIAL_SUFFIXES):
        return False
    try:
        stat = path.lstat()
    except FileNotFoundError:
        return False
    return ((now or time.time()) - stat.st_mtime) >= settle_s


class RunClaims:
    """One run's hold on the watch: its processing folder, locked while the run lives."""

    def __init__(self, folders: Folders, run: str) -> None:
        self.folders = folders
        self.run = run
        self.folder = folders.processing / run
        self.ledger = Ledger(folders.archive / LEDGER_NAME)
        self.adopted_from: dict[str, str] = {}  # adopted file's name here -> the dead run's name
        self._lock: int | None = None

    def __enter__(self) -> RunClaims:
        # Runs may overlap: another run adopting "orphans" may remove this folder between its
        # making and its locking, so the lock counts only once it is on the folder's own file.
        while True:
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.folder / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o644)
            except FileNotFoundError:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.stat(self.folder / LOCK_NAME).st_ino == os.fstat(fd).st_ino:
                    self._lock = fd
                    return self
            except FileNotFoundError:
                pass
            os.close(fd)

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
        with contextlib.suppress(OSError):
            (self.folder / LOCK_NAME).unlink()
            self.folder.rmdir()  # only succeeds once every claimed file has moved on

    def adopt_orphans(self) -> list[str]:
        """Take over files left in ``processing/`` by runs that died; return their names."""
        adopted: list[str] = []
        if not self.folders.processing.is_dir():
            return adopted
        for other in sorted(self.folders.processing.iterdir()):
            if other == self.folder or not other.is_dir():
                continue
            with _try_lock(other / LOCK_NAME) as free:
                if not free:
                    continue  # a live run holds it
                for item in sorted(other.iterdir()):
                    if item.name != LOCK_NAME:
                        moved = _move(item, self.folder)
                        adopted.append(moved.name)
                        self.adopted_from[moved.name] = other.name
            with contextlib.suppress(OSError):
                (other / LOCK_NAME).unlink()
                other.rmdir()
        return adopted

    def claim_settled(self, settle_s: float = 5.0, limit: int = 100) -> list[Path]:
        """Move settled inbox files into this run's folder (atomic renames); return new paths."""
        if not self.folders.inbox.is_dir():
            return []
        claimed: list[Path] = []
        now = time.time()
        for entry in sorted(self.folders.inbox.iterdir()):
            if len(claimed) >= limit:
                break
            if entry.is_dir() and not entry.is_symlink():
                continue
            if not is_settled(entry, settle_s, now):
                continue
            try:
                claimed.append(_move(entry, self.folder))
            except FileNotFoundError:
                continue  # another run took it first
        return claimed

    def pending(self) -> list[Path]:
        """Every file in this run's folder (claimed or adopted), in name order."""
        return sorted(p for p in self.folder.iterdir() if p.name != LOCK_NAME)

    def archive(self, claims: list[Claim]) -> list[Path]:
        """Record files in the ledger, then move them to ``archive/<run>/``.

        Call only once their results are safely written: a run killed after the ledger write
        leaves files that the next run archives without processing them again.
        """
        self.ledger.record(claims, self.run)
        return [_move(claim.path, self.folders.archive / self.run) for claim in claims]

    def quarantine(self, path: Path, reason: str) -> Path:
        """Move a file to ``quarantine/<run>/`` with a ``.reason.txt`` beside it."""
        target = _move(path, self.folders.quarantine / self.run)
        note = target.with_name(target.name + ".reason.txt")
        note.write_text(reason + "\n", encoding="utf-8")
        return target


@contextlib.contextmanager
def _try_lock(path: Path) -> Iterator[bool]:
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError:
        yield True  # no lock file could be made: the folder is abandoned
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def orphan_folders(processing: Path) -> list[Path]:
    """The folders in ``processing/`` that runs which died left with files in them."""
    if not processing.is_dir():
        return []
    found = []
    for folder in sorted(processing.iterdir()):
        if not folder.is_dir() or not any(p.name != LOCK_NAME for p in folder.iterdir()):
            continue
        with _try_lock(folder / LOCK_NAME) as free:
            if free:
                found.append(folder)
    return found


def has_work(folders: Folders, settle_s: float) -> bool:
    """True when the inbox holds a settled file or a dead run left files in ``processing/``.

    Cheap (a listing, a stat per file and a lock probe per run folder), so that a poll with
    nothing to do costs no run, no result folder and no model load.
    """
    if folders.inbox.is_dir():
        now = time.time()
        for entry in folders.inbox.iterdir():
            if (entry.is_symlink() or not entry.is_dir()) and is_settled(entry, settle_s, now):
                return True
    return bool(orphan_folders(folders.processing))


INCOMPLETE_NOTE = "INCOMPLETE.txt"


def mark_incomplete(output_root: Path, dead_runs: set[str], taken_by: str) -> list[str]:
    """Mark the half-made result folders of runs that died; return the runs marked.

    A run killed before writing ``run.json`` leaves crops and overlays but no results; its files
    are read again by ``taken_by``, so its folder gets a note saying so (it is kept, not
    removed: it may be what someone looks at to see what happened).
    """
    marked = []
    for run in sorted(dead_runs):
        folder = output_root / run
        if not folder.is_dir() or (folder / "run.json").exists():
            continue
        note = (
            f"This run stopped before writing its results (its process was killed).\n"
            f"Its files were read again by run {taken_by}: see {output_root / taken_by}\n"
        )
        with contextlib.suppress(OSError):
            (folder / INCOMPLETE_NOTE).write_text(note, encoding="utf-8")
            marked.append(run)
    return marked
