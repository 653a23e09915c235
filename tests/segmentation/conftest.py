"""Fixtures for segmentation tests: the shipped templates and a drawn (font) glyph pool."""

from __future__ import annotations

import string
from pathlib import Path

import cv2
import numpy as np
import pytest

from segmentation import Template, load_templates
from segmentation.synthetic import GlyphPool

TEMPLATES = Path(__file__).resolve().parents[2] / "data" / "templates"


@pytest.fixture(scope="session")
def templates() -> dict[str, Template]:
    """The shipped templates by name."""
    return {t.name: t for t in load_templates([TEMPLATES])}


@pytest.fixture(scope="session")
def drawn_pool() -> GlyphPool:
    """Characters drawn with OpenCV's script font: handwriting-like, no datasets needed."""
    glyphs = {}
    for char in string.digits + string.ascii_uppercase:
        images = []
        for thickness in (2, 3):
            image = np.zeros((28, 28), np.uint8)
            cv2.putText(image, char, (5, 23), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 255, thickness)
            images.append(image)
        glyphs[char] = np.stack(images)
    return GlyphPool(glyphs)
