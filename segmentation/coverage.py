"""How much of a form's printed lines a fit finds on a page: what registration scores fits by."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from segmentation.paper import faint_level, flatten_background, ink_threshold
from segmentation.records import Template
from segmentation.render import render_blank_form
from segmentation.templates import mark_boxes

LOW = 4  # scoring works on pages shrunk by this factor


@dataclass(frozen=True, slots=True)
class Coverage:
    """What a fit of a form finds of its printed lines on a page.

    Attributes:
        share: the share of the form's printed lines found, in [0, 1]: the fit's score.
        warped: uint8, the page's shrunk ink in the form's shrunk frame (for ``found``).
        template: the form.
    """

    share: float
    warped: np.ndarray
    template: Template

    def found(self) -> float:
        """The length of the form's lines found, in inches (``printed``'s measure).

        Measured only where asked: most fits are told apart by their share alone.
        """
        return int((self.warped & _outline(self.template)).sum()) * LOW / self.template.dpi


def coverage(small_ink: np.ndarray, template: Template, homography: np.ndarray) -> Coverage:
    """What the fit ``homography`` (template to page pixels) finds of the form's lines.

    Args:
        small_ink: uint8 (H // LOW, W // LOW), 1 where the shrunk page has ink (dilated).
        template: the form.
        homography: float64 (3, 3), template pixel coordinates to page pixel coordinates.
    """
    structure = _structure(template)
    # A shrunk pixel covers LOW x LOW pixels: its centre is not at LOW times its index.
    # Left out, the offset cancels on upright pages only: a correct fit of a page turned
    # upside down would lose some of its lines.
    offset = (1.0 / LOW - 1.0) / 2
    shrink = np.array([[1.0 / LOW, 0.0, offset], [0.0, 1.0 / LOW, offset], [0.0, 0.0, 1.0]])
    to_small_page = shrink @ homography @ np.linalg.inv(shrink)
    warped = cv2.warpPerspective(
        small_ink,
        to_small_page,
        (structure.shape[1], structure.shape[0]),
        flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
        borderValue=0,
    )
    total = int(structure.sum())
    share = float((warped & structure).sum()) / total if total else 0.0
    return Coverage(share, warped, template)


@functools.lru_cache(maxsize=32)
def printed(template: Template) -> float:
    """The length of the form's printed lines (a blank's labels too), in inches.

    Measured on its outline (``_outline``): a thick frame is as long as a thin one.
    """
    return int(_outline(template).sum()) * LOW / template.dpi


@functools.lru_cache(maxsize=32)
def _outline(template: Template) -> np.ndarray:
    """The blocks of the shrunk lines that start them across: their top or left edge.

    A line L blocks long and w wide has L + w of them, so they measure the lines' length
    whatever their thickness.
    """
    structure = _structure(template)
    top, left = structure.copy(), structure.copy()
    top[1:] &= 1 - structure[:-1]
    left[:, 1:] &= 1 - structure[:, :-1]
    return top | left


@functools.lru_cache(maxsize=32)
def _structure(template: Template) -> np.ndarray:
    """The template's printed lines (no marks), shrunk, as a 0/1 uint8 mask.

    A reference image (the user's scanned blank, labels and all) counts as printed whatever
    is clearly darker than its paper, as a page's ink is counted (``paper.faint_level``): a
    form printed in a light dropout colour is all lines that half way to black would miss.
    A rendered blank has no labels.
    """
    if template.reference_image is not None:
        blank = flatten_background(template.reference_image)
        lines = (blank < faint_level(blank, ink_threshold(blank))).astype(np.uint8)
        if template.marks:
            for x0, y0, x1, y1 in mark_boxes(template.size, template.dpi):
                lines[y0:y1, x0:x1] = 0
    else:
        lines = (render_blank_form(template, labels=False, marks=False) < 128).astype(np.uint8)
    width, height = template.size
    small = cv2.resize(lines * 255, (width // LOW, height // LOW), interpolation=cv2.INTER_AREA)
    return (small > 60).astype(np.uint8)
