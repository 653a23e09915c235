"""Load documents (PDF, TIFF, PNG, JPEG, BMP) as grayscale pages, one page at a time."""

from __future__ import annotations

import re
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ocr_core.errors import ConfigurationError, InputFileError

NONSQUARE = 0.05
"""A page whose two resolutions differ by more than this share has its pixels made square."""
DEFAULT_MAX_PIXELS = 80_000_000
"""About an A3 page at 600 dpi; larger images are refused as possible decompression bombs."""

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),
    (b"MM\x00+", "tiff"),
    (b"BM", "bmp"),
)
_SUPPORTED = "Supported types are PDF, TIFF, PNG, JPEG and BMP"
_POPPLER = "Install poppler-utils (apt-get install poppler-utils)"


def sniff_type(path: Path) -> str:
    """Tell a document's type by its first bytes, never by its extension.

    Args:
        path: the file.

    Returns:
        ``pdf``, ``tiff``, ``png``, ``jpeg`` or ``bmp``.

    Raises:
        InputFileError: the file is missing, unreadable, empty or of another type.
    """
    path = Path(path)
    if path.exists() and not path.is_file() and not path.is_dir():
        # Opening a named pipe would block until a writer comes: never.
        raise InputFileError(
            "not a regular file (a pipe, socket or device)", path=path, remedy=_SUPPORTED
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
    except FileNotFoundError as e:
        raise InputFileError("file not found", path=path, remedy="Check the path") from e
    except IsADirectoryError as e:
        raise InputFileError("is a folder, not a file", path=path) from e
    except OSError as e:
        raise InputFileError(f"cannot be read ({e.strerror})", path=path) from e
    if not head:
        raise InputFileError(
            "file is empty (0 bytes)", path=path, remedy="Scan or export the document again"
        )
    # The PDF header may follow up to 1 KiB of junk (PDF 1.7, annex H).
    if b"%PDF-" in head:
        return "pdf"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    raise InputFileError(
        f"unsupported file type (starts with {head[:8]!r})", path=path, remedy=_SUPPORTED
    )


def count_pages(path: Path, *, timeout_s: float = 60.0) -> int:
    """Count a document's pages without decoding them.

    Args:
        path: a PDF or image file.
        timeout_s: the most seconds poppler may take.

    Returns:
        The number of pages (at least 1).

    Raises:
        InputFileError: unreadable, corrupt, encrypted or page-less document, or a timeout.
    """
    path = Path(path)
    if sniff_type(path) == "pdf":
        return len(_pdf_page_sizes(path, timeout_s))
    return sum(1 for _ in _image_frames(path, DEFAULT_MAX_PIXELS, decode=False))


def iter_pages(
    path: Path,
    *,
    dpi: int = 300,
    timeout_s: float = 120.0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Iterator[np.ndarray]:
    """Yield a document's pages one at a time.

    PDFs are rendered page by page, so a long document never sits in memory at once.

    Args:
        path: a PDF, TIFF (multi-page, any compression incl. CCITT G4), PNG, JPEG or BMP file.
        dpi: PDF rendering resolution (images keep their own).
        timeout_s: the most seconds any one poppler call may take.
        max_pixels: pages with more pixels are refused (decompression bombs).

    Yields:
        uint8 (H, W) grayscale pages, dark ink on light paper (negative scans are inverted).

    Raises:
        InputFileError: unreadable, corrupt, truncated, encrypted, page-less or oversized
            document, unsupported type, or a poppler timeout; the message names the file.
        ConfigurationError: poppler is not installed (PDF only).
    """
    path = Path(path)
    if sniff_type(path) == "pdf":
        yield from _pdf_pages(path, dpi, timeout_s, max_pixels)
        return
    for frame in _image_frames(path, max_pixels, decode=True):
        assert frame is not None
        yield _square_pixels(_to_gray(frame), frame.info.get("dpi"))


def _image_frames(path: Path, max_pixels: int, *, decode: bool) -> Iterator[Image.Image | None]:
    """Open an image file and yield each frame (decoded when asked), checking its size first."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                index = 0
                while True:
                    try:
                        image.seek(index)
                    except EOFError:
                        break
                    width, height = image.size
                    if width * height > max_pixels or width == 0 or height == 0:
                        raise InputFileError(
                            f"page {index + 1} is {width}x{height} pixels, over the limit of "
                            f"{max_pixels} (a decompression bomb or an oversized scan)",
                            path=path,
                            remedy="Scan at 300 dpi, or raise max_pixels if the file is trusted",
                        )
                    if decode:
                        image.load()
                        yield ImageOps.exif_transpose(image.copy())
                    else:
                        yield None
                    index += 1
    except InputFileError:
        raise
    except Image.DecompressionBombError as e:
        raise InputFileError(
            f"image is over the pixel limit ({e})", path=path, remedy="Scan at 300 dpi"
        ) from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        raise InputFileError(
            f"image is corrupt or truncated ({e})",
            path=path,
            remedy="Scan or export the document again",
        ) from e


def _to_gray(image: Image.Image) -> np.ndarray:
    """Any Pillow image as uint8 (H, W), dark ink on light paper."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = float(array.max()) or 1.0
        gray = (array * (255.0 / top)).round().astype(np.uint8)
    else:
        gray = np.asarray(image.convert("L"), dtype=np.uint8)
    gray = np.ascontiguousarray(gray)
    # A negative (white-on-black) scan or a mislabelled photometric tag: put the ink back dark.
    if gray.size and float(gray.mean()) < 96:
        gray = 255 - gray
    return gray


def _square_pixels(gray: np.ndarray, dpi: object) -> np.ndarray:
    """The page with square pixels, where its file gives it two resolutions (``square_dpi``)."""
    top = square_dpi(dpi)
    if top is None or not isinstance(dpi, tuple):
        return gray
    height, width = gray.shape
    size = (round(width * top / float(dpi[0])), round(height * top / float(dpi[1])))
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_LINEAR), np.uint8)


def square_dpi(dpi: object) -> float | None:
    """The resolution an image with these two (``info["dpi"]``) is loaded at, where they differ.

    A fax in standard mode is sent at 204 dpi across and 98 down: read as it is stored, the
    page is half its height, and no form fits it. The axis of lower resolution is stretched to
    the other's. None (the image is loaded as stored) where they differ by under NONSQUARE, or
    are ones no scanner gives (a file that says 1 or 0 dpi, or one axis over 4 times the other).
    """
    if not isinstance(dpi, tuple) or len(dpi) != 2:
        return None
    try:
        across, down = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError):
        return None
    low, top = sorted((across, down))
    if low < 50 or top > 4 * low or top < (1 + NONSQUARE) * low:
        return None
    return top


def _run_poppler(args: list[str], path: Path, timeout_s: float) -> str:
    """Run a poppler tool on ``path``; return its stdout or raise a typed error."""
    try:
        done = subprocess.run(
            [*args, str(path)], capture_output=True, timeout=timeout_s, check=False
        )
    except FileNotFoundError as e:
        raise ConfigurationError(f"{args[0]} not found", remedy=_POPPLER) from e
    except subprocess.TimeoutExpired as e:
        raise InputFileError(
            f"{args[0]} took longer than {timeout_s:g} s",
            path=path,
            remedy="The PDF may be damaged or extremely complex; print it to a new PDF",
        ) from e
    err = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        _raise_pdf_error(path, err)
    return done.stdout.decode("utf-8", "replace")


def _raise_pdf_error(path: Path, stderr: str) -> None:
    lowered = stderr.lower()
    if "password" in lowered or "encrypt" in lowered:
        raise InputFileError(
            "PDF is encrypted (password-protected)",
            path=path,
            remedy="Save an unprotected copy (qpdf --decrypt --password=PW in.pdf out.pdf)",
        )
    if "wrong page range" in lowered:
        raise InputFileError("PDF has no pages", path=path, remedy="Export the document again")
    detail = stderr.strip().splitlines()[-1] if stderr.strip() else "no detail"
    raise InputFileError(
        f"PDF is corrupt or truncated ({detail})",
        path=path,
        remedy="Export or scan the document to PDF again",
    )


def _pdf_page_sizes(path: Path, timeout_s: float) -> list[tuple[float, float]]:
    """Each page's (width, height) in points, read with pdfinfo."""
    info = _run_poppler(["pdfinfo"], path, timeout_s)
    match = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    if match is None:
        _raise_pdf_error(path, info)
    assert match is not None
    pages = int(match.group(1))
    if pages == 0:
        raise InputFileError("PDF has no pages", path=path, remedy="Export the document again")
    sized = _run_poppler(["pdfinfo", "-f", "1", "-l", str(pages)], path, timeout_s)
    sizes = [
        (float(w), float(h))
        for w, h in re.findall(r"^Page\s+\d+\s+size:\s+([\d.]+) x ([\d.]+)", sized, re.MULTILINE)
    ]
    if len(sizes) != pages:
        raise InputFileError(
            f"pdfinfo reports {pages} pages but sizes for {len(sizes)}",
            path=path,
            remedy="The PDF is damaged; export it again",
        )
    return sizes


def _pdf_pages(path: Path, dpi: int, timeout_s: float, max_pixels: int) -> Iterator[np.ndarray]:
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFPopplerTimeoutError

    for number, (width_pt, height_pt) in enumerate(_pdf_page_sizes(path, timeout_s), start=1):
        pixels = (width_pt / 72 * dpi) * (height_pt / 72 * dpi)
        if pixels > max_pixels:
            raise InputFileError(
                f"page {number} would be {pixels:.0f} pixels at {dpi} dpi, over the limit of "
                f"{max_pixels}",
                path=path,
                remedy="Render at a lower dpi, or raise max_pixels if the file is trusted",
            )
        try:
            images = convert_from_path(
                path,
                dpi=dpi,
                first_page=number,
                last_page=number,
                grayscale=True,
                # pdf2image hands this to Popen.communicate, which takes float seconds.
                timeout=cast(int, timeout_s),
            )
        except PDFPopplerTimeoutError as e:
            raise InputFileError(
                f"rendering page {number} took longer than {timeout_s:g} s",
                path=path,
                remedy="The PDF may be damaged or extremely complex; print it to a new PDF",
            ) from e
        except (OSError, ValueError) as e:
            raise InputFileError(f"page {number} could not be rendered ({e})", path=path) from e
        if not images:
            raise InputFileError(
                f"page {number} could not be rendered (poppler returned nothing)",
                path=path,
                remedy="The PDF is damaged; export it again",
            )
        yield _to_gray(images[0])
