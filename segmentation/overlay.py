"""Debug overlay: what segmentation saw on a page, for people looking into a problem."""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from segmentation.records import PageResult

_OK, _EMPTY, _FIELD, _BAD = (0, 170, 0), (170, 170, 170), (255, 90, 0), (0, 0, 230)


def draw_overlay(
    page: np.ndarray, result: PageResult, labels: Mapping[str, str] | None = None
) -> np.ndarray:
    """Draw field boxes, character boxes and cell indices over a page.

    Fields are blue (red when unreadable or labelled for review), found characters green, empty
    cells gray, tick boxes green (with their ink share) when they hold ink and gray when not; the
    page's template, status, score and reason are written at the top.

    Args:
        page: uint8 (H, W), dark ink on light paper, as loaded (the page ``result`` came from).
        result: what ``segment_page`` returned for it.
        labels: field name -> the label to show (``review``, ``ok``, ...), from reading the
            field; a field not named shows its segmentation status.

    Returns:
        uint8 (H, W, 3) BGR image.
    """
    image = cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)
    scale = max(page.shape) / 3500
    thick = max(1, round(3 * scale))
    font = cv2.FONT_HERSHEY_SIMPLEX
    for field in result.fields:
        label = (labels or {}).get(field.name, field.status)
        colour = _BAD if label in ("unreadable", "review") else _FIELD
        x0, y0, x1, y1 = field.box
        cv2.rectangle(image, (x0, y0), (x1, y1), colour, thick)
        text = f"{field.name} [{label}] {field.reason}".strip()
        # Under the box: printed labels usually sit above it.
        below = min(image.shape[0] - 4, y1 + round(30 * scale))
        cv2.putText(image, text, (x0, below), font, 0.8 * scale, colour, thick)
        for mark in field.marks:  # tick boxes: green with ink in them, gray without
            tint = _OK if mark.fill > 0 else _EMPTY
            mx0, my0, mx1, my1 = mark.box
            cv2.rectangle(image, (mx0, my0), (mx1, my1), tint, max(1, thick - 1))
            cv2.putText(image, f"{mark.fill:.2f}", (mx0, my0 - 4), font, 0.6 * scale, tint, thick)
        for char in field.chars:
            cx0, cy0, cx1, cy1 = char.box
            tint = _OK if char.status == "ok" else _EMPTY
            cv2.rectangle(image, (cx0, cy0), (cx1, cy1), tint, max(1, thick - 1))
            cv2.putText(image, str(char.index), (cx0 + 2, cy1 - 4), font, 0.6 * scale, tint, thick)
    header = f"template={result.template} status={result.status} score={result.score:.2f}"
    if result.reason:
        header += f" reason: {result.reason}"
    cv2.putText(image, header, (20, round(50 * scale)), font, 1.2 * scale, _BAD, thick + 1)
    return image
