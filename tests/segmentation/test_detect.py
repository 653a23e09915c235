"""Template-free mode: fields found from the page's own lines, in any turn, named from labels."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from segmentation import iter_pages, load_template, segment_page
from segmentation.draft.labels import tesseract_available
from segmentation.synthetic import GlyphPool, fill_form
from segmentation.ticks import read_mark

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
TEMPLATES = SAMPLES.parent / "templates"
# The loan form's labels name its fields as its template does, but for "Date DDMMYYYY"
# (the template says application_date) and "Amount GBP" (loan_amount).
LOAN_REST = ["postcode", "amount_gbp", "term_months", "initials", "phone", "branch"]


@pytest.fixture(scope="module")
def loan_page() -> tuple[np.ndarray, dict]:
    truth = json.loads((SAMPLES / "scan-001.json").read_text())["pages"][0]
    assert truth["template"] == "loan-application" and truth["distortion"]["quarter_turns"] == 0
    return next(iter_pages(SAMPLES / "scan-001.png")), truth


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_fields_found_without_a_template(loan_page: tuple[np.ndarray, dict], turns: int) -> None:
    page, truth = loan_page
    turned = np.ascontiguousarray(np.rot90(page, turns))
    result = segment_page(turned, None)
    assert result.status == "ok" and result.template is None
    assert [f.kind for f in result.fields] == [f["kind"] for f in truth["fields"]]
    if tesseract_available():  # named, with charsets and validators, from the printed labels
        template = load_template(TEMPLATES / "loan-application.yaml")
        names = [f.name for f in result.fields]
        assert names == [*[s.name for s in template.fields[:4]], "date", *LOAN_REST]
        assert [f.charset for f in result.fields] == [s.charset for s in template.fields]
        assert result.fields[3].validation.date == "%d%m%Y"
        assert result.fields[2].validation.luhn
    else:
        assert [f.name for f in result.fields] == [f"field_{k:02d}" for k in range(1, 12)]
    combs = [f for f in result.fields if f.kind == "comb"]
    cells = [len(f["value"]) for f in truth["fields"] if f["kind"] == "comb"]
    assert all(len(f.chars) >= n for f, n in zip(combs, cells, strict=True))
    written = sum(len(f["chars"]) for f in truth["fields"])
    found = sum(c.status == "ok" for f in result.fields for c in f.chars)
    assert abs(found - written) <= 0.03 * written


def test_page_without_boxes_is_unregistered() -> None:
    page = np.full((3508, 2480), 255, np.uint8)
    page[400:480, 300:1500] = 0  # a heading bar, no boxes
    result = segment_page(page, [])
    assert result.status == "unregistered" and "no boxed fields" in result.reason


def test_full_height_cell_separators(tmp_path: Path, drawn_pool: GlyphPool) -> None:
    cells = [[300 + 90 * k, 600, 390 + 90 * k, 710] for k in range(6)]
    data = {
        "name": "boxed-cells",
        "fields": [
            {
                "name": "code",
                "kind": "comb",
                "charset": "digits",
                "box": [300, 600, 840, 710],
                "cells": cells,
            },
            {"name": "town", "kind": "box", "charset": "upper", "box": [300, 1000, 1500, 1130]},
        ],
    }
    (tmp_path / "boxed.yaml").write_text(yaml.safe_dump(data))
    template = load_template(tmp_path / "boxed.yaml")
    page, truth = fill_form(template, drawn_pool, np.random.default_rng(4), touch_rate=0.0)
    written = [len(f["chars"]) for f in truth]
    for templates in ([template], None):
        result = segment_page(page, templates)
        assert result.status == "ok"
        comb, box = result.fields
        assert comb.kind == "comb" and len(comb.chars) == 6 and box.kind == "box"
        assert sum(c.status == "ok" for c in comb.chars) == written[0]
        assert sum(c.status == "ok" for c in box.chars) == written[1]


def test_lone_squares_are_read_as_tick_boxes_without_a_template() -> None:
    page = np.full((3508, 2480), 255, np.uint8)
    cv2.rectangle(page, (300, 600), (1500, 730), 0, 3)  # a writing box, left empty
    cv2.rectangle(page, (300, 1000), (345, 1045), 0, 3)  # a tick box, ticked
    cv2.line(page, (308, 1020), (320, 1036), 0, 4)
    cv2.line(page, (320, 1036), (340, 1006), 0, 4)
    cv2.rectangle(page, (600, 1000), (645, 1045), 0, 3)  # a tick box, empty
    result = segment_page(page, None)
    assert result.status == "ok"
    marks = [f for f in result.fields if f.kind == "mark"]
    assert len(marks) == 2 and all(len(f.marks) == 1 for f in marks)
    ticked, empty = sorted(marks, key=lambda f: f.box[0])
    assert read_mark(ticked.marks[0], 0.9).state == "ticked"
    assert read_mark(empty.marks[0], 0.9).state == "empty"
