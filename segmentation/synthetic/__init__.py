"""Synthetic-data tooling: filled, scanned forms with ground truth, and crops harvested from them.

Test and training data, not part of reading a page: only this package (of ``segmentation``)
reads the datasets or imports ``ocr_core.training``.
"""

import importlib
from typing import TYPE_CHECKING, Any

from segmentation.synthetic.forms import fill_form, make_document, scan_form
from segmentation.synthetic.glyphs import GlyphPool, load_glyph_pool
from segmentation.synthetic.match import box_iou, match_boxes, match_crops
from segmentation.synthetic.styles import (
    HOUSE_STYLE,
    PageStyle,
    random_style,
    style_of,
    styled_template,
)

if TYPE_CHECKING:
    from segmentation.synthetic.harvest import cut_forms

__all__ = [
    "HOUSE_STYLE",
    "GlyphPool",
    "PageStyle",
    "box_iou",
    "cut_forms",
    "fill_form",
    "load_glyph_pool",
    "make_document",
    "match_boxes",
    "match_crops",
    "random_style",
    "scan_form",
    "style_of",
    "styled_template",
]


def __getattr__(name: str) -> Any:
    # Lazy, so that ``python -m segmentation.synthetic.harvest`` runs a module not yet imported.
    if name == "cut_forms":
        return importlib.import_module("segmentation.synthetic.harvest").cut_forms
    raise AttributeError(f"module 'segmentation.synthetic' has no attribute {name!r}")
