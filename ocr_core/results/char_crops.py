"""Character crops: one image a field, each character's crop a region of it.

A page of the NIST form holds some 460 characters. Written as a file each, their crops cost
more to create than to encode (most of it in the file system, on every page), and each takes a
disk block of its own. So a field's characters are cut together: one PNG a field,
``p<page>-<field>.crops.png`` in the document's crops folder, the part of the page (turned
upright) that holds every character's crop. Each character's ``crop`` names its region of that
image with a media fragment (W3C Media Fragments URI 1.0, spatial dimension, in pixels):
``crops/0000-form/p1-surname.crops.png#xywh=52,0,48,61``.

A crop without a fragment is a whole file: a tick box's image, or a character's crop in a run
written before the crops were kept a field an image. ``read_crop`` reads both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), page pixels
Rect = tuple[int, int, int, int]  # x, y, width, height, pixels of the image a crop is part of

CROPS_SUFFIX = ".crops.png"
FRAGMENT = "#xywh="
_RECT = re.compile(r"(\d+),(\d+),(\d+),(\d+)")


def crop_ref(path: str, rect: Rect) -> str:
    """The ``crop`` of a character: its field's crops image and its region of it."""
    return f"{path}{FRAGMENT}{','.join(map(str, rect))}"


def split_crop(crop: str) -> tuple[str, Rect | None]:
    """A ``crop``'s file (run-relative) and its region (None: the whole file)."""
    path, mark, fragment = crop.partition(FRAGMENT)
    if not mark:
        return crop, None
    return path, _parse_rect(fragment)


def _parse_rect(text: str) -> Rect | None:
    """``x,y,w,h`` (whole pixels, not negative) as a rectangle; None when malformed."""
    match = _RECT.fullmatch(text)
    if match is None:
        return None
    x, y, w, h = (int(v) for v in match.groups())
    return x, y, w, h


def cut_field_crops(
    page: np.ndarray, boxes: Sequence[Box], turns: int, margin: int
) -> tuple[np.ndarray, list[Rect]]:
    """A field's crops image and each character's region of it.

    Args:
        page: uint8 (H, W), the page as loaded.
        boxes: each character's box on the page.
        turns: quarter turns (``np.rot90``) that make the page upright.
        margin: pixels of context around each box (within the page).

    Returns:
        The upright part of the page that holds every grown box (a new array), and each box's
        region of it, grown by ``margin`` as far as the page goes.
    """
    height, width = page.shape[:2]
    grown = [
        (
            max(0, x0 - margin),
            max(0, y0 - margin),
            min(width, x1 + margin),
            min(height, y1 + margin),
        )
        for x0, y0, x1, y1 in boxes
    ]
    left, top = min(b[0] for b in grown), min(b[1] for b in grown)
    right, bottom = max(b[2] for b in grown), max(b[3] for b in grown)
    region = np.ascontiguousarray(np.rot90(page[top:bottom, left:right], turns))
    size = (right - left, bottom - top)
    rects = [
        _turned((x0 - left, y0 - top, x1 - left, y1 - top), size, turns) for x0, y0, x1, y1 in grown
    ]
    return region, rects


def _turned(box: Box, size: tuple[int, int], turns: int) -> Rect:
    """A box of an image ``size`` (width, height) as a rectangle of ``np.rot90(image, turns)``."""
    (x0, y0, x1, y1), (width, height) = box, size
    for _ in range(turns % 4):  # a quarter turn anticlockwise: column x becomes row width - x
        x0, y0, x1, y1 = y0, width - x1, y1, width - x0
        width, height = height, width
    return x0, y0, x1 - x0, y1 - y0


def read_crop(run_dir: Path, crop: str) -> np.ndarray | None:
    """A crop's pixels (uint8 gray), or None when its file is missing, unreadable or too small.

    Args:
        run_dir: the run folder (``crop`` is relative to it).
        crop: a ``crop`` as ``characters.csv`` and ``review.csv`` hold it.
    """
    path, rect = split_crop(crop)
    if FRAGMENT in crop and rect is None:
        return None  # a fragment that names no region
    image = cv2.imread(str(run_dir / path), cv2.IMREAD_GRAYSCALE)
    if image is None or rect is None:
        return image
    x, y, w, h = rect
    if w == 0 or h == 0 or x + w > image.shape[1] or y + h > image.shape[0]:
        return None
    return image[y : y + h, x : x + w]


def crop_png(run_dir: Path, crop: str) -> bytes | None:
    """A crop as PNG bytes (to serve it alone), or None where ``read_crop`` finds none."""
    image = read_crop(run_dir, crop)
    if image is None:
        return None
    ok, encoded = cv2.imencode(".png", image)
    return encoded.tobytes() if ok else None


def crop_view(crop: str) -> dict[str, object]:
    """How a page shows a crop: its file's URL (percent-encoded) and its region, if any."""
    path, rect = split_crop(crop)
    return {"url": quote(path, safe="/"), "rect": rect}
