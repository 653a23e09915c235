"""Tick boxes: the ink left in each box once its printed frame is erased, and what it means.

A tick box's frame is found and erased by the same line finder as character fields
(``lines.find_rules``), so a hairline and an 8 px frame are erased alike and a stroke crossing
the frame is kept. What is left is measured three ways (``MarkInk``): how much of the inside is
ink, how far it spreads, and how much ink joined to it runs on outside the frame. A tick, a
cross, a fill, a scribble or a loop over the frame all leave ink inside; specks of scan noise
are dropped by size first. A mark struck through (ink inside, and dense strokes running out
across the frame) is a cross-out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from segmentation.ink import to_page_box
from segmentation.lines import find_rules
from segmentation.paper import half_way_to_white, paper_level
from segmentation.records import Box, FieldCrops, FieldSpec, MarkInk, MarkOption

MarkState = Literal["ticked", "empty", "crossed_out", "unsure"]

# Chosen on generated *validation* marks (python -m benchmarks.ticks --split val --fit), never
# on the test marks the benchmark reports: p(ticked) = 1 / (1 + exp(-(SLOPE * (log10 fill -
# CENTRE)))), and a mark is crossed out when both its fill and its spill pass these.
SLOPE = 3.58
CENTRE = -2.53
CROSSED_FILL = 0.15
CROSSED_SPILL = 0.2
FILL_FLOOR = 1e-4


@dataclass(frozen=True, slots=True)
class MarkReading:
    """What one tick box says: its state and the calibrated probability that it is ticked."""

    state: MarkState
    p_ticked: float

    @property
    def confidence(self) -> float:
        """The probability of the state read (ticked or empty)."""
        return self.p_ticked if self.state in ("ticked", "crossed_out") else 1.0 - self.p_ticked


def read_mark(ink: MarkInk, threshold: float) -> MarkReading:
    """Read one tick box from its measured ink.

    Args:
        ink: what is in the box (``measure_box``).
        threshold: the confidence under which the box is ``unsure`` (goes to review).

    Returns:
        ``crossed_out`` (ink inside, struck through beyond the frame), ``ticked``, ``empty``,
        or ``unsure`` when the more probable of ticked and empty is under ``threshold``.
    """
    p = tick_probability(ink.fill + ink.around)
    if ink.fill >= CROSSED_FILL and ink.spill >= CROSSED_SPILL:
        return MarkReading("crossed_out", p)
    state: MarkState = "ticked" if p >= 0.5 else "empty"
    if max(p, 1.0 - p) < threshold:
        state = "unsure"
    return MarkReading(state, p)


def tick_probability(fill: float) -> float:
    """The calibrated probability that a box holds a mark, given its ink.

    ``fill`` is the share of the inside that is ink, plus the ink joined to the box that lies
    beyond its frame (``MarkInk.around``), in box areas.
    """
    z = SLOPE * (math.log10(max(fill, FILL_FLOOR)) - CENTRE)
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def cut_marks(
    page: np.ndarray, spec: FieldSpec, homography: np.ndarray, threshold: int, dpi: int
) -> FieldCrops:
    """Measure every tick box of a ``mark`` or ``choice`` field of a registered page.

    Args:
        page: uint8 (H, W), dark ink on light paper, as loaded.
        spec: the field, in template coordinates.
        homography: float64 (3, 3), template to page coordinates.
        threshold: gray level under which a pixel is ink.
        dpi: the template's resolution (sets speck sizes and how far a frame is looked for).

    Returns:
        The field with one ``MarkInk`` per option (no character crops), ``unreadable`` when
        a box is partly off the scanned page.
    """
    marks = []
    for index, option in enumerate(spec.options):
        ink = measure_box(page, option, index, homography, (threshold, dpi))
        if ink is None:
            reason = f"tick box {option.value!r} is partly outside the scanned page"
            return FieldCrops(
                spec.name,
                spec.kind,
                spec.charset,
                _page_box(spec.box, homography, page),
                spec.validation,
                "unreadable",
                reason,
                (),
            )
        marks.append(ink)
    box = _page_box(spec.box, homography, page)
    return FieldCrops(
        spec.name, spec.kind, spec.charset, box, spec.validation, "ok", "", (), marks=tuple(marks)
    )


def measure_box(
    page: np.ndarray, option: MarkOption, index: int, homography: np.ndarray, at: tuple[int, int]
) -> MarkInk | None:
    """The ink in one tick box, its frame erased; None when the box is off the page.

    ``at`` is (ink threshold, dpi). The box is looked at in a window half its side wider on
    every side, where ink that runs on out of it is measured.
    """
    threshold, dpi = at
    x0, y0, x1, y1 = option.box
    side = min(x1 - x0, y1 - y0)
    margin = max(4, side // 2)
    to_page = homography @ _shift(x0 - margin, y0 - margin)
    size = (x1 - x0 + 2 * margin, y1 - y0 + 2 * margin)
    inverse = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    inner = (margin, margin, size[0] - margin, size[1] - margin)
    corners = np.array([[[inner[0], inner[1]], [inner[2], inner[1]], [inner[2], inner[3]],
                         [inner[0], inner[3]]]], np.float64)  # fmt: skip
    mapped = cv2.perspectiveTransform(corners, to_page)[0]
    height, width = page.shape
    if (mapped < -1).any() or (mapped[:, 0] > width + 1).any() or (mapped[:, 1] > height + 1).any():
        return None
    local = cv2.warpPerspective(page, to_page, size, flags=inverse, borderValue=255)
    ink, frame = _unframed_ink(local, inner, threshold, dpi)
    fill, spill, around = _measure(ink, frame, margin, side)
    return MarkInk(index, option.value, to_page_box(inner, to_page, page), fill, spill, around)


def _unframed_ink(
    local: np.ndarray, box: Box, threshold: int, dpi: int
) -> tuple[np.ndarray, np.ndarray]:
    """The window's ink with the box's printed frame and specks removed, and the frame.

    ``local`` is uint8 (H, W), dark ink on light paper; ``box`` the frame's place in it.

    Returns:
        bool (H, W) pen ink; bool (H, W) the frame's pixels as found (erased from the ink).
    """
    x0, y0, x1, y1 = box
    side = min(x1 - x0, y1 - y0)
    # Pen marks are measured in the lighter binarisation too: a faint pencil tick, or a thin
    # stroke broken up by a scanner's threshold, is a mark all the same.
    ink = local < threshold
    # The light binarisation is taken after a 3x3 median, which keeps a pen stroke and drops
    # the grain of grey paper that would otherwise pass it as a faint mark.
    smooth = cv2.medianBlur(local, 3)
    # Under the box's own paper: on coloured stock, every box was full of ink, crossed out.
    light = half_way_to_white(threshold, paper_level(smooth)[0])
    faint = smooth < light
    level = _frame_level(local, box)
    if level >= threshold:
        # A light "dropout" frame, made to vanish: marks are what is clearly darker than it.
        faint = smooth < min(light, level - 25)
    frame = [(x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1), (x1, y0, x1, y1)]
    search = max(2, min(round(0.04 * dpi), side // 5))
    rules = find_rules(
        ink, faint, frame, [], search=search, divider_search=search, stretch=max(8, side // 2)
    )
    # Marks are measured in the light binarisation, where a blurred frame's grey edge is wider
    # than the line found in the dark one: the edge goes with the frame, not into the box.
    halo = cv2.dilate(rules.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    left = faint & ~halo
    # A thin stroke that a scanner's threshold broke into dashes is one stroke: pieces a few
    # pixels apart are grouped before a group too small to be a pen mark is dropped as specks.
    grouped = cv2.dilate(left.astype(np.uint8), np.ones((5, 5), np.uint8))
    count, labels = cv2.connectedComponents(grouped, connectivity=8)
    sizes = np.bincount(labels[left], minlength=count)
    speck = min(0.0001 * dpi * dpi, 0.005 * side * side)  # 9 px at 300 dpi
    keep = sizes >= speck
    keep[0] = False
    return keep[labels] & left, halo


def _frame_level(local: np.ndarray, box: Box) -> float:
    """The gray level of a box's printed frame: the darkest tenth of the pixels along it."""
    x0, y0, x1, y1 = box
    band = np.zeros(local.shape, bool)
    band[y0 - 2 : y1 + 3, x0 - 2 : x1 + 3] = True
    band[y0 + 3 : y1 - 2, x0 + 3 : x1 - 2] = False
    return float(np.percentile(local[band], 10))


def _measure(
    ink: np.ndarray, frame: np.ndarray, margin: int, side: int
) -> tuple[float, float, float]:
    """(fill, spill, around) of a box's unframed ink (bool window, the box ``margin`` in).

    ``frame`` (bool, the window's shape) is the erased frame: a stroke struck across it is
    still joined to the ink inside through it, whether or not the eraser kept the crossing.
    """
    height, width = ink.shape
    # The whole inside counts: a loop drawn just inside the frame is a mark. The frame and its
    # grey edge are already erased (``frame``), so what is left there is pen.
    inset = 1
    inner = ink[margin + inset : height - margin - inset, margin + inset : width - margin - inset]
    fill = float(inner.mean()) if inner.size else 0.0
    # Ink beyond the frame counts only when it is joined to the frame or to ink inside (a loop
    # around the box, a stroke run out of it): never a printed label standing apart.
    _count, labels = cv2.connectedComponents((ink | frame).astype(np.uint8), connectivity=8)
    inside_labels = np.unique(labels[margin : height - margin, margin : width - margin])
    joined = np.isin(labels, inside_labels[inside_labels > 0]) & ink
    beyond = joined.copy()
    beyond[margin : height - margin, margin : width - margin] = False
    around = float(beyond.sum()) / float(side * side)
    rows, cols = np.flatnonzero(joined.any(axis=1)), np.flatnonzero(joined.any(axis=0))
    if not rows.size:
        return fill, 0.0, around
    # How far the ink runs out beyond the box on both of two opposite sides, in box sides.
    out_x = min(margin - cols[0], cols[-1] + 1 - (width - margin))
    out_y = min(margin - rows[0], rows[-1] + 1 - (height - margin))
    spill = max(0.0, float(max(out_x, out_y)) / side)
    return fill, spill, around


def _page_box(box: Box, homography: np.ndarray, page: np.ndarray) -> Box:
    return to_page_box(box, homography, page)


def _shift(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])
