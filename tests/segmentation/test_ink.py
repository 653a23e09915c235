"""Blobs: a piece of ink kept over its own box, measured and joined as whole-window masks are."""

import cv2
import numpy as np
import pytest

from ocr_core.recognition.normalise import crop_to_character
from segmentation.ink import Blob, blob_crop


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


def test_a_blob_is_framed_as_its_grown_ink_in_the_whole_window() -> None:
    rng = np.random.default_rng(1)
    strength = rng.integers(0, 256, (60, 120)).astype(np.uint8)
    mask = np.zeros((60, 120), bool)
    mask[10:50, 30:55] = rng.random((40, 25)) > 0.4
    page = np.zeros((500, 500), np.uint8)
    to_page = np.array([[1.0, 0, 100], [0, 1.0, 200], [0, 0, 1.0]])
    crop = blob_crop(0, Blob.tight(mask), strength, to_page, page)
    # The definition: the mask grown by a pixel over the whole window, kept within the ink's box.
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    expected = crop_to_character(strength[box] * grown[box], ink_is_dark=False)
    np.testing.assert_array_equal(crop.image, expected)
    assert crop.box == (100 + cols[0], 200 + rows[0], 101 + cols[-1], 201 + rows[-1])
