"""Scan simulation for synthetic forms: geometric distortion, blur, noise, binarisation, JPEG."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ocr_core.errors import OutputError


@dataclass(frozen=True, slots=True)
class ScanParams:
    """One simulated scan's distortions.

    Attributes:
        angle: small rotation in degrees (counter-clockwise).
        scale: scale factor.
        shift: (dx, dy) in pixels.
        quarter_turns: 0..3 further turns by 90 degrees (2: upside down, 1 or 3: sideways).
        blur: Gaussian blur sigma in pixels (0: none).
        noise: Gaussian noise sigma in gray levels.
        binarise: True to threshold the scan to black and white (fax, G4 TIFF).
        jpeg_quality: JPEG round-trip quality, or 0 for none.
        shading: uneven lighting, how much darker the paper gets towards one side (0: none).
    """

    angle: float = 0.0
    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)
    quarter_turns: int = 0
    blur: float = 0.0
    noise: float = 0.0
    binarise: bool = False
    jpeg_quality: int = 0
    shading: float = 0.0


def random_params(rng: np.random.Generator, *, turns: bool = True) -> ScanParams:
    """Draw distortions: ±5°, ±5 % scale, 60-150 px shifts, now and then a turned page."""
    binarise = bool(rng.random() < 0.25)
    shading = 0.0 if binarise or rng.random() > 0.2 else float(rng.uniform(0.15, 0.4))
    magnitude = rng.uniform(60, 150, 2) * rng.choice([-1, 1], 2)
    turn = int(rng.choice([0, 1, 2, 3], p=[0.7, 0.1, 0.1, 0.1])) if turns else 0
    return ScanParams(
        angle=float(rng.uniform(-5, 5)),
        scale=float(rng.uniform(0.95, 1.05)),
        shift=(float(magnitude[0]), float(magnitude[1])),
        quarter_turns=turn,
        blur=float(rng.choice([0.0, rng.uniform(0.4, 1.2)])),
        noise=float(rng.uniform(1, 8)),
        binarise=binarise,
        jpeg_quality=int(rng.choice([0, int(rng.integers(40, 90))])),
        shading=shading,
    )


def scan_matrix(size: tuple[int, int], params: ScanParams) -> tuple[np.ndarray, tuple[int, int]]:
    """The 3x3 float64 map from form pixels to scan pixels, and the scan's (width, height)."""
    width, height = size
    out_w, out_h = (height, width) if params.quarter_turns % 2 else (width, height)
    centre_in = np.array([[1, 0, -width / 2], [0, 1, -height / 2], [0, 0, 1]], float)
    turn = params.quarter_turns * 90.0 + params.angle
    rot = np.vstack([cv2.getRotationMatrix2D((0, 0), turn, params.scale), [0, 0, 1]])
    dx, dy = params.shift
    centre_out = np.array([[1, 0, out_w / 2 + dx], [0, 1, out_h / 2 + dy], [0, 0, 1]], float)
    return centre_out @ rot @ centre_in, (out_w, out_h)


def simulate_scan(
    page: np.ndarray, params: ScanParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Scan a page as a scanner might.

    Args:
        page: uint8 (H, W), dark ink on light paper.
        params: the distortions.
        rng: noise source.

    Returns:
        (scan uint8 (H', W'), dark ink on light paper; float64 (3, 3) page-to-scan matrix).
    """
    matrix, out_size = scan_matrix((page.shape[1], page.shape[0]), params)
    paper = float(rng.uniform(228, 250))
    scan: np.ndarray = cv2.warpAffine(
        page, matrix[:2], out_size, flags=cv2.INTER_LINEAR, borderValue=255
    ).astype(np.float32)
    scan = paper - (255.0 - scan) * (paper - float(rng.uniform(10, 50))) / 255.0
    if params.shading > 0:  # light falling off linearly towards a random side
        ys, xs = np.indices(scan.shape, dtype=np.float32)
        direction = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(direction) * xs / scan.shape[1] + np.sin(direction) * ys / scan.shape[0]
        ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
        scan = scan * (1.0 - params.shading * ramp)
    if params.blur > 0:
        scan = cv2.GaussianBlur(scan, (0, 0), params.blur)
    if params.noise > 0:
        scan = scan + rng.normal(0, params.noise, scan.shape).astype(np.float32)
    out = np.clip(scan, 0, 255).round().astype(np.uint8)
    if params.binarise:
        out = np.where(out < (paper + 30) / 2, 0, 255).astype(np.uint8)
    elif params.jpeg_quality:
        ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, params.jpeg_quality])
        assert ok
        out = np.asarray(cv2.imdecode(data, cv2.IMREAD_GRAYSCALE), dtype=np.uint8)
    return out, matrix


def write_pages(pages: list[np.ndarray], path: Path, fmt: str, dpi: int = 300) -> Path:
    """Write scanned pages as one document.

    Args:
        pages: uint8 (H, W) pages, dark ink on light paper.
        path: the file to write.
        fmt: ``pdf`` (JPEG images in a PDF), ``tiff`` (multi-page, CCITT G4 when every page is
            black and white, else LZW), ``png`` or ``jpeg`` (one page only).
        dpi: resolution stored in the file.

    Returns:
        ``path``.

    Raises:
        OutputError: the file cannot be written; ValueError: several pages for PNG or JPEG.
    """
    images = [Image.fromarray(p) for p in pages]
    bilevel = all(np.isin(p, (0, 255)).all() for p in pages)
    if bilevel:
        images = [i.convert("1") for i in images]
    try:
        if fmt == "pdf":
            rgb = [i.convert("L") for i in images]
            rgb[0].save(
                path,
                "PDF",
                resolution=float(dpi),
                save_all=True,
                append_images=rgb[1:],
                quality=50,
            )
        elif fmt == "tiff":
            compression = "group4" if bilevel else "tiff_lzw"
            images[0].save(
                path,
                "TIFF",
                save_all=True,
                append_images=images[1:],
                compression=compression,
                dpi=(dpi, dpi),
            )
        elif fmt in ("png", "jpeg"):
            if len(images) != 1:
                raise ValueError(f"{fmt} holds one page, got {len(images)}")
            image = images[0].convert("L") if fmt == "jpeg" else images[0]
            options = {"quality": 80} if fmt == "jpeg" else {"optimize": True}
            image.save(path, fmt.upper(), dpi=(dpi, dpi), **options)
        else:
            raise ValueError(f"unknown format {fmt!r}: use pdf, tiff, png or jpeg")
    except OSError as e:
        raise OutputError(f"cannot write ({e})", path=path) from e
    return path
