"""Make the bad-input corpus (``tests/resources/bad/README.md`` describes every case)."""

from __future__ import annotations

import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from segmentation.render import pdf_bytes

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
STATIC = Path(__file__).resolve().parents[2] / "tests" / "resources" / "bad"
A4 = (2480, 3508)  # pixels at 300 dpi, the size of the shipped templates
# A file name a spreadsheet would run as a formula, with spaces, quotes, a comma and non-ASCII
# letters. ``/`` cannot be part of a file name, so the DDE payload uses ``\C``.
FORMULA_NAME = "=cmd|' \\C calc'!A0, \"quoted\" naïve ünïcödé.png"


@dataclass(frozen=True, slots=True)
class Case:
    """One bad input and what each way of running the pipeline must make of it.

    Outcomes: ``result`` (rows in fields.csv, each with one of ``statuses`` when given),
    ``error`` (a row in errors.csv; the folder watch quarantines the file), ``either`` (poppler
    may repair the file: a result or an error), ``waits`` (the folder watch leaves it in the inbox
    for a later poll), ``""`` (not run that way).
    """

    name: str
    manual: str
    watch: str
    statuses: frozenset[str] = frozenset()


def _old(path: Path, age_s: float = 600.0) -> Path:
    past = time.time() - age_s
    os.utime(path, (past, past), follow_symlinks=False)
    return path


def _one_page_objects() -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]


def encrypted_pdf() -> bytes:
    """A PDF under the standard security handler whose user password is not empty."""
    rng = np.random.default_rng(6)
    owner, user = (rng.bytes(32).hex().encode() for _ in range(2))
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -44 >>" % (owner, user)
    file_id = rng.bytes(16).hex().encode()
    return pdf_bytes(
        [*_one_page_objects(), encrypt], b"/Encrypt 4 0 R /ID [<%s> <%s>] " % (file_id, file_id)
    )


def zero_page_pdf() -> bytes:
    """A well-formed PDF whose page tree is empty."""
    return pdf_bytes(
        [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    )


def many_page_pdf(path: Path, pages: int = 200) -> None:
    """A ``pages``-page PDF of tiny blank 1-inch pages, written by Pillow in well under 1 s."""
    blank = Image.new("L", (30, 30), 255)
    blank.save(path, "PDF", resolution=30.0, save_all=True, append_images=[blank] * (pages - 1))


def garbage_xref_pdf() -> bytes:
    """A real sample PDF whose cross-reference table is overwritten with junk of equal length."""
    data = bytearray((SAMPLES / "change-of-address-001.pdf").read_bytes())
    start = data.rindex(b"\nxref\n") + 1
    end = data.index(b"trailer", start)
    data[start:end] = bytes((37 * i) % 251 for i in range(end - start))
    return bytes(data)


def corrupt_png() -> bytes:
    """A valid PNG with one byte of its image data (IDAT) changed: the chunk's CRC fails."""
    noise = np.random.default_rng(6).integers(0, 255, (64, 64), dtype=np.uint8)
    ok, encoded = cv2.imencode(".png", noise)
    assert ok
    data = bytearray(encoded.tobytes())
    data[data.index(b"IDAT") + 20] ^= 0xFF
    return bytes(data)


def tiff_bomb(width: int = 12_000, height: int = 12_000) -> bytes:
    """A 200-byte TIFF whose header claims ``width`` x ``height`` bilevel pixels."""
    tags = [  # (tag, type, count, value): types 3 SHORT, 4 LONG
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 1),  # BitsPerSample
        (259, 3, 1, 1),  # no compression
        (262, 3, 1, 0),  # WhiteIsZero
        (273, 4, 1, 8),  # StripOffsets: right after the header
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, (width + 7) // 8 * height),  # StripByteCounts
    ]
    ifd = struct.pack("<H", len(tags))
    for tag, kind, count, value in tags:
        packed = struct.pack("<H", value) + b"\0\0" if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 16) + b"\0" * 8 + ifd


def other_form(seed: int = 6) -> np.ndarray:
    """uint8 A4 page of a form we have no template for: a ruled table with printed text."""
    rng = np.random.default_rng(seed)
    page = np.full((A4[1], A4[0]), 255, np.uint8)
    cv2.putText(page, "DELIVERY NOTE", (300, 300), cv2.FONT_HERSHEY_SIMPLEX, 4, 0, 8)
    for row in range(12):
        y = 600 + row * 180
        cv2.line(page, (250, y), (2230, y), 0, 4)
        cv2.putText(page, f"Item {row + 1}", (280, y + 120), cv2.FONT_HERSHEY_SIMPLEX, 2, 0, 4)
        text = "".join(rng.choice(list("ABCDEFGHJKLMNPRSTUVWXYZ0123456789"), 6))
        cv2.putText(page, text, (1400, y + 120), cv2.FONT_HERSHEY_SIMPLEX, 2.5, 0, 5)
    for x in (250, 1200, 2230):
        cv2.line(page, (x, 600), (x, 600 + 12 * 180), 0, 4)
    return page


def _gray(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image is not None, path
    return np.asarray(image, np.uint8)


def _png(path: Path, image: np.ndarray) -> None:
    ok = cv2.imwrite(str(path), image)
    assert ok, path


def make_corpus(folder: Path, outside: Path) -> list[Case]:
    """Write every bad input into ``folder``; return the cases, in name order.

    Args:
        folder: an empty folder (the inbox, or a folder a manual run reads).
        outside: a folder outside ``folder`` for the symbolic link's target.

    Returns:
        One Case per file made.
    """
    folder.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    sample_pdf = (SAMPLES / "change-of-address-001.pdf").read_bytes()
    scan = _gray(SAMPLES / "scan-001.png")
    files: dict[str, bytes] = {
        "zero-bytes.pdf": b"",
        "truncated.pdf": sample_pdf[: len(sample_pdf) * 6 // 10],
        "garbage-xref.pdf": garbage_xref_pdf(),
        "encrypted.pdf": encrypted_pdf(),
        "no-pages.pdf": zero_page_pdf(),
        "corrupt-chunk.png": corrupt_png(),
        "bomb.tif": tiff_bomb(),
        "text-named.pdf": (STATIC / "text-named.pdf").read_bytes(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    many_page_pdf(folder / "200-pages.pdf")
    _png(folder / "other-form.png", other_form())
    _png(folder / "blank-page.png", np.full((A4[1], A4[0]), 255, np.uint8))
    _png(folder / "all-black.png", np.zeros((A4[1], A4[0]), np.uint8))
    _png(folder / "upside-down.png", np.ascontiguousarray(np.rot90(scan, 2)))
    (folder / FORMULA_NAME).write_bytes((SAMPLES / "scan-002.png").read_bytes())
    secret = outside / "secret-scan.png"
    secret.write_bytes((SAMPLES / "scan-001.png").read_bytes())
    (folder / "link-out.png").symlink_to(secret)
    os.mkfifo(folder / "named-pipe.pdf")  # reading it would block for ever
    for path in folder.iterdir():
        _old(path)
    # Still being copied: a partial name, and a file modified just now.
    (folder / "copying.pdf.part").write_bytes(sample_pdf[:1000])
    (folder / "just-written.png").write_bytes((SAMPLES / "scan-001.png").read_bytes())
    _old(folder / "copying.pdf.part")
    return sorted(_CASES, key=lambda c: c.name)


_OK = frozenset({"ok", "needs_review", "empty"})
# What becomes of each file ``make_corpus`` writes.
_CASES = (
    Case("zero-bytes.pdf", "error", "error"),
    Case("truncated.pdf", "either", "either"),
    Case("garbage-xref.pdf", "either", "either"),
    Case("encrypted.pdf", "error", "error"),
    Case("no-pages.pdf", "error", "error"),
    Case("200-pages.pdf", "result", "result", frozenset({"empty"})),
    Case("corrupt-chunk.png", "error", "error"),
    Case("bomb.tif", "error", "error"),
    Case("text-named.pdf", "error", "error"),
    Case("other-form.png", "result", "result", frozenset({"unreadable"})),
    Case("blank-page.png", "result", "result", frozenset({"empty"})),
    Case("all-black.png", "result", "result", frozenset({"empty", "unreadable"})),
    Case("upside-down.png", "result", "result", _OK),
    Case(FORMULA_NAME, "result", "result", _OK),
    Case("link-out.png", "", "error"),  # manual runs read what the user names
    Case("named-pipe.pdf", "error", "error"),
    Case("copying.pdf.part", "", "waits"),
    Case("just-written.png", "", "waits"),
)


def distinct_scans(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """Write ``count`` sample scans, each with different bytes (one pixel changed), settled.

    Args:
        folder: where to write them (made if missing).
        count: how many.
        seed: varies the file names and the changed pixels between calls.

    Returns:
        The files written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    sources = [_gray(SAMPLES / name) for name in ("scan-001.png", "scan-002.png")]
    made = []
    for i in range(count):
        page = sources[i % 2].copy()
        page[0, i % page.shape[1]] = (seed * 7 + i) % 200  # unique bytes: not a duplicate
        path = folder / f"doc-{seed:02d}-{i:03d}.png"
        ok, encoded = cv2.imencode(".png", page, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        assert ok
        path.write_bytes(encoded.tobytes())
        made.append(_old(path))
    return made
