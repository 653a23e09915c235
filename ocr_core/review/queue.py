"""The review queue across runs: every run folder with fields nobody has answered, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ocr_core.errors import InputFileError
from ocr_core.review.fieldcheck import read_manifest
from ocr_core.review.sheets import read_sheet
from ocr_core.review.station import SHEET, state_of


@dataclass(frozen=True, slots=True)
class PendingRun:
    """A run with fields still to review."""

    run_dir: Path
    started: str
    pending: int
    total: int


def pending_runs(output_dir: Path) -> list[PendingRun]:
    """The runs under ``output_dir`` whose ``review_fields.csv`` has unanswered fields.

    Oldest first (by the time the run started, as ``run.json`` records it). A run still being
    written (no ``run.json`` yet) or whose sheet cannot be read is left out.
    """
    runs = []
    folders = sorted(output_dir.iterdir()) if output_dir.is_dir() else []
    for folder in folders:
        manifest = read_manifest(folder)
        if not manifest or not (folder / SHEET).is_file():
            continue
        try:
            rows = read_sheet(folder / SHEET, ("document", "page", "field"))
        except InputFileError:
            continue
        pending = sum(state_of(r.cells) == "pending" for r in rows)
        if pending:
            runs.append(PendingRun(folder, str(manifest.get("started", "")), pending, len(rows)))
    return sorted(runs, key=lambda r: (r.started, r.run_dir.name))
