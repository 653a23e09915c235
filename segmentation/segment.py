"""Segment one page: register it to the best template (or detect fields), then cut crops."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from segmentation.crops import cut_field
from segmentation.freeform import segment_without_template
from segmentation.paper import flatten_background, ink_threshold, is_blank
from segmentation.records import PageResult, Template
from segmentation.register import LOOSE_SCORE, register_page
from segmentation.ticks import cut_marks
from segmentation.tickspec import MARK_KINDS


def segment_page(page: np.ndarray, templates: Sequence[Template] | None) -> PageResult:
    """Register a page and cut every field into character crops.

    Args:
        page: uint8 (H, W), dark ink on light paper, as loaded (any rotation, including upside
            down or sideways).
        templates: the forms the page may be; None or empty for template-free mode, which
            finds comb and box fields from the page's own lines and names them, with charsets
            and validators, from their printed labels (``segmentation.freeform``).

    Returns:
        The page result: ``ok`` with one FieldCrops per template field (boxes in the page as
        loaded), ``blank``, or ``unregistered`` with the reason (fields then empty).

    Raises:
        ValueError: ``page`` is not a uint8 (H, W) array.
    """
    if page.ndim != 2 or page.dtype != np.uint8:
        raise ValueError(f"expected a uint8 (H, W) page, got {page.dtype} {page.shape}")
    page = flatten_background(page)
    if is_blank(page):
        return PageResult(None, "blank", "no ink on the page", (), 0.0)
    threshold = ink_threshold(page)
    if not templates:
        return segment_without_template(page, threshold)
    registration, reason, score = register_page(page, templates, threshold)
    if registration is None:
        return PageResult(None, "unregistered", reason, (), round(score, 4))
    template = registration.template
    fields = tuple(
        (cut_marks if spec.kind in MARK_KINDS else cut_field)(
            page, spec, registration.homography, threshold, template.dpi
        )
        for spec in template.fields
    )
    if registration.pale:
        doubt = f"the printed lines are too pale to be sure the page is form '{template.name}'"
        fields = tuple(replace(crops, doubt=doubt) for crops in fields)
    elif registration.score < LOOSE_SCORE:
        doubt = (
            f"the page fits form '{template.name}' loosely ({registration.score:.0%} of its"
            " printed lines found): is it another form?"
        )
        fields = tuple(replace(crops, doubt=doubt) for crops in fields)
    transform = tuple(float(v) for v in registration.homography.ravel())
    return PageResult(template.name, "ok", "", fields, round(registration.score, 4), transform)
