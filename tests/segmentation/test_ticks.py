"""Tick boxes: the template schema for marks and choices, and the ink measured in each box."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from ocr_core.errors import TemplateError
from ocr_core.reading.ticks import read_mark_field
from segmentation import load_template, render_blank_form, segment_page
from segmentation.paper import ink_threshold
from segmentation.records import FieldSpec, MarkOption, Template
from segmentation.render import FormStyle
from segmentation.synthetic.penmarks import MARKS, draw_mark
from segmentation.ticks import cut_marks, read_mark, tick_probability

FORM: dict = {
    "name": "ticks",
    "dpi": 300,
    "fields": [
        {"name": "surname", "kind": "box", "charset": "upper", "box": [300, 400, 1500, 520]},
        {"name": "moved", "label": "Moved before", "kind": "mark", "box": [300, 700, 345, 745]},
        {
            "name": "title",
            "kind": "choice",
            "options": [
                {"value": "MR", "box": [300, 900, 345, 945]},
                {"value": "MRS", "box": [600, 900, 645, 945]},
                {"value": "DR", "box": [900, 900, 945, 945]},
            ],
        },
    ],
}


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "form.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_marks_and_choices_load(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, FORM))
    moved, title = template.fields[1], template.fields[2]
    assert moved.kind == "mark" and moved.options == (MarkOption("1", (300, 700, 345, 745)),)
    assert title.kind == "choice" and [o.value for o in title.options] == ["MR", "MRS", "DR"]
    assert title.box == (300, 900, 945, 945)  # around its options
    # A 45 px box is far under the 1/6 inch asked of writing boxes: tick boxes are small.
    assert moved.box[3] - moved.box[1] < 300 // 6


def test_choices_list_and_file_load(tmp_path: Path) -> None:
    (tmp_path / "towns.txt").write_text("# towns\nLEEDS\n\n  ST ALBANS \nLEEDS\n")
    data = {**FORM, "fields": [{**FORM["fields"][0], "choices_file": "towns.txt"}]}
    spec = load_template(write(tmp_path, data)).fields[0]
    assert spec.validation.choices == ("LEEDS", "ST ALBANS")
    assert spec.validation.choices_file == "towns.txt"
    data = {**FORM, "fields": [{**FORM["fields"][0], "validate": {"choices": ["MR", "MRS"]}}]}
    assert load_template(write(tmp_path, data)).fields[0].validation.choices == ("MR", "MRS")


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"name": "m", "kind": "mark", "box": [300, 700, 310, 710]}, "tick box is 10x10 px"),
        (
            {"name": "m", "kind": "mark", "box": [300, 700, 345, 745], "charset": "digits"},
            "no charset",
        ),
        (
            {
                "name": "c",
                "kind": "choice",
                "options": [{"value": "A", "box": [300, 700, 345, 745]}],
            },
            "at least two",
        ),
        (
            {
                "name": "c",
                "kind": "choice",
                "options": [
                    {"value": "A", "box": [300, 700, 345, 745]},
                    {"value": "A", "box": [400, 700, 445, 745]},
                ],
            },
            "given twice",
        ),
        (
            {
                "name": "c",
                "kind": "choice",
                "options": [
                    {"value": "A", "box": [300, 700, 345, 745]},
                    {"value": "B", "box": [320, 700, 365, 745]},
                ],
            },
            "overlaps option",
        ),
        (
            {"name": "t", "kind": "box", "box": [300, 700, 900, 800], "choices_file": "none.txt"},
            "not found",
        ),
        (
            {"name": "t", "kind": "box", "box": [300, 700, 900, 800], "choices_file": "../x.txt"},
            "outside the template's folder",
        ),
        (
            {"name": "t", "kind": "box", "box": [300, 700, 900, 800], "validate": {"choices": []}},
            "list of allowed values is empty",
        ),
        (
            {
                "name": "t",
                "kind": "box",
                "box": [300, 700, 900, 800],
                "choices_file": "a.txt",
                "validate": {"choices": ["A"]},
            },
            "both",
        ),
    ],
)
def test_bad_tick_fields_name_file_field_and_fix(tmp_path: Path, field: dict, message: str) -> None:
    path = write(tmp_path, {**FORM, "fields": [field]})
    with pytest.raises(TemplateError, match=message) as caught:
        load_template(path)
    assert str(path) in str(caught.value)


def _boxes_page(thickness: int, shade: int = 0) -> tuple[Template, np.ndarray]:
    """A form of twelve 45 px tick boxes, drawn with frames ``thickness`` px thick."""
    fields = tuple(
        FieldSpec(f"m{i}", "mark", "01", box, max_chars=1, options=(MarkOption("1", box),))
        for i, box in enumerate(
            (300 + 250 * (i % 6), 600 + 300 * (i // 6), 345 + 250 * (i % 6), 645 + 300 * (i // 6))
            for i in range(12)
        )
    )
    template = Template("boxes", 300, (2480, 3508), fields, None, Path("boxes"))
    style = FormStyle(thickness=thickness, shade=shade)
    return template, render_blank_form(template, style=style)


@pytest.mark.parametrize(("thickness", "shade"), [(1, 0), (3, 0), (8, 0), (4, 180)])
def test_marks_read_whatever_the_frame(thickness: int, shade: int) -> None:
    template, page = _boxes_page(thickness, shade)
    rng = np.random.default_rng(thickness)
    kinds = [*MARKS, "crossed_out", "empty", "empty", "empty", "empty", "empty"]
    for spec, kind in zip(template.fields, kinds, strict=True):
        if kind != "empty":
            draw_mark(page, spec.box, kind, rng, 300)
    # Scan-like specks: single dark pixels scattered over the page, boxes included.
    ys, xs = rng.integers(0, page.shape[0], 4000), rng.integers(0, page.shape[1], 4000)
    page[ys, xs] = 40
    # Cut where the template says (registration is tested on its own; a sheet of nothing but
    # light grey tick boxes is too faint for it).
    threshold = ink_threshold(page)
    fields = [cut_marks(page, spec, np.eye(3), threshold, 300) for spec in template.fields]
    states = [read_mark_field(f).boxes[0].state for f in fields]
    expected = ["ticked"] * len(MARKS) + ["crossed_out"] + ["empty"] * 5
    assert states == expected


def test_crossed_out_mark_goes_to_review_and_empty_value() -> None:
    template, page = _boxes_page(3)
    draw_mark(page, template.fields[0].box, "crossed_out", np.random.default_rng(3), 300)
    result = segment_page(page, [template])
    field = read_mark_field(result.fields[0])
    assert field.status == "needs_review" and field.value == "" and "crossed out" in field.reason
    assert read_mark_field(result.fields[1]).value == "0"


def test_a_doubt_from_segmentation_sends_a_clear_tick_to_review() -> None:
    template, page = _boxes_page(3)
    draw_mark(page, template.fields[0].box, "tick", np.random.default_rng(3), 300)
    field = segment_page(page, [template]).fields[0]
    assert read_mark_field(field).status == "ok"
    doubted = read_mark_field(replace(field, doubt="the page fits form 'x' loosely"))
    assert doubted.status == "needs_review" and doubted.value == "1"
    assert doubted.reason.startswith("the page fits form 'x' loosely")


def test_a_box_off_the_page_is_unreadable() -> None:
    template, page = _boxes_page(3)
    spec = template.fields[0]
    shift = np.array([[1.0, 0, -330], [0, 1.0, 0], [0, 0, 1.0]])  # moves the box off the left
    field = cut_marks(page, spec, shift, 128, 300)
    assert field.status == "unreadable" and "outside the scanned page" in field.reason
    assert read_mark_field(field).needs_review


def test_probability_rises_with_ink_and_doubt_goes_to_review() -> None:
    fills = [0.0, 0.003, 0.01, 0.03, 0.1, 0.5]
    probs = [tick_probability(f) for f in fills]
    assert probs == sorted(probs) and probs[0] < 0.01 and probs[-1] > 0.99
    from segmentation.records import MarkInk

    faint = MarkInk(0, "1", (0, 0, 1, 1), fill=0.006, spill=0.0, around=0.0)
    assert read_mark(faint, 0.97).state == "unsure"


def test_tick_sheet_image_is_what_the_overlay_draws(tmp_path: Path) -> None:
    template, page = _boxes_page(3)
    draw_mark(page, template.fields[0].box, "tick", np.random.default_rng(1), 300)
    from segmentation import draw_overlay

    overlay = draw_overlay(page, segment_page(page, [template]))
    x0, y0, x1, y1 = template.fields[0].box
    # The ticked box is outlined green, an empty one gray.
    assert (overlay[y0 - 3 : y1 + 3, x0 - 3 : x1 + 3] == (0, 170, 0)).all(axis=2).any()
    cv2.imwrite(str(tmp_path / "overlay.png"), overlay)
