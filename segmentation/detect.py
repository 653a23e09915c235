"""Template-free mode: find comb and box fields from a page's own printed lines."""

from __future__ import annotations

import numpy as np

from segmentation.records import PageResult


def segment_without_template(page: np.ndarray, threshold: int) -> PageResult:
    """Segment a page with no template (not built yet: reports the page as unregistered)."""
    del page, threshold
    return PageResult(None, "unregistered", "template-free mode is not built yet", (), 0.0)
