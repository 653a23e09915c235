"""Reading a page: candidates that no reading could make worth choosing are left unread.

The cut chosen is still the one that reading every candidate would choose.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ocr_core import Prediction
from ocr_core.reading import lattice as lattice_module
from ocr_core.reading.lattice import best_cut, read_cut, worth_reading
from ocr_core.reading.page import read_page
from ocr_core.reading.recognisers import Recognisers
from segmentation import iter_pages, load_templates, segment_page
from segmentation.records import Candidate, Lattice, PageResult
from tests.ocr_core.reading.hsf_crops import cut_hsf_field

ROOT = Path(__file__).resolve().parents[3]
BLANK = np.zeros((28, 28), np.uint8)


class CountingRecognisers(Recognisers):
    """The shipped bundles, counting the images the classifier reads."""

    def __init__(self) -> None:
        super().__init__(ROOT / "data" / "models")
        self.read = 0

    def classify(self, images: np.ndarray, charset: str) -> Prediction:
        self.read += len(images)
        return super().classify(images, charset)


def test_a_candidate_that_no_reading_could_make_worth_choosing_is_not_worth_reading() -> None:
    # A pair of character-high atoms (prior about -5) judged not one character, and a pair
    # judged one: only the first is beyond any reading's help.
    candidates = tuple(
        Candidate(a, b, BLANK, (0, 0, 1, 1), prior) for a, b, prior in [(0, 1, 0.0), (0, 2, -5.0)]
    )
    lattice = Lattice(2, candidates, (-math.inf, -math.inf))
    assert worth_reading(lattice, np.array([0.9, 1e-3])).tolist() == [True, False]
    assert worth_reading(lattice, np.array([0.9, 0.5])).tolist() == [True, True]
    assert worth_reading(lattice, None).tolist() == [True, True]  # no junk bundle: read all


def test_best_cut_is_the_cut_that_read_cut_takes() -> None:
    crops = cut_hsf_field("f0000_14-hsf_8", max_chars=6)
    assert crops.lattice is not None
    recognisers = Recognisers(ROOT / "data" / "models")
    images = np.stack([c.image for c in crops.lattice.candidates])
    pred, one = recognisers.classify(images, "digits"), recognisers.one_character(images)
    field, _ = read_cut(crops, pred.labels, pred.probs, one)
    chosen = best_cut(crops.lattice, pred.probs[:, 0], one)
    assert chosen is not None
    assert [crops.lattice.candidates[k].box for k in chosen] == [c.box for c in field.chars]


def _reading(result: PageResult, recognisers: Recognisers) -> list[tuple]:
    """Per character read: its field, its box, its labels and whether it goes to review."""
    read, readings = read_page(result, recognisers)
    return [
        (c.name, c.chars[k].box, readings[(f, k)].labels, readings[(f, k)].needs_review)
        for f, c in enumerate(read.fields)
        for k in range(len(c.chars))
        if (f, k) in readings
    ]


def test_a_real_page_is_cut_as_reading_every_candidate_would_cut_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    templates = load_templates([ROOT / "data" / "templates" / "nist-hsf.yaml"])
    page = next(iter_pages(ROOT / "data" / "samples" / "nist-hsf-f0000_14.png"))
    result = segment_page(page, templates)
    candidates = sum(len(f.lattice.candidates) for f in result.fields if f.lattice is not None)
    lean = CountingRecognisers()
    left_out = _reading(result, lean)
    monkeypatch.setattr(lattice_module, "UNREAD_BELOW", 1e-300)  # every candidate worth it
    full = CountingRecognisers()
    assert _reading(result, full) == left_out
    # The page's paragraph, alphabets and digits: about a quarter of its candidates unread.
    assert lean.read < full.read - 0.2 * candidates


def test_a_cut_that_runs_through_unread_candidates_reads_them_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every candidate weighed down so far by its shape that none is read at first: the cut
    # must still be the one that reading them all gives, read in a few more model calls.
    crops = cut_hsf_field("f0000_14-hsf_8", max_chars=6)
    assert crops.lattice is not None
    heavy = tuple(replace(c, prior=c.prior - 30.0) for c in crops.lattice.candidates)
    crops = replace(crops, lattice=replace(crops.lattice, candidates=heavy))
    result = PageResult("t", "ok", "", (crops,), 1.0)
    lean = CountingRecognisers()
    left_out = _reading(result, lean)
    monkeypatch.setattr(lattice_module, "UNREAD_BELOW", 1e-300)
    assert _reading(result, CountingRecognisers()) == left_out
    assert 0 < lean.read < len(heavy)  # only the candidates on the way were read


def test_a_field_of_specks_that_no_reading_could_make_characters_is_read_as_empty() -> None:
    # One speck, so short (prior -30) that no reading could make it a character: it is left
    # out, unread, and the field holds nothing.
    speck = Candidate(0, 1, BLANK, (0, 0, 1, 1), -30.0)
    crops = cut_hsf_field("f0000_14-hsf_8", max_chars=6)
    crops = replace(crops, lattice=Lattice(1, (speck,), (-0.5,)))
    recognisers = CountingRecognisers()
    read, readings = read_page(PageResult("t", "ok", "", (crops,), 1.0), recognisers)
    assert read.fields[0].chars == () and readings == {} and recognisers.read == 0
