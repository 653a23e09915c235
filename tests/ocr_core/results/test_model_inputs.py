"""A run's model inputs: one sheet a field, each character's tile read back by its crop."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ocr_core.files import PNG_FAST
from ocr_core.results.char_crops import crop_ref
from ocr_core.results.model_inputs import (
    legacy_input_path,
    model_input_source,
    read_model_input,
    sheet_of,
    write_sheet,
)


def _png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image, PNG_FAST)
    assert ok
    return encoded.tobytes()


def test_each_character_is_read_back_from_its_fields_sheet(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    inputs = {i: (rng.random((28, 28)) * 255).astype(np.uint8) for i in (0, 1, 3)}  # 2 empty
    image = "crops/0001-form/p2-member_number.crops.png"
    crops = {i: crop_ref(image, (40 * i, 0, 38, 60)) for i in inputs}
    sheet, tile = sheet_of(crops[3], 3)
    assert (sheet, tile) == ("crops/0001-form/p2-member_number.inputs.png", 3)
    (tmp_path / sheet).parent.mkdir(parents=True)
    write_sheet(tmp_path / sheet, list(inputs.items()))
    for i, crop in crops.items():
        # The bytes are those of the input written alone: the reviewed store names images by
        # their hash, so a crop confirmed twice is still one example.
        assert read_model_input(*model_input_source(tmp_path, crop, i)) == _png(inputs[i])
    assert read_model_input(tmp_path / sheet, 2) is None  # the empty cell keeps nothing
    assert read_model_input(tmp_path / sheet, 9) is None  # off the sheet
    assert read_model_input(tmp_path / "missing.inputs.png", 0) is None


def test_runs_that_kept_a_crop_file_a_character_find_their_sheet() -> None:
    crop = "crops/0001-form/p2-member_number-3.png"
    assert sheet_of(crop, 3) == ("crops/0001-form/p2-member_number.inputs.png", 3)


def test_runs_written_before_the_sheets_are_read_too(tmp_path: Path) -> None:
    crop = "crops/0001-form/p1-code-4.png"
    image = np.full((28, 28), 200, np.uint8)
    path = tmp_path / legacy_input_path(crop)
    path.parent.mkdir(parents=True)
    assert cv2.imwrite(str(path), image)
    assert model_input_source(tmp_path, crop, 4) == (path, None)
    assert read_model_input(path, None) == path.read_bytes()
