"""Apply a reviewer's corrections: corrected field values, a change log, new training examples."""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ocr_core.errors import InputFileError
from ocr_core.files import write_atomic
from ocr_core.reading.fields import assemble_value, validate_value
from ocr_core.results.csvfiles import format_csv, read_csv_rows, write_csv
from ocr_core.results.records import (
    FIELD_COLUMNS,
    CharKey,
    FieldKey,
    char_key,
    model_input_path,
    rules_key,
)
from ocr_core.results.write import MANIFEST

REVIEWED_LABELS = "labels.csv"
REVIEWED_COLUMNS = ("image", "label", "run", "document", "page", "field", "index")


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """What applying one review changed."""

    reviewed: int
    changed: int
    fields_changed: int
    still_failing: int
    examples_added: int
    fields_reviewed_csv: str


def read_corrections(review_csv: Path) -> dict[CharKey, str]:
    """Read the reviewer's ``correction`` column; blank accepts the suggestion.

    Returns:
        Every reviewed character (corrected or accepted) to its final character.

    Raises:
        InputFileError: a correction is more than one character (the row is named).
    """
    final: dict[CharKey, str] = {}
    for number, row in enumerate(read_csv_rows(review_csv), start=2):
        correction = row.get("correction", "").strip()
        if len(correction) > 1:
            raise InputFileError(
                f"row {number}: correction {correction!r} is more than one character",
                path=review_csv,
                remedy="Write the single right character, or leave it blank to accept",
            )
        final[char_key(row)] = correction or row["char"]
    return final


def apply_review(run_dir: Path, review_csv: Path, reviewed_dir: Path) -> ReviewOutcome:
    """Write ``fields_reviewed.csv`` and ``changes.csv`` and add reviewed crops to training data.

    Args:
        run_dir: the digitise-forms run folder (holds characters.csv, fields.csv, run.json).
        review_csv: the corrected review file.
        reviewed_dir: the training-data folder reviewed characters are appended to.

    Returns:
        Counts of what changed and where the reviewed fields were written.

    Raises:
        InputFileError: the review file is malformed.
        OutputError: a result could not be written.
    """
    final = read_corrections(review_csv)
    manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    chars = read_csv_rows(run_dir / "characters.csv")
    by_field, changes = _apply_corrections(chars, final)
    changed_fields = {c[:3] for c in changes}
    reviewed_rows = _reviewed_fields(
        read_csv_rows(run_dir / "fields.csv"),
        by_field,
        changed_fields,
        manifest.get("field_rules", {}),
    )
    out = run_dir / "fields_reviewed.csv"
    write_csv(out, (*FIELD_COLUMNS, "changed"), reviewed_rows)
    write_csv(
        run_dir / "changes.csv", ("document", "page", "field", "index", "before", "after"), changes
    )
    added = add_training_examples(run_dir, chars, final, reviewed_dir, run_dir.name)
    still_failing = sum(row[6] == "needs_review" for row in reviewed_rows)  # the status column
    return ReviewOutcome(
        len(final), len(changes), len(changed_fields), still_failing, added, str(out)
    )


def _apply_corrections(
    chars: list[dict[str, str]], final: dict[CharKey, str]
) -> tuple[dict[FieldKey, list[tuple[int, str]]], list[tuple[object, ...]]]:
    """Each field's (index, final character) pairs, and the changes as changes.csv rows."""
    by_field: dict[FieldKey, list[tuple[int, str]]] = defaultdict(list)
    changes: list[tuple[object, ...]] = []
    for row in chars:
        key = char_key(row)
        char = final.get(key, row["char"])
        if char != row["char"]:
            changes.append((*key, row["char"], char))
        by_field[key[:3]].append((key[3], char))
    return by_field, changes


def _reviewed_fields(
    fields: list[dict[str, str]],
    by_field: dict[FieldKey, list[tuple[int, str]]],
    changed_fields: set[tuple[object, ...]],
    rules: dict[str, dict[str, object]],
) -> list[tuple[object, ...]]:
    """fields_reviewed.csv rows: values rebuilt and validators re-run where characters were read."""
    reviewed: list[tuple[object, ...]] = []
    for row in fields:
        fkey = (row["document"], int(row["page"]), row["field"])
        if fkey in by_field:
            value = assemble_value(by_field[fkey])
            failures = validate_value(value, rules.get(rules_key(fkey), {}))
            status = "needs_review" if failures else "ok"
            reason = "; ".join(failures)
        else:
            value, status, reason = row["value"], row["status"], row["reason"]
        reviewed.append(
            (
                *fkey,
                value,
                row["confidence"],
                status == "needs_review",
                status,
                reason,
                fkey in changed_fields,
            )
        )
    return reviewed


def add_training_examples(
    run_dir: Path,
    chars: list[dict[str, str]],
    final: dict[CharKey, str],
    reviewed_dir: Path,
    run: str,
) -> int:
    """Append reviewed model inputs with their confirmed labels to ``reviewed_dir``.

    Images are stored as ``images/<sha256>.png`` (28x28, white ink on black, the normalisation
    contract) and listed in ``labels.csv``; an image already there is not added twice.

    Returns:
        How many new examples were added.
    """
    images = reviewed_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    listing = reviewed_dir / REVIEWED_LABELS
    known = {r["image"] for r in read_csv_rows(listing)} if listing.exists() else set()
    new_rows: list[tuple[object, ...]] = []
    for row in chars:
        key = char_key(row)
        source = run_dir / model_input_path(row["crop"])
        if key not in final or not final[key] or not source.exists():
            continue
        data = source.read_bytes()
        if cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE) is None:
            continue
        name = f"images/{hashlib.sha256(data).hexdigest()}.png"
        if name in known:
            continue
        write_atomic(reviewed_dir / name, data)
        known.add(name)
        new_rows.append((name, final[key], run, *key))
    if new_rows:
        _append_csv(listing, REVIEWED_COLUMNS, new_rows)
    return len(new_rows)


def _append_csv(path: Path, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    text = format_csv([columns, *rows] if not path.exists() else rows)
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
