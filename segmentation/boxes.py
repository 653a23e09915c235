"""Box fields: group a field's ink into characters, joining broken strokes, splitting touches."""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from segmentation.ink import Blob

MIN_WRITING = 0.25  # the smallest writing expected, as a share of the box's height
TWO = 3.5  # evidence of two touching characters (character heights of ink) to split them
MAYBE_TWO = 2.0  # evidence enough to propose a split for the reader to judge (tuned on val)
MAYBE_WIDE = 1.0  # a piece wider than the writing is tall may hold more than one character
SHORT = 0.6  # ink under this share of the character height is no character by its height
ONE_STROKE = 1.25  # a column crossing at most this many strokes crosses one (a bar, a tail)


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
        length = _ink_length(group, tall) if group.width >= 0.85 * tall else 0.0
        upright = _Upright(group, tall, length) if length >= TWO else None
        cut = _touching_cut(upright, TWO) if upright is not None else None
        if upright is None or cut is None:
            out.append(group)
            continue
        parts = _slices(group, upright, [cut])
        # A part of a pair is one character: only ink for three is looked at again.
        out += split_touching(parts, tall) if length > 7.5 else parts
    return out


def maybe_touching(group: Blob, tall: float) -> list[Blob] | None:
    """Slices of a wide ``group`` (2 or 3, left to right) where it may hold more than one character.

    None when it is narrower than MAYBE_WIDE character heights or offers no cut. Weaker
    evidence than ``split_touching`` asks for: a wide single character (a 0, an M) passes too,
    so the slices are only a proposal for a reader that can judge them. Two cuts are proposed:
    where a stroke of a neighbour (a 5's bar) meets a character (``_fragment_cut``); and, unless
    what that leaves is narrow enough for one character, where two characters written into
    each other would meet (``_touching_cut``).
    """
    if group.width < MAYBE_WIDE * tall:
        return None
    upright = _Upright(group, tall)
    fragment = _fragment_cut(upright)
    if fragment is not None:
        parts = _slices(group, upright, [fragment])
        if max(p.width for p in parts) < MAYBE_WIDE * tall:  # a character, a neighbour's stroke
            return parts if len(parts) > 1 else None
    cuts = sorted(c for c in (_touching_cut(upright, MAYBE_TWO), fragment) if c is not None)
    if len(cuts) == 2 and cuts[1] - cuts[0] < 0.2 * tall:
        cuts = cuts[:1]
    parts = _slices(group, upright, cuts) if cuts else []
    return parts if len(parts) > 1 else None


def _slices(group: Blob, upright: _Upright, cuts: list[int]) -> list[Blob]:
    """``group``'s ink cut at the upright columns ``cuts`` (ascending), non-empty slices only."""
    bins = np.searchsorted(np.asarray(cuts), upright.x, side="right")
    parts = []
    for k in range(len(cuts) + 1):
        mask = np.zeros_like(group.mask)
        mask[upright.ys[bins == k], upright.xs[bins == k]] = True
        if mask.any():
            parts.append(Blob.tight(mask, group.x, group.y))
    return parts


def _ink_length(blob: Blob, tall: float) -> float:
    """Length of the blob's strokes in character heights: half the length of their outline."""
    sub = blob.mask.astype(np.uint8)
    return int((sub - cv2.erode(sub, np.ones((3, 3), np.uint8), borderValue=0)).sum()) / 2 / tall


class _Upright:
    """A group's ink sheared upright, and the measures of its columns that cuts are chosen by.

    The shear is the slant that makes the column profile most peaked, so that a cut follows
    the writing's slant. ``x`` is each ink pixel's upright column; ``profile`` the strokes each
    column crosses; ``left_h`` and ``right_h`` the height of the ink left of (up to and with)
    and right of (from) each column. ``length`` is the ink's length (``_ink_length``) where
    the caller has measured it already.
    """

    def __init__(self, group: Blob, tall: float, length: float | None = None) -> None:
        self.tall = tall
        self.width_chars = group.width / tall
        self.length = _ink_length(group, tall) if length is None else length
        self.ys, self.xs = np.nonzero(group.mask)
        ys = self.ys
        # Every slant at once: row k of ``sheared`` is the ink's columns under _SHEARS[k].
        sheared = self.xs - np.round(_SHEARS[:, None] * (ys - ys.mean())).astype(int)
        sheared -= sheared.min(axis=1, keepdims=True)
        span = int(sheared.max()) + 1
        rows = np.arange(len(_SHEARS))[:, None] * span
        counts = np.bincount((sheared + rows).ravel(), minlength=len(_SHEARS) * span)
        peaks = (counts.reshape(len(_SHEARS), span).astype(np.float64) ** 2).sum(axis=1)
        self.x = sheared[int(np.argmax(peaks))]
        upright = np.zeros((ys.max() + 1, self.x.max() + 1), bool)
        upright[ys, self.x] = True
        height = upright.shape[0]
        self.profile = upright.sum(axis=0) * self.length * tall / ys.size  # in strokes crossed
        inked = upright.any(axis=0)
        top = np.where(inked, upright.argmax(axis=0), height)
        self.bottom = np.where(inked, height - 1 - upright[::-1].argmax(axis=0), -1)
        self.left_h = np.maximum.accumulate(self.bottom) - np.minimum.accumulate(top) + 1
        self.right_h = (
            np.maximum.accumulate(self.bottom[::-1]) - np.minimum.accumulate(top[::-1]) + 1
        )[::-1]


def _touching_cut(up: _Upright, evidence_over: float) -> int | None:
    """The upright column where ``up``'s ink holds two characters side by side, if it does.

    None when it holds one: when the evidence of two is ``evidence_over`` or less.

    The cut column crosses few strokes, leaves both sides character-high and splits the ink
    about evenly (touching characters carry comparable ink: a cut shaving a sliver off one is
    unlikely). The evidence for two characters, in character heights of ink: more ink than
    one character of this width carries, less a third for each stroke the cut crosses and
    each arch (an m's humps, whose joins a cut would cross). The weights were fitted on
    synthetic fields of real glyphs.
    """
    tall = up.tall
    if up.width_chars < 0.85 or up.length < evidence_over:
        return None
    width = len(up.profile)
    lo, hi = max(1, round(0.3 * tall)), width - round(0.3 * tall)
    if hi <= lo:
        return None
    short = np.minimum(up.left_h[lo - 1 : hi - 1], up.right_h[lo:hi]) < SHORT * tall
    uneven = np.abs(2 * np.cumsum(up.profile)[lo - 1 : hi - 1] / up.profile.sum() - 1)
    cut = lo + int(np.argmin(up.profile[lo:hi] + 3 * uneven + 100 * short))
    evidence = up.length - 0.6 * width / tall - (up.profile[cut] + _arches(up.bottom, tall)) / 3
    if short[cut - lo] or evidence <= evidence_over:
        return None
    return cut


def _fragment_cut(up: _Upright) -> int | None:
    """The upright column where a stroke at one end of ``up``'s ink meets a character.

    A stroke of one character that runs into its neighbour (a 5's bar written apart, a 7's)
    makes one piece of the two; it ends where the piece turns character-high. The cut is in
    the columns that cross one stroke and leave one side under SHORT of the character height
    and the other over it, as deep into the piece as that allows (the whole stroke cut off),
    on the side whose stroke is thinnest. None when there is no such column a fifth of a
    character or more from either end.
    """
    tall = up.tall
    width = len(up.profile)
    lo, hi = max(1, round(0.2 * tall)), width - round(0.2 * tall)
    if hi <= lo:
        return None
    left_short = up.left_h[lo - 1 : hi - 1] < SHORT * tall
    right_short = up.right_h[lo:hi] < SHORT * tall
    one_stroke = up.profile[lo:hi] <= ONE_STROKE
    options = []
    for side, left in ((left_short & ~right_short, True), (right_short & ~left_short, False)):
        side &= one_stroke
        if side.any():
            profile = np.where(side, up.profile[lo:hi], np.inf)
            near = np.flatnonzero(profile <= profile.min() + 0.5)
            options.append((profile.min(), lo + int(near[-1] if left else near[0])))
    return min(options)[1] if options else None


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
