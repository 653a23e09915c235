"""Small shared helpers of field cutting: ink extents, page boxes, framed character crops."""

from __future__ import annotations

import math

import cv2
import numpy as np

from ocr_core.recognition.normalise import crop_to_character
from segmentation.records import Box, CharCrop

EMPTY = np.zeros((28, 28), np.uint8)


def to_page_box(box: Box, to_page: np.ndarray, page: np.ndarray) -> Box:
    """Bounding box in the page of a local box's four corners, clipped to the page."""
    x0, y0, x1, y1 = box
    corners = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float64)
    mapped = cv2.perspectiveTransform(corners, to_page)[0]
    height, width = page.shape
    (left, top), (right, bottom) = mapped.min(0).tolist(), mapped.max(0).tolist()
    # Plain Python on four numbers: called for every candidate character of a page.
    return (
        min(max(math.floor(left), 0), width),
        min(max(math.floor(top), 0), height),
        min(max(math.ceil(right), 0), width),
        min(max(math.ceil(bottom), 0), height),
    )


def char_crop(
    index: int,
    mask: np.ndarray,
    strength: np.ndarray,
    to_page: np.ndarray,
    page: np.ndarray,
    left: int = 0,
) -> CharCrop:
    """Frame the ink under ``mask`` (a little grown, to keep anti-aliased edges).

    Args:
        index: the crop's position in its field.
        mask: bool, True on the character's ink: the field window's shape, or a band of its
            columns starting at column ``left`` (a band saves searching the whole field).
        strength: uint8, the field window's ink strength (255 - gray).
        to_page: float64 (3, 3), field window to page coordinates.
        page: uint8 (H, W), the page as loaded (to clip the box).
        left: the field column of the mask's first column.
    """
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    # Grown within the ink's box and a pixel around it: the same as growing the whole mask.
    wy, wx = max(0, y0 - 1), max(0, x0 - 1)
    window = mask[wy : y1 + 1, wx : x1 + 1].astype(np.uint8)
    grown = cv2.dilate(window, np.ones((3, 3), np.uint8))[y0 - wy : y1 - wy, x0 - wx : x1 - wx]
    x0, x1 = x0 + left, x1 + left
    ink = strength[y0:y1, x0:x1] * grown
    image = crop_to_character(ink, ink_is_dark=False)
    box = to_page_box((int(x0), int(y0), int(x1), int(y1)), to_page, page)
    return CharCrop(index, image, box, "ok" if image.any() else "empty")


def mask_height(mask: np.ndarray) -> int:
    """Rows from the first to the last inked row of a mask (0 when it has no ink)."""
    rows = np.flatnonzero(mask.any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def mask_span(mask: np.ndarray) -> tuple[int, int]:
    """Columns ``[first, last + 1)`` of a mask's ink (the mask must have ink)."""
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(cols[-1]) + 1
