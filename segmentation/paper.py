"""The page's paper and ink levels: where ink starts, how faint a printed line may be."""

from __future__ import annotations

import cv2
import numpy as np

BLANK_INK = 0.0005
"""Pages with a smaller share of dark pixels are blank."""
BLANK_CONTRAST = 48
"""Gray levels under the paper from which a pixel is dark (``is_blank``), or under 128.

A pale scan, a faded pen or a pencil leaves writing far lighter than 128: the hsf-dev pages
given 45% and 30% of their contrast put their darkest ink 118 and 80 levels under the paper,
and were read as blank. A blank sheet's back showing through 30 levels under it stays blank."""
BLANK_NOISE = 5.0
"""...and never under this many times the paper's noise (a noisy scanner's blank sheet)."""
FAINT_CONTRAST = 16
"""Gray levels under the paper that a faint printed line is at least, on the cleanest paper."""
FAINT_NOISE = 4.0
"""How many times the paper's own noise a faint printed line must be darker than the paper."""
FAINT_BLOCK_CONTRAST = 8
"""Levels under the paper a block's mean is at least, to count as crossed by a line."""


def ink_threshold(page: np.ndarray) -> int:
    """Gray level under which a pixel is ink: Otsu's, capped so paper noise never counts.

    Otsu's level is the darker class's last: a pixel at it is ink. Where a page's ink is all
    at one level (a 1-bit scan shown grey, a pale copy of one), that level is Otsu's, and
    taking ink as what lies under it found none.

    Args:
        page: uint8 (H, W), dark ink on light paper.

    Returns:
        The threshold (0..255): pixels under it are ink.
    """
    otsu, _ = cv2.threshold(page, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return int(min(max(otsu + 1, 60), 190))


def flatten_background(page: np.ndarray) -> np.ndarray:
    """Even out uneven lighting (a shadow, a fall-off towards one side) so one threshold fits.

    Args:
        page: uint8 (H, W), dark ink on light paper.

    Returns:
        uint8 (H, W), dark ink on light paper: the page divided by its estimated paper
        brightness, or ``page`` itself when the lighting is already even.
    """
    height, width = page.shape
    rows, cols = max(1, height // 8), max(1, width // 8)
    # Cropped to whole 8x8 cells: shrinking by a whole factor is several times faster.
    small = cv2.resize(page[: rows * 8, : cols * 8], (cols, rows), interpolation=cv2.INTER_AREA)
    # The brightest pixel nearby is paper: a max filter wider than any stroke removes the ink.
    paper = cv2.GaussianBlur(cv2.dilate(small, np.ones((9, 9), np.uint8)), (0, 0), 3)
    low, high = np.percentile(paper, [2, 98])
    if high - low < 25:
        return page
    paper_full = cv2.resize(np.maximum(paper, 1), (width, height), interpolation=cv2.INTER_LINEAR)
    # page * high / paper, rounded and saturated, in one pass over uint8 pixels.
    return np.asarray(cv2.divide(page, paper_full, scale=float(high)), dtype=np.uint8)


def is_blank(page: np.ndarray) -> bool:
    """True when the page has (almost) no dark pixels.

    Dark is under 128, or clearly darker than the page's own paper (BLANK_CONTRAST,
    BLANK_NOISE): a pale scan's writing is not dark in absolute terms, only against its paper.

    Args:
        page: uint8 (H, W), dark ink on light paper, its lighting evened out
            (``flatten_background``).
    """
    paper, noise = paper_level(page)
    dark = max(128.0, paper - max(BLANK_CONTRAST, BLANK_NOISE * noise))
    return bool(np.count_nonzero(page < dark) / page.size < BLANK_INK)


def paper_level(page: np.ndarray) -> tuple[float, float]:
    """The paper's gray level and its noise (the median absolute deviation, as a sigma).

    The page is mostly paper: its median is the paper's level. Both are taken from the gray
    levels' histogram of every 4th pixel of every 4th row: a tenth of the time of sorting
    the pixels.
    """
    counts = np.bincount(page[::4, ::4].ravel(), minlength=256)
    paper = _median(np.arange(256.0), counts)
    return paper, 1.4826 * _median(np.abs(np.arange(256.0) - paper), counts)


def faint_level(page: np.ndarray, threshold: int) -> int:
    """Gray level under which a pixel may belong to a printed line, however light.

    Half way from the ink threshold to white; or, on even, clean paper, anything clearly
    darker than the paper. A 1 px frame in a dropout colour, blurred by the scanner, is only
    20 to 30 levels darker than the paper around it, and on a page of dark handwriting the
    ink threshold lies far under that. "Clearly darker" is FAINT_NOISE times the paper's
    noise (its median absolute deviation), and never under FAINT_CONTRAST levels. Either
    way the level lies at least FAINT_CONTRAST under the paper: on coloured or grey paper (a
    form printed on pink or green stock), half way to white can lie above the paper itself,
    and every pixel of the page was faint ink.

    Args:
        page: uint8 (H, W), dark ink on light paper, its lighting evened out
            (``flatten_background``): the paper then has one level.
        threshold: the page's ink threshold (``ink_threshold``).

    Returns:
        The level (0..255); pixels darker than it are faint ink.
    """
    paper, noise = paper_level(page)
    clearly_darker = paper - max(FAINT_CONTRAST, FAINT_NOISE * noise)  # FAINT_CONTRAST or more
    return max(half_way_to_white(threshold, paper), int(clearly_darker))


def half_way_to_white(threshold: int, paper: float) -> int:
    """The level half way from the ink threshold to white, kept FAINT_CONTRAST under ``paper``.

    A light binarisation: a light printed line or a faint pen stroke is under it. On coloured
    or grey paper (at 150), half way to white lies above the paper itself.
    """
    return min((int(threshold) + 255) // 2, int(paper) - FAINT_CONTRAST)


def _median(values: np.ndarray, counts: np.ndarray) -> float:
    """The median of a multiset: each of ``values`` taken ``counts`` times (as ``np.median``)."""
    order = np.argsort(values, kind="stable")
    values, below = values[order], np.cumsum(counts[order])
    total = int(below[-1])
    low = values[np.searchsorted(below, (total - 1) // 2, side="right")]
    high = values[np.searchsorted(below, total // 2, side="right")]
    return float((low + high) / 2)


def faint_blocks(means: np.ndarray) -> np.ndarray:
    """Blocks clearly darker than the paper on average (bool), from the blocks' mean levels.

    Used to score a registration (``register``), the means of 4x4 blocks. A dropout-colour
    frame, blurred and under scan noise, can lie so close to the paper that most of its
    pixels miss ``faint_level`` (a 2 px line at 221 on paper at 245, noise 7.5: 0.83 of a
    right fit's lines found, under the 0.85 a fit by features needs). Averaged over a block,
    the noise is about a quarter as large and the line stays: a block counts when its mean
    is darker than the blocks' median by FAINT_NOISE times their own noise (median absolute
    deviation), and never by under FAINT_BLOCK_CONTRAST levels.
    """
    counts = np.bincount(means.ravel(), minlength=256)
    paper = _grouped_median(counts)
    # Each level's deviation, taken as often as the level: the deviations' histogram.
    deviation = np.abs(np.arange(256.0) - paper).round().astype(np.int64)
    noise = 1.4826 * _grouped_median(np.bincount(deviation, weights=counts, minlength=256))
    return means < paper - max(FAINT_BLOCK_CONTRAST, FAINT_NOISE * noise)


def _grouped_median(counts: np.ndarray) -> float:
    """The median of whole levels (``counts`` per level), interpolated within its level.

    Block means and their deviations are whole levels: a plain median of deviations of 1.9
    levels on average jumps between 1 and 2, and the margin four times it with it.
    """
    below = np.cumsum(counts)
    half = below[-1] / 2.0
    level = int(np.searchsorted(below, half))
    before = below[level - 1] if level else 0
    return float(level - 0.5 + (half - before) / max(float(counts[level]), 1.0))
