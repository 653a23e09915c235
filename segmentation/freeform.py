"""Template-free mode: a page's fields found by the box detector, named from their labels."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ocr_core.errors import ConfigurationError
from segmentation.crops import cut_field
from segmentation.detect import faint_mask, find_fields
from segmentation.draft.labels import read_labels, tesseract_available
from segmentation.draft.naming import Proposal, propose
from segmentation.records import FieldSpec, FieldValidation, PageResult
from segmentation.ticks import cut_marks
from segmentation.upright import guess_dpi, labels_below, level_page, turned_page

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FoundPage:
    """A page's fields as the detector finds them, with the proposals from their labels.

    Attributes:
        upright: uint8 (H', W'), dark ink on light paper: the page turned and deskewed.
        matrix: float64 (3, 3), page to ``upright`` coordinates.
        dpi: the page's resolution.
        fields: the fields found (``upright`` coordinates), reading order, named when read.
        proposals: what the labels propose for each field (same order).
    """

    upright: np.ndarray
    matrix: np.ndarray
    dpi: int
    fields: tuple[FieldSpec, ...]
    proposals: tuple[Proposal, ...]


def find_page_fields(page: np.ndarray, dpi: int | None = None, *, labels: bool = True) -> FoundPage:
    """Turn a page upright, find its fields and read their labels.

    Args:
        page: uint8 (H, W), dark ink on light paper, lighting evened out, any quarter turn.
        dpi: its resolution (None: guessed from its size as A4 or US letter).
        labels: False names the fields ``field_NN`` without reading their labels.

    Returns:
        The page's fields, named, with charsets and validators from their labels.

    Raises:
        ConfigurationError: ``labels`` is set and Tesseract is missing or fails.
    """
    dpi = dpi or guess_dpi((page.shape[1], page.shape[0]))
    ink = faint_mask(page)
    level = level_page(ink, dpi)
    # Lines are found on the page deskewed in grey: a hairline stepped by the skew is
    # straight again (a binary mask turned would stay stepped).
    upright = _warped(page, level.matrix, level.size)
    fields = find_fields(upright, dpi)
    if fields and labels_below(level.ink, [f.box for f in fields], dpi):
        level = turned_page(ink, level.turns + 2, level.skew)  # upside down
        upright = _warped(page, level.matrix, level.size)
        fields = find_fields(upright, dpi)
    matrix = level.matrix
    texts = read_labels(upright, fields, dpi) if labels else [""] * len(fields)
    proposals = propose(fields, texts)
    named = tuple(_named(field, p) for field, p in zip(fields, proposals, strict=True))
    return FoundPage(upright, matrix, dpi, named, tuple(proposals))


def _warped(page: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8: the page mapped by a 3x3 matrix into ``size``, paper white outside."""
    return np.asarray(
        cv2.warpAffine(page, matrix[:2], size, flags=cv2.INTER_LINEAR, borderValue=255), np.uint8
    )


def _named(field: FieldSpec, proposal: Proposal) -> FieldSpec:
    validate = proposal.validate
    validation = FieldValidation(
        regex=validate.get("regex"),  # type: ignore[arg-type]
        date=validate.get("date"),  # type: ignore[arg-type]
        luhn=bool(validate.get("luhn", False)),
    )
    return replace(
        field,
        name=proposal.name,
        charset=proposal.charset,
        validation=validation,
        label=proposal.label,
    )


def segment_without_template(page: np.ndarray, threshold: int) -> PageResult:
    """Find boxed fields on a page without a template and cut them into crops.

    The page is turned upright and deskewed from its lines (within ±10° of a quarter turn);
    fields are named, and given charsets and validators, from their printed labels when
    Tesseract is installed (else ``field_01``... with ``alnum``). A small square on its own
    is a tick box, read as a template's ``mark`` field is.

    Args:
        page: uint8 (H, W), dark ink on light paper, lighting evened out.
        threshold: gray level under which a pixel is ink.

    Returns:
        ``ok`` with the fields found, or ``unregistered`` when there are none.
    """
    try:
        found = find_page_fields(page, labels=tesseract_available())
    except ConfigurationError as e:  # a broken Tesseract costs the names, not the page
        log.warning("template-free labels not read: %s", e)
        found = find_page_fields(page, labels=False)
    specs = found.fields
    if not specs:
        return PageResult(
            None, "unregistered", "no boxed fields found (template-free mode)", (), 0.0
        )
    to_page = np.linalg.inv(found.matrix)
    fields = tuple(
        (cut_marks if spec.kind == "mark" else cut_field)(page, spec, to_page, threshold, found.dpi)
        for spec in specs
    )
    return PageResult(None, "ok", "", fields, 1.0, tuple(float(v) for v in to_page.ravel()))
