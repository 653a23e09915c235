"""A run under review: its field sheet, each answer saved at once, atomically, and its progress."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ocr_core.results.char_crops import split_crop
from ocr_core.results.csvfiles import read_csv_rows, write_csv
from ocr_core.results.records import FieldKey, rules_key
from ocr_core.results.review_fields import REVIEW_FIELD_COLUMNS
from ocr_core.review.fieldcheck import check_field_value, field_specs, read_manifest, spec_for
from ocr_core.review.sheets import YES, read_sheet

SHEET = "review_fields.csv"
Action = Literal["accept", "correct", "unreadable", "reopen"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to one request: saved, or refused with the reasons."""

    saved: bool
    problems: tuple[str, ...] = ()


def state_of(row: dict[str, str]) -> str:
    """``pending``, ``accepted``, ``corrected`` or ``unreadable``: a sheet row's answer."""
    if row.get("unreadable", "").strip().lower() in YES:
        return "unreadable"
    if row.get("correction", "").strip():
        return "corrected"
    if row.get("confirmed", "").strip().lower() in YES:
        return "accepted"
    return "pending"


class ReviewRun:
    """One run folder's review sheet, read once and written back whole on every answer.

    Every answer rewrites ``review_fields.csv`` atomically before it is acknowledged, so a
    closed tab or a killed server loses nothing. Answers are serialised by one lock.
    """

    def __init__(self, run_dir: Path) -> None:
        """Read the run: its sheet (as a spreadsheet may have saved it), fields and characters."""
        self.run_dir = run_dir
        self.manifest = read_manifest(run_dir)
        self.specs = field_specs(run_dir, self.manifest)
        self.fields = {
            (r["document"], int(r["page"]), r["field"]): r
            for r in read_csv_rows(run_dir / "fields.csv")
            if r["field"]
        }
        self.chars: dict[FieldKey, list[dict[str, str]]] = defaultdict(list)
        for row in read_csv_rows(run_dir / "characters.csv"):
            self.chars[(row["document"], int(row["page"]), row["field"])].append(row)
        images = self.manifest.get("field_images", {})
        self.images: dict[str, str] = dict(images) if isinstance(images, dict) else {}
        self.rows = [
            {c: r.cells.get(c, "") for c in REVIEW_FIELD_COLUMNS}
            for r in read_sheet(run_dir / SHEET, ("document", "page", "field"))
        ]
        self._lock = threading.Lock()

    def key_of(self, row: dict[str, str]) -> FieldKey:
        """The (document, page, field) of a sheet row."""
        return (row["document"], int(row["page"]), row["field"])

    def find(self, key: FieldKey) -> dict[str, str] | None:
        """The sheet row of a field, or None when it is not in review."""
        return next((r for r in self.rows if self.key_of(r) == key), None)

    def progress(self) -> tuple[int, int]:
        """(fields answered, fields in review)."""
        return sum(state_of(r) != "pending" for r in self.rows), len(self.rows)

    def served_files(self) -> set[str]:
        """The run-relative files the page may show: field images and the crops of their fields."""
        files = {path for path in self.images.values() if path}
        for row in self.rows:
            files.update(split_crop(c["crop"])[0] for c in self.chars.get(self.key_of(row), []))
        return files

    def answer(self, key: FieldKey, action: Action, value: str, reviewer: str) -> Verdict:
        """Record a reviewer's answer about a field in review, after checking it.

        Args:
            key: the field.
            action: ``accept`` the value as read, ``correct`` it to ``value``, mark it
                ``unreadable`` on paper, or ``reopen`` it (forget its answer).
            value: the right value (``correct`` only; the same as read counts as accepting).
            reviewer: who answers.

        Returns:
            Saved, or refused with the reasons (the sheet is then unchanged).

        Raises:
            OutputError: the sheet could not be written.
        """
        with self._lock:
            row = self.find(key)
            if row is None:
                return Verdict(False, ("this field is not in review; add it first",))
            if action == "correct" and value == row["value"]:
                action = "accept"
            if action in ("accept", "correct"):
                checked = value if action == "correct" else row["value"]
                problems = check_field_value(checked, spec_for(key, self.specs, self.manifest))
                if problems:
                    return Verdict(False, tuple(problems))
            updated = dict(row, correction="", confirmed="", unreadable="")
            if action != "reopen":
                updated["correction"] = value if action == "correct" else ""
                updated["confirmed"] = "yes" if action == "accept" else ""
                updated["unreadable"] = "yes" if action == "unreadable" else ""
            updated["reviewer"] = reviewer if action != "reopen" else ""
            updated["reviewed_at"] = _now() if action != "reopen" else ""
            self._save([updated if r is row else r for r in self.rows])
            return Verdict(True)

    def pull(self, key: FieldKey) -> Verdict:
        """Bring a field that was not flagged into review (its row appended to the sheet)."""
        with self._lock:
            if self.find(key) is not None:
                return Verdict(True)
            field = self.fields.get(key)
            if field is None:
                return Verdict(False, ("no such field in this run",))
            row = {c: "" for c in REVIEW_FIELD_COLUMNS}
            row.update({c: field[c] for c in ("document", "page", "field", "value", "confidence")})
            row["reason"] = field["reason"] or "added by the reviewer"
            row["image"] = self.images.get(rules_key(key), "")
            self._save([*self.rows, row])
            return Verdict(True)

    def _save(self, rows: list[dict[str, str]]) -> None:
        write_csv(
            self.run_dir / SHEET,
            REVIEW_FIELD_COLUMNS,
            ([r[c] for c in REVIEW_FIELD_COLUMNS] for r in rows),
        )
        self.rows = rows  # only once the file holds them


def ensure_sheet(run_dir: Path) -> bool:
    """Write ``review_fields.csv`` for a run made before it existed; True when the run has one.

    Its rows are the fields ``fields.csv`` says need review (a run of that age kept no field
    images, so the page shows their readings and characters only).
    """
    sheet = run_dir / SHEET
    if sheet.is_file():
        return True
    if not (run_dir / "fields.csv").is_file() or not (run_dir / "run.json").is_file():
        return False
    rows = [
        [r.get(c, "") for c in REVIEW_FIELD_COLUMNS]
        for r in read_csv_rows(run_dir / "fields.csv")
        if r["field"] and r["status"] == "needs_review"
    ]
    write_csv(sheet, REVIEW_FIELD_COLUMNS, rows)
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
