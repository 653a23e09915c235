"""Cut a registered field into character crops: remove printed lines, find ink, frame it."""

from __future__ import annotations

import cv2
import numpy as np

from segmentation.boxes import box_groups
from segmentation.comb import comb_chars
from segmentation.ink import char_crop, to_page_box
from segmentation.records import Box, CharCrop, FieldCrops, FieldSpec
from segmentation.templates import field_lines, line_width


def cut_field(
    page: np.ndarray, spec: FieldSpec, homography: np.ndarray, threshold: int, dpi: int
) -> FieldCrops:
    """Cut one field of a registered page into character crops.

    Args:
        page: uint8 (H, W), dark ink on light paper, as loaded.
        spec: the field, in template coordinates.
        homography: float64 (3, 3), template to page coordinates.
        threshold: gray level under which a pixel is ink.
        dpi: the template's resolution (sets line widths and speck sizes).

    Returns:
        The field's crops: comb fields one per cell (empty ones included), box fields one per
        character found, left to right. Crop images are uint8 (28, 28), white ink on black.
    """
    margin = round(0.06 * dpi)
    x0, y0, x1, y1 = spec.box
    to_page = homography @ _shift(x0 - margin, y0 - margin)
    size = (x1 - x0 + 2 * margin, y1 - y0 + 2 * margin)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    local = cv2.warpPerspective(page, to_page, size, flags=flags, borderValue=255)
    inside = cv2.warpPerspective(
        np.ones_like(page), to_page, size, flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    )
    field_box = to_page_box((margin, margin, size[0] - margin, size[1] - margin), to_page, page)

    def record(status: str, reason: str, chars: list[CharCrop]) -> FieldCrops:
        return FieldCrops(
            spec.name,
            spec.kind,
            spec.charset,
            field_box,
            spec.validation,
            status,
            reason,
            tuple(chars),
        )

    core = inside[margin:-margin, margin:-margin]
    if core.mean() < 0.97:
        return record("unreadable", "field is partly outside the scanned page", [])
    ink = (local < threshold).astype(np.uint8)
    offset = (margin - x0, margin - y0)
    _remove_lines(ink, spec, offset, dpi)
    if ink[margin:-margin, margin:-margin].mean() > 0.35:
        return record("unreadable", "field is mostly ink (scribbled out or a shadow?)", [])
    pieces = _pieces(ink, (margin, margin, size[0] - margin, size[1] - margin), dpi)
    strength = (255 - local).astype(np.uint8)
    if spec.kind == "comb":
        chars = comb_chars(pieces, spec, offset, strength, to_page, page, dpi)
        found = any(c.status == "ok" for c in chars)
        return record("ok" if found else "empty", "" if found else "no ink in any cell", chars)
    groups = box_groups(pieces, size[1] - 2 * margin)
    chars = [char_crop(i, mask, strength, to_page, page) for i, mask in enumerate(groups)]
    if not chars:
        return record("empty", "no ink in the box", [])
    if len(chars) > spec.max_chars:
        reason = f"{len(chars)} characters found, the field holds at most {spec.max_chars}"
        return record("unreadable", reason, chars)
    return record("ok", "", chars)


def _shift(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _remove_lines(ink: np.ndarray, spec: FieldSpec, offset: tuple[int, int], dpi: int) -> None:
    """Erase the field's printed lines in place, keeping strokes that cross them.

    Each line is found again near where the template puts it (in chunks, so a small residual
    rotation is followed); a band across the line is cleared except where ink continues on both
    sides, which is a pen stroke crossing the line.
    """
    search, half = round(0.025 * dpi), line_width(dpi) // 2 + max(2, dpi // 150)
    chunk = round(0.5 * dpi)
    for lx0, ly0, lx1, ly1 in field_lines(spec):
        lx0, lx1, ly0, ly1 = lx0 + offset[0], lx1 + offset[0], ly0 + offset[1], ly1 + offset[1]
        view = ink if ly0 == ly1 else ink.T
        if ly0 != ly1:  # vertical: work on the transposed image, where it is horizontal
            lx0, ly0, lx1, ly1 = ly0, lx0, ly1, lx1
        for start in range(lx0 - half, lx1 + half, chunk):
            stop = min(start + chunk, lx1 + half + 1)
            lo, hi = max(0, ly0 - search), min(view.shape[0], ly0 + search + 1)
            profile = view[lo:hi, start:stop].sum(axis=1)
            if profile.size == 0 or profile.max() < 0.3 * (stop - start):
                continue
            centre = lo + int(np.argmax(profile))
            top, bottom = max(0, centre - half), min(view.shape[0], centre + half + 1)
            above = view[max(0, top - 3) : top, start:stop].any(axis=0)
            below = view[bottom : bottom + 3, start:stop].any(axis=0)
            crossing = np.logical_and(above, below).astype(view.dtype)
            view[top:bottom, start:stop] *= crossing.reshape(1, -1)


def _pieces(ink: np.ndarray, box: Box, dpi: int) -> list[np.ndarray]:
    """Masks (bool, ink's shape) of the connected components whose centre is inside ``box``.

    Specks and thin slivers left over from printed lines are dropped. Components are found
    after closing 1-2 px gaps, so a faint stroke broken by thresholding stays one piece.
    """
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(closed, connectivity=8)
    inked = ink > 0
    speck = 0.00025 * dpi * dpi  # about 22 px at 300 dpi
    thin = line_width(dpi) + 1
    out = []
    for i in range(1, count):
        _x, _y, w, h, area = stats[i]
        cx, cy = centroids[i]
        line_like = min(w, h) <= thin and max(w, h) >= 0.25 * dpi
        if area < speck or line_like:
            continue
        if not (box[0] <= cx < box[2] and box[1] <= cy < box[3]):
            continue
        out.append((labels == i) & inked)
    return out
