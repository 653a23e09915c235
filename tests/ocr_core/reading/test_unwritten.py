"""A form page with nothing written in any field goes to review: left blank, or lost by the scan."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from ocr_core.reading.context import load_template_set
from ocr_core.reading.document import UNWRITTEN, digitise_document
from ocr_core.reading.recognisers import Recognisers
from ocr_core.results.csvfiles import read_csv_rows
from ocr_core.results.write import write_results
from segmentation import load_template, render_blank_form
from segmentation.synthetic.penmarks import draw_mark
from tests.ocr_core.reading.test_tick_rows import FORM

ROOT = Path(__file__).resolve().parents[3]
MODELS = ROOT / "data" / "models"
NIST = ROOT / "data" / "templates" / "nist-hsf.yaml"


@pytest.fixture(scope="module")
def recognisers() -> Recognisers:
    return Recognisers(MODELS)


def test_the_real_blank_nist_form_is_flagged_field_by_field(
    tmp_path: Path, recognisers: Recognisers
) -> None:
    # The NIST form as printed (a real scan, shipped as the template's blank): no field holds
    # anything, which is also how a form whose pencil the scan dropped reads.
    templates = load_template_set((str(NIST),))
    blank = ROOT / "data" / "templates" / "nist-hsf-blank.png"
    result = digitise_document(blank, "blank.png", templates, recognisers, tmp_path, slot=0)
    assert len(result.fields) == 34
    assert {(f.value, f.status, f.needs_review, f.reason) for f in result.fields} == {
        ("", "empty", True, UNWRITTEN)
    }
    # A page written by hand is read as before: its empty fields, if any, are not flagged so.
    page = ROOT / "data" / "samples" / "nist-hsf-f0000_14.png"
    written = digitise_document(page, "page.png", templates, recognisers, tmp_path, slot=1)
    assert not any(f.reason == UNWRITTEN for f in written.fields)


def test_an_unticked_box_is_nothing_written_and_one_tick_is_writing(
    tmp_path: Path, recognisers: Recognisers
) -> None:
    (tmp_path / "ticks.yaml").write_text(yaml.safe_dump(FORM))
    template = load_template(tmp_path / "ticks.yaml")
    page = render_blank_form(template)
    cv2.imwrite(str(tmp_path / "blank.png"), page)
    result = digitise_document(
        tmp_path / "blank.png", "blank.png", [template], recognisers, tmp_path / "a", slot=0
    )
    rows = {f.field: f for f in result.fields}
    assert all(f.needs_review and f.reason == UNWRITTEN for f in result.fields)
    # A single box reads 0, not empty, when it is not ticked: flagged, its value kept.
    assert (rows["moved"].value, rows["moved"].status) == ("0", "needs_review")
    assert (rows["title"].value, rows["title"].status) == ("", "empty")
    # The review files list them all, though none has a character or a box image to show.
    run = tmp_path / "a"
    write_results(run, list(result.fields), list(result.chars), [], {}, result.marks)
    assert len(read_csv_rows(run / "review_fields.csv")) == 5
    report = (run / "review.html").read_text()
    assert report.count("<div class='field'>") == 5 and report.count(UNWRITTEN) == 5

    boxes = {o.value + f.name: o.box for f in template.fields for o in f.options}
    draw_mark(page, boxes["CATpet"], "tick", np.random.default_rng(0), 300)
    cv2.imwrite(str(tmp_path / "ticked.png"), page)
    result = digitise_document(
        tmp_path / "ticked.png", "ticked.png", [template], recognisers, tmp_path / "b", slot=0
    )
    rows = {f.field: f for f in result.fields}
    assert rows["pet"].value == "CAT"
    assert not any(f.reason == UNWRITTEN or f.needs_review for f in result.fields)
