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
from segmentation.render import render_blank_form, write_blank_pdf
from segmentation.templates import load_template, load_templates

__all__ = [
    "CharCrop",
    "FieldCrops",
    "FieldSpec",
    "FieldValidation",
    "PageResult",
    "Template",
    "count_pages",
    "iter_pages",
    "load_template",
    "load_templates",
    "render_blank_form",
    "sniff_type",
    "write_blank_pdf",
]
