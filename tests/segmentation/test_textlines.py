"""A free-text box holding a paragraph is cut into its lines of writing, even where they touch."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np

from segmentation.crops import cut_field
from segmentation.records import FieldSpec
from segmentation.textlines import line_inks, text_bands


def _paragraph(lines: list[str], pitch: int, width: int = 900) -> np.ndarray:
    page = np.full((pitch * len(lines) + 60, width), 255, np.uint8)
    for k, text in enumerate(lines):
        origin = (20, 30 + pitch * k + int(0.7 * pitch))
        cv2.putText(page, text, origin, cv2.FONT_HERSHEY_SIMPLEX, pitch / 40, 0, 3)
    return page


def test_a_paragraph_is_cut_between_its_lines() -> None:
    page = _paragraph(["We the People", "of the United", "States in order"], pitch=60)
    ink = page < 128
    bands = text_bands(ink, (0, page.shape[0]))
    assert len(bands) == 3
    assert bands[0][0] == 0 and bands[-1][1] == page.shape[0]  # they cover the box
    for (_, bottom), (top, _) in itertools.pairwise(bands):
        assert bottom == top


def test_lines_that_touch_are_still_cut_apart() -> None:
    page = _paragraph(["gypsy jelly", "THE LAND"], pitch=45)
    page[70:80, 100:104] = 0  # a descender running into the next line's capitals
    assert len(text_bands(page < 128, (0, page.shape[0]))) == 2


def test_one_line_of_writing_is_one_band() -> None:
    page = _paragraph(["8941"], pitch=60, width=300)
    page[5:8, 250:256] = 0  # a speck above the writing is no line of its own
    assert text_bands(page < 128, (0, page.shape[0])) == [(0, page.shape[0])]


def test_a_paragraph_field_reads_line_after_line() -> None:
    page = np.full((300, 1000), 255, np.uint8)
    cv2.rectangle(page, (30, 30), (970, 270), 0, 4)
    for k, text in enumerate(["ABC", "DEF", "GHI"]):
        cv2.putText(page, text, (60, 95 + 70 * k), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 5)
    spec = FieldSpec("comments", "box", "upper", (30, 30, 970, 270), max_chars=40)
    crops = cut_field(page, spec, np.eye(3), 128, 300)
    assert crops.status == "ok" and len(crops.chars) == 9
    tops = [c.box[1] for c in crops.chars]
    assert tops[0] < tops[3] < tops[6]  # the second line's characters follow the first's
    assert [c.index for c in crops.chars] == list(range(9))
    assert crops.lattice is not None and crops.lattice.atoms >= 9


REAL = Path(__file__).parents[1] / "resources/hsf/f0000_14-hsf_33-turned.png"
FONT = cv2.FONT_HERSHEY_SIMPLEX


def test_real_lines_whose_letters_reach_into_each_other_are_cut_apart() -> None:
    # NIST's page f0000_14 turned upside down and registered back: the third line's tails
    # and the fourth's ascenders leave no empty row between them (fixture README).
    page = cv2.imread(str(REAL), cv2.IMREAD_GRAYSCALE)
    assert page is not None
    bands = text_bands(page < 128, (0, page.shape[0]))
    assert len(bands) == 7  # seven lines of writing, "We, the People" to "America."
    assert any(200 <= top <= 240 for top, _ in bands)  # "general Welfare" is a line of its own


def _digits(height: int, lifts: dict[int, int]) -> np.ndarray:
    """One line of digits; the k-th is written ``lifts[k]`` px higher than the others."""
    page = np.full((height, 420), 255, np.uint8)
    for k, char in enumerate("8941290"):
        cv2.putText(page, char, (20 + 45 * k, 110 - lifts.get(k, 0)), FONT, 1.6, 0, 4)
    return page


def test_characters_written_above_or_below_their_line_stay_in_it() -> None:
    # Lifted clear of the others, a character leaves empty rows under it; but it lies beside
    # them, not above them, so it is no line of its own.
    for page in (_digits(150, {2: 55, 5: 50}), _digits(200, {2: -40})):
        assert text_bands(page < 128, (0, page.shape[0])) == [(0, page.shape[0])]


def test_a_character_reaching_far_above_its_line_stays_in_it() -> None:
    # A 7 whose bar is written high above the line: the rows between hold only its stem.
    page = _digits(160, {})
    page[:, 300:] = 255
    cv2.line(page, (300, 12), (345, 12), 0, 5)
    cv2.line(page, (345, 12), (320, 110), 0, 4)
    assert text_bands(page < 128, (0, page.shape[0])) == [(0, page.shape[0])]


def test_a_short_last_line_is_a_line_with_dust_beside_it() -> None:
    # "America." alone under a full line, and a scanner's trail of dots below both: the dots
    # spread over many columns but hold little ink, so the short line still lies under the other.
    page = _paragraph(["We the People of the United", "USA."], pitch=60, width=1100)
    for x in range(200, 1100, 4):
        page[165 + (x // 4) % 5, x] = 0
    assert len(text_bands(page < 128, (0, page.shape[0]))) == 2


def _lines_over_box(page: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, int]:
    """Each line's ink over the whole box, the box's strokes (labels), and how many there are."""
    ink = (page < 128).astype(np.uint8)
    bands = text_bands(ink, (0, ink.shape[0]))
    lines = []
    for start, own in line_inks(ink, bands):
        full = np.zeros_like(ink)
        full[start : start + own.shape[0]] = own
        lines.append(full)
    count, labels = cv2.connectedComponents(ink, connectivity=8)
    return lines, labels, count


def test_a_tail_over_the_cut_goes_whole_to_its_line() -> None:
    page = _paragraph(["gypsy jelly", "THE LAND"], pitch=45)
    page[64:90, 101:104] = 0  # the y's tail drawn down past the cut, beside the L below it
    lines, labels, count = _lines_over_box(page)
    assert len(lines) == 2
    assert np.array_equal(sum(lines), (page < 128).astype(np.uint8))  # no ink lost or doubled
    tail = labels[88, 102]
    assert tail == labels[62, 105]  # the y itself
    assert lines[0][labels == tail].all() and not lines[1][labels == tail].any()
    for stroke in range(1, count):  # and every letter is whole in one line
        assert min(int(line[labels == stroke].sum()) for line in lines) == 0


def test_letters_of_two_lines_written_into_each_other_are_cut_between_them() -> None:
    page = _paragraph(["gypsy jelly", "THE LAND"], pitch=45)
    page[64:106, 101:104] = 0  # the y's tail run down into the L's foot below it: one stroke
    lines, labels, _ = _lines_over_box(page)
    joined = labels[88, 102]
    assert joined == labels[62, 105] == labels[102, 95]  # the y and the L
    assert all(line[labels == joined].any() for line in lines)  # shared, so cut as it lies


def test_real_lines_get_their_tails_back() -> None:
    page = cv2.imread(str(REAL), cv2.IMREAD_GRAYSCALE)
    assert page is not None
    lines, labels, count = _lines_over_box(page)
    assert len(lines) == 7
    assert np.array_equal(sum(lines), (page < 128).astype(np.uint8))
    # Of the strokes over a cut between lines (tails, ascenders), two reach deep into the
    # other line and are cut: the y of "tranquility" and of "Liberty", whose tails run down
    # through the W of "Welfare" and the h of "establish". Every other one is whole.
    shared = [
        stroke
        for stroke in range(1, count)
        if sum(bool(line[labels == stroke].any()) for line in lines) > 1
    ]
    assert len(shared) == 2
