"""Cut a registered field into character crops: remove printed lines, find ink, frame it."""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

import cv2
import numpy as np

from segmentation.boxes import box_groups
from segmentation.comb import comb_chars
from segmentation.ink import Blob, Framer, to_page_box
from segmentation.lattice import build_lattice
from segmentation.lines import find_rules
from segmentation.paper import faint_level
from segmentation.records import Box, Candidate, CharCrop, FieldCrops, FieldSpec, Lattice
from segmentation.templates import TICK_FRACTION, field_lines, line_width
from segmentation.textlines import line_inks, text_bands

SPECK = 0.00025
"""Pieces of ink smaller than this (square inches: about 22 px at 300 dpi) are specks."""
LIGHT_RATIO = 2.0
"""Writing is light where a level just under the paper finds this many times the ink in the
box that the page's ink threshold does (dark writing's blurred edges: up to 1.9 on 630
validation pages of random styles)."""
LIGHT_INK = 0.001
"""...and at least this share of the box's pixels (90 a square inch: 4 specks at 300 dpi)."""
LINE_HEIGHT = 0.5
"""The most (inches) of a box's height that one line of writing is measured against. A box
taller than that (a comments or address box, a paragraph) holding one line of writing is
measured as a box of this height, so that writing small in a tall box is not taken for dust
(``boxes.box_groups``: writing is never measured under a quarter of the box's height).
Our templates' single-line boxes are 0.3-0.45 in tall."""


def cut_field(
    page: np.ndarray, spec: FieldSpec, homography: np.ndarray, threshold: int, dpi: int
) -> FieldCrops:
    """Cut one field of a registered page into character crops.

    Args:
        page: uint8 (H, W), dark ink on light paper, as loaded.
        spec: the field, in template coordinates.
        homography: float64 (3, 3), template to page coordinates.
        threshold: gray level under which a pixel is ink.
        dpi: the template's resolution (sets line widths and speck sizes).

    Returns:
        The field's crops: comb fields one per cell (empty ones included), box fields one per
        character found, left to right. Crop images are uint8 (28, 28), white ink on black.
    """
    margin = _margin(dpi)
    x0, y0, x1, y1 = spec.box
    to_page = homography @ _shift(x0 - margin, y0 - margin)
    size = (x1 - x0 + 2 * margin, y1 - y0 + 2 * margin)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    local = cv2.warpPerspective(page, to_page, size, flags=flags, borderValue=255)
    inside = cv2.warpPerspective(
        _ones(page.shape), to_page, size, flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    )
    field_box = to_page_box((margin, margin, size[0] - margin, size[1] - margin), to_page, page)

    def record(status: str, reason: str, chars: list[CharCrop]) -> FieldCrops:
        return FieldCrops(
            spec.name,
            spec.kind,
            spec.charset,
            field_box,
            spec.validation,
            status,
            reason,
            tuple(chars),
        )

    core = inside[margin:-margin, margin:-margin]
    if core.mean() < 0.97:
        return record("unreadable", "field is partly outside the scanned page", [])
    offset = (margin - x0, margin - y0)
    rules = _rules(local, spec, offset, threshold, dpi)
    ink = (local < threshold) & ~rules
    zones = _line_zones(local.shape, spec, offset, dpi) | rules
    light = _light_level(local, ink, zones, threshold, margin, dpi)
    if light is not None:  # written in pencil or a faint pen: read at its own level
        ink = (local < light) & ~_rules(local, spec, offset, light, dpi)
    ink = ink.astype(np.uint8)
    if ink[margin:-margin, margin:-margin].mean() > 0.35:
        return record("unreadable", "field is mostly ink (scribbled out or a shadow?)", [])
    strength = (255 - local).astype(np.uint8)
    inner = (margin, margin, size[0] - margin, size[1] - margin)
    if spec.kind == "comb":
        pieces = [piece.whole(ink.shape) for piece in _pieces(ink, inner, dpi)]
        chars = comb_chars(pieces, spec, offset, strength, to_page, page, dpi)
        found = any(c.status == "ok" for c in chars)
        return record("ok" if found else "empty", "" if found else "no ink in any cell", chars)
    return _box_writing(record("ok", "", []), ink, spec, Framer(strength, to_page, page), dpi)


@lru_cache(maxsize=2)
def _ones(shape: tuple[int, ...]) -> np.ndarray:
    """A read-only page of ones (uint8): where a field window lies on the page, once per size."""
    ones = np.ones(shape, np.uint8)
    ones.flags.writeable = False
    return ones


def _box_field(
    field: FieldCrops, pieces: list[Blob], max_chars: int, height: int, framer: Framer
) -> FieldCrops:
    """A box field's characters as grouped by shape, and the candidate cuts to choose from.

    ``height`` is the box's (or the line of writing's) inner height in pixels; ``framer``
    frames the ink of its window (the field's, or the line's).
    """
    groups, tall = box_groups(pieces, height)
    chars = framer.crops(groups)  # most are candidates too: the framer frames them once
    lattice = build_lattice(pieces, max_chars, tall, framer.crops) if chars else None
    return _with_chars(field, chars, lattice, max_chars)


def _with_chars(
    field: FieldCrops, chars: list[CharCrop], lattice: Lattice | None, max_chars: int
) -> FieldCrops:
    """A box field with its characters as grouped, and its lattice when there is one.

    Grouped into more characters than the field holds, it is ``unreadable``, unless a reader
    cuts it again from its lattice (which then decides).
    """
    if not chars:
        return replace(field, status="empty", reason="no ink in the box")
    field = replace(field, chars=tuple(chars), lattice=lattice)
    if len(chars) > max_chars:
        reason = f"{len(chars)} characters found, the field holds at most {max_chars}"
        return replace(field, status="unreadable", reason=reason)
    return field


def _box_writing(
    field: FieldCrops, ink: np.ndarray, spec: FieldSpec, framer: Framer, dpi: int
) -> FieldCrops:
    """A box field's writing: one line of it, or a paragraph cut line by line.

    ``ink`` is the field window's (uint8, 1 on ink, printed lines erased); a paragraph's
    characters and candidate cuts are joined in reading order.
    """
    height, width = ink.shape
    margin = _margin(dpi)
    inner = (margin, margin, width - margin, height - margin)
    bands = text_bands(ink[:, margin:-margin], (margin, height - margin))
    if len(bands) == 1:
        pieces = _pieces(ink, inner, dpi)
        line = min(height - 2 * margin, round(LINE_HEIGHT * dpi))
        return _box_field(field, pieces, spec.max_chars, line, framer)
    # The first and last bands reach the box's edges, over the blank above and below the
    # writing: a line's height is at most the paragraph's line pitch. That is the median of
    # the bands between two others; of two lines alone, the shorter band.
    middle = [bottom - top for top, bottom in bands[1:-1]]
    pitch = int(np.median(middle)) if middle else min(bottom - top for top, bottom in bands)
    lines = []
    for (top, bottom), (start, own) in zip(bands, line_inks(ink, bands), strict=True):
        stop = start + own.shape[0]  # the line's rows, with the strokes it was given back
        band = Framer(framer.strength[start:stop], framer.to_page @ _shift(0, start), framer.page)
        pieces = _pieces(own, (margin, top - start, width - margin, bottom - start), dpi)
        lines.append(_box_field(field, pieces, spec.max_chars, min(bottom - top, pitch), band))
    return _join_lines(field, lines, spec.max_chars)


def _join_lines(field: FieldCrops, lines: list[FieldCrops], max_chars: int) -> FieldCrops:
    """One field from the lines of a paragraph: characters and candidate cuts in reading order."""
    chars: list[CharCrop] = []
    candidates: list[Candidate] = []
    skips: list[float] = []
    seams: list[int] = []
    extents: list[tuple[float, float]] = []
    starts: list[int] = []  # the first atom of each line after the first
    measured = True  # every line's atoms have extents (a scribbled line's have none)
    for line in lines:
        chars += [replace(c, index=len(chars) + i) for i, c in enumerate(line.chars)]
        if skips and line.chars:
            starts.append(len(skips))
        if line.lattice is not None:
            shift = len(skips)
            candidates += [
                replace(c, start=c.start + shift, stop=c.stop + shift)
                for c in line.lattice.candidates
            ]
            skips += line.lattice.skips
            seams += [seam + shift for seam in line.lattice.seams]
            extents += line.lattice.extents
        elif line.chars:  # a line too scribbled to cut: read as grouped, one candidate each
            measured = False
            for c in line.chars:
                candidates.append(Candidate(len(skips), len(skips) + 1, c.image, c.box, 0.0))
                skips.append(-math.inf)
    lattice = (
        Lattice(
            len(skips),
            tuple(candidates),
            tuple(skips),
            max_chars,
            tuple(seams),
            tuple(extents) if measured else (),
            tuple(starts) if measured else (),
        )
        if skips
        else None
    )
    return _with_chars(field, chars, lattice, max_chars)


def _light_level(
    local: np.ndarray,
    ink: np.ndarray,
    lines: np.ndarray,
    threshold: int,
    margin: int,
    dpi: int,
) -> int | None:
    """The level under which the field's writing is ink, where it is lighter than the page's.

    A page's ink threshold lies between its paper and its darkest ink, the print. Writing in
    pencil or a faint pen may lie wholly above it: the field would read as empty, with no one
    asked to check, or its strokes broken. Where a level just clearly under the paper
    (``paper.faint_level``, from the field's own window) finds LIGHT_RATIO times the ink in the
    box that the threshold does, away from the printed lines, the writing is that light.

    Args:
        local: the field's window, uint8, dark ink on light paper.
        ink: bool, its ink under the page's threshold, printed lines erased.
        lines: bool, where printed lines are or may be (a line too light for the threshold,
            left unerased, or a line's grey edge, is no writing).
        threshold: the page's ink threshold.
        margin: the window's margin around the box.
        dpi: the template's resolution.

    Returns:
        The lighter level, or None where the page's threshold finds the writing.
    """
    level = faint_level(local, threshold)
    if level <= threshold:
        return None
    away = ~cv2.dilate(lines.view(np.uint8), np.ones((5, 5), np.uint8)).view(bool)
    inner = (slice(margin, -margin), slice(margin, -margin))
    light = ((local < level) & away)[inner].view(np.uint8)
    least = max(LIGHT_INK * light.size, LIGHT_RATIO * np.count_nonzero((ink & away)[inner]))
    if np.count_nonzero(light) < least:  # too little even with the paper's noise counted
        return None
    # Strokes, not the paper's noise: pieces of ink as large as ``_pieces`` keeps.
    _count, _labels, stats, _centres = cv2.connectedComponentsWithStats(light, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    return level if areas[areas >= SPECK * dpi * dpi].sum() >= least else None


def _line_zones(
    shape: tuple[int, ...], spec: FieldSpec, offset: tuple[int, int], dpi: int
) -> np.ndarray:
    """Where the field's printed lines may lie (bool): along each, as far as they are searched."""
    zones = np.zeros(shape[:2], np.uint8)
    width = 2 * _line_search(dpi) + 1
    frame, dividers = _expected_lines(spec, offset)
    for x0, y0, x1, y1 in frame:
        cv2.line(zones, (x0, y0), (x1, y1), 1, width)
    for x, y0, _tick, y1 in dividers:
        cv2.line(zones, (x, y0), (x, y1), 1, width)
    return zones.view(bool)


def _margin(dpi: int) -> int:
    """Pixels around a field's box in its window: room for a box a little off its frame."""
    return round(0.06 * dpi)


def _shift(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _rules(
    local: np.ndarray, spec: FieldSpec, offset: tuple[int, int], threshold: int, dpi: int
) -> np.ndarray:
    """The field's printed lines as found in its image (``local``: uint8, dark ink): a mask.

    Lines are looked for in a lighter binarisation than the ink's, so that a light grey
    ("dropout") frame is found and erased whole rather than leaving its darker pixels behind.
    """
    ink = local < threshold
    faint = local < (int(threshold) + 255) // 2
    frame, dividers = _expected_lines(spec, offset)
    cell = (spec.box[2] - spec.box[0]) / max(1, len(spec.cells))
    return find_rules(
        ink,
        faint,
        frame,
        dividers,
        search=_line_search(dpi),
        divider_search=max(_line_search(dpi), round(cell / 4)),
        stretch=round(0.4 * dpi),
    )


def _line_search(dpi: int) -> int:
    """How far (pixels) across a printed line its real place may be from the template's."""
    return round(0.04 * dpi)


def _expected_lines(
    spec: FieldSpec, offset: tuple[int, int]
) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int, int]]]:
    """The field's frame lines and comb dividers where the template puts them, in its window."""
    dx, dy = offset
    frame = [(lx0 + dx, ly0 + dy, lx1 + dx, ly1 + dy) for lx0, ly0, lx1, ly1 in _frame(spec)]
    dividers = [(x + dx, y0 + dy, tick + dy, y1 + dy) for x, y0, tick, y1 in _dividers(spec)]
    return frame, dividers


def _frame(spec: FieldSpec) -> list[tuple[int, int, int, int]]:
    """The lines printed whole around a field: its frame, and every side of explicit cells."""
    if spec.kind == "comb" and spec.explicit_cells:
        return field_lines(spec)
    return field_lines(replace(spec, kind="box"))


def _dividers(spec: FieldSpec) -> list[tuple[int, int, int, int]]:
    """Where an equal-cell comb's dividers may be: ``(x, y0, tick_top, y1)`` each.

    Forms draw ticks rising from the bottom line, full-height dividers, or separate boxes,
    whatever the template says; the image decides which (``find_rules``).
    """
    if spec.kind != "comb" or spec.explicit_cells:
        return []
    _x0, y0, _x1, y1 = spec.box
    tick_top = round(y1 - TICK_FRACTION * (y1 - y0))
    return [(cell[0], y0, tick_top, y1) for cell in spec.cells[1:]]


def _pieces(ink: np.ndarray, box: Box, dpi: int) -> list[Blob]:
    """The connected components of ink whose centre is inside ``box``, as blobs.

    Specks and thin slivers left over from printed lines are dropped. Components are found
    after closing 1-2 px gaps, so a faint stroke broken by thresholding stays one piece.
    """
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(closed, connectivity=8)
    inked = ink > 0
    speck = SPECK * dpi * dpi
    thin = line_width(dpi) + 1
    out = []
    for i in range(1, count):
        x, y, w, h, area = stats[i]
        cx, cy = centroids[i]
        line_like = min(w, h) <= thin and max(w, h) >= 0.25 * dpi
        if area < speck or line_like:
            continue
        if not (box[0] <= cx < box[2] and box[1] <= cy < box[3]):
            continue
        piece = (labels[y : y + h, x : x + w] == i) & inked[y : y + h, x : x + w]
        if piece.any():  # closing joins ink; it never makes a piece of its own, but be sure
            out.append(Blob.tight(piece, int(x), int(y)))
    return out
