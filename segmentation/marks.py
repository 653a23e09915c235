"""Find a form's registration marks on a page (whole, or cut by the page edge) and pair them."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from segmentation.records import Box, Template
from segmentation.templates import mark_boxes


@dataclass(frozen=True, slots=True)
class PageMarks:
    """Solid squares of about a mark's size found on a page, in page pixel coordinates.

    Attributes:
        whole: float64 (N, 2) centres of the squares that lie wholly on the page, in reading
            order of their top rows.
        whole_areas: int64 (N,) their pixel counts.
        cut: float64 (M, 2) centroids of the visible parts of squares cut by the page edge.
        cut_guesses: float64 (M, 2) rough centres of those squares (whole side assumed).
        page_size: the page's (width, height).
    """

    whole: np.ndarray
    whole_areas: np.ndarray
    cut: np.ndarray
    cut_guesses: np.ndarray
    page_size: tuple[int, int]


def template_marks(template: Template) -> np.ndarray:
    """Mark centres (4, 2) float64, clockwise from the top-left."""
    return np.array(
        [
            ((x0 + x1) / 2, (y0 + y1) / 2)
            for x0, y0, x1, y1 in mark_boxes(template.size, template.dpi)
        ]
    )


def find_marks(ink: np.ndarray, shrunk: np.ndarray, low: int, side: float) -> PageMarks:
    """Solid, square-ish blobs about ``side`` pixels across, whole or cut by the page edge.

    Labelling the whole page's ink costs more than everything else in registration, so blobs
    of about the right size are first found on the shrunk page, then measured exactly in a
    window of the full page around each: the whole squares are exactly those a labelling of
    the full page would find.

    Args:
        ink: uint8 (H, W), nonzero where the page is ink.
        shrunk: uint8 (H // low, W // low), 255 times the share of ink in each low x low cell.
        low: the shrink factor.
        side: the expected side of a mark on the page, in pixels.

    Returns:
        The blobs found.
    """
    height, width = ink.shape
    coarse = shrunk
    if side >= 10 * low:
        # Halved once more, a mark is still at least 5 cells across; labelling costs 4x less.
        rows, cols = shrunk.shape[0] // 2, shrunk.shape[1] // 2
        coarse = cv2.resize(
            shrunk[: rows * 2, : cols * 2], (cols, rows), interpolation=cv2.INTER_AREA
        )
        low *= 2
    rows, cols = coarse.shape
    _, _, stats, _ = cv2.connectedComponentsWithStats((coarse > 127).astype(np.uint8))
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    small_side = side / low
    longest, shortest = np.maximum(w, h), np.minimum(w, h)
    near_edge = (x <= 2) | (y <= 2) | (x + w >= cols - 2) | (y + h >= rows - 2)
    # Loose versions of the tests below (marks are solid squares; handwriting is not solid).
    proposed = (
        (longest >= 0.6 * small_side - 2)
        & (longest <= 1.6 * small_side + 2)
        & (area >= 0.6 * w * h)
        & (
            ((shortest >= 0.6 * small_side - 2) & (area >= (0.63 * small_side - 1) ** 2))
            | near_edge
        )
    )
    margin = math.ceil(1.6 * side) + 2
    found: dict[tuple[int, ...], tuple[float, float, int, bool]] = {}
    for i in np.flatnonzero(proposed):
        x0, y0 = max(0, int(x[i]) * low - margin), max(0, int(y[i]) * low - margin)
        x1 = min(width, int(x[i] + w[i]) * low + margin)
        y1 = min(height, int(y[i] + h[i]) * low + margin)
        _measure_window(ink, (x0, y0, x1, y1), side, found)
    whole = sorted((key, v) for key, v in found.items() if not v[3])
    cut = [(key, v) for key, v in found.items() if v[3]]
    return PageMarks(
        whole=np.array([v[:2] for _, v in whole], np.float64).reshape(-1, 2),
        whole_areas=np.array([v[2] for _, v in whole], np.int64),
        cut=np.array([v[:2] for _, v in cut], np.float64).reshape(-1, 2),
        cut_guesses=np.array(
            [_guess_centre(key, v, side, (width, height)) for key, v in cut], np.float64
        ).reshape(-1, 2),
        page_size=(width, height),
    )


def _measure_window(
    ink: np.ndarray,
    window: Box,
    side: float,
    found: dict[tuple[int, ...], tuple[float, float, int, bool]],
) -> None:
    """Add the mark-like blobs lying wholly inside a window of the page to ``found``.

    Keys are (top, first column of the top row, left, width, height); values (centroid x,
    centroid y, area, cut by the page edge).
    """
    x0, y0, x1, y1 = window
    height, width = ink.shape
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(
        ink[y0:y1, x0:x1], connectivity=8
    )
    x, y, w, h, area = (stats[:, i] for i in range(5))
    inside = (
        ((x > 0) | (x0 == 0))
        & ((y > 0) | (y0 == 0))
        & ((x + w < x1 - x0) | (x1 == width))
        & ((y + h < y1 - y0) | (y1 == height))
    )
    left, top = x + x0, y + y0
    cut = (left == 0) | (top == 0) | (left + w == width) | (top + h == height)
    solid = (
        (w < 1.6 * side)
        & (h < 1.6 * side)
        & (area > 0.72 * w * h)
        & (np.arange(count) > 0)
        & inside
    )
    whole = solid & ~cut & (w > 0.6 * side) & (h > 0.6 * side) & (area > 0.4 * side * side)
    # A mark cut by the edge: enough of it left to place it (a sliver's centre is too unsure).
    partial = solid & cut & (np.maximum(w, h) > 0.6 * side) & (area > 0.2 * side * side)
    for i in np.flatnonzero(whole | partial):
        first = x0 + int(np.argmax(labels[y[i]] == i))
        key = (int(top[i]), first, int(left[i]), int(w[i]), int(h[i]))
        cx, cy = centroids[i]
        found[key] = (float(cx) + x0, float(cy) + y0, int(area[i]), bool(partial[i]))


def _guess_centre(
    key: tuple[int, ...], blob: tuple[float, float, int, bool], side: float, size: tuple[int, int]
) -> tuple[float, float]:
    """Where a cut mark's centre lies if it is ``side`` across: half a side in from its far edge."""
    top, _, left, w, h = key
    cx, cy = blob[0], blob[1]
    if left == 0:
        cx = left + w - side / 2
    elif left + w == size[0]:
        cx = left + side / 2
    if top == 0:
        cy = top + h - side / 2
    elif top + h == size[1]:
        cy = top + side / 2
    return cx, cy


def place_cut_mark(
    seen: np.ndarray,
    guess: np.ndarray,
    mark: Box,
    homography: np.ndarray,
    page_size: tuple[int, int],
    grow: float = 0.0,
) -> np.ndarray | None:
    """The centre of a mark cut by the page edge, from the centroid of its visible part.

    The mark's outline on the page (size, rotation, perspective) comes from a first fit; its
    centre is then moved until the part of that outline inside the page has its centroid where
    the blob's is (a few Newton steps).

    Args:
        seen: float64 (2,) the visible part's centroid, page pixels.
        guess: float64 (2,) a first guess of the mark's centre.
        mark: the mark's box in template pixels (x0, y0, x1, y1), x1 and y1 exclusive.
        homography: float64 (3, 3), template to page, roughly right.
        page_size: the page's (width, height).
        grow: how far thresholding moved the marks' edges outwards, page pixels.

    Returns:
        float64 (2,) the centre, or None when the outline cannot match the blob.
    """
    outline = _mark_outline(mark, homography, grow)
    width, height = page_size
    page = np.array(
        [[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5], [-0.5, height - 0.5]],
        np.float32,
    )

    def visible_centroid(centre: np.ndarray) -> np.ndarray | None:
        area, polygon = cv2.intersectConvexConvex((outline + centre).astype(np.float32), page)
        if area < 1.0 or polygon is None:
            return None
        moments = cv2.moments(polygon.reshape(-1, 2))
        return np.array([moments["m10"], moments["m01"]]) / moments["m00"]

    reach = float(np.abs(outline).max())
    centre = np.asarray(guess, np.float64)
    for _ in range(10):
        step = _newton_step(visible_centroid, centre, seen)
        if step is None:
            return None
        change = np.clip(step, -reach, reach)
        centre = centre + change
        if np.abs(change).max() < 0.01:
            break
    done = visible_centroid(centre)
    return centre if done is not None and np.abs(done - seen).max() < 0.5 else None


def _mark_outline(mark: Box, homography: np.ndarray, grow: float) -> np.ndarray:
    """float64 (4, 2) the mark's corners on the page around its centre, grown by ``grow``."""
    x0, y0, x1, y1 = (float(v) - 0.5 for v in mark)  # pixel centres are at integers
    corners = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float64)
    quad = cv2.perspectiveTransform(corners, homography)[0]
    outline = quad - quad.mean(0)
    outline *= 1.0 + 2.0 * grow / math.sqrt(max(cv2.contourArea(quad.astype(np.float32)), 1.0))
    return outline


def _newton_step(
    centroid: Callable[[np.ndarray], np.ndarray | None], centre: np.ndarray, seen: np.ndarray
) -> np.ndarray | None:
    """float64 (2,) the move of ``centre`` that brings ``centroid(centre)`` to ``seen``.

    None when the outline leaves the page or the centroid barely moves with the centre.
    """
    now = centroid(centre)
    if now is None:
        return None
    jacobian = np.empty((2, 2))
    for axis in range(2):
        moved = centroid(centre + 0.5 * np.eye(2)[axis])
        if moved is None:
            return None
        jacobian[:, axis] = (moved - now) / 0.5
    if abs(np.linalg.det(jacobian)) < 1e-3:
        return None
    return np.asarray(np.linalg.solve(jacobian, seen - now))


def correspondences(
    points: np.ndarray, marks: np.ndarray, scale0: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Plausible (page points, template marks) pairings: 4 marks, or 3 at a right angle."""
    if len(points) > 12:
        # Keep the blobs nearest each page corner: the marks are there.
        corners = np.array(
            [
                points.min(0),
                [points[:, 0].max(), points[:, 1].min()],
                points.max(0),
                [points[:, 0].min(), points[:, 1].max()],
            ]
        )
        keep = {int(i) for c in corners for i in np.argsort(((points - c) ** 2).sum(1))[:3]}
        points = points[sorted(keep)]
    sides = np.array([np.linalg.norm(marks[1] - marks[0]), np.linalg.norm(marks[3] - marks[0])])
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    for size in (4, 3, 2):
        if size == 2:
            pairs = _pairings(points, marks, scale0)
            break
        for combo in itertools.combinations(range(len(points)), size):
            quad = _clockwise(points[list(combo)])
            for source, target in _assignments(quad, marks, sides, scale0):
                pairs.append((source, target))
        if pairs:
            break
    return pairs


def _pairings(
    points: np.ndarray, marks: np.ndarray, scale0: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two marks left: every pairing of two blobs with two marks at a matching distance."""
    out = []
    for i, j in itertools.permutations(range(len(points)), 2):
        if i > j:
            continue
        found = float(np.linalg.norm(points[j] - points[i]))
        for a, b in itertools.permutations(range(4), 2):
            expected = float(np.linalg.norm(marks[b] - marks[a])) * scale0
            if abs(found / expected - 1) < 0.08:
                out.append((points[[i, j]], marks[[a, b]]))
    return out


def _clockwise(points: np.ndarray) -> np.ndarray:
    centre = points.mean(0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    return points[np.argsort(angles)]  # y points down, so increasing angle is clockwise


def _assignments(
    pts: np.ndarray, marks: np.ndarray, sides: np.ndarray, scale0: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cyclic pairings of clockwise page points with clockwise marks whose shape matches."""
    out = []
    n = len(pts)
    if n == 3:  # the corner with the right angle goes in the middle
        corner = [
            i for i in range(3) if _right_angle(pts[i - 1] - pts[i], pts[(i + 1) % 3] - pts[i])
        ]
        if len(corner) != 1:
            return []
        pts = np.roll(pts, 1 - corner[0], axis=0)
    for shift in range(4):
        target = np.roll(marks, -shift, axis=0)[:n]
        source_d = [np.linalg.norm(pts[(i + 1) % n] - pts[i]) for i in range(n - (n == 3))]
        target_d = [np.linalg.norm(target[(i + 1) % n] - target[i]) for i in range(n - (n == 3))]
        ratios = np.array(source_d) / np.array(target_d)
        scale = float(np.median(ratios))
        if not 0.6 * scale0 < scale < 1.6 * scale0:
            continue
        if np.abs(ratios / scale - 1).max() > 0.06:
            continue
        out.append((pts, target))
    return out


def _right_angle(a: np.ndarray, b: np.ndarray) -> bool:
    cosine = float(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9)
    return bool(abs(cosine) < 0.12)
