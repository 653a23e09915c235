"""Spaces between words in box fields: read from the gaps between the characters chosen."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.text_scores import count_spaces
from ocr_core.reading.fields import assemble_value
from ocr_core.reading.lattice import UNSURE_SPACE, read_cut
from ocr_core.reading.recognisers import Recognisers
from segmentation.crops import cut_field
from segmentation.lattice import SPACE_GAP, space_gap, word_spaces
from segmentation.records import Candidate, FieldCrops, FieldSpec, FieldValidation, Lattice

ROOT = Path(__file__).resolve().parents[3]
# The first line of the preamble on NIST's page f0001_41: "We, The People of The United".
LINE = ROOT / "tests" / "resources" / "hsf" / "f0001_41-hsf_33-line1.png"
# The preamble of NIST's page f0000_14, all seven lines (as read from the page scanned turned).
PARAGRAPH = ROOT / "tests" / "resources" / "hsf" / "f0000_14-hsf_33-turned.png"
# The preamble of NIST's page f0001_41, its whole box: six lines, then blank to the box's foot.
WHOLE_BOX = ROOT / "tests" / "resources" / "hsf" / "f0001_41-hsf_33.png"
# Gaps between the characters read, in character heights, as the reader measured them on
# NIST's pages. The first line of f0000_14's preamble, "We the People of the United States,
# in order to form": its word gaps are 0.61 to 1.22, its letters' up to 0.37.
TIGHT_WORDS = [-0.04, 0.0, 1.22, 0.26, 0.17, 0.72, -0.22, 0.07, -0.02, 0.09, 0.0, 0.89, 0.17,
               0.61, 0.07, 0.26, 1.15, 0.04, 0.28, 0.15, 0.0, 0.13, 0.8, 0.2, -0.07, 0.0, 0.04,
               0.13, -0.04, 1.15, 0.13, 1.09, 0.33, -0.04, -0.11, -0.02, 0.37, 0.37, 0.07, 0.11,
               0.2, 0.91, 0.28, 0.09, -0.02]  # fmt: skip
# The upper-case alphabet of f0001_41, written with no space at all, its letters unevenly apart.
ALPHABET = [0.19, 0.27, 0.3, 0.3, 0.32, 0.41, 0.43, 0.46, 0.46, 0.49, 0.49, 0.49, 0.49, 0.51,
            0.51, 0.51, 0.57, 0.57, 0.59, 0.62, 0.62, 0.62, 0.62, 0.7, 0.73, 0.76]  # fmt: skip
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


def test_a_writer_who_spaces_letters_tightly_has_narrower_word_spaces_read() -> None:
    space = space_gap(TIGHT_WORDS)
    assert max(g for g in TIGHT_WORDS if g < 0.5) < space <= min(g for g in TIGHT_WORDS if g > 0.5)
    # Letters unevenly apart with no words among them part into no two kinds of gap.
    assert space_gap(ALPHABET) == SPACE_GAP
    # Too few gaps to tell a writer's letters from their words: the usual width.
    assert space_gap(TIGHT_WORDS[:11]) == SPACE_GAP


def test_a_real_paragraph_reads_the_spaces_between_its_words() -> None:
    page = cv2.imread(str(PARAGRAPH), cv2.IMREAD_GRAYSCALE)
    assert page is not None
    page = cv2.copyMakeBorder(page, 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=255)
    field, value = _read("letters", page, max_chars=400)
    reference = "We the People of the United States in order to form a more perfect Union "
    reference += "establish Justice insure domestic Tranquility provide for the common Defense "
    reference += "promote the general Welfare and secure the Blessings of Liberty to ourselves "
    reference += "and our posterity do ordain and establish this CONSTITUTION for the United "
    reference += "States of America"
    spaces = count_spaces(reference, value)
    # 51 spaces written, many of them narrower than this writer's letters are tall. With the
    # usual width alone, 38 are read. A space read where none was written is rare.
    assert spaces.right >= 44 and spaces.read - spaces.right <= 2
    assert UNSURE_SPACE in field.doubt


def test_a_paragraphs_last_line_is_read_at_its_own_height_not_the_blank_below_it() -> None:
    page = cv2.imread(str(WHOLE_BOX), cv2.IMREAD_GRAYSCALE)
    assert page is not None
    page = cv2.copyMakeBorder(page, 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=255)
    _, value = _read("letters", page, max_chars=400)
    last = "this CONSTITUTION for the United States of America".upper().split()
    read = value.upper().split()[-len(last) :]
    # The last line's band runs to the foot of the box, five times the line pitch. Taken as
    # the line's height, it made the writing seem half as tall as it is: the line read as
    # "HS ONSTINNONFAUMWSTaKSOFAMeMEa", no word of it right. Now most of its words are.
    assert sum(a == b for a, b in zip(read, last, strict=True)) >= 4


def test_two_lines_written_at_the_top_of_a_tall_box_read_at_their_own_height() -> None:
    page = cv2.imread(str(WHOLE_BOX), cv2.IMREAD_GRAYSCALE)
    assert page is not None
    two = np.full_like(page, 255)
    two[:247] = page[:247]  # the first two lines of writing; blank below them to the foot
    two = cv2.copyMakeBorder(two, 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=255)
    _, value = _read("letters", two, max_chars=400)
    reference = "We The People of The United States in order to form a more perfect Union "
    reference += "establish Justice insure domestic"
    # Of two bands, neither lies between two others: the shorter one is the line pitch.
    # Measured by both together, the second line read "MEJUMOh ObIIShJUSTCeMSURdOMStIC".
    spaces = count_spaces(reference, value)
    assert spaces.right >= 16 and spaces.read - spaces.right <= 1


@pytest.mark.parametrize("at", [18, 400, 760])
def test_one_line_written_anywhere_in_a_tall_box_is_read_at_its_own_height(at: int) -> None:
    page = cv2.imread(str(WHOLE_BOX), cv2.IMREAD_GRAYSCALE)
    assert page is not None
    one = np.full_like(page, 255)
    one[at : at + 77] = page[170:247]  # the preamble's second line alone, in a 7 cm box
    one = cv2.copyMakeBorder(one, 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=255)
    _, value = _read("letters", one, max_chars=400)
    # Measured against the whole box, writing a twentieth of its height was taken for dust:
    # the line read "RJUM WIJTM t".
    assert len(value.replace(" ", "")) >= 38  # "perfect Union establish Justice insure domestic"
    assert count_spaces("perfect Union establish Justice insure domestic", value).right >= 4


def test_without_extents_no_space_is_read() -> None:
    lattice = Lattice(2, _lattice([(0, 1), (5, 6)]).candidates, (-math.inf,) * 2)
    assert word_spaces(lattice, [(0, 1), (1, 2)]) == [(False, True)]


def _read(
    charset: str, page: np.ndarray | None = None, max_chars: int = 40
) -> tuple[FieldCrops, str]:
    """A real field (the preamble's line by default) cut and read as a box field of ``charset``."""
    if page is None:
        page = cv2.imread(str(LINE), cv2.IMREAD_GRAYSCALE)
    assert page is not None
    height, width = page.shape
    box = (30, 30, width - 30, height - 30)
    spec = FieldSpec("preamble", "box", charset, box, max_chars=max_chars)
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
