"""A small run folder written by the pipeline's own writers, its fields from a real template."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from ocr_core.results.char_crops import crop_ref
from ocr_core.results.model_inputs import write_sheet
from ocr_core.results.records import CharReading, CharRow, FieldRow
from ocr_core.results.write import write_results

TEMPLATE = {
    "name": "tiny",
    "dpi": 100,
    "size": [800, 1000],
    "marks": True,
    "fields": [
        {"name": "account", "kind": "comb", "cells": 3, "charset": "digits",
         "box": [100, 100, 400, 180], "validate": {"regex": "^1[0-9]3$"}},
        {"name": "surname", "kind": "box", "max_chars": 8, "charset": "upper",
         "box": [100, 300, 700, 380]},
    ],
}  # fmt: skip


FIELDS = ("account", "surname")


def char(field: str, index: int, value: str, review: bool) -> CharRow:
    crop = crop_ref(f"crops/0000-a/p1-{field}.crops.png", (10 * index, 0, 9, 20))
    reading = CharReading(
        labels=(value, "x", "y"), probs=(0.4 if review else 0.99, 0.1, 0.05), needs_review=review
    )
    return CharRow.of(
        ("a.png", 1, field, index), reading, (10 * index, 0, 10 * index + 9, 20), crop
    )


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run folder written by the pipeline's own writers, its fields from a real template."""
    template = tmp_path / "tiny.yaml"
    template.write_text(yaml.safe_dump(TEMPLATE), encoding="utf-8")
    folder = tmp_path / "run"
    chars = [
        char("account", 0, "1", False),
        char("account", 1, "7", True),
        char("account", 2, "3", False),
        *(char("surname", i, c, c in "GM") for i, c in enumerate("GMRIGHT")),
    ]
    fields = [
        FieldRow("a.png", 1, "account", "173", 0.4, True, "needs_review", "1 uncertain"),
        FieldRow("a.png", 1, "surname", "GMRIGHT", 0.4, True, "needs_review", "2 uncertain"),
    ]
    manifest: dict[str, object] = {
        "templates": [str(template)],
        "page_templates": {"a.png": ["tiny"]},
        "field_rules": {"a.png|1|account": {"regex": "^1[0-9]3$"}},
        "field_images": {f"a.png|1|{f}": f"crops/0000-a/p1-{f}.field.jpg" for f in FIELDS},
    }
    write_results(folder, fields, chars, [], manifest)
    rng = np.random.default_rng(1)
    (folder / "crops" / "0000-a").mkdir(parents=True)
    for name in FIELDS:
        image = np.full((40, 200), 255, np.uint8)
        assert cv2.imwrite(str(folder / f"crops/0000-a/p1-{name}.field.jpg"), image)
    for name in FIELDS:  # each field's crops image and model inputs, as digitise-forms keeps them
        own = [c for c in chars if c.field == name]
        crops = (rng.random((20, 10 * len(own))) * 255).astype(np.uint8)
        assert cv2.imwrite(str(folder / f"crops/0000-a/p1-{name}.crops.png"), crops)
        inputs = [(c.index, (rng.random((28, 28)) * 255).astype(np.uint8)) for c in own]
        write_sheet(folder / f"crops/0000-a/p1-{name}.inputs.png", inputs)
    return folder
