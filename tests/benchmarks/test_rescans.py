"""The rescan variants of real pages: sizes, grey levels, repeatability."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.montage import read_gray
from benchmarks.real_forms import ROOT
from benchmarks.rescans import INK, PAPER, RESCANS, Rescan, rescan, write_scan

SAMPLE = ROOT / "data/samples/nist-hsf-f0000_14.png"  # a real HSF page (NIST SD19), bilevel


def test_as_scanned_is_the_page_itself() -> None:
    page = read_gray(SAMPLE)
    assert rescan(page, RESCANS[0], np.random.default_rng(0)) is page


def test_a_grey_150_dpi_jpeg_rescan_is_half_size_grey_and_repeatable() -> None:
    page = read_gray(SAMPLE)
    how = Rescan("test", 150, blur=0.6, angle=-1.0, noise=3, jpeg=70)
    first = rescan(page, how, np.random.default_rng(4))
    again = rescan(page, how, np.random.default_rng(4))
    assert first.dtype == np.uint8 and first.shape == (page.shape[0] // 2, page.shape[1] // 2)
    assert np.array_equal(first, again)
    paper = float(np.median(first))
    assert abs(paper - PAPER) < 6  # grey paper, not white
    assert 0 < (first < (PAPER + INK) / 2).mean() < 2 * (page < 128).mean()  # the ink is kept
    assert len(np.unique(first)) > 50  # grey levels, not black and white


def test_a_600_dpi_rescan_is_twice_the_size_and_upside_down_is_half_a_turn() -> None:
    page = read_gray(SAMPLE)
    large = rescan(page, Rescan("test", 600), np.random.default_rng(0))
    assert large.shape == (2 * page.shape[0], 2 * page.shape[1])
    turned = rescan(page, Rescan("test", 300, angle=180.0), np.random.default_rng(0))
    grey = INK + page.astype(np.float64) * (PAPER - INK) / 255
    back = np.rot90(turned, 2).astype(np.float64)
    # Turned about the page's centre: the same grey page upside down, a pixel off at most.
    offsets = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    assert min(np.abs(np.roll(back, step, (0, 1)) - grey).mean() for step in offsets) < 1.0


def test_pale_and_coloured_paper_rescans_keep_the_ink_apart_from_the_paper() -> None:
    page = read_gray(SAMPLE)
    pale = rescan(page, Rescan("test", 300, contrast=0.3), np.random.default_rng(0))
    assert pale.min() == round(PAPER - 0.3 * (PAPER - INK)) and pale.max() == PAPER
    stock = rescan(page, Rescan("test", 300, paper=150), np.random.default_rng(0))
    assert stock.min() == INK and stock.max() == 150


def test_a_fax_rescan_is_a_g4_tiff_recording_both_resolutions(tmp_path: Path) -> None:
    page = read_gray(SAMPLE)
    how = Rescan("test", 204, down=98, bilevel=True)
    fax = rescan(page, how, np.random.default_rng(0))
    assert fax.shape == (round(page.shape[0] * 98 / 300), round(page.shape[1] * 204 / 300))
    assert set(np.unique(fax)) == {0, 255}
    write_scan(fax, how, tmp_path / "f0000_14")
    with Image.open(tmp_path / "f0000_14.tif") as stored:
        assert stored.info["compression"] == "group4"
        assert tuple(round(d) for d in stored.info["dpi"]) == (204, 98)
