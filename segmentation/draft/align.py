"""A drafted form with our registration marks, moved onto the template's own mark positions."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from segmentation.freeform import FoundPage
from segmentation.records import Box, FieldSpec
from segmentation.templates import mark_boxes

Corner = tuple[bool, bool]  # (left, top)


def mark_centres(page: np.ndarray, dpi: int) -> dict[Corner, tuple[float, float]]:
    """Centres of solid squares of our registration marks' size near the page's corners.

    Args:
        page: uint8 (H, W), dark ink on light paper, upright.
        dpi: its resolution.

    Returns:
        One centre (x, y) per corner where such a square lies, keyed (left, top).
    """
    ink = (page < 128).astype(np.uint8)
    count, _, stats, centroids = cv2.connectedComponentsWithStats(ink)
    x0, _, x1, _ = mark_boxes((page.shape[1], page.shape[0]), dpi)[0]
    side = x1 - x0
    height, width = page.shape
    found: dict[Corner, tuple[float, float]] = {}
    for (_, _, w, h, area), (cx, cy) in zip(stats[1:count], centroids[1:count], strict=True):
        if not (0.6 * side <= w <= 1.6 * side and 0.6 * side <= h <= 1.6 * side):
            continue
        if area < 0.85 * w * h:
            continue
        if min(cx, width - cx) < 1.5 * dpi and min(cy, height - cy) < 1.5 * dpi:
            found[(cx < width / 2, cy < height / 2)] = (float(cx), float(cy))
    return found


def onto_marks(found: FoundPage, centres: dict[Corner, tuple[float, float]]) -> FoundPage:
    """The page moved so that its marks lie where the template's marks are.

    Registration maps a page's marks onto the template's nominal ones, so the boxes of a
    form with marks must be given in that frame, whatever the shift of the blank's scan.

    Args:
        found: the drafted page (upright).
        centres: its mark centres (at least three corners).

    Returns:
        The page, its matrix and its fields in the marks' frame.
    """
    height, width = found.upright.shape
    nominal = mark_boxes((width, height), found.dpi)
    corners: list[Corner] = [(True, True), (False, True), (False, False), (True, False)]
    src, dst = [], []
    for corner, (mx0, my0, mx1, my1) in zip(corners, nominal, strict=True):
        if corner in centres:
            src.append(centres[corner])
            dst.append(((mx0 + mx1 - 1) / 2, (my0 + my1 - 1) / 2))
    move, _ = cv2.estimateAffinePartial2D(np.array(src, np.float32), np.array(dst, np.float32))
    if move is None:
        return found
    matrix = np.vstack([move, [0.0, 0.0, 1.0]])
    upright = cv2.warpAffine(
        found.upright, move, (width, height), flags=cv2.INTER_LINEAR, borderValue=255
    )
    fields = tuple(_moved(field, matrix) for field in found.fields)
    return replace(found, upright=upright, matrix=matrix @ found.matrix, fields=fields)


def _moved(field: FieldSpec, matrix: np.ndarray) -> FieldSpec:
    return replace(
        field,
        box=_box(field.box, matrix),
        cells=tuple(_box(cell, matrix) for cell in field.cells),
    )


def _box(box: Box, matrix: np.ndarray) -> Box:
    x0, y0, x1, y1 = box
    (a, b), (c, d) = (matrix[:2] @ np.array([[x0, x1], [y0, y1], [1.0, 1.0]])).T
    return (round(a), round(b), round(c), round(d))
