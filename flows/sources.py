"""Expand the inputs of a manual run into the documents to read."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ocr_core.errors import InputFileError
from segmentation import sniff_type

DOCUMENT_SUFFIXES = frozenset({".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp"})


def _looks_like_document(path: Path) -> bool:
    if path.suffix.lower() in DOCUMENT_SUFFIXES:
        return True
    try:
        sniff_type(path)
    except InputFileError:
        return False
    return True


def expand_inputs(inputs: Sequence[Path]) -> list[Path]:
    """List the documents named by files and folders.

    A file named directly is always read (an unreadable one becomes an error row). Of a folder,
    the files directly in it that are documents by name or content are read; other files there
    (ground-truth JSON, READMEs), sub-folders and hidden files are left alone.

    Args:
        inputs: files and folders.

    Returns:
        Documents in a stable order, each once.
    """
    found: list[Path] = []
    for item in inputs:
        if item.is_dir():
            candidates = sorted(
                p for p in item.iterdir() if p.is_file() and not p.name.startswith(".")
            )
            found.extend(p for p in candidates if _looks_like_document(p))
        else:
            found.append(item)
    unique: dict[Path, None] = dict.fromkeys(found)
    return list(unique)
