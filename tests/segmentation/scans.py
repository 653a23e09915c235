"""Filled, scanned shipped forms for segmentation tests."""

from __future__ import annotations

import numpy as np

from segmentation import Template
from segmentation.synthetic import GlyphPool, fill_form, scan_form
from segmentation.synthetic.scan import ScanParams


def scanned(
    template: Template, pool: GlyphPool, params: ScanParams, seed: int = 0
) -> tuple[np.ndarray, dict]:
    """Fill ``template`` with ``pool`` handwriting (no touching characters) and scan it."""
    rng = np.random.default_rng(seed)
    page, truth = fill_form(template, pool, rng, touch_rate=0.0)
    return scan_form(template, page, truth, params, rng)
