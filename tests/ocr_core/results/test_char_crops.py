"""Character crops: one image a field, each character's crop its region of it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr_core.results.char_crops import (
    crop_png,
    crop_ref,
    crop_view,
    cut_field_crops,
    read_crop,
    split_crop,
)

MARGIN = 4


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_each_region_is_the_characters_box_cut_alone_and_turned(turns: int) -> None:
    # Boxes of a field, one at the page's corner (its margin clipped), one far off the others.
    page = (np.random.default_rng(turns).random((300, 400)) * 255).astype(np.uint8)
    boxes = [(0, 2, 30, 40), (40, 10, 62, 44), (70, 5, 95, 50), (300, 200, 330, 260)]
    image, rects = cut_field_crops(page, boxes, turns, MARGIN)
    for (x0, y0, x1, y1), (x, y, w, h) in zip(boxes, rects, strict=True):
        alone = page[max(0, y0 - MARGIN) : y1 + MARGIN, max(0, x0 - MARGIN) : x1 + MARGIN]
        assert np.array_equal(image[y : y + h, x : x + w], np.rot90(alone, turns))
    assert image.flags.c_contiguous


def test_a_crop_names_its_file_and_region(tmp_path: Path) -> None:
    crop = crop_ref("crops/0000-a/p1-name.crops.png", (5, 0, 10, 20))
    assert crop == "crops/0000-a/p1-name.crops.png#xywh=5,0,10,20"
    assert split_crop(crop) == ("crops/0000-a/p1-name.crops.png", (5, 0, 10, 20))
    image = np.arange(20 * 30, dtype=np.uint8).reshape(20, 30)
    (tmp_path / "crops/0000-a").mkdir(parents=True)
    assert cv2.imwrite(str(tmp_path / "crops/0000-a/p1-name.crops.png"), image)
    got = read_crop(tmp_path, crop)
    assert got is not None and np.array_equal(got, image[0:20, 5:15])
    png = crop_png(tmp_path, crop)
    assert png is not None
    decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded is not None and np.array_equal(decoded, image[0:20, 5:15])


def test_crops_that_name_no_region_of_their_file_read_as_none(tmp_path: Path) -> None:
    image = np.zeros((20, 30), np.uint8)
    assert cv2.imwrite(str(tmp_path / "f.crops.png"), image)
    for fragment in ("25,0,10,20", "0,0,0,20", "0,5,30,16", "1,2,3", "a,b,c,d", "-1,0,5,5"):
        assert read_crop(tmp_path, f"f.crops.png#xywh={fragment}") is None, fragment
        assert crop_png(tmp_path, f"f.crops.png#xywh={fragment}") is None, fragment
    assert read_crop(tmp_path, "missing.crops.png#xywh=0,0,5,5") is None


def test_a_crop_without_a_region_is_its_whole_file(tmp_path: Path) -> None:
    # A tick box's image, or a character's crop from a run that kept a file a character.
    image = np.full((12, 9), 77, np.uint8)
    assert cv2.imwrite(str(tmp_path / "p1-code-3.png"), image)
    assert split_crop("p1-code-3.png") == ("p1-code-3.png", None)
    got = read_crop(tmp_path, "p1-code-3.png")
    assert got is not None and np.array_equal(got, image)


def test_pages_show_a_crop_by_its_percent_encoded_file_and_region() -> None:
    assert crop_view("crops/0000-a b/p1-x.crops.png#xywh=1,2,3,4") == {
        "url": "crops/0000-a%20b/p1-x.crops.png",
        "rect": (1, 2, 3, 4),
    }
    assert crop_view("crops/a'b.png") == {"url": "crops/a%27b.png", "rect": None}
