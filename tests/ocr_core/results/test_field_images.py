"""The reviewer's image of a field: cut with its context, pale writing made legible."""

from __future__ import annotations

import cv2
import numpy as np

from ocr_core.results.field_images import field_image

BOX = (100, 100, 400, 180)


def _page(ink: int, paper: int = 250) -> np.ndarray:
    """A page with a framed field holding a written 7, all drawn in ``ink`` on ``paper``."""
    page = np.full((400, 600), paper, np.uint8)
    cv2.rectangle(page, BOX[:2], BOX[2:], ink, 3)
    cv2.putText(page, "7", (200, 170), cv2.FONT_HERSHEY_SIMPLEX, 2.0, ink, 5)
    return page


def test_a_field_written_dark_is_shown_as_scanned() -> None:
    page = _page(ink=30)
    image = field_image(page, BOX, [], 0)
    assert image is not None and image.shape[2] == 3
    margin = round(0.6 * (BOX[3] - BOX[1]))
    region = page[BOX[1] - margin : BOX[3] + margin, BOX[0] - margin : BOX[2] + margin]
    assert np.array_equal(image[:, :, 0], region)


def test_a_pale_field_is_shown_with_its_ink_black_and_its_paper_white() -> None:
    # A pale scan (ink at 175 on paper at 250): the reviewer would squint at it.
    image = field_image(_page(ink=175), BOX, [], 0)
    assert image is not None
    assert image.min() == 0 and np.median(image) == 255
