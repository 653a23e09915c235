"""Spaces between words in box fields: read from the gaps between the characters chosen."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr_core.reading.fields import assemble_value
from ocr_core.reading.lattice import UNSURE_SPACE, read_cut
from ocr_core.reading.recognisers import Recognisers
from segmentation.crops import cut_field
from segmentation.lattice import word_spaces
from segmentation.records import Candidate, FieldCrops, FieldSpec, FieldValidation, Lattice

ROOT = Path(__file__).resolve().parents[3]
# The first line of the preamble on NIST's page f0001_41: "We, The People of The United".
LINE = ROOT / "tests" / "resources" / "hsf" / "f0001_41-hsf_33-line1.png"
BLANK = np.zeros((28, 28), np.uint8)


def _lattice(extents: list[tuple[float, float]], lines: tuple[int, ...] = ()) -> Lattice:
    """One atom a character, each its own candidate, at these columns (character heights)."""
    candidates = tuple(Candidate(i, i + 1, BLANK, (0, 0, 1, 1), 0.0) for i in range(len(extents)))
    return Lattice(
        len(extents), candidates, (-math.inf,) * len(extents), 0, (), tuple(extents), lines
    )


def test_a_gap_is_a_space_by_its_width_in_character_heights() -> None:
    # Gaps of 0.3 (letters), 0.7 (unsure, letters), 0.9 (unsure, a space), 1.2 (words).
    lattice = _lattice([(0, 1), (1.3, 2), (2.7, 3.5), (4.4, 5), (6.2, 7)])
    runs = [(i, i + 1) for i in range(5)]
    assert word_spaces(lattice, runs) == [
        (False, True),
        (False, False),
        (True, False),
        (True, True),
    ]


def test_a_new_line_begins_a_new_word_and_a_skipped_speck_is_no_character() -> None:
    # Atom 2 starts the paragraph's second line, at the left again; atom 4 is a speck left out.
    lattice = _lattice([(0, 1), (1.1, 2), (0, 1), (1.1, 2), (2.2, 2.3), (3.5, 4)], lines=(2,))
    runs = [(0, 1), (1, 2), (2, 3), (3, 4), (5, 6)]
    assert word_spaces(lattice, runs) == [(False, True), (True, True), (False, True), (True, True)]


def test_without_extents_no_space_is_read() -> None:
    lattice = Lattice(2, _lattice([(0, 1), (5, 6)]).candidates, (-math.inf,) * 2)
    assert word_spaces(lattice, [(0, 1), (1, 2)]) == [(False, True)]


def _read(charset: str) -> tuple[FieldCrops, str]:
    """The real line cut and read as a box field of ``charset``, and its value."""
    page = cv2.imread(str(LINE), cv2.IMREAD_GRAYSCALE)
    assert page is not None
    height, width = page.shape
    spec = FieldSpec("preamble", "box", charset, (30, 30, width - 30, height - 30), max_chars=40)
    crops = cut_field(page, spec, np.eye(3), 128, 300)
    assert crops.lattice is not None
    recognisers = Recognisers(ROOT / "data" / "models")
    images = np.stack([c.image for c in crops.lattice.candidates])
    pred, one = recognisers.classify(images, charset), recognisers.one_character(images)
    field, readings = read_cut(crops, pred.labels, pred.probs, one, recognisers.junk_threshold)
    value = assemble_value((c.index, r[0][0]) for c, r in zip(field.chars, readings, strict=True))
    return field, value


@pytest.mark.parametrize("charset", ["letters", "alnum"])
def test_a_real_line_of_words_reads_with_a_space_between_each(charset: str) -> None:
    words = _read(charset)[1].split(" ")
    # Six words, each read about its own length (a letter may be misread, split or joined;
    # the comma after "We" is skipped or read as a letter of it).
    assert len(words) == 6
    assert all(abs(len(w) - n) <= 1 for w, n in zip(words, [2, 3, 6, 2, 3, 6], strict=True))


def test_an_unsure_gap_sends_the_field_to_review_saying_where_it_is() -> None:
    # Characters at gaps of 0.3, 0.7 (unsure), 1.2 and 0.9 (unsure) character heights.
    lattice = _lattice([(0, 1), (1.3, 2), (2.7, 3.5), (4.7, 5.5), (6.4, 7)])
    crops = FieldCrops("town", "box", "upper", (0, 0, 1, 1), FieldValidation(), "ok", "", ())
    crops = replace(crops, lattice=lattice, doubt="the page fits loosely")
    labels = np.array([[c] for c in "ABCDE"])
    field, _ = read_cut(crops, labels, np.ones((5, 1)))
    assert [c.index for c in field.chars] == [0, 1, 2, 4, 6]  # "ABC D E"
    # Named as the review names characters: by index, their place in the value.
    assert field.doubt == f"the page fits loosely; {UNSURE_SPACE} (after #1, #4)"


def test_a_number_reads_no_spaces_whatever_its_gaps() -> None:
    field, value = _read("digits")
    assert " " not in value and UNSURE_SPACE not in field.doubt
    assert [c.index for c in field.chars] == list(range(len(field.chars)))
