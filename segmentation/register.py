"""Register a page to the template that fits it best, from its four printed registration marks."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from segmentation.records import Template
from segmentation.render import render_blank_form
from segmentation.templates import mark_boxes

MIN_SCORE = 0.6
"""Registrations under this share of the form's printed lines found are refused."""
FEATURE_MIN_SCORE = 0.85
"""Registrations from form features (fewer than two marks found) need this score."""
BLANK_INK = 0.0005
"""Pages with a smaller share of dark pixels are blank."""
_LOW = 4  # scoring works on pages shrunk by this factor


@dataclass(frozen=True, slots=True)
class Registration:
    """Where a template lies on a page.

    Attributes:
        template: the template that fits best.
        homography: float64 (3, 3), template pixel coordinates to page pixel coordinates.
        score: share of the template's printed lines found on the page, in [0, 1].
    """

    template: Template
    homography: np.ndarray
    score: float


def ink_threshold(page: np.ndarray) -> int:
    """Gray level under which a pixel is ink: Otsu's, capped so paper noise never counts.

    Args:
        page: uint8 (H, W), dark ink on light paper.

    Returns:
        The threshold (0..255).
    """
    otsu, _ = cv2.threshold(page, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return int(min(max(otsu, 60), 190))


def flatten_background(page: np.ndarray) -> np.ndarray:
    """Even out uneven lighting (a shadow, a fall-off towards one side) so one threshold fits.

    Args:
        page: uint8 (H, W), dark ink on light paper.

    Returns:
        uint8 (H, W), dark ink on light paper: the page divided by its estimated paper
        brightness, or ``page`` itself when the lighting is already even.
    """
    height, width = page.shape
    small = cv2.resize(
        page, (max(1, width // 8), max(1, height // 8)), interpolation=cv2.INTER_AREA
    )
    # The brightest pixel nearby is paper: a max filter wider than any stroke removes the ink.
    paper = cv2.GaussianBlur(cv2.dilate(small, np.ones((9, 9), np.uint8)), (0, 0), 3)
    low, high = np.percentile(paper, [2, 98])
    if high - low < 25:
        return page
    paper_full = cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR)
    flat = page.astype(np.float32) * (float(high) / np.maximum(paper_full, 1).astype(np.float32))
    return np.clip(flat, 0, 255).astype(np.uint8)


def is_blank(page: np.ndarray) -> bool:
    """True when the page has (almost) no dark pixels. page: uint8 (H, W), dark on light."""
    return float((page < 128).mean()) < BLANK_INK


def register_page(
    page: np.ndarray, templates: Sequence[Template], threshold: int | None = None
) -> tuple[Registration | None, str, float]:
    """Find the template and homography that fit a page best.

    Handles rotation, scale, shift and pages turned upside down or sideways; three of the four
    marks suffice.

    Args:
        page: uint8 (H, W), dark ink on light paper, as loaded.
        templates: the candidate forms (all with registration marks).
        threshold: ink threshold (``ink_threshold(page)`` when None).

    Returns:
        (registration or None, reason when None, best score seen).
    """
    threshold = ink_threshold(page) if threshold is None else threshold
    ink = (page < threshold).astype(np.uint8)
    height, width = page.shape
    small = cv2.resize(ink * 255, (width // _LOW, height // _LOW), interpolation=cv2.INTER_AREA)
    small = cv2.dilate((small > 60).astype(np.uint8), np.ones((3, 3), np.uint8))
    best: Registration | None = None
    best_score = 0.0
    blobs = cv2.connectedComponentsWithStats(ink, connectivity=8)
    for template in templates:
        marks = _template_marks(template)
        scale0 = max(height, width) / max(template.size)
        first = mark_boxes(template.size, template.dpi)[0]
        candidates = _mark_candidates(blobs, (first[2] - first[0]) * scale0)
        for source, target in _correspondences(candidates, marks, scale0):
            homography = _fit(target, source)
            score = _score(small, template, homography)
            if score > best_score:
                best_score = score
                best = Registration(template, homography, score)
    if best is None or best.score < MIN_SCORE:
        # Marks lost (cut off, covered) or a form without marks: match the form's own features.
        page_features = _orb(page, 6000)
        for template in templates:
            estimate = _feature_homography(page_features, template)
            scale0 = max(height, width) / max(template.size)
            if estimate is None or not _plausible(estimate, scale0):
                continue
            homography = estimate
            score = _score(small, template, homography)
            # Feature matches on repetitive comb boxes can lock on one cell off: demand more.
            if score < FEATURE_MIN_SCORE:
                score = min(score, MIN_SCORE - 0.01)
            if score > best_score:
                best_score = score
                best = Registration(template, homography, score)
    if best is None:
        return None, "registration marks not found (wrong form, or marks cut off or covered?)", 0.0
    if best.score < MIN_SCORE:
        reason = (
            f"best match {best.template.name!r} finds only {best.score:.0%} of its printed lines"
            f" (need {MIN_SCORE:.0%}): wrong form?"
        )
        return None, reason, best.score
    return best, "", best.score


def _template_marks(template: Template) -> np.ndarray:
    """Mark centres (4, 2) float64, clockwise from the top-left."""
    return np.array(
        [
            ((x0 + x1) / 2, (y0 + y1) / 2)
            for x0, y0, x1, y1 in mark_boxes(template.size, template.dpi)
        ]
    )


def _mark_candidates(blobs: tuple, side: float) -> np.ndarray:
    """Centres (N, 2) of solid, square-ish connected components about ``side`` pixels across."""
    count, labels, stats, centroids = blobs
    height, width = labels.shape
    x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    w, h, area = (
        stats[:, cv2.CC_STAT_WIDTH],
        stats[:, cv2.CC_STAT_HEIGHT],
        stats[:, cv2.CC_STAT_AREA],
    )
    ok = (
        (w > 0.6 * side)
        & (w < 1.6 * side)
        & (h > 0.6 * side)
        & (h < 1.6 * side)
        & (area > 0.72 * w * h)
        & (area > 0.4 * side * side)
        & (np.arange(count) > 0)
        # A mark cut by the page edge has a misleading centre: leave it out.
        & (x > 0)
        & (y > 0)
        & (x + w < width)
        & (y + h < height)
    )
    return np.asarray(centroids[ok], dtype=np.float64)


def _correspondences(
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


def _fit(template_pts: np.ndarray, page_pts: np.ndarray) -> np.ndarray:
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


@functools.lru_cache(maxsize=32)
def _structure(template: Template) -> np.ndarray:
    """The template's printed lines (no labels, no marks), shrunk, as a 0/1 uint8 mask."""
    if template.reference_image is not None:
        lines = (template.reference_image < 128).astype(np.uint8)
        if template.marks:
            for x0, y0, x1, y1 in mark_boxes(template.size, template.dpi):
                lines[y0:y1, x0:x1] = 0
    else:
        lines = (render_blank_form(template, labels=False, marks=False) < 128).astype(np.uint8)
    width, height = template.size
    small = cv2.resize(lines * 255, (width // _LOW, height // _LOW), interpolation=cv2.INTER_AREA)
    return (small > 60).astype(np.uint8)


_FEATURE_SCALE = 2  # feature matching works on pages shrunk by this factor


@functools.lru_cache(maxsize=32)
def _template_features(template: Template) -> tuple[Any, Any]:
    """ORB keypoints and descriptors of the blank form (or reference image), shrunk."""
    blank = template.reference_image
    if blank is None:
        blank = render_blank_form(template, marks=False)
    return _orb(blank, 4000)


def _orb(image: np.ndarray, features: int) -> tuple[Any, Any]:
    shrink = 1.0 / _FEATURE_SCALE
    small = cv2.resize(image, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    return cv2.ORB.create(nfeatures=features).detectAndCompute(small, None)


def _feature_homography(page_features: tuple[Any, Any], template: Template) -> np.ndarray | None:
    """Template-to-page homography from ORB matches (ratio test, RANSAC), or None.

    Args:
        page_features: ``_orb(page, ...)`` of the page (uint8, dark ink on light paper).
        template: the form.
    """
    keys_t, desc_t = _template_features(template)
    keys_p, desc_p = page_features
    if desc_t is None or desc_p is None or len(keys_p) < 10:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(desc_t, desc_p, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < 12:
        return None
    src = np.array([keys_t[m.queryIdx].pt for m in good], dtype=np.float32)
    dst = np.array([keys_p[m.trainIdx].pt for m in good], dtype=np.float32)
    homography, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 3.0)
    if homography is None or int(inliers.sum()) < 12:
        return None
    grow = np.diag([float(_FEATURE_SCALE), float(_FEATURE_SCALE), 1.0])
    return np.asarray(grow @ homography @ np.linalg.inv(grow), dtype=np.float64)


def _plausible(homography: np.ndarray, scale0: float) -> bool:
    """True for a scan-like map: unmirrored, little shear or perspective, about the page's scale."""
    normalised = homography / homography[2, 2]
    linear = normalised[:2, :2]
    singular = np.linalg.svd(linear, compute_uv=False)
    return bool(
        np.linalg.det(linear) > 0
        and singular[0] / singular[1] < 1.1
        and 0.7 * scale0 < singular[1] <= singular[0] < 1.4 * scale0
        and np.abs(normalised[2, :2]).max() < 5e-5
    )


def _score(small_ink: np.ndarray, template: Template, homography: np.ndarray) -> float:
    """Share of the template's (shrunk) printed lines that land on (dilated) page ink."""
    structure = _structure(template)
    shrink = np.diag([1.0 / _LOW, 1.0 / _LOW, 1.0])
    to_small_page = shrink @ homography @ np.linalg.inv(shrink)
    warped = cv2.warpPerspective(
        small_ink,
        to_small_page,
        (structure.shape[1], structure.shape[0]),
        flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
        borderValue=0,
    )
    total = int(structure.sum())
    return float((warped & structure).sum()) / total if total else 0.0
