"""Printed lines of a field, measured in the image: found near where the template puts them, erased.

A template says roughly where a field's frame, dividers and ticks are; the scan says exactly
where they are, how thick, and whether they are printed at all (a light "dropout" colour may
vanish when binarised). Each expected line is looked for in short stretches, each within a
search band across the line, so a box a few pixels off, a slight rotation or a bowed line is
followed; its thickness is measured stretch by stretch, so 1 px hairlines and 8 px frames are
both erased whole. Pen strokes that cross a line are kept across it.
"""

from __future__ import annotations

import numpy as np

Segment = tuple[int, int, int, int]
"""An expected line ``(x0, y0, x1, y1)`` along its centre: horizontal when y0 == y1."""

Divider = tuple[int, int, int, int]
"""An expected comb divider ``(x, y0, tick_top, y1)``: a tick from the bottom line up to
``tick_top``, or a full-height line from ``y0``, or two lines (separate boxes) near ``x``."""

# A row of a stretch belongs to the line when this share of it is ink: a printed line fills its
# rows end to end, while handwriting crossing or running along it fills only part.
FILL = 0.6
FRINGE = 1  # rows of a line's blurred edge, beyond its core, that are erased with it
CONTINUE = 2  # pixels a line may wander from one stretch to the next


def find_rules(
    ink: np.ndarray,
    faint: np.ndarray,
    frame: list[Segment],
    dividers: list[Divider],
    *,
    search: int,
    divider_search: int,
    stretch: int,
) -> np.ndarray:
    """Find each expected line near its expected place, and the pixels to erase.

    A line is measured in the ink where it is dark enough to be ink, else in ``faint`` (a
    light "dropout" line only partly binarised as ink is erased whole that way). Measuring a
    dark line in the faint mask would widen it by its grey edge, and eat the strokes along it.

    Args:
        ink: bool (H, W), True where the field's image is ink.
        faint: bool (H, W), True where it is ink or light grey (``ink`` included).
        frame: the lines printed whole (frame sides, explicit cells' sides).
        dividers: the comb dividers, whose style the image decides.
        search: how far (pixels) across a line its real position may be from the expected one.
        divider_search: the same for dividers (separate boxes put two lines near each edge).
        stretch: length (pixels) of the stretches a line is followed in.

    Returns:
        bool (H, W), True on the line pixels to erase (pen strokes crossing a line excluded).
    """
    mask = np.zeros_like(ink, dtype=bool)
    for x0, y0, x1, y1 in frame:
        vertical = x0 == x1 and y0 != y1
        views = (ink.T, faint.T) if vertical else (ink, faint)
        out = mask.T if vertical else mask
        across, start, stop = (x0, y0, y1) if vertical else (y0, x0, x1)
        _follow(views, out, across, search, (start, stop), stretch)
    _erase_dividers((ink.T, faint.T), mask.T, dividers, divider_search, stretch)
    return mask


def _follow(
    views: tuple[np.ndarray, ...],
    out: np.ndarray,
    across: int,
    reach: int,
    span: tuple[int, int],
    stretch: int,
) -> bool:
    """Follow one line (horizontal in ``views``) along ``span``, stretch by stretch; erase it.

    Returns:
        Whether it was found in any stretch.
    """
    start, stop = max(0, min(span)), min(views[0].shape[1], max(span) + 1)
    stretches = []
    for a in range(start, stop, stretch):
        b = min(stop, a + stretch)
        if b - a < stretch // 2 and a > start:
            a = max(start, b - stretch)  # a short last stretch: overlap the previous one
        for view in views:
            bands = _bands(view[:, a:b], across, reach)
            if bands:
                stretches.append((a, b, view, *bands[0]))
                break
    if not stretches:
        return False
    # A stretch where writing runs along the line (a thick stroke over a short stretch) looks
    # like a thicker line: such a band is cut back to the line's own thickness, measured on
    # the line as a whole, around its place in the neighbouring stretches.
    cores = [bottom - top for *_, top, bottom in stretches]
    core = int(np.median(cores))
    place = int(np.median([(top + bottom) // 2 for *_, top, bottom in stretches]))
    for a, b, view, top, bottom in stretches:
        if bottom - top > 1.5 * core + 2:
            middle = min(max((top + bottom) // 2, place - 1), place + 1)
            top, bottom = middle - core // 2, middle - core // 2 + core
        first, erase = _erasable(view, top, bottom, a, b)
        out[first : first + erase.shape[0], a:b] |= erase
    return True


def _erase_dividers(
    views: tuple[np.ndarray, ...],
    out: np.ndarray,
    dividers: list[Divider],
    search: int,
    stretch: int,
) -> None:
    """Find and erase a comb's dividers, in whatever style they are drawn (views transposed).

    A comb prints its dividers alike and evenly spaced, so they are found together: a pen
    stroke near one of them (the stem of a 9, a 1 against the divider) is told from it by
    what the others show.
    - Where most dividers are light grey, a darker stroke near one does not make it dark: the
      grey line is looked for there too.
    - Of the lines near a divider, the one where the others lie (their median shift from the
      template's place; the fullest where that ties) is it.
    - Each is followed up within a few pixels of its place. Where every divider is too thick
      to be erased whole from that window (two box sides printed touching), they are followed
      within their own half thickness.
    - A second line beside a divider is the other side of separate boxes only where most
      dividers show one the box's full height, and where the others put it.
    """
    found = [_divider_lines(divider, search, views) for divider in dividers]
    shades = [view for view, _ in filter(None, found)]
    if not shades:
        return
    if sum(view is views[-1] for view in shades) * 2 > len(shades):  # mostly grey
        found = [
            _divider_lines(divider, search, views[-1:])
            if lines is not None and lines[0] is not views[-1]
            else lines
            for divider, lines in zip(dividers, found, strict=True)
        ]
    lines = [(d, *f) for d, f in zip(dividers, found, strict=True) if f is not None]
    # Their shift: measured where a divider shows one line only, when any does (a comb of
    # two or three dividers has no majority to outvote a stroke with).
    alone = [(d, b) for d, _, b in lines if len(b) == 1] or [(d, b) for d, _, b in lines]
    shift = float(np.median([_middle(b[0]) - d[0] for d, b in alone]))
    for divider, _, bands in lines:
        bands.sort(key=lambda band: abs(_middle(band) - divider[0] - shift))
    # The thinnest: a stroke along a divider makes it look thicker, never thinner.
    thickness = min(bands[0][1] - bands[0][0] for *_, bands in lines)
    core = 2 * CONTINUE + 1  # what a window of CONTINUE either side sees of a thick line
    erased = core + 2 * (FRINGE + core // 4)  # and what it erases of it, with its fringe
    reach = CONTINUE if thickness <= erased else (thickness + 1) // 2 + 1
    sides = _box_sides(lines, 2 * CONTINUE)
    for (divider, _view, bands), second in zip(lines, sides, strict=True):
        _divider(views, out, divider, [(bands[0][0] + bands[0][1]) // 2, *second], stretch, reach)


def _box_sides(
    lines: list[tuple[Divider, np.ndarray, list[tuple[int, int]]]], tolerance: int
) -> list[list[int]]:
    """Per divider, where the other lines near it that are a box's second side lie (centres).

    Separate boxes print two sides at every divider, the box's full height, the same way
    placed around it all along the comb. A pen stroke there (a tall 1 written against the
    divider) runs beside one divider, anywhere: writing, kept. Such sides count where more
    than half the dividers show a second full-height line; then a full-height line is a side
    where it covers the place (within ``tolerance`` pixels) that the comb's other dividers
    put a side, even where writing along it widens it.
    """
    full: list[list[tuple[int, int]]] = []
    for (_x, y0, _tick, y1), view, bands in lines:
        full.append(
            [b for b in bands[1:] if _bands(view[:, y0 : y1 + 1], (b[0] + b[1]) // 2, CONTINUE)]
        )
    # Per divider showing one: its two lines' centres from the template's place, left first,
    # and the second line's thickness.
    pairs: list[tuple[float, float, int]] = []
    for ((x, *_), _view, bands), others in zip(lines, full, strict=True):
        if others:
            first = _middle(bands[0])
            a, b = min(others, key=lambda band: abs(_middle(band) - first))
            lo, hi = sorted((first - x, _middle((a, b)) - x))
            pairs.append((lo, hi, b - a))
    if len(pairs) * 2 <= len(lines):
        return [[] for _ in lines]
    left, right, width = np.median(np.array(pairs), axis=0)
    sides: list[list[int]] = []
    for ((x, *_), _view, bands), others in zip(lines, full, strict=True):
        first = _middle(bands[0])
        # The side this divider's first line is not.
        place = x + (right if abs(first - x - left) < abs(first - x - right) else left)
        sides.append(
            [
                # Its own centre, unless writing along it widened it: then where it must be.
                (a + b) // 2 if b - a <= width + tolerance else round(place)
                for a, b in others
                if a - tolerance <= place <= b + tolerance
            ]
        )
    return sides


def _middle(band: tuple[int, int]) -> float:
    """The middle of a line's core ``[top, bottom)`` across it."""
    return (band[0] + band[1]) / 2


def _divider_lines(
    divider: Divider, search: int, views: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, list[tuple[int, int]]] | None:
    """The first of ``views`` that shows lines in a divider's tick rows, and their cores.

    Cores are ``[top, bottom)`` across the divider, fullest first (``_erase_dividers`` then
    puts the one where the comb's other dividers lie first); None where none is found.
    """
    x, _y0, tick_top, y1 = divider
    for view in views:
        bands = _bands(view[:, tick_top : y1 + 1], x, search)
        if bands:
            return view, bands
    return None


def _divider(
    views: tuple[np.ndarray, ...],
    out: np.ndarray,
    divider: Divider,
    centres: list[int],
    stretch: int,
    reach: int,
) -> None:
    """Erase one divider's lines, at these centres across it: the divider, a box's second side.

    Each is followed within ``reach`` pixels of its centre from the tick rows up to the top
    line, for as long as it goes on.
    """
    _x, y0, tick_top, y1 = divider
    for centre in centres:
        if _follow(views, out, centre, reach, (tick_top, y1), stretch):
            _follow(views, out, centre, reach, (y0, tick_top), stretch)


def _bands(strip: np.ndarray, across: int, search: int) -> list[tuple[int, int]]:
    """Rows ``[top, bottom)`` of each line core in a stretch (horizontal view), fullest first.

    A core is a run of rows that are at least FILL ink.
    """
    lo, hi = max(0, across - search), min(strip.shape[0], across + search + 1)
    if hi <= lo:
        return []
    fill = strip[lo:hi].mean(axis=1)
    full = np.concatenate([[False], fill >= FILL, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(full))
    runs = [(lo + a, lo + b) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return sorted(runs, key=lambda r: -float(fill[r[0] - lo : r[1] - lo].max()))


def _erasable(view: np.ndarray, top: int, bottom: int, a: int, b: int) -> tuple[int, np.ndarray]:
    """Pixels of a line to erase in columns ``a:b``: its core and its fringe, not pen strokes.

    The fringe is the ink just outside the core in each column (a scanned line's edge
    binarises irregularly, or the line slopes a little across the stretch), as long as it is
    no thicker than FRINGE rows: more is a stroke touching the line, and stays. A stroke that
    crosses the line (ink beyond both sides, allowing for a slant of the line's own
    thickness) keeps the core too.

    Returns:
        The first row of the returned mask, and the bool mask (rows x columns ``a:b``).
    """
    height, core = view.shape[0], bottom - top
    fringe = FRINGE + core // 4
    lo, hi = max(0, top - fringe), min(height, bottom + fringe)
    window = view[lo:hi, a:b]
    erase = np.zeros(window.shape, bool)
    erase[top - lo : bottom - lo] = window[top - lo : bottom - lo]
    above = _run_length(view[lo:top, a:b][::-1], fringe + 1)
    below = _run_length(view[bottom:hi, a:b], fringe + 1)
    rows = np.arange(window.shape[0])[:, None]
    thin_above = np.where(above <= fringe, above, 0)[None, :]
    thin_below = np.where(below <= fringe, below, 0)[None, :]
    erase |= (rows >= top - lo - thin_above) & (rows < top - lo)
    erase |= (rows >= bottom - lo) & (rows < bottom - lo + thin_below)
    reach = max(2, core // 2 + 1)
    beyond_top = view[max(0, lo - reach) : lo, a:b].any(axis=0) | (above > fringe)
    beyond_bottom = view[hi : min(height, hi + reach), a:b].any(axis=0) | (below > fringe)
    erase[:, _crossings(beyond_top, beyond_bottom, core // 2 + 1)] = False
    return lo, erase


def _crossings(top: np.ndarray, bottom: np.ndarray, slant: int) -> np.ndarray:
    """Columns where a stroke crosses a line: from where it enters one side to where it leaves.

    ``top`` and ``bottom`` flag the columns with ink just beyond each side of the line; a
    stroke slanting across it leaves up to ``slant`` columns from where it entered.
    """
    near = _grow(top, slant) & _grow(bottom, slant)
    keep = np.zeros_like(near)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], near, [False]]).astype(np.int8)))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        sides = np.flatnonzero(top[start:stop] | bottom[start:stop])
        if sides.size:
            keep[start + sides[0] : start + sides[-1] + 1] = True
    return keep


def _run_length(rows: np.ndarray, cap: int) -> np.ndarray:
    """Per column, how many rows from the first are ink without a break (at most ``cap``)."""
    if rows.shape[0] == 0:
        return np.zeros(rows.shape[1], int)
    gaps = ~rows.astype(bool)
    first_gap = np.where(gaps.any(axis=0), gaps.argmax(axis=0), rows.shape[0])
    return np.minimum(first_gap, cap)


def _grow(flags: np.ndarray, radius: int) -> np.ndarray:
    """A 1-D bool array dilated by ``radius`` either way."""
    if not flags.any():
        return flags
    padded = np.concatenate([np.zeros(radius, bool), flags, np.zeros(radius, bool)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1)
    return np.asarray(windows.any(axis=1))
