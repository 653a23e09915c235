"""The one owner of a model bundle's ``bundle.json``: reads, validates and writes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from ocr_core.errors import ModelError
from ocr_core.files import write_atomic
from ocr_core.recognition.normalise import CONTRACT

MODEL_FILE: Final = "model.keras"
META_FILE: Final = "bundle.json"
REQUIRED_KEYS: Final = ("name", "labels", "contract", "temperature", "threshold")
RETRAIN: Final = "Train the bundle again with `python -m ocr_core.training --bundle NAME --out DIR`"


def bundle_folder(path: Path) -> Path:
    """The bundle folder of ``path``: the folder itself, or the folder holding a model file."""
    return path if path.is_dir() else path.parent


def model_path(path: Path) -> Path:
    """The model file of a bundle folder, or ``path`` itself when it names a model file."""
    return path / MODEL_FILE if path.is_dir() else path


def _read_json(folder: Path) -> dict[str, Any]:
    """Read ``bundle.json`` without checking its keys.

    Raises:
        ModelError: the file is missing, unreadable or not a JSON object.
    """
    path = folder / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ModelError("bundle has no bundle.json", path=path, remedy=RETRAIN) from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"bundle.json is corrupt ({e})", path=path, remedy=RETRAIN) from e
    if not isinstance(meta, dict):
        raise ModelError(f"bundle.json lacks {', '.join(REQUIRED_KEYS)}", path=path, remedy=RETRAIN)
    return meta


def read_metadata(folder: Path) -> dict[str, Any]:
    """Read and check a bundle's ``bundle.json``.

    Args:
        folder: the bundle folder.

    Returns:
        The metadata.

    Raises:
        ModelError: the folder or file is missing, the JSON is corrupt or incomplete, or the
            bundle was trained under another normalisation contract.
    """
    if not folder.is_dir():
        raise ModelError(
            "model bundle folder not found",
            path=folder,
            remedy=f"Check the path or DIGITISE_MODELS_DIR, or {RETRAIN}",
        )
    meta = _read_json(folder)
    path = folder / META_FILE
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise ModelError(f"bundle.json lacks {', '.join(missing)}", path=path, remedy=RETRAIN)
    if meta["contract"] != CONTRACT:
        raise ModelError(
            f"bundle was trained under normalisation contract {meta['contract'].get('name')!r} "
            f"v{meta['contract'].get('version')}, this code frames images by "
            f"{CONTRACT['name']!r} v{CONTRACT['version']}",
            path=path,
            remedy=RETRAIN,
        )
    return meta


def write_metadata(folder: Path, meta: dict[str, Any]) -> None:
    """Write ``bundle.json`` atomically (a reader sees the old file or the whole new one).

    Raises:
        OutputError: the folder is unwritable or the disk is full.
    """
    write_atomic(folder / META_FILE, (json.dumps(meta, indent=1) + "\n").encode())


def read_metrics(folder: Path) -> dict[str, dict[str, float]]:
    """The figures measured on each set when the bundle was written (``metrics``).

    Raises:
        ModelError: ``bundle.json`` is missing, corrupt or has no metrics.
    """
    meta = _read_json(folder)
    if not isinstance(meta.get("metrics"), dict):
        raise ModelError("bundle.json lacks metrics", path=folder / META_FILE, remedy=RETRAIN)
    return meta["metrics"]


def read_provenance(path: Path) -> tuple[str | None, dict[str, Any]] | None:
    """When the bundle at ``path`` (a folder or its model file) was written, and how it was trained.

    Returns:
        ``(written, training section)``, or None when there is no ``bundle.json`` to read.

    Raises:
        ModelError: ``bundle.json`` is corrupt.
    """
    folder = bundle_folder(path)
    if not (folder / META_FILE).is_file():
        return None
    meta = _read_json(folder)
    return meta.get("written"), meta.get("training", {})


def write_pipeline_section(folder: Path, section: dict[str, Any]) -> None:
    """Set the thresholds for forms (``pipeline``) in a bundle's ``bundle.json``.

    Raises:
        ModelError: ``bundle.json`` is missing or corrupt.
        OutputError: it cannot be written.
    """
    meta = _read_json(folder)
    meta["pipeline"] = section
    write_metadata(folder, meta)
