"""Printed lines are found in the image, whatever their thickness or shade, and erased."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from segmentation.crops import cut_field
from segmentation.records import FieldSpec
from segmentation.templates import TICK_FRACTION

HSF = Path(__file__).parents[1] / "resources" / "hsf"
IDENTITY = np.eye(3)
MARGIN = 30  # the HSF fixtures' margin around the field's box


def _form(size: tuple[int, int], box: tuple[int, int, int, int], thickness: int, shade: int):
    page = np.full((size[1], size[0]), 255, np.uint8)
    x0, y0, x1, y1 = box
    half = thickness // 2
    cv2.rectangle(page, (x0 - half, y0 - half), (x1 + half, y1 + half), shade, thickness)
    return page


def _dividers(page: np.ndarray, box: tuple[int, int, int, int], xs: list[int], style: str):
    """Draw comb dividers 5 px thick at ``xs``: ticks, full-height lines or separate boxes.

    Separate boxes are drawn where the template has ticks, 15 px of paper between their sides.
    """
    _x0, y0, _x1, y1 = box
    for x in xs:
        if style == "ticks":
            cv2.line(page, (x, round(y1 - TICK_FRACTION * (y1 - y0))), (x, y1), 0, 5)
        elif style == "full":
            cv2.line(page, (x, y0), (x, y1), 0, 5)
        else:
            cv2.rectangle(page, (x - 14, y0 - 2), (x + 14, y1 + 2), 255, -1)
            cv2.line(page, (x - 10, y0), (x - 10, y1), 0, 5)
            cv2.line(page, (x + 10, y0), (x + 10, y1), 0, 5)


def _comb(box: tuple[int, int, int, int], cells: int) -> FieldSpec:
    x0, y0, x1, y1 = box
    width = (x1 - x0) // cells
    spans = tuple((x0 + k * width, y0, x0 + (k + 1) * width, y1) for k in range(cells))
    return FieldSpec("f", "comb", "digits", box, cells=spans, max_chars=cells)


@pytest.mark.parametrize("thickness", [1, 3, 6, 8])
@pytest.mark.parametrize("shade", [0, 170])
def test_an_empty_frame_of_any_thickness_or_shade_is_an_empty_field(thickness: int, shade: int):
    box = (60, 60, 700, 180)
    page = _form((800, 260), box, thickness, shade)
    # The template's box is a few pixels off the printed frame, as a hand-written one is.
    spec = FieldSpec("f", "box", "digits", (63, 57, 704, 183), max_chars=8)
    crops = cut_field(page, spec, IDENTITY, 128, 300)
    assert crops.status == "empty", crops.reason
    assert crops.chars == ()


def test_a_stroke_crossing_a_thick_line_is_kept_across_it():
    box = (60, 60, 700, 180)
    page = _form((800, 260), box, 7, 0)
    cv2.line(page, (300, 100), (300, 215), 0, 5)  # a 1 whose tail runs through the bottom line
    spec = FieldSpec("f", "box", "digits", box, max_chars=8)
    crops = cut_field(page, spec, IDENTITY, 128, 300)
    assert len(crops.chars) == 1
    x0, y0, x1, y1 = crops.chars[0].box
    assert y0 <= 102 and y1 >= 192  # one piece from above the line to below it (window edge)
    assert x1 - x0 <= 12  # and no piece of the frame with it


@pytest.mark.parametrize("style", ["ticks", "full", "boxes"])
def test_empty_comb_cells_are_empty_whatever_the_divider_style(style: str):
    box = (60, 60, 660, 170)
    page = _form((740, 240), box, 5, 0)
    spec = _comb(box, 6)
    _dividers(page, box, [cell[0] for cell in spec.cells[1:]], style)
    cv2.putText(
        page, "7", (spec.cells[2][0] + 25, box[3] - 25), cv2.FONT_HERSHEY_SIMPLEX, 2.4, 0, 7
    )
    crops = cut_field(page, spec, IDENTITY, 128, 300)
    assert [c.status for c in crops.chars] == ["empty", "empty", "ok", "empty", "empty", "empty"]


@pytest.mark.parametrize(
    ("name", "written"),
    [("f0000_14-hsf_8", "8941"), ("f0000_14-hsf_3", "0123456789")],
)
def test_a_real_hsf_field_loses_its_frame_and_splits_into_its_characters(name: str, written: str):
    page = cv2.imread(str(HSF / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
    assert page is not None
    height, width = page.shape
    box = (MARGIN, MARGIN, width - MARGIN, height - MARGIN)
    spec = FieldSpec("f", "box", "digits", box, max_chars=len(written))
    crops = cut_field(page, spec, IDENTITY, 128, 300)
    assert crops.status == "ok"
    assert len(crops.chars) == len(written)
    for char in crops.chars:  # no crop is a piece of frame: each is about character-sized
        x0, y0, x1, y1 = char.box
        assert x1 - x0 < 0.6 * (box[3] - box[1]) and y1 - y0 < 0.8 * (box[3] - box[1])
    assert crops.lattice is not None and crops.lattice.atoms >= len(written)


def test_a_dark_stem_beside_a_grey_divider_is_writing_not_the_divider():
    # A light grey comb with full-height dividers; in its third cell a small 9 written dark,
    # its stem straight down beside the divider and on through the bottom line.
    box = (60, 60, 660, 170)
    page = _form((740, 240), box, 3, 170)
    spec = _comb(box, 6)
    for cell in spec.cells[1:]:
        cv2.line(page, (cell[0], box[1]), (cell[0], box[3]), 170, 3)
    stem = spec.cells[2][2] - 14  # 14 px left of the divider: within its search band
    cv2.circle(page, (stem - 16, 120), 16, 0, 5)
    cv2.line(page, (stem, 120), (stem, 195), 0, 5)
    crops = cut_field(page, spec, IDENTITY, 128, 300)
    assert [c.status for c in crops.chars] == ["empty", "empty", "ok", "empty", "empty", "empty"]
    _x0, _y0, x1, y1 = crops.chars[2].box
    assert y1 >= 185  # the stem whole, through the bottom line: a 9, not a 0
    assert x1 >= stem + 2


@pytest.mark.parametrize("style", ["touching boxes", "thick"])
def test_dividers_too_thick_for_the_usual_window_are_erased(style: str):
    # Separate boxes printed with their sides touching make one 16 px divider; a thick comb
    # prints 12 px ones. Left in, each reads as a confident 1.
    box = (60, 60, 660, 170)
    page = _form((740, 240), box, 8, 0)
    spec = _comb(box, 6)
    for cell in spec.cells[1:]:
        x = cell[0]
        if style == "touching boxes":
            page[box[1] - 4 : box[3] + 4, x - 8 : x] = 0
            page[box[1] - 4 : box[3] + 4, x : x + 8] = 0
        else:
            page[box[1] : box[3], x - 6 : x + 6] = 0
    cv2.putText(page, "4", (spec.cells[3][0] + 25, 145), cv2.FONT_HERSHEY_SIMPLEX, 2.4, 0, 7)
    crops = cut_field(page, spec, IDENTITY, 128, 300)
    assert [c.status for c in crops.chars] == ["empty", "empty", "empty", "ok", "empty", "empty"]


@pytest.mark.parametrize(
    ("style", "offset"), [("full", -12), ("full", 12), ("boxes", 21), ("boxes", -21)]
)
def test_a_tall_one_written_against_a_divider_is_kept(style: str, offset: int):
    # In the third cell, a 1 written tall (three quarters of the box) close against one of
    # its dividers, or against a box's side. A box's second side runs beside every divider
    # of the comb at the same gap; a stroke beside one of them is writing.
    box = (60, 60, 660, 170)
    page = _form((740, 240), box, 5, 0)
    spec = _comb(box, 6)
    _dividers(page, box, [cell[0] for cell in spec.cells[1:]], style)
    cell = spec.cells[2]
    stem = (cell[0] if offset > 0 else cell[2]) + offset
    cv2.line(page, (stem, 78), (stem, 160), 0, 5)
    crops = cut_field(page, spec, IDENTITY, 128, 300)
    assert [c.status for c in crops.chars] == ["empty", "empty", "ok", "empty", "empty", "empty"]
    x0, y0, x1, y1 = crops.chars[2].box
    assert y0 <= 80 and y1 >= 158  # the stem whole
    assert x1 - x0 <= 12  # and no box side with it
