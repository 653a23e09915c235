"""Expand the inputs of a manual run into the documents to read."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ocr_core.errors import ConfigurationError, InputFileError
from ocr_core.settings import Settings
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


def confine_parameters(settings: Settings, paths: Sequence[str], what: str) -> None:
    """Refuse paths outside the configured data folders (for runs started through the API).

    A deployment run's parameters come from whoever can reach the Prefect API, not from the
    user's own shell, so they may only name places under the data folder or one of the
    configured run-time, template and output folders; ``..`` and symbolic links are resolved
    first.

    Args:
        settings: the folders that are allowed.
        paths: the parameter's paths.
        what: the parameter's name, for the message.

    Raises:
        ConfigurationError: a path resolves outside every allowed folder (the path is named).
    """
    allowed = [
        folder.resolve()
        for folder in (
            settings.data_dir,
            settings.templates_dir,
            settings.inbox_dir,
            settings.archive_dir,
            settings.output_dir,
        )
    ]
    for text in paths:
        resolved = Path(text).resolve()
        if not any(resolved.is_relative_to(folder) for folder in allowed):
            raise ConfigurationError(
                f"{what} is outside the data folders ({resolved})",
                path=text,
                remedy="A deployment run reads and writes only under DIGITISE_DATA_DIR and the "
                "configured folders; run python -m flows.digitise for other paths",
            )
