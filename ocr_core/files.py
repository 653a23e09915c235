"""File writes and names shared by the library and the flows: durable writes, images, folders."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ocr_core.errors import OutputError

_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    try:  # Linux says it without changing it
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    # Elsewhere reading the umask means setting it, which the lock keeps short.
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    The file gets the modes the user's umask gives any new file (``mkstemp`` would leave 0600).

    Raises:
        OutputError: the folder is unwritable or the disk is full (the path is named).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            os.fchmod(fd, 0o666 & ~_umask())
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


def safe_name(text: str) -> str:
    """``text`` as a file-name part: runs of other characters than ``A-Za-z0-9_.-`` as ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60] or "_"


# Crops and model inputs are small and written by the hundred per page: favour speed over size.
PNG_FAST = [cv2.IMWRITE_PNG_COMPRESSION, 1]


def write_image(path: Path, image: np.ndarray, params: Sequence[int] = ()) -> None:
    """Write an image with OpenCV (format from the suffix); OutputError when it is not written."""
    # cv2.imwrite reports a failed write (disk full, folder gone) only by returning False.
    try:
        written = cv2.imwrite(str(path), image, list(params))
    except cv2.error:
        written = False
    if not written:
        raise OutputError(
            "cannot write image", path=path, remedy="Check that the output folder has free space"
        )


def make_dir(path: Path) -> Path:
    """``path`` made (with its parents) if missing; OutputError when it cannot be."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot make folder ({e.strerror or e})", path=path) from e
    return path
