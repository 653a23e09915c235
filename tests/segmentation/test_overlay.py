"""The debug overlay labels each field as it was read, so a field needing review is not [ok]."""

from __future__ import annotations

import numpy as np

from segmentation.overlay import _BAD, _FIELD, draw_overlay
from segmentation.records import FieldCrops, FieldValidation, PageResult


def test_a_field_to_review_is_drawn_as_one() -> None:
    page = np.full((400, 600), 255, np.uint8)
    field = FieldCrops(
        name="postcode",
        kind="comb",
        charset="alnum",
        box=(100, 100, 300, 160),
        validation=FieldValidation(),
        status="ok",
        reason="",
        chars=(),
    )
    result = PageResult(template="form", status="ok", reason="", fields=(field,), score=1.0)
    plain = draw_overlay(page, result)
    flagged = draw_overlay(page, result, {"postcode": "review"})
    assert tuple(int(v) for v in plain[100, 200]) == _FIELD
    assert tuple(int(v) for v in flagged[100, 200]) == _BAD
