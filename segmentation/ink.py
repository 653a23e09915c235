"""Small shared helpers of field cutting: ink extents, page boxes, framed character crops."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ocr_core.recognition.normalise import frame_inks
from segmentation.records import Box, CharCrop

EMPTY = np.zeros((28, 28), np.uint8)
_GROW = np.ones((3, 3), np.uint8)


def to_page_box(box: Box, to_page: np.ndarray, page: np.ndarray) -> Box:
    """Bounding box in the page of a local box's four corners, clipped to the page."""
    [mapped] = to_page_boxes([box], to_page, page)
    return mapped


def to_page_boxes(boxes: Sequence[Box], to_page: np.ndarray, page: np.ndarray) -> list[Box]:
    """``to_page_box`` of many boxes in one pass (a field's candidate characters)."""
    if not boxes:
        return []
    x0, y0, x1, y1 = np.array(boxes, np.float64).T
    corners = np.stack([x0, y0, x1, y0, x1, y1, x0, y1], axis=1).reshape(1, -1, 2)
    mapped = cv2.perspectiveTransform(corners, to_page).reshape(-1, 4, 2)
    height, width = page.shape
    low = np.floor(mapped.min(axis=1)).clip(0, (width, height))
    high = np.ceil(mapped.max(axis=1)).clip(0, (width, height))
    pairs = zip(low.astype(int).tolist(), high.astype(int).tolist(), strict=True)
    return [(left, top, right, bottom) for (left, top), (right, bottom) in pairs]


@dataclass(frozen=True, slots=True)
class Blob:
    """Some ink of a field window: a bool mask over the ink's own box, and where that box lies.

    Box-field cutting handles hundreds of pieces of ink per field; each one kept as a mask of
    the whole window made every measure and join cost a pass over the window. A blob's mask is
    tight (its first and last rows and columns hold ink), so its box is its ink's extent.

    Attributes:
        mask: bool (h, w), True on ink.
        x: the window column of the mask's first column.
        y: the window row of the mask's first row.
    """

    mask: np.ndarray
    x: int
    y: int

    @staticmethod
    def tight(mask: np.ndarray, x: int = 0, y: int = 0) -> Blob:
        """The ink of ``mask`` (bool, its first pixel at window ``(x, y)``), cut to its extent.

        Raises:
            ValueError: ``mask`` has no ink.
        """
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if not rows.size:
            raise ValueError("a blob needs ink")
        y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        return Blob(mask[y0:y1, x0:x1], x + x0, y + y0)

    @property
    def height(self) -> int:
        """Rows from the first to the last inked row."""
        return int(self.mask.shape[0])

    @property
    def width(self) -> int:
        """Columns from the first to the last inked column."""
        return int(self.mask.shape[1])

    @property
    def span(self) -> tuple[int, int]:
        """Window columns ``[first, last + 1)`` of the ink."""
        return self.x, self.x + self.width

    @property
    def rows(self) -> tuple[int, int]:
        """Window rows ``[first, last + 1)`` of the ink."""
        return self.y, self.y + self.height

    def area(self) -> int:
        """Inked pixels."""
        return int(np.count_nonzero(self.mask))

    def join(self, *others: Blob) -> Blob:
        """This ink and the others' together (this blob itself when there are none)."""
        if not others:
            return self
        blobs = (self, *others)
        x0, y0 = min(b.x for b in blobs), min(b.y for b in blobs)
        x1 = max(b.x + b.width for b in blobs)
        y1 = max(b.y + b.height for b in blobs)
        mask = np.zeros((y1 - y0, x1 - x0), bool)
        for b in blobs:
            mask[b.y - y0 : b.y - y0 + b.height, b.x - x0 : b.x - x0 + b.width] |= b.mask
        return Blob(mask, x0, y0)

    def whole(self, shape: tuple[int, ...]) -> np.ndarray:
        """The ink as a bool mask of the whole window (``shape``)."""
        full = np.zeros(shape[:2], bool)
        full[self.y : self.y + self.height, self.x : self.x + self.width] = self.mask
        return full


class Framer:
    """Frames the blobs of one field window as model inputs, each distinct blob once.

    A blob's model input is its ink, grown by a pixel to keep anti-aliased edges, framed by
    the contract (``normalise.frame_inks``).

    A box field's ink is framed over and over: every run of its atoms that may be one
    character (a thousand candidates on an HSF page), and its characters as grouped, most of
    which are candidates too. A framer frames the blobs it is given together, and each
    distinct blob once (by its place and its ink), however often it is asked for. A comb
    field's cells are framed together too.

    Attributes:
        strength: uint8, the window's ink strength (255 - gray).
        to_page: float64 (3, 3), window to page coordinates.
        page: uint8 (H, W), the page as loaded (to clip boxes).
    """

    def __init__(self, strength: np.ndarray, to_page: np.ndarray, page: np.ndarray) -> None:
        self.strength, self.to_page, self.page = strength, to_page, page
        # Per distinct blob (place, shape, ink): its framed image, page box and status.
        self._done: dict[tuple[int, int, tuple[int, ...], bytes], tuple[np.ndarray, Box, str]] = {}

    def crops(self, blobs: Sequence[Blob]) -> list[CharCrop]:
        """Each blob framed, its ``index`` its position in ``blobs``."""
        keys = [(b.x, b.y, b.mask.shape, b.mask.tobytes()) for b in blobs]
        new = {key: blob for key, blob in zip(keys, blobs, strict=True) if key not in self._done}
        inks = [self._ink(blob) for blob in new.values()]
        boxes = [(b.x, b.y, b.x + b.width, b.y + b.height) for b in new.values()]
        boxes = to_page_boxes(boxes, self.to_page, self.page)
        for key, image, box in zip(new, frame_inks(inks), boxes, strict=True):
            self._done[key] = (image, box, "ok" if image.any() else "empty")
        return [CharCrop(i, *self._done[key]) for i, key in enumerate(keys)]

    def _ink(self, blob: Blob) -> np.ndarray:
        """The blob's ink strength over its box, the mask grown by a pixel."""
        # The mask is tight, so growing it within its own box is growing it in the window.
        grown = cv2.dilate(blob.mask.view(np.uint8), _GROW)
        x0, x1 = blob.span
        y0, y1 = blob.rows
        return np.asarray(self.strength[y0:y1, x0:x1] * grown)


def mask_height(mask: np.ndarray) -> int:
    """Rows from the first to the last inked row of a mask (0 when it has no ink)."""
    rows = np.flatnonzero(mask.any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def mask_span(mask: np.ndarray) -> tuple[int, int]:
    """Columns ``[first, last + 1)`` of a mask's ink (the mask must have ink)."""
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(cols[-1]) + 1
