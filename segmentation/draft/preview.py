"""The draft's preview: the blank with every field outlined, numbered and named."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from segmentation.records import FieldSpec

_COLOURS = {"box": (200, 90, 0), "comb": (0, 120, 230), "mark": (0, 160, 0)}  # BGR
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def draw_preview(page: np.ndarray, fields: Sequence[FieldSpec], dpi: int) -> np.ndarray:
    """Outline each field (its comb cells too), with its number, name and charset.

    Args:
        page: uint8 (H, W), dark ink on light paper: the blank the fields were found on.
        fields: the drafted fields, in the template's order.
        dpi: the page's resolution (sizes the lines and the text).

    Returns:
        uint8 (H, W, 3) BGR image.
    """
    faded = (155 + page.astype(np.uint16) * 100 // 255).astype(np.uint8)
    image = cv2.cvtColor(faded, cv2.COLOR_GRAY2BGR)
    scale = dpi / 300
    thick = max(1, round(3 * scale))
    for number, field in enumerate(fields, start=1):
        colour = _COLOURS.get(field.kind, (0, 0, 200))
        x0, y0, x1, y1 = field.box
        cv2.rectangle(image, (x0, y0), (x1, y1), colour, thick)
        for cx0, cy0, _cx1, cy1 in field.cells[1:]:
            cv2.line(image, (cx0, cy0), (cx0, cy1), colour, max(1, thick - 1))
        charset = "" if field.kind == "mark" else f" ({field.charset})"
        text = f"{number} {field.name}{charset}"
        origin = (x0 + thick + 2, y0 + round(28 * scale))
        (w, h), _ = cv2.getTextSize(text, _FONT, 0.8 * scale, thick)
        cv2.rectangle(
            image,
            (origin[0] - 2, origin[1] - h - 4),
            (origin[0] + w + 2, origin[1] + 6),
            (255, 255, 255),
            -1,
        )
        cv2.putText(image, text, origin, _FONT, 0.8 * scale, (0, 0, 200), thick)
    return image
