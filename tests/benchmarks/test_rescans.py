"""The rescan variants of real pages: sizes, grey levels, repeatability."""

from __future__ import annotations

import numpy as np

from benchmarks.montage import read_gray
from benchmarks.real_forms import ROOT
from benchmarks.rescans import INK, PAPER, RESCANS, Rescan, rescan

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
