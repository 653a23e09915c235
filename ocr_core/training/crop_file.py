"""Labelled character crops in one file (``.npz``): extra training data cut from forms.

``segmentation.synthetic.harvest`` writes such files from synthetic forms filled with training-split
handwriting; ``ocr_core.training --form-crops FILE`` adds them to a bundle's train set.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ocr_core.errors import InputFileError
from ocr_core.files import write_atomic
from ocr_core.recognition.normalise import SIZE, frame_characters
from ocr_core.training.corpus import CharacterSet, to_bundle_space


def write_crop_file(
    path: Path, images: np.ndarray, chars: np.ndarray, meta: dict[str, Any]
) -> Path:
    """Write crops and their true characters atomically (a reader never sees half a file).

    Args:
        path: the ``.npz`` file to write.
        images: uint8 (N, 28, 28) model inputs (the normalisation contract).
        chars: str (N,) the character each crop shows.
        meta: how the crops were made (JSON-serialisable), kept with them.

    Returns:
        The path written.

    Raises:
        OutputError: the folder is unwritable or the disk is full.
    """
    if images.dtype != np.uint8 or images.shape[1:] != (SIZE, SIZE) or len(images) != len(chars):
        raise ValueError(f"expected uint8 (N, {SIZE}, {SIZE}) images with N characters")
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, images=images, chars=np.asarray(chars, dtype="<U1"), meta=np.array(json.dumps(meta))
    )
    write_atomic(Path(path), buffer.getvalue())
    return Path(path)


def read_crop_file(path: Path, labels: tuple[str, ...]) -> tuple[CharacterSet, dict[str, Any]]:
    """Read a crop file's examples that fit a bundle's label space.

    Args:
        path: a file from ``write_crop_file``.
        labels: the bundle's class labels (a digits bundle keeps only the digit crops).

    Returns:
        The examples (framed: model inputs pass through unchanged) and the file's metadata.

    Raises:
        InputFileError: the file is missing, not a crop file, or corrupt.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            images, chars = data["images"], data["chars"]
            meta = json.loads(str(data["meta"]))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise InputFileError(
            f"not a readable crop file ({e})",
            path=path,
            remedy="Write it again with python -m segmentation.synthetic.harvest",
        ) from e
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (SIZE, SIZE):
        raise InputFileError(f"crop images are {images.dtype} {images.shape}", path=path)
    if chars.shape != (len(images),):
        raise InputFileError(f"{chars.shape} characters for {len(images)} crops", path=path)
    targets = to_bundle_space(chars.astype(str), labels)
    keep = targets >= 0
    examples = CharacterSet(
        frame_characters(images[keep]), targets[keep], labels, (f"form-crops:{path.name}",)
    )
    return examples, meta
