"""Durable file writes shared by the library and the flows."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

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
