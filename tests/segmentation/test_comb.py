"""Comb cells: ink that crosses a separator goes to the character it belongs to."""

from __future__ import annotations

import cv2
import numpy as np

from segmentation.crops import cut_field
from segmentation.records import FieldSpec


def comb_page() -> tuple[np.ndarray, FieldSpec]:
    """A 4-cell comb (cells 100 px wide, ticks rising from the bottom line) on a blank page."""
    page = np.full((200, 500), 255, np.uint8)
    page[50:53, 50:450] = page[148:151, 50:450] = 0
    page[50:150, 50:53] = page[50:150, 448:451] = 0
    for x in (150, 250, 350):
        page[115:150, x - 1 : x + 2] = 0
    cells = tuple((x, 50, x + 100, 150) for x in range(50, 450, 100))
    return page, FieldSpec("f", "comb", "digits", (50, 50, 450, 150), cells, 4)


def test_touching_characters_in_neighbouring_cells_are_cut_apart() -> None:
    page, spec = comb_page()
    cv2.ellipse(page, (215, 100), (26, 32), 0, 0, 360, 0, 5)  # a 0 in cell 1 ...
    cv2.ellipse(page, (285, 100), (26, 32), 0, 0, 360, 0, 5)  # ... and one in cell 2
    page[98:103, 240:261] = 0  # joined by one stroke across the separator
    field = cut_field(page, spec, np.eye(3), 128, 300)
    assert [c.status for c in field.chars] == ["empty", "ok", "ok", "empty"]
    left, right = field.chars[1].box, field.chars[2].box
    assert left[0] <= 190 and 240 <= left[2] <= 262  # the whole left ring, cut near x=250
    assert 238 <= right[0] <= 262 and right[2] >= 310


def test_a_cut_off_stroke_rejoins_its_character_not_the_next_cell() -> None:
    page, spec = comb_page()
    page[70:130, 70:140] = 0  # a big character in cell 0 ...
    page[125:135, 144:176] = 0  # ... whose tail, broken off by a faint gap, runs into cell 1
    page[70:130, 200:206] = 0  # cell 1's own character, a 1
    field = cut_field(page, spec, np.eye(3), 128, 300)
    assert [c.status for c in field.chars] == ["ok", "ok", "empty", "empty"]
    assert field.chars[0].box[2] >= 174  # the tail is part of cell 0's character
    assert field.chars[1].box[0] >= 195  # and not of the 1


def test_a_character_written_across_a_separator_stays_whole() -> None:
    page, spec = comb_page()
    cv2.ellipse(page, (160, 95), (30, 36), 0, 0, 360, 0, 5)  # a 0 mostly in cell 1, over the line
    field = cut_field(page, spec, np.eye(3), 128, 300)
    statuses = [c.status for c in field.chars]
    assert statuses.count("ok") == 1
    x0, _y0, x1, _y1 = next(c.box for c in field.chars if c.status == "ok")
    assert x0 <= 132 and x1 >= 188
