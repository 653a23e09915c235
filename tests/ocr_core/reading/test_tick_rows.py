"""Tick boxes through the reader and the result files: fields.csv, review.csv, no characters."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from ocr_core.reading.document import digitise_document
from ocr_core.reading.recognisers import Recognisers
from ocr_core.results.csvfiles import read_csv_rows
from ocr_core.results.write import write_results
from segmentation import load_template, render_blank_form
from segmentation.synthetic.penmarks import draw_mark

MODELS = Path(__file__).resolve().parents[3] / "data" / "models"
FORM = {
    "name": "ticks",
    "dpi": 300,
    "fields": [
        {"name": "moved", "label": "Moved before", "kind": "mark", "box": [300, 700, 345, 745]},
        {"name": "post", "label": "Post", "kind": "mark", "box": [300, 900, 345, 945]},
        {
            "name": "title",
            "kind": "choice",
            "options": [
                {"value": "MR", "box": [300, 1200, 345, 1245]},
                {"value": "MRS", "box": [700, 1200, 745, 1245]},
                {"value": "DR", "box": [1100, 1200, 1145, 1245]},
            ],
        },
        {
            "name": "pet",
            "kind": "choice",
            "options": [
                {"value": "CAT", "box": [300, 1500, 345, 1545]},
                {"value": "DOG", "box": [700, 1500, 745, 1545]},
            ],
        },
        {
            "name": "colour",
            "kind": "choice",
            "options": [
                {"value": "RED", "box": [300, 1800, 345, 1845]},
                {"value": "BLUE", "box": [700, 1800, 745, 1845]},
            ],
        },
    ],
}


@pytest.fixture(scope="module")
def recognisers() -> Recognisers:
    return Recognisers(MODELS)


def test_marks_become_field_rows_and_review_rows(tmp_path: Path, recognisers: Recognisers) -> None:
    (tmp_path / "ticks.yaml").write_text(yaml.safe_dump(FORM))
    template = load_template(tmp_path / "ticks.yaml")
    page = render_blank_form(template)
    rng = np.random.default_rng(2)
    boxes = {o.value + f.name: o.box for f in template.fields for o in f.options}
    draw_mark(page, boxes["1moved"], "tick", rng, 300)  # moved: ticked; post: empty
    draw_mark(page, boxes["MRtitle"], "cross", rng, 300)  # title: two ticked
    draw_mark(page, boxes["DRtitle"], "fill", rng, 300)
    draw_mark(page, boxes["DOGpet"], "scribble", rng, 300)  # pet: DOG; colour: none
    cv2.imwrite(str(tmp_path / "form.png"), page)
    run = tmp_path / "run"
    result = digitise_document(
        tmp_path / "form.png", "form.png", [template], recognisers, run, slot=1
    )
    rows = {r.field: r for r in result.fields}
    assert (rows["moved"].value, rows["moved"].status) == ("1", "ok")
    assert (rows["post"].value, rows["post"].status) == ("0", "ok")
    assert rows["moved"].confidence is not None and rows["moved"].confidence > 0.9
    title = rows["title"]
    assert (title.value, title.status) == ("", "needs_review")
    assert title.reason.startswith("2 options ticked (MR, DR)")
    assert (rows["pet"].value, rows["pet"].status) == ("DOG", "ok")
    assert (rows["colour"].value, rows["colour"].status) == ("", "empty")
    assert result.chars == ()  # tick boxes have no characters
    # The flagged group's boxes go to review, each with its image.
    assert [(m.field, m.index, m.char) for m in result.marks] == [
        ("title", 0, "1"),
        ("title", 1, "0"),
        ("title", 2, "1"),
    ]
    assert all((run / m.crop).is_file() for m in result.marks)
    write_results(run, list(result.fields), list(result.chars), [], {}, result.marks)
    assert read_csv_rows(run / "characters.csv") == []
    review = read_csv_rows(run / "review.csv")
    assert [(r["field"], r["index"], r["correction"]) for r in review] == [
        ("title", "0", ""),
        ("title", "1", ""),
        ("title", "2", ""),
    ]
    fields = {r["field"]: r for r in read_csv_rows(run / "fields.csv")}
    assert fields["moved"]["value"] == "1" and fields["title"]["needs_review"] == "true"
    assert "title" in (run / "review.html").read_text()
