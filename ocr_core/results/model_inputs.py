"""What the model saw, kept in a run folder so that confirmed characters can become training data.

Each field's characters are kept as one sheet, ``p<page>-<field>.inputs.png`` beside the field's
crops image (``ocr_core.results.char_crops``): a row of 28x28 tiles, white ink on black, the
character of index ``i`` at ``x = 28 * i`` (cells left empty stay black). One file a field
instead of one a character: a page of the NIST form holds some 460 characters, and creating a
file costs far more than encoding 28x28 pixels. Runs written before kept one
``<crop stem>.input.png`` a character; those are read as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ocr_core.files import PNG_FAST, write_image
from ocr_core.results.char_crops import CROPS_SUFFIX, split_crop

TILE = 28
INPUTS_SUFFIX = ".inputs.png"


def sheet_of(crop: str, index: int) -> tuple[str, int]:
    """A character's sheet (run-relative) and tile, from its ``crop`` and index.

    The sheet lies beside the field's crops image; in runs that kept a crop a character
    (``...-<index>.png``), beside the character's crop.
    """
    path, rect = split_crop(crop)
    if rect is not None:
        stem = path.removesuffix(CROPS_SUFFIX)
    else:
        stem = path.removesuffix(".png").rpartition("-")[0]
    return f"{stem}{INPUTS_SUFFIX}", index


def input_sheet(tiles: Sequence[tuple[int, np.ndarray]]) -> np.ndarray:
    """One field's sheet: each (index, uint8 28x28 model input) at its index's place."""
    width = (max(index for index, _ in tiles) + 1) * TILE if tiles else TILE
    sheet = np.zeros((TILE, width), np.uint8)
    for index, image in tiles:
        sheet[:, index * TILE : (index + 1) * TILE] = image
    return sheet


def write_sheet(path: Path, tiles: Sequence[tuple[int, np.ndarray]]) -> None:
    """Write one field's model inputs: (index, uint8 28x28 input) of each character.

    Raises:
        OutputError: the sheet could not be written.
    """
    if tiles:
        write_image(path, input_sheet(tiles), PNG_FAST)


def legacy_input_path(crop: str) -> str:
    """Where runs written before the sheets kept a character's model input (run-relative)."""
    return crop.removesuffix(".png") + ".input.png"


def model_input_source(run_dir: Path, crop: str, index: int) -> tuple[Path, int | None]:
    """The file holding the model input of the character with this crop and index, its tile.

    The tile is None where the whole file is the input (runs written before the sheets).
    """
    if split_crop(crop)[1] is None:
        legacy = run_dir / legacy_input_path(crop)
        if legacy.is_file():
            return legacy, None
    sheet, tile = sheet_of(crop, index)
    return run_dir / sheet, tile


def read_model_input(path: Path, tile: int | None) -> bytes | None:
    """The PNG bytes of one model input, or None when it is missing or not an image."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None or tile is None:
        return None if image is None else data
    piece = image[:, tile * TILE : (tile + 1) * TILE]
    if piece.shape != (TILE, TILE) or not piece.any():
        return None  # off the sheet, or a cell with nothing kept
    ok, encoded = cv2.imencode(".png", piece, PNG_FAST)
    return encoded.tobytes() if ok else None
