"""Cut a registered field into character crops: remove printed lines, find ink, frame it."""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from ocr_core.normalise import crop_to_character
from segmentation.records import Box, CharCrop, FieldCrops, FieldSpec
from segmentation.templates import field_lines, line_width

_EMPTY = np.zeros((28, 28), np.uint8)


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
    margin = round(0.06 * dpi)
    x0, y0, x1, y1 = spec.box
    to_page = homography @ _shift(x0 - margin, y0 - margin)
    size = (x1 - x0 + 2 * margin, y1 - y0 + 2 * margin)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    local = cv2.warpPerspective(page, to_page, size, flags=flags, borderValue=255)
    inside = cv2.warpPerspective(
        np.ones_like(page), to_page, size, flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    )
    field_box = _to_page_box((margin, margin, size[0] - margin, size[1] - margin), to_page, page)

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
    ink = (local < threshold).astype(np.uint8)
    offset = (margin - x0, margin - y0)
    _remove_lines(ink, spec, offset, dpi)
    if ink[margin:-margin, margin:-margin].mean() > 0.35:
        return record("unreadable", "field is mostly ink (scribbled out or a shadow?)", [])
    pieces = _pieces(ink, (margin, margin, size[0] - margin, size[1] - margin), dpi)
    strength = (255 - local).astype(np.uint8)
    if spec.kind == "comb":
        chars = _comb_chars(pieces, spec, offset, strength, to_page, page, dpi)
        found = any(c.status == "ok" for c in chars)
        return record("ok" if found else "empty", "" if found else "no ink in any cell", chars)
    groups = _box_groups(pieces, size[1] - 2 * margin)
    chars = [_char(i, mask, strength, to_page, page) for i, mask in enumerate(groups)]
    if not chars:
        return record("empty", "no ink in the box", [])
    if len(chars) > spec.max_chars:
        reason = f"{len(chars)} characters found, the field holds at most {spec.max_chars}"
        return record("unreadable", reason, chars)
    return record("ok", "", chars)


def _shift(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _to_page_box(box: Box, to_page: np.ndarray, page: np.ndarray) -> Box:
    """Bounding box in the page of a local box's four corners, clipped to the page."""
    x0, y0, x1, y1 = box
    corners = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float64)
    mapped = cv2.perspectiveTransform(corners, to_page)[0]
    height, width = page.shape
    lo = np.floor(mapped.min(0)).astype(int)
    hi = np.ceil(mapped.max(0)).astype(int)
    return (
        int(np.clip(lo[0], 0, width)),
        int(np.clip(lo[1], 0, height)),
        int(np.clip(hi[0], 0, width)),
        int(np.clip(hi[1], 0, height)),
    )


def _remove_lines(ink: np.ndarray, spec: FieldSpec, offset: tuple[int, int], dpi: int) -> None:
    """Erase the field's printed lines in place, keeping strokes that cross them.

    Each line is found again near where the template puts it (in chunks, so a small residual
    rotation is followed); a band across the line is cleared except where ink continues on both
    sides, which is a pen stroke crossing the line.
    """
    search, half = round(0.025 * dpi), line_width(dpi) // 2 + max(2, dpi // 150)
    chunk = round(0.5 * dpi)
    for lx0, ly0, lx1, ly1 in field_lines(spec):
        lx0, lx1, ly0, ly1 = lx0 + offset[0], lx1 + offset[0], ly0 + offset[1], ly1 + offset[1]
        view = ink if ly0 == ly1 else ink.T
        if ly0 != ly1:  # vertical: work on the transposed image, where it is horizontal
            lx0, ly0, lx1, ly1 = ly0, lx0, ly1, lx1
        for start in range(lx0 - half, lx1 + half, chunk):
            stop = min(start + chunk, lx1 + half + 1)
            lo, hi = max(0, ly0 - search), min(view.shape[0], ly0 + search + 1)
            profile = view[lo:hi, start:stop].sum(axis=1)
            if profile.size == 0 or profile.max() < 0.3 * (stop - start):
                continue
            centre = lo + int(np.argmax(profile))
            top, bottom = max(0, centre - half), min(view.shape[0], centre + half + 1)
            above = view[max(0, top - 3) : top, start:stop].any(axis=0)
            below = view[bottom : bottom + 3, start:stop].any(axis=0)
            crossing = np.logical_and(above, below).astype(view.dtype)
            view[top:bottom, start:stop] *= crossing.reshape(1, -1)


def _pieces(ink: np.ndarray, box: Box, dpi: int) -> list[np.ndarray]:
    """Masks (bool, ink's shape) of the connected components whose centre is inside ``box``.

    Specks and thin slivers left over from printed lines are dropped. Components are found
    after closing 1-2 px gaps, so a faint stroke broken by thresholding stays one piece.
    """
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(closed, connectivity=8)
    inked = ink > 0
    speck = 0.00025 * dpi * dpi  # about 22 px at 300 dpi
    thin = line_width(dpi) + 1
    out = []
    for i in range(1, count):
        _x, _y, w, h, area = stats[i]
        cx, cy = centroids[i]
        line_like = min(w, h) <= thin and max(w, h) >= 0.25 * dpi
        if area < speck or line_like:
            continue
        if not (box[0] <= cx < box[2] and box[1] <= cy < box[3]):
            continue
        out.append((labels == i) & inked)
    return out


def _comb_chars(
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
            columns = part.sum(axis=0)
            bounds = [0, *edges, part.shape[1]]
            shares = [columns[lo:hi].sum() for lo, hi in itertools.pairwise(bounds)]
            parts[int(np.argmax(shares))].append(part)
    _reunite(parts, line_width(dpi) + 4, cell_h)
    chars = []
    for k, (cell, found) in enumerate(zip(cells, parts, strict=True)):
        mask = _main_ink(found, cell, spec.explicit_cells)
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size and max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 >= 0.2 * cell_h:
            chars.append(_char(k, mask, strength, to_page, page))
        else:
            chars.append(CharCrop(k, _EMPTY.copy(), _to_page_box(cell, to_page, page), "empty"))
    return chars


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
            if alone and (len(found) > 1 or _height(piece) >= 0.4 * cell_h):
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
    span = np.flatnonzero(columns)
    rows = np.flatnonzero(piece.any(axis=1))
    height = rows[-1] - rows[0] + 1
    mask = piece.astype(np.uint8)
    boundary = int((mask - cv2.erode(mask, np.ones((3, 3), np.uint8))).sum())
    stroke = 2.0 * total / max(1, boundary)
    too_wide = span[-1] - span[0] + 1 > 1.5 * cell_w
    reach = cell_w // 3
    cuts = []
    for edge in edges:
        left, right = columns[:edge].sum(), columns[edge:].sum()
        if min(left, right) < 0.15 * total:
            continue
        lo, hi = max(span[0] + 1, edge - reach), min(span[-1], edge + reach)
        if hi <= lo:
            continue
        distance = np.abs(np.arange(lo, hi) - edge) / reach
        best = lo + int(np.argmin(columns[lo:hi] + 0.5 * stroke * distance))
        sides = (piece[:, :best], piece[:, best:])
        thin = columns[best] <= 1.6 * stroke
        tall = min(_height(side) for side in sides) >= max(0.45 * height, 0.25 * cell_h)
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
        a, b = _span(piece)
        rows = np.flatnonzero(piece.any(axis=1))
        beside = full_separators or (rows[0] + rows[-1]) / 2 > cell[1] + 0.45 * cell_h
        at_border = beside and (a <= cell[0] + reach or b >= cell[2] - reach)
        if area == biggest or (
            (area >= 0.08 * biggest or _height(piece) >= 0.25 * cell_h)
            and not (at_border and area < 0.35 * biggest)
        ):
            keep.append(piece)
    return np.logical_or.reduce(keep)


def _char(
    index: int, mask: np.ndarray, strength: np.ndarray, to_page: np.ndarray, page: np.ndarray
) -> CharCrop:
    """Frame the ink under ``mask`` (a little grown, to keep anti-aliased edges)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8))
    ink = (strength * grown)[y0:y1, x0:x1]
    image = crop_to_character(ink, ink_is_dark=False)
    box = _to_page_box((int(x0), int(y0), int(x1), int(y1)), to_page, page)
    return CharCrop(index, image, box, "ok" if image.any() else "empty")


def _box_groups(pieces: list[np.ndarray], box_height: int) -> list[np.ndarray]:
    """One bool mask (the field's shape) per character, left to right, from ``_pieces``.

    Broken characters are joined, touching ones split; ``box_height``: the box's inner height.
    """
    groups = _merge_broken(pieces)
    if not groups:
        return []
    heights = [_height(g) for g in groups]
    # The character height: the median of the taller groups', never under 0.4 of the box's.
    tall = max(0.4 * box_height, float(np.median([h for h in heights if 2 * h >= max(heights)])))
    # A mark under a quarter of the character height, left alone, is dust, not a character.
    kept = [g for g in groups if max(_height(g), np.ptp(_span(g))) >= 0.25 * tall]
    return _split_touching(kept, tall)


def _merge_broken(pieces: list[np.ndarray]) -> list[np.ndarray]:
    """Merge the pieces of each character, left to right.

    Stacked parts (the dot of an i, the bar of a 5) join; so do small fragments (a broken-off
    bar or tail) and single strokes lying right next to a character.
    """
    spans = [_span(p) for p in pieces]
    order = sorted(range(len(pieces)), key=lambda i: spans[i][0])
    groups: list[tuple[np.ndarray, tuple[int, int]]] = []
    for i in order:
        mask, (a, b) = pieces[i], spans[i]
        if groups:
            g_mask, (ga, gb) = groups[-1]
            overlap = min(b, gb) - max(a, ga)
            # Pieces one above the other (a dot, a bar, a stem broken across) are one
            # character: two characters side by side share the writing line's rows.
            stacked = overlap > 0 and _rows_apart(mask, g_mask)
            if stacked or overlap > 0.4 * min(b - a, gb - ga):
                groups[-1] = (g_mask | mask, (min(a, ga), max(b, gb)))
                continue
        groups.append((mask, (a, b)))
    if len(groups) < 2:
        return [g for g, _ in groups]
    heights = np.array([np.ptp(np.flatnonzero(g.any(axis=1))) + 1 for g, _ in groups])
    areas = np.array([int(g.sum()) for g, _ in groups])
    tall, big = float(np.median(heights)), float(np.median(areas))
    merged = True
    while merged and len(groups) > 1:
        merged = False
        for i, (mask, (a, b)) in enumerate(groups):
            fragment = heights[i] < 0.4 * tall or areas[i] < 0.15 * big
            stroke = (b - a) < 0.3 * tall  # one stroke of a broken letter, or an I
            if not (fragment or stroke):
                continue
            gaps = [
                max(a - gb, ga - b) if j != i else np.inf for j, (_, (ga, gb)) in enumerate(groups)
            ]
            j = int(np.argmin(gaps))
            if gaps[j] > (0.25 if fragment else 0.1) * tall:
                continue
            g_mask, (ga, gb) = groups[j]
            groups[j] = (g_mask | mask, (min(a, ga), max(b, gb)))
            heights[j] = np.ptp(np.flatnonzero(groups[j][0].any(axis=1))) + 1
            areas[j] += areas[i]
            del groups[i]
            heights, areas = np.delete(heights, i), np.delete(areas, i)
            merged = True
            break
    return [g for g, _ in groups]


def _rows_apart(one: np.ndarray, other: np.ndarray) -> bool:
    """True when the two masks' ink share no row (one lies wholly above the other)."""
    rows, other_rows = np.flatnonzero(one.any(axis=1)), np.flatnonzero(other.any(axis=1))
    return bool(rows[0] > other_rows[-1] or other_rows[0] > rows[-1])


def _height(mask: np.ndarray) -> int:
    rows = np.flatnonzero(mask.any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def _span(mask: np.ndarray) -> tuple[int, int]:
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(cols[-1]) + 1


def _split_touching(groups: list[np.ndarray], tall: float) -> list[np.ndarray]:
    """Split the groups that hold touching characters: one bool mask each, left to right.

    Masks have the field's shape; ``tall`` is the character height in pixels.
    """
    out = []
    for group in groups:
        cut = _touching_cut(group, tall)
        if cut is None:
            out.append(group)
            continue
        left = np.zeros_like(group)
        left[cut] = True
        parts = [left, group & ~left]
        # A part of a pair is one character: only ink for three is looked at again.
        out += _split_touching(parts, tall) if _ink_length(group, tall) > 7.5 else parts
    return out


def _ink_length(mask: np.ndarray, tall: float) -> float:
    """Length of the mask's strokes in character heights: half the length of their outline."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    sub = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.uint8)
    return int((sub - cv2.erode(sub, np.ones((3, 3), np.uint8), borderValue=0)).sum()) / 2 / tall


def _touching_cut(group: np.ndarray, tall: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The pixels (rows, columns) of the left character if ``group`` holds two, else None.

    The ink is sheared upright first (the slant that makes its column profile most peaked),
    so that the cut follows the writing's slant. The cut column crosses few strokes, leaves
    both sides character-high and splits the ink about evenly (touching characters carry
    comparable ink: a cut shaving a sliver off one is unlikely). The evidence for two
    characters, in character heights of ink: more ink than one character of this width
    carries, less a third for each stroke the cut crosses and each arch (an m's humps, whose
    joins a cut would cross). The weights were fitted on synthetic fields of real glyphs.
    """
    rows, cols = np.flatnonzero(group.any(axis=1)), np.flatnonzero(group.any(axis=0))
    if cols.size == 0 or cols[-1] - cols[0] + 1 < 0.85 * tall:
        return None
    length = _ink_length(group, tall)
    if length < 3.5:
        return None
    ys, xs = np.nonzero(group[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    centre = ys.mean()
    peaks = []
    for shear in _SHEARS:
        x = xs - np.round(shear * (ys - centre)).astype(int)
        peaks.append(float((np.bincount(x - x.min()).astype(np.float64) ** 2).sum()))
    x = xs - np.round(_SHEARS[int(np.argmax(peaks))] * (ys - centre)).astype(int)
    x -= x.min()
    upright = np.zeros((ys.max() + 1, x.max() + 1), bool)
    upright[ys, x] = True
    height, width = upright.shape
    lo, hi = round(0.3 * tall), width - round(0.3 * tall)
    if hi <= lo:
        return None
    profile = upright.sum(axis=0) * length * tall / ys.size  # in strokes crossed
    inked = upright.any(axis=0)
    top = np.where(inked, upright.argmax(axis=0), height)
    bottom = np.where(inked, height - 1 - upright[::-1].argmax(axis=0), -1)
    left_h = np.maximum.accumulate(bottom) - np.minimum.accumulate(top) + 1
    right_h = (np.maximum.accumulate(bottom[::-1]) - np.minimum.accumulate(top[::-1]) + 1)[::-1]
    short = np.minimum(left_h[lo - 1 : hi - 1], right_h[lo:hi]) < 0.6 * tall
    uneven = np.abs(2 * np.cumsum(profile)[lo - 1 : hi - 1] / profile.sum() - 1)
    cut = lo + int(np.argmin(profile[lo:hi] + 3 * uneven + 100 * short))
    evidence = length - 0.6 * width / tall - (profile[cut] + _arches(bottom, tall)) / 3
    if short[cut - lo] or evidence <= 3.5:
        return None
    left = x < cut
    return ys[left] + rows[0], xs[left] + cols[0]


_SHEARS = np.linspace(-0.7, 0.7, 15)  # slants tried, up to 35 degrees either way


def _arches(bottom: np.ndarray, tall: float) -> int:
    """Openings from below between strokes that reach the bottom (an m has two).

    ``bottom`` is the lowest ink row of each column of upright ink (-1 where none).
    """
    height = bottom.max() + 1
    reach = np.flatnonzero(bottom >= 0.8 * (height - 1))
    below = bottom < 0.5 * (height - 1)
    gaps = [below[a + 1 : b].sum() for a, b in itertools.pairwise(reach) if b - a > 1]
    return sum(gap >= max(2, 0.06 * tall) for gap in gaps)
