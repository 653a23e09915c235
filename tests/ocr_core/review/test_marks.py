"""Reviewing tick boxes, tick-one groups and fields with a list of allowed values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ocr_core.results.records import CharReading, CharRow, FieldRow
from ocr_core.results.write import write_results
from ocr_core.review.apply import apply_review
from ocr_core.review.fieldcheck import check_field_value
from segmentation.templates import load_templates
from tests.ocr_core.review.test_apply import answer_chars, answer_fields, fields_after

TEMPLATE = {
    "name": "ticks",
    "dpi": 100,
    "size": [800, 1000],
    "marks": True,
    "fields": [
        {"name": "moved", "kind": "mark", "box": [100, 100, 130, 130]},
        {"name": "title", "kind": "choice", "options": [
            {"value": "MR", "box": [100, 200, 130, 230]},
            {"value": "MS", "box": [200, 200, 230, 230]},
            {"value": "DR", "box": [300, 200, 330, 230]},
        ]},
        {"name": "town", "kind": "box", "max_chars": 8, "charset": "upper",
         "box": [100, 300, 700, 380], "validate": {"choices": ["LEEDS", "YORK"]}},
    ],
}  # fmt: skip


def box(field: str, index: int, ticked: bool, probability: float) -> CharRow:
    """A tick box's review.csv row, shaped like a character's, as the reader writes it."""
    value = "1" if ticked else "0"
    reading = CharReading((value, "0" if ticked else "1"), (probability, 1 - probability), True)
    crop = f"crops/0000-a/p1-{field}-box{index}.png"
    return CharRow.of(("a.png", 1, field, index), reading, (0, 0, 30, 30), crop)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    template = tmp_path / "ticks.yaml"
    template.write_text(yaml.safe_dump(TEMPLATE), encoding="utf-8")
    fields = [
        FieldRow("a.png", 1, "moved", "0", 0.6, True, "needs_review", "doubtful tick box"),
        FieldRow("a.png", 1, "title", "", 0.5, True, "needs_review", "2 options ticked"),
        FieldRow("a.png", 1, "town", "LEEDS", 0.99, False, "ok", ""),
    ]
    marks = [
        box("moved", 0, False, 0.6),
        box("title", 0, True, 0.9),
        box("title", 1, True, 0.8),
        box("title", 2, False, 0.9),
    ]
    manifest: dict[str, object] = {
        "templates": [str(template)],
        "page_templates": {"a.png": ["ticks"]},
    }
    write_results(tmp_path / "run", fields, [], [], manifest, marks)
    return tmp_path / "run"


def test_values_are_checked_by_kind(tmp_path: Path) -> None:
    path = tmp_path / "ticks.yaml"
    path.write_text(yaml.safe_dump(TEMPLATE), encoding="utf-8")
    specs = {f.name: f for f in load_templates([path])[0].fields}
    assert check_field_value("1", specs["moved"]) == []
    assert check_field_value("0", specs["moved"]) == []
    assert "a tick box is 1 (ticked) or 0" in check_field_value("yes", specs["moved"])[0]
    assert check_field_value("MS", specs["title"]) == check_field_value("", specs["title"]) == []
    assert "not an option (MR, MS, DR" in check_field_value("MRS", specs["title"])[0]
    assert check_field_value("YORK", specs["town"]) == []
    assert "not one of the field's 2 listed values" in check_field_value("HULL", specs["town"])[0]


def test_box_answers_in_review_csv_decide_a_tick_box_and_a_tick_one_group(
    run_dir: Path, tmp_path: Path
) -> None:
    answer_chars(run_dir, {("moved", 0): ("", "1"), ("title", 1): ("", "0")})
    outcome = apply_review(run_dir, run_dir / "review.csv", tmp_path / "reviewed")
    after = fields_after(run_dir)
    assert (after["moved"]["value"], after["moved"]["status"]) == ("1", "ok")
    # Emptying one of two ticked options leaves no single ticked option answered: still review.
    assert after["title"]["status"] == "needs_review" and len(outcome.problems) == 1
    answer_chars(run_dir, {("title", 0): ("", "1"), ("title", 1): ("", "0")})
    outcome = apply_review(run_dir, run_dir / "review.csv", tmp_path / "reviewed")
    title = fields_after(run_dir)["title"]
    assert (title["value"], title["status"], outcome.problems) == ("MR", "ok", ())
    assert outcome.examples_added == 0  # tick boxes are not training examples


def test_whole_field_answers_for_tick_boxes(run_dir: Path, tmp_path: Path) -> None:
    answer_fields(run_dir, {"title": {"correction": "DR"}, "moved": {"correction": "2"}})
    outcome = apply_review(run_dir, run_dir / "review.csv", tmp_path / "reviewed")
    after = fields_after(run_dir)
    assert (after["title"]["value"], after["title"]["status"]) == ("DR", "ok")
    assert after["moved"]["status"] == "needs_review" and len(outcome.problems) == 1
