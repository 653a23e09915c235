"""Template-free mode: find comb and box fields from a page's own printed lines."""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from segmentation.crops import cut_field
from segmentation.records import Box, FieldSpec, PageResult

A4_LONG_INCHES = 11.69


def segment_without_template(page: np.ndarray, threshold: int) -> PageResult:
    """Find boxed fields on a page without a template and cut them into crops.

    The page is deskewed from its long horizontal lines (it must be upright, within ±10°).
    Boxes are pairs of long horizontal lines joined by vertical ends; a box whose bottom line
    carries evenly spaced ticks or separators is a comb. Fields are named ``field_01``... in
    reading order (rows top to bottom, left to right in a row), with charset ``alnum``.

    Args:
        page: uint8 (H, W), dark ink on light paper, upright.
        threshold: gray level under which a pixel is ink.

    Returns:
        ``ok`` with the fields found, or ``unregistered`` when there are none.
    """
    height, width = page.shape
    dpi = max(72, round(max(height, width) / A4_LONG_INCHES))
    ink = (page < threshold).astype(np.uint8)
    turns = 1 if _mostly_vertical(ink, dpi) else 0
    upright, size = _turn(ink, turns, 0.0)
    upright, size = _turn(ink, turns, _skew(cv2.warpAffine(ink, upright[:2], size), dpi))
    specs = _find_fields(cv2.warpAffine(ink, upright[:2], size, flags=cv2.INTER_NEAREST), dpi)
    if specs and _labels_below(cv2.warpAffine(ink, upright[:2], size), specs, dpi):
        turns += 2  # labels sit above their boxes: this page is upside down
        upright, size = _turn(
            ink, turns, _skew(cv2.warpAffine(ink, _turn(ink, turns, 0)[0][:2], size), dpi)
        )
        specs = _find_fields(cv2.warpAffine(ink, upright[:2], size, flags=cv2.INTER_NEAREST), dpi)
    if not specs:
        return PageResult(
            None, "unregistered", "no boxed fields found (template-free mode)", (), 0.0
        )
    to_page = np.linalg.inv(upright)
    fields = tuple(cut_field(page, spec, to_page, threshold, dpi) for spec in specs)
    return PageResult(None, "ok", "", fields, 1.0, tuple(float(v) for v in to_page.ravel()))


def _turn(ink: np.ndarray, turns: int, skew: float) -> tuple[np.ndarray, tuple[int, int]]:
    """3x3 map from the page to it turned by ``turns`` quarter turns and deskewed, and its size."""
    height, width = ink.shape
    size = (height, width) if turns % 2 else (width, height)
    into = np.array([[1.0, 0, -width / 2], [0, 1.0, -height / 2], [0, 0, 1.0]])
    rotate = np.vstack([cv2.getRotationMatrix2D((0, 0), 90.0 * turns + skew, 1.0), [0, 0, 1.0]])
    out = np.array([[1.0, 0, size[0] / 2], [0, 1.0, size[1] / 2], [0, 0, 1.0]])
    return out @ rotate @ into, size


def _mostly_vertical(ink: np.ndarray, dpi: int) -> bool:
    """True when long vertical lines outnumber long horizontal ones: a sideways page."""
    shrunk = cv2.resize(ink * 255, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    small = (shrunk > 60).astype(np.uint8)
    length = max(5, dpi // 12)
    across = cv2.morphologyEx(small, cv2.MORPH_OPEN, np.ones((1, length), np.uint8)).sum()
    down = cv2.morphologyEx(small, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8)).sum()
    return bool(down > 1.5 * across)


def _labels_below(ink: np.ndarray, specs: list[FieldSpec], dpi: int) -> bool:
    """True when the printed labels sit under the boxes rather than over them."""
    reach = dpi // 6
    above = below = 0
    for spec in specs:
        x0, y0, x1, y1 = spec.box
        above += int(ink[max(0, y0 - reach) : y0 - dpi // 50, x0 : x0 + (x1 - x0) // 2].sum())
        below += int(ink[y1 + dpi // 50 : y1 + reach, x1 - (x1 - x0) // 2 : x1].sum())
    return below > 1.5 * above


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


def _segments(mask: np.ndarray, min_length: int) -> list[Box]:
    """Boxes of connected components at least ``min_length`` wide."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for x, y, w, h, _area in stats[1:count]:
        if w >= min_length:
            out.append((int(x), int(y), int(x + w), int(y + h)))
    return out


def _find_fields(ink: np.ndarray, dpi: int) -> list[FieldSpec]:
    """Boxed fields on a deskewed ink mask (uint8 0/1), in reading order."""
    long = max(10, dpi // 4)
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, long), np.uint8))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((max(5, dpi // 12), 1), np.uint8))
    lines = sorted(_segments(horizontal, dpi // 3), key=lambda b: b[1])
    tol = max(4, dpi // 30)
    boxes: list[Box] = []
    used: set[int] = set()
    for i, top in enumerate(lines):
        if i in used:
            continue
        for j in range(i + 1, len(lines)):
            bottom = lines[j]
            gap = bottom[1] - top[1]
            if gap < dpi // 6:
                continue
            if gap > dpi:
                break
            if abs(bottom[0] - top[0]) > tol or abs(bottom[2] - top[2]) > tol:
                continue
            x0, x1 = (top[0] + bottom[0]) // 2, (top[2] + bottom[2]) // 2
            y0, y1 = (top[1] + top[3]) // 2, (bottom[1] + bottom[3]) // 2
            if _covered(vertical, x0, y0, y1, tol) and _covered(vertical, x1 - 1, y0, y1, tol):
                boxes.append((x0, y0, x1, y1))
                used.update((i, j))
                break
    specs = [_spec(box, vertical, dpi) for box in _reading_order(boxes)]
    return [
        FieldSpec(
            f"field_{k:02d}",
            s.kind,
            "alnum",
            s.box,
            s.cells,
            s.max_chars,
            explicit_cells=s.explicit_cells,
        )
        for k, s in enumerate(specs, start=1)
    ]


def _covered(vertical: np.ndarray, x: int, y0: int, y1: int, tol: int) -> bool:
    """True when a vertical line runs most of the way from y0 to y1 near column x."""
    band = vertical[y0:y1, max(0, x - tol) : x + tol + 1]
    return band.size > 0 and float(band.any(axis=1).mean()) > 0.7


def _spec(box: Box, vertical: np.ndarray, dpi: int) -> FieldSpec:
    """A comb when evenly spaced ticks rise from the box's bottom line, else a free box."""
    x0, y0, x1, y1 = box
    band = vertical[y1 - (y1 - y0) // 4 : y1 - max(2, dpi // 60), x0 + dpi // 30 : x1 - dpi // 30]
    coverage = band.mean(axis=0) if band.size else np.zeros(0)
    peaks = _peaks(coverage > 0.8) + x0 + dpi // 30
    best_n, best_hits = 0, 0
    for n in range(2, (x1 - x0) * 10 // dpi + 1):  # cells at least 1/10 inch wide
        lattice = x0 + (x1 - x0) * np.arange(1, n) / n
        hits = sum(bool(np.min(np.abs(peaks - x)) < dpi / 40) for x in lattice) if len(peaks) else 0
        if hits >= 0.7 * (n - 1) and hits > best_hits:
            best_n, best_hits = n, hits
    if best_n:
        edges = np.round(np.linspace(x0, x1, best_n + 1)).astype(int)
        cells = tuple((int(a), y0, int(b), y1) for a, b in itertools.pairwise(edges))
        # Separators running the full height (not ticks): erase them as full cell borders.
        top = vertical[y0 + (y1 - y0) // 8 : y0 + (y1 - y0) // 3]
        tol = max(2, dpi // 40)
        full = [
            float(top[:, max(0, e - tol) : e + tol + 1].any(axis=1).mean()) for e in edges[1:-1]
        ]
        explicit = float(np.mean(np.array(full) > 0.8)) > 0.6
        return FieldSpec("", "comb", "alnum", box, cells, best_n, explicit_cells=explicit)
    return FieldSpec("", "box", "alnum", box, (), max(1, (x1 - x0) // max(1, (y1 - y0) // 2)))


def _peaks(flags: np.ndarray) -> np.ndarray:
    """Centres of runs of True in a 1-D bool array."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    starts = np.flatnonzero(np.diff(padded) == 1)
    stops = np.flatnonzero(np.diff(padded) == -1)
    return ((starts + stops - 1) // 2).astype(int)


def _reading_order(boxes: list[Box]) -> list[Box]:
    """Rows top to bottom (boxes whose middles are within half a height), left to right."""
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b[1] + b[3]) / 2):
        middle = (box[1] + box[3]) / 2
        if rows:
            last = rows[-1][0]
            if abs(middle - (last[1] + last[3]) / 2) < (last[3] - last[1]) / 2:
                rows[-1].append(box)
                continue
        rows.append([box])
    return [box for row in rows for box in sorted(row, key=lambda b: b[0])]
