"""Comb fields: share a field's ink out among its cells, one character crop per cell."""

from __future__ import annotations

import itertools
from dataclasses import replace

import cv2
import numpy as np

from segmentation.ink import EMPTY, Blob, Framer, mask_height, mask_span, to_page_boxes
from segmentation.records import Box, CharCrop, FieldSpec
from segmentation.templates import line_width


def comb_chars(
    pieces: list[np.ndarray],
    spec: FieldSpec,
    offset: tuple[int, int],
    strength: np.ndarray,
    to_page: np.ndarray,
    page: np.ndarray,
    dpi: int,
) -> list[CharCrop]:
    """One crop per cell, from the pieces of ink assigned to each cell.

    A piece lying mostly in one cell belongs to it whole, even where it crosses a separator.
    A piece with much of its ink in two cells is two characters that touch (or one written
    across a separator): it is cut at its thinnest column near the separator (`_cut_at_borders`).
    """
    cells = [
        (c[0] + offset[0], c[1] + offset[1], c[2] + offset[0], c[3] + offset[1]) for c in spec.cells
    ]
    parts: list[list[np.ndarray]] = [[] for _ in cells]
    edges = [c[0] for c in cells[1:]]
    cell_w, cell_h = cells[0][2] - cells[0][0], cells[0][3] - cells[0][1]
    for piece in pieces:
        for part in _cut_at_borders(piece, edges, cell_w, cell_h):
            shares = np.add.reduceat(part.sum(axis=0), [0, *edges])  # ink per cell
            parts[int(np.argmax(shares))].append(part)
    _reunite(parts, line_width(dpi) + 4, cell_h)
    written: dict[int, Blob] = {}  # cell -> its character's ink
    for k, (cell, found) in enumerate(zip(cells, parts, strict=True)):
        mask = _main_ink(found, cell, spec.explicit_cells)
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size and max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 >= 0.2 * cell_h:
            written[k] = Blob.tight(mask)
    framed = Framer(strength, to_page, page).crops(list(written.values()))
    chars = {k: replace(crop, index=k) for k, crop in zip(written, framed, strict=True)}
    blank = [k for k in range(len(cells)) if k not in chars]
    for k, box in zip(blank, to_page_boxes([cells[k] for k in blank], to_page, page), strict=True):
        chars[k] = CharCrop(k, EMPTY.copy(), box, "empty")
    return [chars[k] for k in range(len(cells))]


def _reunite(parts: list[list[np.ndarray]], gap: int, cell_h: int) -> None:
    """Give strokes cut off a neighbour's character back to that character's cell, in place.

    Erasing a separator (or a faint stretch of ink) breaks a stroke that crosses it, leaving
    a piece of one character in the next cell. A small piece lying within ``gap`` of the main
    ink of a neighbouring cell, and not of its own cell's main ink, moves there: the tail of a
    neighbour's 9 leaves this cell's 0, and the overhang of a big 7 rejoins it. A piece that is
    alone in its cell moves only when it is short (a bar, not a 1).
    """
    areas = [[int(p.sum()) for p in found] for found in parts]
    mains = [int(np.argmax(a)) if a else -1 for a in areas]
    target: dict[tuple[int, int], int] = {}  # (cell, piece) to the cell it moves to
    for k, found in enumerate(parts):
        for i, piece in enumerate(found):
            alone = i == mains[k]
            if alone and (len(found) > 1 or mask_height(piece) >= 0.4 * cell_h):
                continue
            for j in (k - 1, k + 1):
                if not 0 <= j < len(parts) or mains[j] < 0:
                    continue
                other = parts[j][mains[j]]
                if areas[k][i] >= 0.35 * areas[j][mains[j]] or not _near(piece, other, gap):
                    continue
                if alone or not _near(piece, found[mains[k]], gap):
                    target[(k, i)] = j
                    break
    target = {key: j for key, j in target.items() if (j, mains[j]) not in target}
    joined = {j: [parts[j][mains[j]]] for j in target.values()}
    for (k, i), j in target.items():
        joined[j].append(parts[k][i])
    for k, found in enumerate(parts):
        # A moved piece joins its character's main piece, so that no crumb rule drops it.
        parts[k] = [
            np.logical_or.reduce(joined[k]) if k in joined and i == mains[k] else piece
            for i, piece in enumerate(found)
            if (k, i) not in target
        ]


def _near(a: np.ndarray, b: np.ndarray, gap: int) -> bool:
    """True when masks ``a`` and ``b`` come within ``gap`` pixels of each other."""
    rows, cols = np.flatnonzero(a.any(axis=1)), np.flatnonzero(a.any(axis=0))
    y0, y1 = max(0, rows[0] - gap), rows[-1] + gap + 1
    x0, x1 = max(0, cols[0] - gap), cols[-1] + gap + 1
    window = b[y0:y1, x0:x1]
    if not window.any():
        return False
    kernel = np.ones((2 * gap + 1, 2 * gap + 1), np.uint8)
    grown = cv2.dilate(a[y0:y1, x0:x1].astype(np.uint8), kernel)
    return bool((grown.astype(bool) & window).any())


def _cut_at_borders(
    piece: np.ndarray, edges: list[int], cell_w: int, cell_h: int
) -> list[np.ndarray]:
    """Cut a piece of ink into the characters of neighbouring cells.

    At each separator with a good share of the piece's ink on both sides, the piece is cut at
    the thinnest column within a third of a cell of the separator, when that column is about
    one stroke thick and both sides are character-sized (at least a quarter of the cell's
    height, and nearly as tall as the piece): two characters that touch. A single
    character crossing a separator is thicker there (a 0 or 8 has two strokes in every column)
    or leaves a small side, so it stays whole. A piece much wider than a cell that offers no
    such column is cut at the separators themselves.
    """
    columns = piece.sum(axis=0)
    total = float(columns.sum())
    before = np.cumsum(columns)  # ink left of each column boundary
    shared = [e for e in edges if min(before[e - 1], total - before[e - 1]) >= 0.15 * total]
    if not shared:  # most pieces: nearly all the ink on one side of every separator
        return [piece]
    span = np.flatnonzero(columns)
    rows = np.flatnonzero(piece.any(axis=1))
    height = rows[-1] - rows[0] + 1
    mask = piece.astype(np.uint8)
    boundary = int((mask - cv2.erode(mask, np.ones((3, 3), np.uint8))).sum())
    stroke = 2.0 * total / max(1, boundary)
    too_wide = span[-1] - span[0] + 1 > 1.5 * cell_w
    reach = cell_w // 3
    cuts = []
    for edge in shared:
        lo, hi = max(span[0] + 1, edge - reach), min(span[-1], edge + reach)
        if hi <= lo:
            continue
        distance = np.abs(np.arange(lo, hi) - edge) / reach
        best = lo + int(np.argmin(columns[lo:hi] + 0.5 * stroke * distance))
        sides = (piece[:, :best], piece[:, best:])
        thin = columns[best] <= 1.6 * stroke
        tall = min(mask_height(side) for side in sides) >= max(0.45 * height, 0.25 * cell_h)
        if thin and tall:
            cuts.append(best)
        elif too_wide:
            cuts.append(edge)
    out = []
    for lo, hi in itertools.pairwise([0, *cuts, piece.shape[1]]):
        part = np.zeros_like(piece)
        part[:, lo:hi] = piece[:, lo:hi]
        if part.any():
            out.append(part)
    return out


def _main_ink(found: list[np.ndarray], cell: Box, full_separators: bool) -> np.ndarray:
    """Union of a cell's pieces, leaving out crumbs.

    Crumbs are tiny pieces (line remnants) and small pieces at the cell's side borders, beside
    a separator: the tip of a neighbour's stroke, cut off where it ran along the separator
    (ticks rise only from the bottom, so above them a small piece is kept: the bar of a 5).
    """
    if not found:
        return np.zeros((1, 1), bool)
    areas = [int(p.sum()) for p in found]
    biggest = max(areas)
    cell_h, reach = cell[3] - cell[1], max(4, (cell[2] - cell[0]) // 12)
    keep = []
    for piece, area in zip(found, areas, strict=True):
        a, b = mask_span(piece)
        rows = np.flatnonzero(piece.any(axis=1))
        beside = full_separators or (rows[0] + rows[-1]) / 2 > cell[1] + 0.45 * cell_h
        at_border = beside and (a <= cell[0] + reach or b >= cell[2] - reach)
        if area == biggest or (
            (area >= 0.08 * biggest or mask_height(piece) >= 0.25 * cell_h)
            and not (at_border and area < 0.35 * biggest)
        ):
            keep.append(piece)
    return np.logical_or.reduce(keep)
