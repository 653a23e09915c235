"""Expand the inputs of a manual run into the documents to read."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ocr_core.errors import ConfigurationError, InputFileError
from ocr_core.settings import Settings
from segmentation import sniff_type

DOCUMENT_SUFFIXES = frozenset({".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp"})
# Files that sit beside scans (ground truth, notes, listings) and are not meant to be read.
SIDECAR_SUFFIXES = frozenset(
    {".json", ".txt", ".md", ".yaml", ".yml", ".csv", ".tsv", ".xml", ".ini", ".db", ".log"}
)


def _looks_like_document(path: Path) -> bool:
    if path.suffix.lower() in DOCUMENT_SUFFIXES:
        return True
    try:
        sniff_type(path)
    except InputFileError:
        return False
    return True


def unsupported_reason(path: Path) -> str:
    """Why a file in an input folder is not read: what it seems to be, and what to do."""
    kind = f"a {path.suffix.lower()} file" if path.suffix else "a file of unknown type"
    return (
        f"{path.name}: skipped, {kind} is not a PDF, TIFF, PNG, JPEG or BMP; "
        "convert it to PDF or an image to read it"
    )


def sort_inputs(inputs: Sequence[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """List the documents named by files and folders, and the files of those folders not read.

    A file named directly is always read (an unreadable one becomes an error row). Of a folder,
    the files directly in it that are documents by name or content are read; other files there
    are reported as skipped with their reason, except hidden files and sidecars (ground-truth
    JSON, READMEs, listings), and sub-folders are left alone.

    Args:
        inputs: files and folders.

    Returns:
        Documents in a stable order, each once; and (file, reason) for each file skipped.
    """
    found: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for item in inputs:
        if not item.is_dir():
            found.append(item)
            continue
        for path in sorted(p for p in item.iterdir() if p.is_file() and not p.name.startswith(".")):
            if _looks_like_document(path):
                found.append(path)
            elif path.suffix.lower() not in SIDECAR_SUFFIXES:
                skipped.append((path, unsupported_reason(path)))
    return list(dict.fromkeys(found)), skipped


def expand_inputs(inputs: Sequence[Path]) -> list[Path]:
    """List the documents named by files and folders (see ``sort_inputs``)."""
    return sort_inputs(inputs)[0]


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
