"""Writing lighter than the page's ink threshold (pencil, a faint pen) is read, not left out."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from segmentation.crops import cut_field
from segmentation.paper import ink_threshold
from segmentation.records import FieldSpec

IDENTITY = np.eye(3)
BOX = (60, 60, 660, 170)


def _scan(page: np.ndarray, seed: int = 0) -> np.ndarray:
    """A grey scan of a drawn page: a little blur, paper at 240 with noise."""
    rng = np.random.default_rng(seed)
    blurred = cv2.GaussianBlur(page, (0, 0), 0.8).astype(np.float32) * (240 / 255)
    return np.clip(blurred + rng.normal(0, 3, page.shape), 0, 255).astype(np.uint8)


def _page(shade: int, written: bool) -> tuple[np.ndarray, FieldSpec]:
    """A comb of six cells printed black, the 2nd and 5th written in ``shade`` (or not)."""
    page = np.full((240, 740), 255, np.uint8)
    x0, y0, x1, y1 = BOX
    cv2.rectangle(page, (x0, y0), (x1, y1), 0, 3)
    cv2.putText(page, "Account number", (x0, y0 - 20), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 3)
    width = (x1 - x0) // 6
    for k in range(1, 6):
        cv2.line(page, (x0 + k * width, y0), (x0 + k * width, y1), 0, 3)
    if written:
        for k, digit in ((1, "4"), (4, "7")):
            org = (x0 + k * width + 25, y1 - 28)
            cv2.putText(page, digit, org, cv2.FONT_HERSHEY_SIMPLEX, 2.2, shade, 5)
    cells = tuple((x0 + k * width, y0, x0 + (k + 1) * width, y1) for k in range(6))
    return _scan(page), FieldSpec("f", "comb", "digits", BOX, cells=cells, max_chars=6)


@pytest.mark.parametrize("shade", [150, 185, 205])
def test_light_writing_is_found_whatever_the_pages_threshold(shade: int):
    page, spec = _page(shade, written=True)
    threshold = ink_threshold(page)
    assert threshold < shade * 240 / 255  # the print sets it: the writing lies above it
    crops = cut_field(page, spec, IDENTITY, threshold, 300)
    assert [c.status for c in crops.chars] == ["empty", "ok", "empty", "empty", "ok", "empty"]
    for c in (1, 4):  # each digit whole: about as tall as it is written (44 px)
        _x0, y0, _x1, y1 = crops.chars[c].box
        assert y1 - y0 >= 40


def test_an_empty_field_on_a_grey_scan_stays_empty():
    # The printed lines' blurred grey edges are not light writing.
    page, spec = _page(0, written=False)
    crops = cut_field(page, spec, IDENTITY, ink_threshold(page), 300)
    assert crops.status == "empty", [c.status for c in crops.chars]


def test_dark_writing_is_cut_at_the_pages_threshold():
    # Under a level just under the paper, its blurred edges would fatten every stroke.
    page, spec = _page(0, written=True)
    threshold = ink_threshold(page)
    crops = cut_field(page, spec, IDENTITY, threshold, 300)
    cell = spec.cells[1]
    inside = page[BOX[1] + 5 : BOX[3] - 5, cell[0] + 5 : cell[2] - 5]

    def width(level: int) -> int:
        columns = np.flatnonzero((inside < level).any(axis=0))
        return int(columns[-1] + 1 - columns[0])

    x0, _y0, x1, _y1 = crops.chars[1].box
    assert x1 - x0 == width(threshold) < width(230) - 1
