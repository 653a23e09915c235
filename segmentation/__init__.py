"""Page images in, character images out: loading, registration and segmentation of forms."""

from segmentation.loader import count_pages, iter_pages, sniff_type
from segmentation.overlay import draw_overlay
from segmentation.records import (
    CharCrop,
    FieldCrops,
    FieldSpec,
    FieldValidation,
    PageResult,
    Template,
)
from segmentation.render import render_blank_form, write_blank_pdf
from segmentation.segment import segment_page
from segmentation.templates import load_template, load_templates

__all__ = [
    "CharCrop",
    "FieldCrops",
    "FieldSpec",
    "FieldValidation",
    "PageResult",
    "Template",
    "count_pages",
    "draw_overlay",
    "iter_pages",
    "load_template",
    "load_templates",
    "render_blank_form",
    "segment_page",
    "sniff_type",
    "write_blank_pdf",
]
