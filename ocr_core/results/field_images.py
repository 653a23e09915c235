"""A field's image cut from its page, with its character boxes drawn, for the reviewer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ocr_core.files import safe_name
from ocr_core.results.records import CharRow, FieldKey, FieldRow, rules_key

# Page context kept around a field, as a share of the field's height: enough to see the printed
# label and the neighbouring ink, so that the field is seen where it sits on the form.
CONTEXT = 0.6
MAX_WIDTH = 1400  # wider images are halved (a long free-text field at 300 dpi): still legible
PALE_INK = 64
"""A region whose darkest ink is lighter than this (a pale scan, a faded pen, a pencil) is
shown to the reviewer with its levels stretched, its darkest ink black and its paper white."""
_CERTAIN, _UNCERTAIN = (0, 150, 0), (0, 120, 255)  # BGR: green, orange


def field_image(
    page: np.ndarray,
    box: tuple[int, int, int, int],
    chars: Sequence[CharRow],
    turns: int,
) -> np.ndarray | None:
    """The field's region of the page, with context, each character's box drawn.

    Args:
        page: uint8 (H, W), dark ink on light paper, as loaded (the boxes are in its pixels).
        box: the field's box ``(x0, y0, x1, y1)`` on the page.
        chars: the field's characters read (their boxes; uncertain ones drawn orange).
        turns: quarter turns (``np.rot90``) that make the page upright.

    Returns:
        uint8 (h, w, 3) BGR image, upright; None when the region is empty.
    """
    boxes = [box, *((c.x0, c.y0, c.x1, c.y1) for c in chars)]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    margin = round(CONTEXT * max(1, min(x1 - x0, y1 - y0)))
    height, width = page.shape[:2]
    top, left = max(0, y0 - margin), max(0, x0 - margin)
    region = page[top : min(height, y1 + margin), left : min(width, x1 + margin)]
    if not region.size:
        return None
    image = cv2.cvtColor(_legible(np.ascontiguousarray(region)), cv2.COLOR_GRAY2BGR)
    thick = max(1, round(max(region.shape) / 400))
    for c in chars:
        colour = _UNCERTAIN if c.needs_review else _CERTAIN
        cv2.rectangle(image, (c.x0 - left, c.y0 - top), (c.x1 - left, c.y1 - top), colour, thick)
    image = np.rot90(image, turns)
    if image.shape[1] > MAX_WIDTH:
        image = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)


def _legible(region: np.ndarray) -> np.ndarray:
    """The region as the reviewer sees it: as scanned, or with pale ink stretched to black.

    Its darkest ink is its 0.5th percentile, its paper the median. Only a region whose ink is
    lighter than PALE_INK, with ink clearly darker than its paper, is stretched.
    """
    ink, paper = (float(v) for v in np.percentile(region, [0.5, 50]))
    if ink < PALE_INK or paper - ink < 32:
        return region
    stretched = (region.astype(np.float32) - ink) * (255.0 / (paper - ink))
    return np.clip(np.rint(stretched), 0, 255).astype(np.uint8)


def field_file(crop_dir: Path, page: int, field: str, suffix: str) -> Path:
    """One of a field's files in its document's crops folder: ``p<page>-<field><suffix>``."""
    return crop_dir / f"p{page}-{safe_name(field)}{suffix}"


def field_image_path(crop_dir: Path, field: FieldRow) -> Path:
    """Where a field's image goes in its document's crops folder."""
    return field_file(crop_dir, field.page, field.field, ".field.jpg")


def written_field_images(
    run_dir: Path, crop_dir: Path, fields: Sequence[FieldRow]
) -> list[tuple[FieldKey, str]]:
    """Each field's image written for review, run-relative (a field cut from no page has none)."""
    paths = [(f.key, field_image_path(crop_dir, f)) for f in fields if f.field]
    return [(key, str(path.relative_to(run_dir))) for key, path in paths if path.is_file()]


def image_listing(images: Sequence[tuple[FieldKey, str]]) -> dict[str, str]:
    """``run.json``'s ``field_images``: ``document|page|field`` -> the image (run-relative)."""
    return {rules_key(key): path for key, path in images}
