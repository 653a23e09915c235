"""Blobs: a piece of ink kept over its own box, measured and joined as whole-window masks are."""

import cv2
import numpy as np
import pytest

from ocr_core.recognition.normalise import crop_to_character
from segmentation.ink import Blob, Framer, to_page_boxes


def test_a_blob_is_its_inks_extent() -> None:
    mask = np.zeros((30, 50), bool)
    mask[5:12, 20:24] = True
    mask[14, 30] = True
    blob = Blob.tight(mask)
    assert (blob.x, blob.y, blob.width, blob.height) == (20, 5, 11, 10)
    assert blob.span == (20, 31) and blob.rows == (5, 15) and blob.area() == 29
    np.testing.assert_array_equal(blob.whole(mask.shape), mask)
    with pytest.raises(ValueError, match="ink"):
        Blob.tight(np.zeros((4, 4), bool))


def test_joined_blobs_are_the_union_of_their_masks() -> None:
    rng = np.random.default_rng(0)
    shape = (40, 90)
    masks = []
    for _ in range(3):
        mask = np.zeros(shape, bool)
        y, x = rng.integers(0, 30), rng.integers(0, 80)
        mask[y : y + 10, x : x + 10] = rng.random((10, 10)) > 0.5
        mask[y, x] = True
        masks.append(mask)
    blobs = [Blob.tight(m) for m in masks]
    joined = blobs[0].join(*blobs[1:])
    np.testing.assert_array_equal(joined.whole(shape), masks[0] | masks[1] | masks[2])


def _framed(mask: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """The definition: the mask grown by a pixel over the window, kept within the ink's box."""
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return crop_to_character(strength[box] * grown[box], ink_is_dark=False)


def _page_box(box: tuple[int, int, int, int], to_page: np.ndarray, page: np.ndarray) -> tuple:
    """The definition: the box's corners mapped, the page pixels they span, clipped to it."""
    x0, y0, x1, y1 = box
    corners = np.array([[[x, y] for x in (x0, x1) for y in (y0, y1)]], np.float64)
    points = cv2.perspectiveTransform(corners, to_page)[0]
    left, top = np.floor(points.min(axis=0)).astype(int).tolist()
    right, bottom = np.ceil(points.max(axis=0)).astype(int).tolist()
    height, width = page.shape
    clip = lambda v, hi: min(max(v, 0), hi)  # noqa: E731
    return (clip(left, width), clip(top, height), clip(right, width), clip(bottom, height))


def test_a_blob_is_framed_as_its_grown_ink_in_the_whole_window() -> None:
    rng = np.random.default_rng(1)
    strength = rng.integers(0, 256, (60, 120)).astype(np.uint8)
    mask = np.zeros((60, 120), bool)
    mask[10:50, 30:55] = rng.random((40, 25)) > 0.4
    page = np.zeros((500, 500), np.uint8)
    to_page = np.array([[1.0, 0, 100], [0, 1.0, 200], [0, 0, 1.0]])
    [crop] = Framer(strength, to_page, page).crops([Blob.tight(mask)])
    np.testing.assert_array_equal(crop.image, _framed(mask, strength))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    assert crop.box == (100 + cols[0], 200 + rows[0], 101 + cols[-1], 201 + rows[-1])


def test_a_framer_frames_many_blobs_each_as_alone_and_each_distinct_one_once() -> None:
    rng = np.random.default_rng(2)
    strength = rng.integers(0, 256, (60, 200)).astype(np.uint8)
    masks = []
    for x in range(0, 180, 30):
        mask = np.zeros((60, 200), bool)
        mask[5:55, x : x + 20] = rng.random((50, 20)) > 0.5
        masks.append(mask)
    faint = np.zeros((60, 200), bool)
    faint[20:30, 185:195] = True
    strength[20:30, 185:195] = 10  # ink too faint to frame: an empty crop
    masks.append(faint)
    page = np.zeros((400, 400), np.uint8)
    to_page = np.array([[1.0, 0.02, 50], [0.01, 1.0, 30], [1e-5, 0, 1.0]])
    framer = Framer(strength, to_page, page)
    blobs = [Blob.tight(m) for m in masks]
    first = framer.crops(blobs)
    again = framer.crops([blobs[2], Blob.tight(masks[2].copy()), blobs[0].join(blobs[1])])
    assert [c.index for c in first] == list(range(len(blobs)))
    assert [c.index for c in again] == [0, 1, 2]
    for crop, mask, blob in zip(first, masks, blobs, strict=True):
        x0, x1 = blob.span
        y0, y1 = blob.rows
        assert crop.box == _page_box((x0, y0, x1, y1), to_page, page)
        if mask is not faint:
            assert crop.status == "ok"
            np.testing.assert_array_equal(crop.image, _framed(mask, strength))
    assert first[-1].status == "empty" and not first[-1].image.any()
    # The same ink at the same place is framed once, however it was cut out.
    assert again[0].image is first[2].image and again[1].image is first[2].image
    np.testing.assert_array_equal(again[2].image, _framed(masks[0] | masks[1], strength))


def test_page_boxes_of_many_boxes_are_each_boxes_page_box() -> None:
    page = np.zeros((300, 200), np.uint8)
    to_page = np.array([[1.1, 0.05, -20], [-0.03, 0.9, 40], [2e-4, -1e-4, 1.0]])
    boxes = [(0, 0, 10, 10), (5, 7, 190, 280), (150, 250, 400, 500), (-100, -100, 5, 5)]
    mapped = to_page_boxes(boxes, to_page, page)
    assert mapped == [_page_box(box, to_page, page) for box in boxes]
    assert mapped[2][2:] == (200, 300) and mapped[3][:2] == (0, 0)  # clipped to the page
    assert to_page_boxes([], to_page, page) == []
