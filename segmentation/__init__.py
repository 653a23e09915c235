"""Page images in, character images out: loading, registration and segmentation of forms."""

from segmentation.loader import count_pages, iter_pages, sniff_type
from segmentation.records import (
    CharCrop,
    FieldCrops,
    FieldSpec,
    FieldValidation,
    PageResult,
    Template,
)

__all__ = [
    "CharCrop",
    "FieldCrops",
    "FieldSpec",
    "FieldValidation",
    "PageResult",
    "Template",
    "count_pages",
    "iter_pages",
    "sniff_type",
]
