"""Loader tests on small real files made here: every format and every bad-input case."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocr_core.errors import ConfigurationError, InputFileError
from segmentation import count_pages, iter_pages, sniff_type
from segmentation.loader import square_dpi
from segmentation.render import pdf_bytes


def page_image(value: int = 0) -> Image.Image:
    """A 200x150 white page with a dark bar whose position encodes ``value``."""
    array = np.full((150, 200), 255, np.uint8)
    array[40:60, 20 + 10 * value : 40 + 10 * value] = 0
    return Image.fromarray(array)


@pytest.mark.parametrize(
    ("suffix", "kind", "save"),
    [
        (".png", "png", {"format": "PNG"}),
        (".jpg", "jpeg", {"format": "JPEG", "quality": 95}),
        (".bmp", "bmp", {"format": "BMP"}),
        (".tif", "tiff", {"format": "TIFF", "compression": "tiff_lzw"}),
    ],
)
def test_single_page_images(tmp_path: Path, suffix: str, kind: str, save: dict) -> None:
    # A misleading extension proves the type comes from the magic bytes.
    path = tmp_path / f"scan{suffix}.dat"
    page_image(3).save(path, **save)
    assert sniff_type(path) == kind
    pages = list(iter_pages(path))
    assert count_pages(path) == 1 and len(pages) == 1
    page = pages[0]
    assert page.dtype == np.uint8 and page.shape == (150, 200)
    assert page[50, 60] < 60 and page[100, 100] > 200


def test_multipage_g4_tiff_is_read_page_by_page(tmp_path: Path) -> None:
    path = tmp_path / "fax.tiff"
    frames = [page_image(i).convert("1") for i in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="group4")
    assert count_pages(path) == 3
    pages = list(iter_pages(path))
    assert [p.shape for p in pages] == [(150, 200)] * 3
    for i, page in enumerate(pages):
        assert page[50, 25 + 10 * i] == 0 and page[100, 100] == 255  # ink dark, paper light


def test_a_fax_sent_in_standard_mode_gets_square_pixels(tmp_path: Path) -> None:
    # 204 dpi across, 98 down: stored half as tall as the page is; read at 204 dpi both ways.
    fax = tmp_path / "fax.tif"
    page_image(2).convert("1").save(fax, compression="group4", dpi=(204, 98))
    [page] = iter_pages(fax)
    assert page.shape == (round(150 * 204 / 98), 200)
    rows = np.flatnonzero(page[:, 50] < 128)  # the bar, rows 40-60 as stored
    assert abs(rows[0] - 40 * 204 / 98) <= 2 and abs(rows[-1] - 59 * 204 / 98) <= 2
    # Square resolutions, nearly square ones (a fine-mode fax) and ones no scanner gives
    # (a file saying 1 dpi, or one axis far finer than the other) are read as stored.
    for dpi in ((300, 300), (204, 196), (1, 2), (72, 600)):
        page_image(2).save(tmp_path / "scan.png", dpi=dpi)
        [page] = iter_pages(tmp_path / "scan.png")
        assert page.shape == (150, 200), dpi
    # What the page is loaded at (a template drafted from a faxed blank takes it).
    assert square_dpi((204, 98)) == square_dpi((98.0, 204.0)) == 204.0
    assert square_dpi((300, 300)) is square_dpi((72, 600)) is square_dpi("300") is None


def test_negative_and_rgba_images_come_back_dark_on_light(tmp_path: Path) -> None:
    negative = tmp_path / "negative.png"
    Image.fromarray(255 - np.asarray(page_image())).save(negative)
    rgba = tmp_path / "rgba.png"
    transparent = np.zeros((150, 200, 4), np.uint8)
    transparent[40:60, 20:40] = (0, 0, 0, 255)
    Image.fromarray(transparent, "RGBA").save(rgba)
    for path in (negative, rgba):
        page = next(iter_pages(path))
        assert page[50, 30] < 60 and page[100, 100] > 200


def test_pdf_pages_render_one_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "two.pdf"
    images = [page_image(i).convert("RGB") for i in range(2)]
    images[0].save(path, save_all=True, append_images=images[1:], resolution=100.0)
    assert sniff_type(path) == "pdf" and count_pages(path) == 2
    pages = iter_pages(path, dpi=100)
    first = next(pages)
    assert first.dtype == np.uint8 and first.shape == (150, 200)
    assert first[50, 30] < 80 and first[100, 100] > 200
    second = next(pages)
    assert second[50, 40] < 80
    assert next(pages, None) is None


def expect_error(path: Path, pattern: str, **kwargs: object) -> None:
    with pytest.raises(InputFileError, match=pattern) as info:
        list(iter_pages(path, **kwargs))  # type: ignore[arg-type]
    assert str(path) in str(info.value)


def test_missing_empty_folder_and_unsupported(tmp_path: Path) -> None:
    expect_error(tmp_path / "absent.png", "not found")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    expect_error(empty, "empty")
    expect_error(tmp_path, "folder")
    text = tmp_path / "notes.png"
    text.write_text("hello, not an image")
    expect_error(text, "unsupported file type.*Supported types")


def test_truncated_images(tmp_path: Path) -> None:
    for fmt, suffix in (("PNG", ".png"), ("JPEG", ".jpg"), ("TIFF", ".tif")):
        whole = tmp_path / f"whole{suffix}"
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300), np.uint8)).save(
            whole, format=fmt
        )
        cut = tmp_path / f"cut{suffix}"
        cut.write_bytes(whole.read_bytes()[: os.path.getsize(whole) // 2])
        expect_error(cut, "corrupt or truncated")


def test_pixel_limit_refuses_bombs(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (10_000, 10_000), 1).save(path)  # 100 Mpx, a few kB on disk
    expect_error(path, "over the limit")
    small = tmp_path / "small.png"
    page_image().save(small)
    expect_error(small, "over the limit", max_pixels=1000)
    pdf = tmp_path / "page.pdf"
    page_image().save(pdf, resolution=100.0)
    expect_error(pdf, "over the limit", max_pixels=1000)


def test_bad_pdfs(tmp_path: Path) -> None:
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    no_pages = tmp_path / "no-pages.pdf"
    no_pages.write_bytes(pdf_bytes([catalog, b"<< /Type /Pages /Kids [] /Count 0 >>"]))
    expect_error(no_pages, "no pages")

    file_id = b"<00112233445566778899aabbccddeeff>"
    encrypt = b"/Encrypt 4 0 R /ID [" + file_id + file_id + b"] "
    locked = tmp_path / "locked.pdf"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"
    key = b"<" + b"ab" * 32 + b">"
    encryption = b"<< /Filter /Standard /V 1 /R 2 /O " + key + b" /U " + key + b" /P -4 >>"
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    locked.write_bytes(pdf_bytes([catalog, pages, page, encryption], encrypt))
    expect_error(locked, "encrypted.*qpdf")

    good = tmp_path / "good.pdf"
    page_image().save(good, resolution=100.0)
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(good.read_bytes()[:200])
    expect_error(cut, "corrupt or truncated")

    expect_error(good, "longer than", timeout_s=0.0001)
    with pytest.raises(InputFileError, match="longer than"):
        count_pages(good, timeout_s=0.0001)


def test_missing_poppler_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = tmp_path / "page.pdf"
    page_image().save(pdf, resolution=100.0)
    monkeypatch.setenv("PATH", str(tmp_path))  # no pdfinfo, no pdftoppm
    with pytest.raises(ConfigurationError, match="poppler-utils"):
        count_pages(pdf)
