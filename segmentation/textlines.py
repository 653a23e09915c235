"""Lines of writing in a free-text box: where one line of handwriting ends and the next begins.

A box may hold a paragraph (an address, a comment, the Preamble on NIST's form). Writing is
cut into characters line by line, so the box is first cut into bands at the valleys of its
ink's row profile. Lines of handwriting touch (a descender reaches the next line's
ascender), so a valley is a low row, not an empty one.
"""

from __future__ import annotations

import itertools

import numpy as np

LOW = 0.15  # a row with under this share of a typical line's ink is between lines
MIN_SHARE = 0.4  # a band shorter than this share of the median band is part of a neighbour


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
    profile = np.convolve(ink[top:bottom].sum(axis=1).astype(np.float64), np.ones(5) / 5, "same")
    inked = profile[profile > 0]
    if inked.size == 0:
        return [rows]
    low = profile < LOW * float(np.percentile(inked, 90))
    edges = np.flatnonzero(np.diff(np.concatenate([[True], low, [True]]).astype(np.int8)))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    if len(runs) < 2:
        return [rows]
    typical = float(np.median([b - a for a, b in runs]))
    lines = [run for run in runs if run[1] - run[0] >= MIN_SHARE * typical]
    if len(lines) < 2 or typical > 0.6 * (bottom - top):
        return [rows]  # one line of writing (with a stray mark above or below it)
    cuts = [a + int(np.argmin(profile[a:b])) for (_, a), (b, _) in itertools.pairwise(lines)]
    bounds = [0, *cuts, bottom - top]
    return [(top + a, top + b) for a, b in itertools.pairwise(bounds)]
