"""The real-forms benchmark's montage: each wrongly read field's region, what was read, the ref."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path

import cv2
import numpy as np


def page_shift(page: np.ndarray, blank: np.ndarray) -> tuple[float, float]:
    """Translation (dx, dy) from blank to page pixels by phase correlation at 1/4 scale.

    Args:
        page: uint8 (H, W), dark ink on light paper.
        blank: uint8 (H', W'), the template's reference image, same polarity.

    Returns:
        The shift in the blank's pixels, the page resized to the blank's size (rotation
        ignored: enough to cut a field with a margin).
    """
    h, w = blank.shape
    small = [
        cv2.resize(255 - cv2.resize(img, (w, h)), (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        for img in (blank, page)
    ]
    (dx, dy), _ = cv2.phaseCorrelate(*(s.astype(np.float32) for s in small))
    return 4 * dx, 4 * dy


def read_gray(path: Path) -> np.ndarray:
    """Load an image as uint8 (H, W), dark ink on light paper; exit with its name if unreadable."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        sys.exit(f"cannot read the image {path}")
    return image


def _text_panel(texts: Iterable[str], height: int, width: int = 720) -> np.ndarray:
    lines = [line for text in texts for line in textwrap.wrap(text, 48) or [text]]
    panel = np.full((max(height, 30 * len(lines) + 10), width), 255, np.uint8)
    for k, line in enumerate(lines):
        cv2.putText(panel, line, (8, 26 + 30 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 0, 2)
    return panel


def write_montage(
    out: Path,
    wrong: list[tuple[str, str, str, str]],
    page_files: Mapping[str, Path],
    boxes: Mapping[str, list[int]],
    blank: np.ndarray,
) -> int:
    """Save one row per wrongly read field: its region of the page, what was read, the reference.

    Returns:
        The number of rows written.
    """
    rows: list[np.ndarray] = []
    images: dict[str, tuple[np.ndarray, tuple[float, float]]] = {}
    for page, nist_name, read, ref in wrong:
        if page not in images:
            # In the blank's pixels: a page scanned at another resolution is resized to it.
            image = cv2.resize(read_gray(page_files[page]), blank.shape[::-1])
            images[page] = image, page_shift(image, blank)
        image, (dx, dy) = images[page]
        x0, y0, x1, y1 = boxes[nist_name]
        pad = 20
        cut = image[
            max(0, round(y0 + dy) - pad) : max(0, round(y1 + dy) + pad),
            max(0, round(x0 + dx) - pad) : max(0, round(x1 + dx) + pad),
        ]
        scale = min(1.0, 1000 / max(1, cut.shape[1]))
        cut = cv2.resize(cut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        cut = np.pad(cut, ((0, 0), (0, 1000 - cut.shape[1])), constant_values=255)
        panel = _text_panel([f"{page} {nist_name}", f"read: {read}", f"ref:  {ref}"], cut.shape[0])
        cut = np.pad(cut, ((0, panel.shape[0] - cut.shape[0]), (0, 0)), constant_values=255)
        rows += [np.hstack([cut, panel]), np.full((6, 1000 + panel.shape[1]), 160, np.uint8)]
    if rows:
        cv2.imwrite(str(out), np.vstack(rows))
    return len(rows) // 2
