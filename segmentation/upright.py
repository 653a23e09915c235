"""Turn and deskew a page of boxes upright, from its own long printed lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from segmentation.records import Box

A4_LONG_INCHES = 297 / 25.4
LETTER_LONG_INCHES = 11.0
_DPIS = (150, 200, 240, 300, 400, 600)


def guess_dpi(size: tuple[int, int]) -> int:
    """The usual scan resolution that makes a page of ``size`` (w, h) A4 or US letter.

    A scan that does not record its resolution is taken to be one of these paper sizes at one
    of the common resolutions; the nearest fit wins (300 dpi when nothing is close).
    """
    long = max(size)
    best = min(
        (abs(long / dpi - paper) / paper, dpi) for dpi in _DPIS for paper in (11.69, 11.0, 14.0)
    )
    return best[1] if best[0] < 0.06 else max(72, round(long / A4_LONG_INCHES))


@dataclass(frozen=True, slots=True)
class Upright:
    """A page turned upright and deskewed.

    Attributes:
        matrix: float64 (3, 3), page to upright coordinates.
        size: the upright (width, height).
        ink: uint8 (H', W') 0/1, the ink mask turned upright.
        turns: the quarter turns applied (before the deskew).
        skew: the deskew in degrees (OpenCV's sign convention).
    """

    matrix: np.ndarray
    size: tuple[int, int]
    ink: np.ndarray
    turns: int
    skew: float


def level_page(ink: np.ndarray, dpi: int) -> Upright:
    """Turn a page a quarter when its print runs down it, and deskew it (within ±10°).

    Args:
        ink: uint8 (H, W), 1 where ink, 0 on paper.
        dpi: the page's resolution.
    """
    turns = 1 if _mostly_vertical(ink, dpi) else 0
    turned = ink if turns == 0 else _warp(ink, *turn_matrix(ink.shape, turns, 0.0))
    return turned_page(ink, turns, _skew(turned, dpi))


def turned_page(ink: np.ndarray, turns: int, skew: float) -> Upright:
    """The page turned by ``turns`` quarters and deskewed by ``skew`` degrees."""
    matrix, size = turn_matrix(ink.shape, turns, skew)
    upright = ink if turns == 0 and skew == 0 else _warp(ink, matrix, size)
    return Upright(matrix, size, upright, turns, skew)


def labels_below(ink: np.ndarray, boxes: Sequence[Box], dpi: int) -> bool:
    """True when the printed labels sit under the boxes rather than over them (upside down).

    Args:
        ink: uint8 (H, W) 0/1, the upright page's ink.
        boxes: the boxes (x0, y0, x1, y1) found on it.
        dpi: its resolution.
    """
    reach = dpi // 6
    above = below = 0
    for x0, y0, x1, y1 in boxes:
        top = ink[max(0, y0 - reach) : max(0, y0 - dpi // 50), x0 : x0 + (x1 - x0) // 2]
        above += int(top.sum())
        below += int(ink[y1 + dpi // 50 : y1 + reach, x1 - (x1 - x0) // 2 : x1].sum())
    return below > 1.5 * above


def turn_matrix(
    shape: tuple[int, ...], turns: int, skew: float
) -> tuple[np.ndarray, tuple[int, int]]:
    """3x3 map from a page of ``shape`` (H, W) turned by ``turns`` quarters and deskewed."""
    height, width = shape[:2]
    size = (height, width) if turns % 2 else (width, height)
    into = np.array([[1.0, 0, -width / 2], [0, 1.0, -height / 2], [0, 0, 1.0]])
    rotate = np.vstack([cv2.getRotationMatrix2D((0, 0), 90.0 * turns + skew, 1.0), [0, 0, 1.0]])
    out = np.array([[1.0, 0, size[0] / 2], [0, 1.0, size[1] / 2], [0, 0, 1.0]])
    return out @ rotate @ into, size


def _warp(ink: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(cv2.warpAffine(ink, matrix[:2], size, flags=cv2.INTER_NEAREST))


def _mostly_vertical(ink: np.ndarray, dpi: int) -> bool:
    """True when the page lies sideways: its print runs down the page, not across.

    Printed lines of text, with the ruled lines taken out and the letters joined across
    small gaps, become long thin strips along the text: across an upright page, down a
    sideways one. Without enough text, long vertical lines outnumbering long horizontal ones
    tell.
    """
    across, down = _text_strips(ink, dpi)
    if max(across, down) >= 0.0005 * ink.size and max(across, down) >= 2 * min(across, down):
        return down > across
    shrunk = cv2.resize(ink * 255, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    small = (shrunk > 60).astype(np.uint8)
    length = max(5, dpi // 12)
    wide = cv2.morphologyEx(small, cv2.MORPH_OPEN, np.ones((1, length), np.uint8)).sum()
    tall = cv2.morphologyEx(small, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8)).sum()
    return bool(tall > 1.5 * wide)


def _text_strips(ink: np.ndarray, dpi: int) -> tuple[int, int]:
    """Ink area (half-scale pixels) in strips of joined letters running across, and down."""
    small = np.ascontiguousarray(ink[::2, ::2])
    half = dpi / 2
    ruled = max(4, round(0.12 * half))
    lines = np.maximum(
        cv2.morphologyEx(small, cv2.MORPH_OPEN, np.ones((1, ruled), np.uint8)),
        cv2.morphologyEx(small, cv2.MORPH_OPEN, np.ones((ruled, 1), np.uint8)),
    )
    text = small & (1 - cv2.dilate(lines, np.ones((5, 5), np.uint8)))
    gap = max(2, round(0.05 * half))
    areas = []
    for kernel in (np.ones((1, gap), np.uint8), np.ones((gap, 1), np.uint8)):
        joined = cv2.morphologyEx(text, cv2.MORPH_CLOSE, kernel)
        _, _, stats, _ = cv2.connectedComponentsWithStats(joined)
        w, h = stats[1:, 2], stats[1:, 3]
        long, short = (w, h) if kernel.shape[0] == 1 else (h, w)
        strip = (long >= 4 * short) & (short >= 0.03 * half) & (short <= 0.25 * half)
        areas.append(int(stats[1:, 4][strip].sum()))
    return areas[0], areas[1]


def _skew(ink: np.ndarray, dpi: int) -> float:
    """The page's skew in degrees (OpenCV's sign convention) from its long straight lines."""
    small = cv2.resize(ink * 255, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    lines = cv2.HoughLinesP(
        (small > 60).astype(np.uint8),
        1,
        np.pi / 720,
        threshold=dpi // 2,
        minLineLength=dpi // 2,
        maxLineGap=4,
    )
    if lines is None:
        return 0.0
    angles = []
    for x0, y0, x1, y1 in lines.reshape(-1, 4):
        a = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
        if abs(a) < 10:
            angles.append(a)
    return float(np.median(angles)) if angles else 0.0
