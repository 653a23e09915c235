import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr_core.errors import InputFileError
from ocr_core.results.csvfiles import read_csv_rows
from ocr_core.results.records import (
    REVIEW_COLUMNS,
    CharReading,
    CharRow,
    FieldRow,
    model_input_path,
)
from ocr_core.results.write import write_results
from ocr_core.review.apply import apply_review


def char(field: str, index: int, value: str, review: bool) -> CharRow:
    crop = f"crops/0000-a/p1-{field}-{index}.png"
    reading = CharReading(
        labels=(value, "x", "y"), probs=(0.4 if review else 0.99, 0.1, 0.05), needs_review=review
    )
    return CharRow.of(
        ("a.png", 1, field, index), reading, (10 * index, 0, 10 * index + 9, 20), crop
    )


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run folder written by the pipeline's own writers: two fields, three flagged chars."""
    folder = tmp_path / "run"
    chars = [
        char("account", 0, "1", False),
        char("account", 1, "7", True),
        char("account", 2, "3", False),
        char("surname", 0, "S", False),
        char("surname", 1, "M", True),
    ]
    fields = [
        FieldRow("a.png", 1, "account", "173", 0.4, True, "needs_review", "1 uncertain"),
        FieldRow("a.png", 1, "surname", "SM", 0.4, True, "needs_review", "1 uncertain"),
    ]
    manifest: dict[str, object] = {"field_rules": {"a.png|1|account": {"regex": "^1[0-9]3$"}}}
    write_results(folder, fields, chars, [], manifest)
    rng = np.random.default_rng(1)
    for c in chars:
        path = folder / model_input_path(c.crop)
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), (rng.random((28, 28)) * 255).astype(np.uint8))
    return folder


def correct(review_csv: Path, corrections: dict[tuple[str, int], str]) -> None:
    rows = read_csv_rows(review_csv)
    with review_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, REVIEW_COLUMNS)
        writer.writeheader()
        for row in rows:
            row["correction"] = corrections.get((row["field"], int(row["index"])), "")
            writer.writerow(row)


def test_review_lists_flagged_chars_and_whole_failing_fields(run_dir: Path) -> None:
    rows = read_csv_rows(run_dir / "review.csv")
    # Both fields need review, so all their characters are shown, each with an empty correction.
    assert len(rows) == 5 and {r["correction"] for r in rows} == {""}
    page = (run_dir / "review.html").read_text()
    # Each crop twice: once in its field's strip, once in its row beside the suggestions.
    assert page.count("<img") == 10 and "2 field(s) to review, 2 uncertain character(s)" in page
    assert "Read as <span class='read'>173</span> &mdash; 1 uncertain" in page
    # The uncertain characters are marked, in the strip and in the table; the others are not.
    assert page.count("class='check'") == 4
    assert "<tr class='check'><td>1</td><td><img src='crops/0000-a/p1-account-1.png'" in page
    assert "<tr class=''><td>0</td><td><img src='crops/0000-a/p1-account-0.png'" in page


def test_corrections_fix_values_and_become_training_data(run_dir: Path, tmp_path: Path) -> None:
    correct(run_dir / "review.csv", {("account", 1): "2", ("surname", 1): "N"})
    reviewed = tmp_path / "reviewed"
    outcome = apply_review(run_dir, run_dir / "review.csv", reviewed)
    assert (outcome.reviewed, outcome.changed, outcome.fields_changed) == (5, 2, 2)
    fields = {r["field"]: r for r in read_csv_rows(run_dir / "fields_reviewed.csv")}
    assert fields["account"]["value"] == "123" and fields["account"]["status"] == "ok"
    assert fields["surname"]["value"] == "SN" and fields["surname"]["changed"] == "true"
    changes = read_csv_rows(run_dir / "changes.csv")
    assert {(c["field"], c["before"], c["after"]) for c in changes} == {
        ("account", "7", "2"),
        ("surname", "M", "N"),
    }
    labels = read_csv_rows(reviewed / "labels.csv")
    assert len(labels) == outcome.examples_added == 5
    assert {r["label"] for r in labels if r["field"] == "account"} == {"1", "2", "3"}
    assert all((reviewed / r["image"]).exists() for r in labels)
    # Applying the same review again adds no duplicate training examples.
    assert apply_review(run_dir, run_dir / "review.csv", reviewed).examples_added == 0


def test_validators_rerun_after_review(run_dir: Path, tmp_path: Path) -> None:
    correct(run_dir / "review.csv", {("account", 1): "Z"})
    apply_review(run_dir, run_dir / "review.csv", tmp_path / "reviewed")
    fields = {r["field"]: r for r in read_csv_rows(run_dir / "fields_reviewed.csv")}
    assert fields["account"]["status"] == "needs_review"
    assert "does not match" in fields["account"]["reason"]


def test_a_bad_correction_names_the_row(run_dir: Path, tmp_path: Path) -> None:
    correct(run_dir / "review.csv", {("account", 1): "22"})
    with pytest.raises(InputFileError, match=r"review\.csv: row 3"):
        apply_review(run_dir, run_dir / "review.csv", tmp_path / "reviewed")
