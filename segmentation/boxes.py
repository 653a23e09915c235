"""Box fields: group a field's ink into characters, joining broken strokes, splitting touches."""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from segmentation.ink import Blob

MIN_WRITING = 0.25  # the smallest writing expected, as a share of the box's height


def box_groups(pieces: list[Blob], box_height: int) -> tuple[list[Blob], float]:
    """One blob per character, left to right, from the field's pieces of ink (``_pieces``).

    Broken characters are joined, touching ones split. The character height is measured from
    the writing, not taken from the box: people write anything from a third of a box's
    height to all of it. It is never taken under MIN_WRITING of the box's inner height
    (``box_height``), so that a speck alone in a box is not its own yardstick.

    Returns:
        The masks, and the character height in pixels (0.0 when there is no ink).
    """
    groups = _merge_broken(pieces)
    if not groups:
        return [], 0.0
    tall = max(writing_height(groups), MIN_WRITING * box_height)
    # A mark under a quarter of the character height, left alone, is dust, not a character.
    kept = [g for g in groups if max(g.height, g.width) >= 0.25 * tall]
    return split_touching(kept, tall), tall


def writing_height(groups: list[Blob]) -> float:
    """The writing's character height: the median height of the taller ink groups, in pixels."""
    heights = [g.height for g in groups]
    return float(np.median([h for h in heights if 2 * h >= max(heights)]))


def _merge_broken(pieces: list[Blob]) -> list[Blob]:
    """Merge the pieces of each character, left to right.

    Stacked parts (the dot of an i, the bar of a 5) join; so do small fragments (a broken-off
    bar or tail) and single strokes lying right next to a character.
    """
    spans = [p.span for p in pieces]
    order = sorted(range(len(pieces)), key=lambda i: spans[i][0])
    groups: list[tuple[Blob, tuple[int, int]]] = []
    for i in order:
        mask, (a, b) = pieces[i], spans[i]
        if groups:
            g_mask, (ga, gb) = groups[-1]
            overlap = min(b, gb) - max(a, ga)
            # Pieces one above the other (a dot, a bar, a stem broken across) are one
            # character: two characters side by side share the writing line's rows.
            stacked = overlap > 0 and _rows_apart(mask, g_mask)
            if stacked or overlap > 0.4 * min(b - a, gb - ga):
                groups[-1] = (g_mask.join(mask), (min(a, ga), max(b, gb)))
                continue
        groups.append((mask, (a, b)))
    if len(groups) < 2:
        return [g for g, _ in groups]
    heights = np.array([g.height for g, _ in groups])
    areas = np.array([g.area() for g, _ in groups])
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
            groups[j] = (g_mask.join(mask), (min(a, ga), max(b, gb)))
            heights[j] = groups[j][0].height
            areas[j] += areas[i]
            del groups[i]
            heights, areas = np.delete(heights, i), np.delete(areas, i)
            merged = True
            break
    return [g for g, _ in groups]


def _rows_apart(one: Blob, other: Blob) -> bool:
    """True when the two blobs' ink share no row (one lies wholly above the other)."""
    return one.y >= other.y + other.height or other.y >= one.y + one.height


def split_touching(groups: list[Blob], tall: float) -> list[Blob]:
    """Split the groups that hold touching characters: one blob each, left to right.

    ``tall`` is the character height in pixels.
    """
    out = []
    for group in groups:
        cut = _touching_cut(group, tall)
        if cut is None:
            out.append(group)
            continue
        ys, xs = cut
        left = np.zeros_like(group.mask)
        left[ys, xs] = True
        right = group.mask.copy()
        right[ys, xs] = False
        parts = [Blob.tight(left, group.x, group.y), Blob.tight(right, group.x, group.y)]
        # A part of a pair is one character: only ink for three is looked at again.
        out += split_touching(parts, tall) if _ink_length(group, tall) > 7.5 else parts
    return out


def _ink_length(blob: Blob, tall: float) -> float:
    """Length of the blob's strokes in character heights: half the length of their outline."""
    sub = blob.mask.astype(np.uint8)
    return int((sub - cv2.erode(sub, np.ones((3, 3), np.uint8), borderValue=0)).sum()) / 2 / tall


def _touching_cut(group: Blob, tall: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The pixels (rows, columns of its mask) of the left character if ``group`` holds two.

    None when it holds one.

    The ink is sheared upright first (the slant that makes its column profile most peaked),
    so that the cut follows the writing's slant. The cut column crosses few strokes, leaves
    both sides character-high and splits the ink about evenly (touching characters carry
    comparable ink: a cut shaving a sliver off one is unlikely). The evidence for two
    characters, in character heights of ink: more ink than one character of this width
    carries, less a third for each stroke the cut crosses and each arch (an m's humps, whose
    joins a cut would cross). The weights were fitted on synthetic fields of real glyphs.
    """
    if group.width < 0.85 * tall:
        return None
    length = _ink_length(group, tall)
    if length < 3.5:
        return None
    ys, xs = np.nonzero(group.mask)
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
    return ys[left], xs[left]


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
