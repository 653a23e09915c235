"""Lines of writing in a free-text box: where one line of handwriting ends and the next begins.

A box may hold a paragraph (an address, a comment, the Preamble on NIST's form). Writing is
cut into characters line by line, so the box is first cut into bands at the valleys of its
ink's row profile. Lines of handwriting touch (a descender reaches the next line's
ascender), so a valley is a low row, not an empty one; and how low depends on the writer and
the scan, so a valley is judged against the lines on either side of it, not against the box.

One line written unevenly has valleys too: a character written above the rest, or one whose
stroke reaches far up. Two bands are taken as two lines only where they lie one above the
other (written across the same columns) and are not mostly the same strokes.

A cut between lines is a row, and tails and ascenders cross it; ``line_inks`` gives each such
stroke back whole to its own line, unless it reaches deep into the other (letters of two lines
written through each other).
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

LOW = 0.15  # the rows of a band busier than this share of its busiest row hold its line
MIN_SHARE = 0.4  # a band shorter than this share of the median band is part of a neighbour
DUST = 0.1  # a band with under this share of the median band's ink holds no line
SPLIT = 0.3  # a valley under this share of the lines on both sides parts them
STACKED = 0.5  # of two lines, the lesser has at least this share of its ink under the other
CROSSING = 0.5  # a band with more of its ink in strokes that cross into the next is no line
REACH = 0.5
"""A stroke over a cut between lines that reaches at most this share of the other line's height
into it (a g's tail, an l's top) is given back whole to the line that holds most of it."""


def text_bands(ink: np.ndarray, rows: tuple[int, int]) -> list[tuple[int, int]]:
    """Bands of rows, one per line of writing, that together cover ``rows``.

    Args:
        ink: bool or uint8 (H, W), the box's ink with its printed lines erased (only the
            box's columns).
        rows: ``[top, bottom)``, the box's rows in ``ink``.

    Returns:
        ``[top, bottom)`` per line of writing, top to bottom; one band (``rows``) when the
        box holds a single line.
    """
    top, bottom = rows
    box = np.asarray(ink[top:bottom]) > 0
    profile = _profile(box)
    if not profile.any():
        return [rows]
    cuts = _stacked_lines(box, _whole_lines(profile, _valleys(profile, 0, len(profile))))
    if not cuts:
        return [rows]
    bounds = [0, *cuts, bottom - top]
    if np.median([_line_rows(profile[a:b]) for a, b in itertools.pairwise(bounds)]) > 0.6 * (
        bottom - top
    ):
        return [rows]  # one line of writing (with a stray mark above or below it)
    return [(top + a, top + b) for a, b in itertools.pairwise(bounds)]


def _valleys(profile: np.ndarray, start: int, stop: int) -> list[int]:
    """Rows of ``profile[start:stop]`` that part two lines of writing, top to bottom.

    The deepest valley relative to the lines on either side (the busiest row above it and
    the busiest below), if under SPLIT of the lesser of them, parts the rows; the parts are
    then searched again.
    """
    part = profile[start:stop]
    if part.size < 3:
        return []
    above = np.maximum.accumulate(part)
    below = np.maximum.accumulate(part[::-1])[::-1]
    shoulder = np.minimum(above, below)
    ratio = np.where(shoulder > 0, part / np.maximum(shoulder, 1e-9), np.inf)
    row = int(np.argmin(ratio))
    if ratio[row] >= SPLIT:
        return []
    cut = start + row
    return [*_valleys(profile, start, cut), cut, *_valleys(profile, cut + 1, stop)]


def _profile(ink: np.ndarray) -> np.ndarray:
    """The ink of each row (bool (H, W) in), smoothed over 5 rows."""
    return np.convolve(ink.sum(axis=1).astype(np.float64), np.ones(5) / 5, "same")


def _line(profile: np.ndarray) -> np.ndarray:
    """Which rows of a band (its ``profile``) hold its line of writing.

    They are busier than LOW of the band's busiest row.
    """
    return profile > LOW * profile.max() if profile.any() else np.zeros(profile.shape, bool)


def _line_extent(profile: np.ndarray, top: int) -> tuple[int, int]:
    """The rows ``[first, last + 1)`` of a band's line of writing, in the box's rows.

    The band begins at row ``top``; a band with no ink has its first row as its line.
    """
    rows = np.flatnonzero(_line(profile))
    return (top + int(rows[0]), top + int(rows[-1]) + 1) if rows.size else (top, top + 1)


def _line_rows(profile: np.ndarray) -> int:
    """How many rows of a band its line of writing fills (``_line``)."""
    return int(_line(profile).sum())


def _whole_lines(profile: np.ndarray, cuts: list[int]) -> list[int]:
    """``cuts`` less those next to a band too thin or too bare to hold a line of writing.

    Such a band (a stray mark, dust, the bar of a line's capitals) joins the neighbour it is
    least parted from.
    """
    cuts = list(cuts)
    while cuts:
        bounds = [0, *cuts, len(profile)]
        lines = [_line_rows(profile[a:b]) for a, b in itertools.pairwise(bounds)]
        inks = [float(profile[a:b].sum()) for a, b in itertools.pairwise(bounds)]
        typical, usual = float(np.median(lines)), float(np.median(inks))
        short = [
            h / typical if ink >= DUST * usual else 0.0 for h, ink in zip(lines, inks, strict=True)
        ]
        thin = int(np.argmin(short))
        if short[thin] >= MIN_SHARE:
            break
        sides = [k for k in (thin - 1, thin) if 0 <= k < len(cuts)]
        del cuts[max(sides, key=lambda k: profile[cuts[k]])]
    return cuts


def _stacked_lines(box: np.ndarray, cuts: list[int]) -> list[int]:
    """``cuts`` less those between bands that are not two lines, one above the other.

    Two lines of writing are written across the same columns (the shorter line's ink lies
    mostly in columns the other inks too; ink, not columns, so that dust spread along a band
    does not count), and few strokes run from one into the other. Characters of one line
    written at different heights are not: the part above a cut lies beside the rest, or is the
    top of characters that run on below it (most of its ink in strokes that cross the cut).
    """
    cuts = list(cuts)
    k = 0
    while k < len(cuts):
        bounds = [0, *cuts, box.shape[0]]
        above, below = box[bounds[k] : cuts[k]], box[cuts[k] : bounds[k + 2]]
        if _two_lines(above, below):
            k += 1
        else:
            del cuts[k]
            k = max(0, k - 1)
    return cuts


def _two_lines(above: np.ndarray, below: np.ndarray) -> bool:
    """Whether the ink ``above`` a cut and ``below`` it (bool, same width) are two lines."""
    upper, lower = above.sum(axis=0), below.sum(axis=0)  # ink per column
    less, more = (upper, lower) if upper.sum() <= lower.sum() else (lower, upper)
    if not less.any() or less[more > 0].sum() < STACKED * less.sum():
        return False  # side by side: one line, written up and down
    both = np.concatenate([above, below]).astype(np.uint8)
    count, labels = cv2.connectedComponents(both, connectivity=8)
    upper_ink = np.bincount(labels[: len(above)][above], minlength=count)
    lower_ink = np.bincount(labels[len(above) :][below], minlength=count)
    crossing = (upper_ink > 0) & (lower_ink > 0)  # strokes on both sides of the cut
    # Not where one band is mostly strokes of characters that run on across the cut.
    return all(ink[crossing].sum() <= CROSSING * ink.sum() for ink in (upper_ink, lower_ink))


def line_inks(ink: np.ndarray, bands: list[tuple[int, int]]) -> list[tuple[int, np.ndarray]]:
    """Each line's ink: its band's, with the strokes that run over a cut given back whole.

    A cut between two lines of writing is a row, and tails and ascenders cross it: a y's tail
    cut off would read as a mark of the line below, and the y, short of it, as a v. A stroke
    (a connected piece of ink) in two bands that reaches into the line of writing of the one
    holding less of it by at most REACH of that line's height is a tail or an ascender: it
    belongs whole to the other.
    One that reaches further (letters of two lines written into each other) is cut at the
    bounds, as the bands lie.

    Args:
        ink: uint8 or bool (H, W), the box's ink (nonzero on ink).
        bands: ``[top, bottom)`` per line, as ``text_bands`` gives them.

    Returns:
        Per band, its first row and its ink (the same dtype as ``ink``, zero on other lines'
        ink): the band's rows, widened to hold the strokes given back to it.
    """
    labels, stats = _strokes((np.asarray(ink) > 0).astype(np.uint8))
    band_of_row = np.full(ink.shape[0], -1)
    for k, (top, bottom) in enumerate(bands):
        band_of_row[top:bottom] = k
    owner = _owners(labels, stats, bands, band_of_row)
    tops = stats[:, cv2.CC_STAT_TOP]
    bottoms = tops + stats[:, cv2.CC_STAT_HEIGHT]
    out = []
    for k, (top, bottom) in enumerate(bands):
        given = owner == k
        start = min(top, int(tops[given].min(initial=top)))
        stop = max(bottom, int(bottoms[given].max(initial=bottom)))
        held = owner[labels[start:stop]]
        mine = (held == k) | ((held == -1) & (band_of_row[start:stop] == k)[:, None])
        out.append((start, np.where(mine, ink[start:stop], 0).astype(ink.dtype)))
    return out


def _owners(
    labels: np.ndarray, stats: np.ndarray, bands: list[tuple[int, int]], band_of_row: np.ndarray
) -> np.ndarray:
    """The band each stroke (``labels``' component) belongs to whole (``line_inks``).

    -1 for a stroke to be cut at the bands' bounds, -2 for the paper (label 0).
    """
    profile = _profile(labels > 0)
    lines = [_line_extent(profile[top:bottom], top) for top, bottom in bands]
    owner = np.full(len(stats), -1)
    owner[0] = -2
    for stroke, (left, first, width, height, _) in enumerate(stats[1:], start=1):
        last = first + height - 1
        upper, lower = int(band_of_row[first]), int(band_of_row[last])
        if upper == lower:
            owner[stroke] = upper
            continue
        if upper < 0 or lower != upper + 1:  # not over one cut between two lines
            continue
        cut = bands[lower][0]
        mask = labels[first : last + 1, left : left + width] == stroke
        above = int(mask[: cut - first].sum())
        if 2 * above >= int(mask.sum()):  # mostly above: how far into the line below?
            (line_top, line_bottom), keep = lines[lower], upper
            reach = (last + 1 - line_top) / (line_bottom - line_top)
        else:
            (line_top, line_bottom), keep = lines[upper], lower
            reach = (line_bottom - first) / (line_bottom - line_top)
        if reach <= REACH:
            owner[stroke] = keep
    return owner


def _strokes(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The connected pieces of ``ink`` (uint8, 1 on ink): labels and OpenCV's stats per label."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    return labels, stats
