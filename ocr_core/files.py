"""Durable file writes shared by the library and the flows."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ocr_core.errors import OutputError


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    Raises:
        OutputError: the folder is unwritable or the disk is full (the path is named).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise OutputError(
            f"cannot write results ({e.strerror or e})",
            path=path,
            remedy="Check that the output folder exists, is writable and has free space",
        ) from e
