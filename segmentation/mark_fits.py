"""Homographies from a page's registration marks: the whole marks, and marks cut by the edge."""

from __future__ import annotations

import math

import cv2
import numpy as np

from segmentation.marks import PageMarks, correspondences, place_cut_mark, template_marks
from segmentation.records import Template
from segmentation.templates import mark_boxes


def mark_side(template: Template) -> int:
    """A registration mark's side in template pixels."""
    x0, _, x1, _ = mark_boxes(template.size, template.dpi)[0]
    return x1 - x0


def cut_mark_fits(marks: PageMarks, scale0: float, template: Template) -> list[np.ndarray]:
    """Homographies from the whole marks and those cut by the page edge, at least one cut.

    Each cut mark first stands at a rough guess of its centre; the fit from those guesses
    gives the marks' outlines on the page, which then place each cut mark exactly.

    Args:
        marks: what ``find_marks`` found on the page.
        scale0: page pixels per template pixel, from the page size.
        template: the form.

    Returns:
        float64 (3, 3) template-to-page homographies, one per plausible pairing.
    """
    if not len(marks.cut):
        return []
    points = np.vstack([marks.whole, marks.cut_guesses])
    whole = len(marks.whole)
    centres, boxes = template_marks(template), mark_boxes(template.size, template.dpi)
    fits = []
    for source, target in correspondences(points, centres, scale0):
        rows = [int(np.flatnonzero((points == p).all(1))[0]) for p in source]
        if max(rows) < whole:
            continue  # whole marks only: tried already
        first = fit_points(target, source)
        which = [int(np.argmin(np.abs(centres - t).sum(1))) for t in target]
        # Thresholding grows (or shrinks) every mark alike: measure it on the whole ones.
        grown = [
            (math.sqrt(marks.whole_areas[r]) - math.sqrt(_mark_area(boxes[m], first))) / 2
            for r, m in zip(rows, which, strict=True)
            if r < whole
        ]
        grow = float(np.clip(np.mean(grown), -2.0, 2.0)) if grown else 0.0
        placed = source.copy()
        for k, (r, m) in enumerate(zip(rows, which, strict=True)):
            if r >= whole:
                seen = marks.cut[r - whole]
                centre = place_cut_mark(seen, source[k], boxes[m], first, marks.page_size, grow)
                if centre is None:
                    break
                placed[k] = centre
        else:
            fits.append(fit_points(target, placed))
    return fits


def _mark_area(mark: tuple[int, int, int, int], homography: np.ndarray) -> float:
    """Area in page pixels of a template mark box mapped by ``homography``."""
    x0, y0, x1, y1 = mark
    corners = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float64)
    return float(
        cv2.contourArea(cv2.perspectiveTransform(corners, homography)[0].astype(np.float32))
    )


def fit_points(template_pts: np.ndarray, page_pts: np.ndarray) -> np.ndarray:
    """The homography (float64 (3, 3)) taking 2, 3 or 4 template points to the page's.

    Two points give a similarity, three an affine map, four a perspective one.
    """
    src, dst = template_pts.astype(np.float32), page_pts.astype(np.float32)
    if len(src) == 2:  # a similarity: rotation, scale and shift from two points
        a, b = complex(*template_pts[0]), complex(*template_pts[1])
        c, d = complex(*page_pts[0]), complex(*page_pts[1])
        z = (d - c) / (b - a)
        t = c - z * a
        return np.array([[z.real, -z.imag, t.real], [z.imag, z.real, t.imag], [0.0, 0.0, 1.0]])
    if len(src) == 4:
        return cv2.getPerspectiveTransform(src, dst).astype(np.float64)
    return np.vstack([cv2.getAffineTransform(src, dst), [0.0, 0.0, 1.0]]).astype(np.float64)
