"""Real HSF field crops (``tests/resources/hsf``) cut as the pipeline cuts a digit box field."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from segmentation.crops import cut_field
from segmentation.records import FieldCrops, FieldSpec

HSF = Path(__file__).parents[2] / "resources" / "hsf"


def cut_hsf_field(name: str, max_chars: int) -> FieldCrops:
    """The crop ``name`` (``f0000_14-hsf_8``...) cut into its lattice of candidate characters."""
    page = cv2.imread(str(HSF / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
    assert page is not None
    height, width = page.shape
    box = (30, 30, width - 30, height - 30)  # the fixtures' margin around the frame
    spec = FieldSpec("f", "box", "digits", box, max_chars=max_chars)
    crops = cut_field(page, spec, np.eye(3), 128, 300)
    assert crops.lattice is not None
    return crops
