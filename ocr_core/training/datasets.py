"""Read the MNIST and EMNIST distribution formats: IDX (maybe gzip) files and label mappings."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ocr_core.errors import InputFileError

GZIP_MAGIC = b"\x1f\x8b"

# IDX type codes and the big-endian numpy dtype each one stores.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as e:
        raise InputFileError(
            "file not found", path=path, remedy="Check the datasets folder setting"
        ) from e
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise InputFileError(
            f"gzip stream is corrupt or truncated ({e})",
            path=path,
            remedy="Download the file again and check it against SHA256SUMS",
        ) from e


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file, gzip-compressed or not.

    Args:
        path: an ``*-idx{1,3}-ubyte[.gz]`` file.

    Returns:
        The stored array in native byte order; for image files uint8 of shape (N, rows, cols)
        exactly as stored (EMNIST images are transposed: see ``emnist_upright``).

    Raises:
        InputFileError: missing file, corrupt gzip, wrong magic number, or a size that does not
            match the header (truncated or padded file).
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise InputFileError("too short to be an IDX file", path=path)
    zero, type_code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or type_code not in IDX_DTYPES or ndim == 0:
        raise InputFileError(
            f"wrong IDX magic number 0x{data[:4].hex()}",
            path=path,
            remedy="Expected an MNIST/EMNIST *-idx?-ubyte file",
        )
    header_end = 4 + 4 * ndim
    if len(data) < header_end:
        raise InputFileError("IDX header is truncated", path=path)
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header_end
    if actual != expected:
        state = "truncated" if actual < expected else "longer than its header says"
        raise InputFileError(
            f"IDX data is {state}: header {shape} needs {expected} bytes, found {actual}",
            path=path,
            remedy="Download the file again and check it against SHA256SUMS",
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_mapping(path: str | Path) -> dict[int, str]:
    """Read an EMNIST mapping file of ``label ascii-code`` lines.

    Args:
        path: e.g. ``emnist-balanced-mapping.txt``.

    Returns:
        Label index to the character it stands for.

    Raises:
        InputFileError: missing file or a malformed line (the line number is named).
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputFileError(f"cannot read mapping file ({e})", path=path) from e
    mapping: dict[int, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            label, code = (int(p) for p in parts)
        except ValueError as e:
            raise InputFileError(
                f"line {number} is not 'label ascii-code': {line!r}", path=path
            ) from e
        if label in mapping:
            raise InputFileError(f"line {number} repeats label {label}", path=path)
        mapping[label] = chr(code)
    if not mapping:
        raise InputFileError("mapping file is empty", path=path)
    return mapping


def emnist_upright(images: np.ndarray) -> np.ndarray:
    """Turn EMNIST images as stored (transposed) into upright characters.

    Args:
        images: uint8 (N, 28, 28) or (28, 28), as read from an EMNIST IDX file; white ink on black.

    Returns:
        A C-contiguous array of the same dtype and shape, upright, white ink on black.
    """
    axes = (1, 0) if images.ndim == 2 else (0, 2, 1)
    return np.ascontiguousarray(np.transpose(images, axes))
