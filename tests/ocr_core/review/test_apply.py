"""apply-review: field and character answers, their checks, examples only from confirmed ones."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ocr_core.errors import InputFileError
from ocr_core.results.csvfiles import read_csv_rows
from ocr_core.results.records import (
    REVIEW_COLUMNS,
)
from ocr_core.results.review_fields import REVIEW_FIELD_COLUMNS
from ocr_core.review.apply import apply_review


def answer_chars(run: Path, answers: dict[tuple[str, int], tuple[str, str]]) -> None:
    """Fill review.csv: (field, index) -> (confirmed, correction)."""
    rows = read_csv_rows(run / "review.csv")
    with (run / "review.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, REVIEW_COLUMNS)
        writer.writeheader()
        for row in rows:
            row["confirmed"], row["correction"] = answers.get(
                (row["field"], int(row["index"])), ("", "")
            )
            writer.writerow(row)


def answer_fields(run: Path, answers: dict[str, dict[str, str]]) -> None:
    rows = read_csv_rows(run / "review_fields.csv")
    with (run / "review_fields.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, REVIEW_FIELD_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, **answers.get(row["field"], {})})


def fields_after(run: Path) -> dict[str, dict[str, str]]:
    return {r["field"]: r for r in read_csv_rows(run / "fields_reviewed.csv")}


def labels(reviewed: Path) -> list[dict[str, str]]:
    listing = reviewed / "labels.csv"
    return read_csv_rows(listing) if listing.exists() else []


def test_review_files_list_flagged_fields_and_their_characters(run_dir: Path) -> None:
    rows = read_csv_rows(run_dir / "review.csv")
    assert len(rows) == 10 and {(r["confirmed"], r["correction"]) for r in rows} == {("", "")}
    sheet = read_csv_rows(run_dir / "review_fields.csv")
    assert [(r["field"], r["value"], r["correction"]) for r in sheet] == [
        ("account", "173", ""),
        ("surname", "GMRIGHT", ""),
    ]
    page = (run_dir / "review.html").read_text()
    # A short report: only the 4 uncertain characters' crops, and the commands to use. Each
    # crop shows its region of its field's crops image.
    assert page.count("<span class='crop'") == 4 and "2 field(s) to review, 4 uncertain" in page
    region = 'url("crops/0000-a/p1-surname.crops.png") -40px -0px;width:9px;height:20px'
    assert region in page
    assert "python -m flows.review serve RUN_DIR" in page
    # Each field's image links to itself, full size (a paragraph is unreadable at 110 px).
    image = "crops/0000-a/p1-surname.field.jpg"
    assert f"<a href='{image}' title='the field full size'><img class='page' src='{image}'" in page


def test_nothing_touched_gives_no_examples_and_changes_nothing(
    run_dir: Path, tmp_path: Path
) -> None:
    outcome = apply_review(run_dir, run_dir / "review.csv", tmp_path / "reviewed")
    assert (outcome.examples_added, outcome.changed, outcome.still_failing) == (0, 0, 2)
    assert fields_after(run_dir)["surname"]["status"] == "needs_review"
    assert labels(tmp_path / "reviewed") == []


def test_only_corrected_or_confirmed_characters_become_examples(
    run_dir: Path, tmp_path: Path
) -> None:
    answer_chars(run_dir, {("account", 1): ("", "2"), ("account", 0): ("yes", "")})
    reviewed = tmp_path / "reviewed"
    outcome = apply_review(run_dir, run_dir / "review.csv", reviewed, reviewer="ann")
    assert fields_after(run_dir)["account"]["value"] == "123"
    assert fields_after(run_dir)["account"]["status"] == "ok"
    found = {(r["index"], r["label"], r["reviewer"]) for r in labels(reviewed)}
    assert found == {("0", "1", "ann"), ("1", "2", "ann")} and outcome.examples_added == 2
    assert all(r["reviewed_at"] for r in labels(reviewed))
    # Applying the same review again adds nothing.
    assert apply_review(run_dir, run_dir / "review.csv", reviewed).examples_added == 0


def test_a_field_correction_of_another_length_fixes_the_value_but_teaches_nothing(
    run_dir: Path, tmp_path: Path
) -> None:
    answer_chars(run_dir, {("surname", 0): ("", "W"), ("surname", 1): ("yes", "")})
    answer_fields(run_dir, {"surname": {"correction": "WRIGHT", "reviewer": "bob"}})
    reviewed = tmp_path / "reviewed"
    outcome = apply_review(run_dir, run_dir / "review.csv", reviewed)
    after = fields_after(run_dir)["surname"]
    assert (after["value"], after["status"], after["reviewer"]) == ("WRIGHT", "ok", "bob")
    [change] = read_csv_rows(run_dir / "changes.csv")
    assert (change["index"], change["before"], change["after"]) == ("", "GMRIGHT", "WRIGHT")
    # The field's answer wins over its characters' (the halves of the W are never labels).
    assert outcome.examples_added == 0 and labels(reviewed) == []


def test_a_same_length_field_correction_labels_each_crop_and_a_later_one_relabels(
    run_dir: Path, tmp_path: Path
) -> None:
    reviewed = tmp_path / "reviewed"
    answer_fields(run_dir, {"surname": {"correction": "GNRIGHT"}})
    assert apply_review(run_dir, run_dir / "review.csv", reviewed).examples_added == 7
    assert [r["label"] for r in labels(reviewed)] == list("GNRIGHT")
    answer_fields(run_dir, {"surname": {"correction": "QNRIGHT"}})
    outcome = apply_review(run_dir, run_dir / "review.csv", reviewed)
    assert (outcome.examples_added, outcome.examples_relabelled) == (0, 1)
    assert [r["label"] for r in labels(reviewed)] == list("QNRIGHT")
    # A correction that no longer pairs with the crops withdraws their labels.
    answer_fields(run_dir, {"surname": {"correction": "WRIGHT"}})
    outcome = apply_review(run_dir, run_dir / "review.csv", reviewed)
    assert outcome.examples_withdrawn == 7 and {r["label"] for r in labels(reviewed)} == {""}


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"correction": "wRIGHT"}, "'w' not allowed in an upper field"),
        ({"correction": "WRIGHTSONS"}, "10 characters, the field holds 8"),
    ],
)
def test_a_field_correction_is_checked_against_its_spec(
    run_dir: Path, tmp_path: Path, answer: dict[str, str], reason: str
) -> None:
    answer_fields(run_dir, {"surname": answer})
    outcome = apply_review(run_dir, run_dir / "review.csv", tmp_path / "reviewed")
    after = fields_after(run_dir)["surname"]
    assert (after["value"], after["status"]) == ("GMRIGHT", "needs_review")
    assert reason in after["reason"] and len(outcome.problems) == 1
    assert "review_fields.csv row 3: surname" in outcome.problems[0]
    assert outcome.examples_added == 0


def test_a_space_between_words_takes_no_room_in_a_box_field(run_dir: Path, tmp_path: Path):
    answer_fields(run_dir, {"surname": {"correction": "DE WRIGHT"}})  # 8 letters: it holds 8
    apply_review(run_dir, run_dir / "review.csv", tmp_path / "reviewed")
    after = fields_after(run_dir)["surname"]
    assert (after["value"], after["status"]) == ("DE WRIGHT", "ok")


def test_confirming_a_value_that_fails_its_validators_keeps_it_in_review(
    run_dir: Path, tmp_path: Path
) -> None:
    fields_csv = run_dir / "fields.csv"  # as if the run had read 174, which fails ^1[0-9]3$
    fields_csv.write_text(fields_csv.read_text().replace(",173,", ",174,"), encoding="utf-8")
    answer_fields(run_dir, {"account": {"confirmed": "yes"}})
    outcome = apply_review(run_dir, run_dir / "review.csv", tmp_path / "reviewed")
    assert "does not match" in fields_after(run_dir)["account"]["reason"]
    assert outcome.examples_added == 0 and outcome.still_failing == 2


def test_a_field_unreadable_on_paper(run_dir: Path, tmp_path: Path) -> None:
    answer_fields(run_dir, {"surname": {"unreadable": "yes"}})
    apply_review(run_dir, run_dir / "review.csv", tmp_path / "reviewed")
    after = fields_after(run_dir)["surname"]
    assert (after["value"], after["status"]) == ("", "unreadable")
    assert "unreadable on paper" in after["reason"]


def test_a_correction_of_many_characters_in_review_csv_is_reported(
    run_dir: Path, tmp_path: Path
) -> None:
    answer_chars(run_dir, {("account", 1): ("", "22")})
    outcome = apply_review(run_dir, run_dir / "review.csv", tmp_path / "reviewed")
    assert "more than one character" in outcome.problems[0]
    assert "review_fields.csv" in outcome.problems[0]
    assert fields_after(run_dir)["account"]["status"] == "needs_review"


def test_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not a finished digitise-forms run"):
        apply_review(tmp_path, tmp_path / "review.csv", tmp_path / "reviewed")


def test_each_example_records_its_fields_charset(run_dir: Path, tmp_path: Path) -> None:
    # Training needs it: a look-alike letter confirmed where both its cases read as one is of
    # unknown case (ocr_core.training.reviewed).
    reviewed = tmp_path / "reviewed"
    answer_fields(run_dir, {"surname": {"correction": "GNRIGHT"}})
    answer_chars(run_dir, {("account", 0): ("yes", "")})
    apply_review(run_dir, run_dir / "review.csv", reviewed)
    charsets = {(r["field"], r["charset"]) for r in labels(reviewed)}
    assert charsets == {("surname", "upper"), ("account", "digits")}
