"""The one box detector: every drawn field box of an upright page, from its printed lines.

Drafting a template from a blank and template-free runs both use it. Lines are found in a
"faint" ink mask (light grey dropout lines and hairlines included) by opening it with long
thin kernels, so pen strokes, text and noise fall away; each closed white region the lines
enclose is a frame. Frames are then read as fields: a frame whose bottom line carries evenly
spaced ticks is a comb; frames side by side sharing dividers, or separate boxes in a row with
small gaps, are one comb; a small lone square is a tick box (``mark``); anything else is a
free ``box``. The line thickness is measured on each side, so boxes lie on the line centres
whatever the pen (1 px hairlines to 8 px frames).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from segmentation.records import Box, FieldSpec
from segmentation.tickspec import tick_box_spec

FAINT = 0.88  # a pixel darker than this share of the paper's brightness may be a printed line


@dataclass(frozen=True, slots=True)
class Frame:
    """One closed frame found on the page.

    Attributes:
        inner: the white region inside the lines ``(x0, y0, x1, y1)``, x1/y1 exclusive.
        box: the frame on its line centres, as a template gives a box.
        thickness: the line thickness in pixels (median of the four sides).
    """

    inner: Box
    box: Box
    thickness: int


def faint_mask(page: np.ndarray) -> np.ndarray:
    """uint8 (H, W) 0/1: pixels darker than FAINT of the paper (grey lines included).

    Args:
        page: uint8 (H, W), dark ink on light paper, lighting evened out.
    """
    paper = float(np.percentile(page[::7, ::7], 90))
    return (page < FAINT * paper).astype(np.uint8)


def find_frames(page: np.ndarray, dpi: int, ink: np.ndarray | None = None) -> list[Frame]:
    """Every closed rectangular frame drawn on an upright page.

    Field frames are closed by lines at least 0.15 inch long across and 0.13 inch down,
    longer than most pen strokes, so handwriting in a filled form rarely closes a region of
    its own; small squares (tick boxes) are found again with short lines, outside them.

    Args:
        page: uint8 (H, W), dark ink on light paper, upright and deskewed.
        dpi: the page's resolution.
        ink: its ``faint_mask`` when already made.

    Returns:
        The frames, innermost only (a frame holding others is a section, not a field).
    """
    ink = faint_mask(page) if ink is None else ink
    lines = (ink, ink)
    long = (round(0.15 * dpi), round(0.13 * dpi))
    frames = _innermost(_closed(lines, dpi, long, small=False), dpi)
    squares = _closed(lines, dpi, (max(8, dpi // 25),) * 2, small=True)
    return frames + [q for q in squares if not any(_touches(q.box, f.box) for f in frames)]


def _touches(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _closed(
    lines: tuple[np.ndarray, np.ndarray], dpi: int, reach: tuple[int, int], *, small: bool
) -> list[Frame]:
    """The white regions closed by lines at least ``reach`` (across, down) pixels long.

    ``lines`` are the masks to find lines across and down in; ``small``
    keeps only squares no bigger than 0.3 inch (tick boxes), else all sizes.
    """
    horizontal = _opened(lines[0], (1, reach[0]))
    vertical = _opened(lines[1], (reach[1], 1))
    ink = lines[0]
    # Seal corners where a scanned line broke up or two lines just miss each other.
    grid = cv2.dilate(horizontal | vertical, np.ones((3, 3), np.uint8))
    grid = cv2.erode(grid, np.ones((3, 3), np.uint8)) | horizontal | vertical
    count, labels, stats, _ = cv2.connectedComponentsWithStats(1 - grid, connectivity=4)
    height, width = ink.shape
    least, most = max(12, dpi // 12), 0.5 * height * width
    frames = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if w < least or h < least or w * h > most or x == 0 or y == 0:
            continue
        if small and (max(w, h) > 0.3 * dpi or max(w, h) > 1.35 * min(w, h)):
            continue
        # Pen strokes and ticks reach into a frame: its white need not fill the rectangle.
        if x + w >= width or y + h >= height or area < 0.4 * w * h:
            continue
        inner = (x, y, x + w, y + h)
        region = labels[y : y + h, x : x + w] == label
        sides = _ruled_sides(horizontal, vertical, region, inner)
        if sides is not None:
            frames.append(_measured(grid, sides))
    return frames


def _opened(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """uint8 0/1: the lines of a mask along ``shape`` (an all-ones kernel, one row or column).

    Gaps of up to 4 px along the line (a hairline broken up by binarisation or JPEG) are
    bridged first, then what is shorter than the kernel is opened away.
    """
    bridge = np.ones((1, 5) if shape[0] == 1 else (5, 1), np.uint8)
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, bridge)
    return np.asarray(cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones(shape, np.uint8)), np.uint8)


def _ruled_sides(
    horizontal: np.ndarray, vertical: np.ndarray, region: np.ndarray, inner: Box
) -> Box | None:
    """The inside of a frame, when straight lines bound a white region on all four sides.

    Returns:
        The region's box on its sides' median positions (a stroke reaching in, or a pixel
        of tilt, does not move it), or None when a side is not a straight ruled line.
    """
    # Each side is checked where the region ends, row by row or column by column, so a line
    # bowed or tilted by a pixel or two is still found.
    x0, y0, _, _ = inner
    h, w = region.shape
    cols, rows = np.arange(w), np.arange(h)
    top = y0 + region.argmax(axis=0) - 1
    bottom = y0 + h - region[::-1].argmax(axis=0)
    left = x0 + region.argmax(axis=1) - 1
    right = x0 + w - region[:, ::-1].argmax(axis=1)
    # A frame's sides are straight: pen strokes closing a region wander.
    for edge in (top, bottom, left, right):
        if np.mean(np.abs(edge - np.median(edge)) <= 2) < 0.6:
            return None
    scores = (
        _ruled(horizontal, top, x0 + cols, -1, axis=0),
        _ruled(horizontal, bottom, x0 + cols, +1, axis=0),
        _ruled(vertical, left, y0 + rows, -1, axis=1),
        _ruled(vertical, right, y0 + rows, +1, axis=1),
    )
    if min(scores) <= 0.8:
        return None
    # Between the sides' usual and outermost places: a stroke reaching in or a speck on a
    # line does not move a side, and a frame a little tilted or bowed is enclosed.
    inside = [
        (np.median(edge) + extreme) / 2
        for edge, extreme in ((left, x0 - 1), (top, y0 - 1), (right, x0 + w), (bottom, y0 + h))
    ]
    return (round(inside[0]) + 1, round(inside[1]) + 1, round(inside[2]), round(inside[3]))


def _ruled(lines: np.ndarray, edge: np.ndarray, along: np.ndarray, step: int, axis: int) -> float:
    """Share of places where a line lies just beyond the region's edge (1 or 2 px out)."""
    limit = lines.shape[axis] - 1
    first = np.clip(edge, 0, limit)
    second = np.clip(edge + step, 0, limit)
    if axis == 0:
        hit = lines[first, along] | lines[second, along]
    else:
        hit = lines[along, first] | lines[along, second]
    return float(hit.astype(bool).mean())


def _measured(grid: np.ndarray, inner: Box) -> Frame:
    """The frame around a white region, on its line centres (the lines' thickness measured)."""
    x0, y0, x1, y1 = inner
    cap = max(3, (min(x1 - x0, y1 - y0)) // 3)
    sides = [
        _run(grid[y0 - 1 :: -1, x0:x1] if y0 else grid[:0, x0:x1], cap),
        _run(grid[y1:, x0:x1], cap),
        _run(grid[y0:y1, x0 - 1 :: -1].T if x0 else grid[y0:y1, :0].T, cap),
        _run(grid[y0:y1, x1:].T, cap),
    ]
    top, bottom, left, right = sides
    box = (
        x0 - left + left // 2,
        y0 - top + top // 2,
        x1 + right // 2,
        y1 + bottom // 2,
    )
    return Frame(inner, box, int(np.median(sides)))


def _run(rows: np.ndarray, cap: int) -> int:
    """The median, over columns, of how many rows from the first are line (at most ``cap``)."""
    rows = rows[:cap]
    if rows.size == 0:
        return 1
    gaps = rows == 0
    first = np.where(gaps.any(axis=0), gaps.argmax(axis=0), rows.shape[0])
    return max(1, int(np.median(first)))


def _innermost(frames: list[Frame], dpi: int) -> list[Frame]:
    """The fields among nested frames.

    A frame holding a frame of a field's height (1/7 inch or more) is a section around
    fields, and goes; a smaller region inside a frame is a pen loop closed against a tick
    or a line, and goes.
    """

    def holds(a: Box, b: Box) -> bool:
        return a != b and a[0] <= b[0] and a[1] <= b[1] and b[2] <= a[2] and b[3] <= a[3]

    tall = dpi / 7
    kept = []
    for f in frames:
        inside = [g for g in frames if holds(f.inner, g.inner)]
        if any(g.box[3] - g.box[1] >= tall for g in inside):
            continue
        if f.box[3] - f.box[1] < tall and any(holds(g.inner, f.inner) for g in frames):
            continue
        kept.append(f)
    return kept


def find_fields(page: np.ndarray, dpi: int) -> list[FieldSpec]:
    """The fields of an upright page, in reading order, unnamed (``name`` and ``charset`` blank).

    Args:
        page: uint8 (H, W), dark ink on light paper, lighting evened out, upright and
            deskewed.
        dpi: the page's resolution.

    Returns:
        FieldSpecs of kind ``comb`` (``cells`` equal unless the boxes differ), ``box`` or
        ``mark`` (a small lone square: a tick box), boxes on the line centres.
    """
    ink = faint_mask(page)
    frames = find_frames(page, dpi, ink)
    fields: list[FieldSpec] = []
    for group in _rows_of_cells(frames, dpi):
        fields.append(_group_field(group, ink, dpi))
    return [fields[i] for i in _reading_order([f.box for f in fields])]


def _rows_of_cells(frames: list[Frame], dpi: int) -> list[list[Frame]]:
    """Frames grouped into runs of character cells (each run one comb), or alone.

    Neighbours join a run when they share top and bottom, are about equally wide, no wider
    than 1.6 times their height, and touch (a shared divider) or leave a gap under 0.4 of a
    cell (separate boxes).
    """
    tol = max(3, dpi // 60)
    groups: list[list[Frame]] = []
    for frame in sorted(frames, key=lambda f: f.box[0]):
        for group in groups:
            last = group[-1]
            a, b = last.box, frame.box
            w_a, w_b, h = a[2] - a[0], b[2] - b[0], a[3] - a[1]
            if abs(a[1] - b[1]) > tol or abs(a[3] - b[3]) > tol:
                continue
            # 25 %: a row of separate boxes may have its end boxes wider by half a gap.
            if max(w_a, w_b) > 1.6 * h or abs(w_a - w_b) > 0.25 * max(w_a, w_b):
                continue
            if -tol <= b[0] - a[2] <= 0.5 * min(w_a, w_b):
                group.append(frame)
                break
        else:
            groups.append([frame])
    return groups


def _group_field(group: list[Frame], ink: np.ndarray, dpi: int) -> FieldSpec:
    """One field from a run of frames: a comb of several, else a lone box, mark or tick comb."""
    x0, y0 = min(f.box[0] for f in group), min(f.box[1] for f in group)
    x1, y1 = max(f.box[2] for f in group), max(f.box[3] for f in group)
    box = (x0, y0, x1, y1)
    if len(group) > 1:
        cells = _cells(sorted(group, key=lambda f: f.box[0]), y0, y1)
        return FieldSpec("", "comb", "", box, cells, len(cells), explicit_cells=True)
    frame = group[0]
    w, h = x1 - x0, y1 - y0
    if max(w, h) <= 0.3 * dpi and max(w, h) <= 1.35 * min(w, h):
        return tick_box_spec("", box)
    count = _tick_count(ink, frame, dpi)
    if count > 1:
        edges = np.round(np.linspace(x0, x1, count + 1)).astype(int)
        cells = tuple((int(a), y0, int(b), y1) for a, b in itertools.pairwise(edges))
        return FieldSpec("", "comb", "", box, cells, count)
    return FieldSpec("", "box", "", box, (), max(1, w // max(1, h // 2)))


def _cells(frames: list[Frame], y0: int, y1: int) -> tuple[Box, ...]:
    """A run's cells: equal ones split mid-gap when they are equal, else the frames themselves.

    Equal means each gap's middle within 4 % of a cell (and 2 px) of the even split.
    """
    x0, x1 = frames[0].box[0], frames[-1].box[2]
    middles = np.array([(a.box[2] + b.box[0]) / 2 for a, b in itertools.pairwise(frames)])
    edges = np.linspace(x0, x1, len(frames) + 1)
    if np.all(np.abs(middles - edges[1:-1]) <= 0.04 * (x1 - x0) / len(frames) + 2):
        cuts = np.round(edges).astype(int)
        return tuple((int(a), y0, int(b), y1) for a, b in itertools.pairwise(cuts))
    return tuple((f.box[0], y0, f.box[2], y1) for f in frames)


def _tick_count(ink: np.ndarray, frame: Frame, dpi: int) -> int:
    """How many cells the ticks rising from a frame's bottom line make (1 when none).

    A tick is a short vertical line standing on the bottom line; ticks must stand at 70 % of
    the places of an even lattice across the box (a pen stroke touching one does not hide
    it), with few tick-like lines elsewhere, for the box to be a comb.
    """
    ix0, iy0, ix1, iy1 = frame.inner
    height = iy1 - iy0
    band = ink[iy1 - max(3, height // 6) : iy1, ix0:ix1]
    if band.size == 0:
        return 1
    full = band.mean(axis=0) > 0.9
    starts, stops = _runs(full)
    slim = (stops - starts) <= max(2, 3 * frame.thickness)
    peaks = ((starts + stops - 1) / 2)[slim] + ix0
    margin = dpi // 30
    peaks = peaks[(peaks > ix0 + margin) & (peaks < ix1 - margin)]
    x0, _, x1, _ = frame.box
    tol = max(3, dpi // 60)
    best_n, best_hits = 1, 0
    for n in range(2, (x1 - x0) * 10 // dpi + 1):  # cells at least 1/10 inch wide
        lattice = np.round(x0 + (x1 - x0) * np.arange(1, n) / n).astype(int) - ix0
        hits = sum(bool(full[max(0, x - tol) : x + tol + 1].any()) for x in lattice)
        stray = sum(bool(np.min(np.abs(lattice + ix0 - p)) > tol) for p in peaks)
        if hits >= 0.7 * (n - 1) and hits >= best_hits and stray <= 0.3 * (n - 1):
            best_n, best_hits = n, hits
    return best_n


def _runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and stops (exclusive) of the runs of True in a 1-D bool array."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    steps = np.diff(padded)
    return np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)


def _reading_order(boxes: list[Box]) -> list[int]:
    """Indices of the boxes in reading order: rows top to bottom, left to right in a row.

    A box joins a row when its middle lies within half the row's first box's height.
    """
    rows: list[list[int]] = []
    for i in sorted(range(len(boxes)), key=lambda k: (boxes[k][1] + boxes[k][3]) / 2):
        box = boxes[i]
        middle = (box[1] + box[3]) / 2
        if rows:
            first = boxes[rows[-1][0]]
            if abs(middle - (first[1] + first[3]) / 2) < (first[3] - first[1]) / 2:
                rows[-1].append(i)
                continue
        rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda k: boxes[k][0])]
