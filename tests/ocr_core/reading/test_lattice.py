"""Choosing a field's cut from the classifier's scores: the right path, and doubt when in doubt."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ocr_core.reading.lattice import choose_cut, read_cut
from segmentation.records import Candidate, FieldCrops, FieldValidation, Lattice
from tests.ocr_core.reading.hsf_crops import cut_hsf_field

BLANK = np.zeros((28, 28), np.uint8)


def _lattice(spans: list[tuple[int, int, float]], atoms: int, skips=None) -> Lattice:
    candidates = tuple(Candidate(a, b, BLANK, (0, 0, 1, 1), prior) for a, b, prior in spans)
    return Lattice(atoms, candidates, tuple(skips or [-math.inf] * atoms))


def test_the_most_probable_cut_wins_and_is_sure_when_nothing_competes() -> None:
    # Atoms: a 5's body, its bar, an 8. Reading body and bar together as one 5 is right.
    lattice = _lattice([(0, 1, 0.0), (0, 2, 0.0), (1, 2, -3.0), (1, 3, 0.0), (2, 3, 0.0)], 3)
    log_probs = np.log([0.10, 0.999, 0.40, 0.05, 0.999])
    cut = choose_cut(lattice, log_probs)
    assert cut is not None
    assert cut.candidates == (1, 4)
    assert all(p > 0.99 for p in cut.posteriors)


def test_two_cuts_that_read_alike_leave_the_characters_in_doubt() -> None:
    # "1" + "1" or one "4": both read with confidence, so neither cut may be trusted.
    lattice = _lattice([(0, 1, 0.0), (1, 2, 0.0), (0, 2, 0.0)], 2)
    cut = choose_cut(lattice, np.log([0.99, 0.99, 0.98]))
    assert cut is not None and len(cut.candidates) == 2
    assert max(cut.posteriors) < 0.6


def test_a_speck_may_be_left_out_but_a_stroke_may_not() -> None:
    lattice = _lattice([(0, 1, 0.0), (1, 2, -3.0)], 2, skips=[-math.inf, -0.5])
    cut = choose_cut(lattice, np.log([0.99, 0.5]))
    assert cut is not None and cut.candidates == (0,)
    assert choose_cut(_lattice([(0, 1, 0.0)], 2), np.log([0.99])) is None


def test_ink_left_out_that_may_be_a_character_leaves_its_neighbour_in_doubt() -> None:
    # "MA" and, after the A, a short stroke: the dark core of a Y written light. Read alone,
    # it is a poor character (a short atom, prior -3), so the path leaves it out; but that
    # it is no character is only a little likelier than that it is one.
    stroke = _lattice([(0, 1, 0.0), (1, 2, 0.0), (2, 3, -3.0)], 3, skips=[-math.inf] * 2 + [-4.0])
    cut = choose_cut(stroke, np.log([0.999, 0.999, 0.3]))
    assert cut is not None and cut.candidates == (0, 1)
    assert cut.posteriors[0] > 0.99  # the M is not next to it
    assert math.isclose(cut.posteriors[1], 1 / (1 + 0.3 * math.exp(1.0)))  # P(no character)
    # A speck that reads as no character at all is left out with no doubt.
    speck = _lattice([(0, 1, 0.0), (1, 2, 0.0), (2, 3, -3.0)], 3, skips=[-math.inf] * 2 + [-0.5])
    cut = choose_cut(speck, np.log([0.999, 0.999, 1e-4]))
    assert cut is not None and cut.candidates == (0, 1) and min(cut.posteriors) > 0.99


DIGITS = Path(__file__).resolve().parents[3] / "data" / "models" / "digits"


def _read_real(name: str, written: str) -> tuple[str, list[float], float]:
    """Cut and read a real HSF field crop with the shipped digits bundle."""
    from ocr_core import load_classifier

    crops = cut_hsf_field(name, max_chars=len(written) + 2)
    assert crops.lattice is not None
    classifier = load_classifier(DIGITS)
    pred = classifier.predict(
        np.stack([c.image for c in crops.lattice.candidates]), charset="digits", top_k=3
    )
    field, readings = read_cut(crops, pred.labels, pred.probs)
    assert len(field.chars) == len(readings)
    value = "".join(labels[0] for labels, _ in readings)
    # The threshold the pipeline applies to form crops (calibrated on generated forms).
    threshold = float(classifier.metadata["pipeline"]["threshold"])
    return value, [probs[0] for _, probs in readings], threshold


def test_a_real_field_of_small_close_digits_is_cut_and_read() -> None:
    value, confidences, _ = _read_real("f0000_14-hsf_8", "8941")
    assert value == "8941"
    # Read with confidence. (The pipeline's calibrated threshold, chosen on house- and
    # random-style generated forms, is stricter than this and may still send it to review.)
    assert min(confidences) >= 0.99


@pytest.mark.parametrize(
    ("name", "written"), [("f0002_01-hsf_22", "729658"), ("f0001_41-hsf_24", "505")]
)
def test_a_real_field_whose_cut_is_in_doubt_is_not_read_with_confidence(name: str, written: str):
    value, confidences, threshold = _read_real(name, written)
    # Read right, or some character in doubt: never a confident wrong value.
    assert value == written or min(confidences) < threshold


def test_a_candidate_that_is_not_one_character_loses_to_the_cut_that_is() -> None:
    # Two touching digits read as one "0" with confidence, or as "1" and "7": the classifier
    # alone prefers the single "0" (one term against two); the junk model says it is a pair.
    lattice = _lattice([(0, 1, 0.0), (1, 2, 0.0), (0, 2, 0.0)], 2)
    probs = np.array([[0.97, 0.02, 0.01], [0.96, 0.03, 0.01], [0.995, 0.004, 0.001]])
    labels = np.array([["1", "7", "4"], ["7", "1", "2"], ["0", "6", "8"]])
    crops = FieldCrops("f", "box", "digits", (0, 0, 1, 1), FieldValidation(), "ok", "", ())
    crops = replace(crops, lattice=lattice)
    merged, _ = read_cut(crops, labels, probs)
    assert [c.index for c in merged.chars] == [0]
    split, readings = read_cut(crops, labels, probs, one=np.array([0.98, 0.97, 0.05]))
    assert "".join(r[0][0] for r in readings) == "17"
    assert len(split.chars) == 2


def test_a_blob_that_cannot_be_split_but_is_judged_a_pair_is_read_in_doubt() -> None:
    # Two digits written into each other: one atom, so one path, read "6" with confidence.
    lattice = _lattice([(0, 1, 0.0), (1, 2, 0.0)], 2)
    probs = np.array([[0.999, 0.001, 0.0], [0.998, 0.001, 0.001]])
    labels = np.array([["2", "3", "7"], ["6", "0", "5"]])
    crops = FieldCrops("f", "box", "digits", (0, 0, 1, 1), FieldValidation(), "ok", "", ())
    crops = replace(crops, lattice=lattice)
    _, sure = read_cut(crops, labels, probs, one=np.array([0.97, 0.06]))
    assert [r[1][0] for r in sure] == pytest.approx([0.999, 0.998 * 0.06])
    # Milder doubts (over the junk threshold) only weigh the cuts; they leave the reading be.
    _, mild = read_cut(crops, labels, probs, one=np.array([0.97, 0.6]))
    assert [r[1][0] for r in mild] == pytest.approx([0.999, 0.998])
    _, strict = read_cut(crops, labels, probs, one=np.array([0.97, 0.6]), junk_threshold=0.7)
    assert strict[1][1][0] == pytest.approx(0.998 * 0.6)


def test_a_doubt_about_the_page_stays_with_the_field_whatever_its_cut() -> None:
    lattice = _lattice([(0, 1, 0.0), (1, 2, 0.0)], 2)
    probs = np.array([[0.999, 0.001, 0.0], [0.998, 0.001, 0.001]])
    labels = np.array([["2", "3", "7"], ["6", "0", "5"]])
    crops = FieldCrops("f", "box", "digits", (0, 0, 1, 1), FieldValidation(), "ok", "", ())
    doubted = replace(crops, doubt="the page fits form 'x' loosely")
    read, _ = read_cut(replace(doubted, lattice=lattice), labels, probs)
    assert read.doubt == doubted.doubt and read.reason == ""
    # Segmentation's own reason (too many characters for its best guess) is the reader's to
    # settle: the cut replaces it, the doubt stays.
    crowded = replace(doubted, status="unreadable", reason="3 characters found", lattice=lattice)
    read, _ = read_cut(replace(crowded, lattice=replace(lattice, max_chars=1)), labels, probs)
    assert read.doubt == doubted.doubt
    assert read.reason == "2 characters found, the field holds at most 1"


def test_the_shipped_junk_model_tells_a_real_digit_from_a_pair_of_them() -> None:
    from ocr_core.reading.recognisers import Recognisers

    crops = cut_hsf_field("f0000_14-hsf_8", max_chars=6)
    assert crops.lattice is not None
    recognisers = Recognisers(DIGITS.parent)
    candidates = crops.lattice.candidates
    images = np.stack([c.image for c in candidates])
    one = recognisers.one_character(images)
    assert one is not None and one.shape == (len(candidates),)
    pred = recognisers.classify(images, "digits")
    field, readings = read_cut(crops, pred.labels, pred.probs, one)
    assert "".join(r[0][0] for r in readings) == "8941"
    chosen = [k for k, c in enumerate(candidates) if any(c.box == ch.box for ch in field.chars)]
    assert len(chosen) == 4 and all(one[k] >= 0.5 for k in chosen)
    # A candidate holding two of the chosen characters whole is a pair, not one character.
    pairs = [
        k
        for k, c in enumerate(candidates)
        if sum(candidates[j].start >= c.start and candidates[j].stop <= c.stop for j in chosen) >= 2
    ]
    assert pairs and all(one[k] < 0.5 for k in pairs)


def _sliced() -> Lattice:
    """Atom 0 a character; atoms 1-2 the slices of one tentatively cut piece (seam 2)."""
    spans = [(0, 1, 0.0), (0, 2, -5.0), (1, 2, 0.0), (1, 3, 0.0), (2, 3, 0.0)]
    candidates = tuple(Candidate(a, b, BLANK, (0, 0, 1, 1), p) for a, b, p in spans)
    return Lattice(3, candidates, (-math.inf,) * 3, seams=(2,))


def test_the_slices_of_a_piece_are_read_only_where_the_piece_is_judged_not_one() -> None:
    lattice = _sliced()
    probs = np.array([[0.99], [0.5], [0.99], [0.9], [0.99]])
    labels = np.array([["7"], ["7"], ["3"], ["8"], ["3"]])
    crops = FieldCrops("f", "box", "digits", (0, 0, 1, 1), FieldValidation(), "ok", "", ())
    crops = replace(crops, lattice=lattice)

    def read(one: np.ndarray | None) -> str:
        _, readings = read_cut(crops, labels, probs, one)
        return "".join(r[0][0] for r in readings)

    # Half an 8 reads as a fine 3: the slices would win on the classifier alone.
    assert read(None) == "78"  # no junk verdicts: never
    assert read(np.array([0.99, 0.01, 0.95, 0.8, 0.95])) == "78"  # the piece is one character
    assert read(np.array([0.99, 0.01, 0.95, 0.2, 0.95])) == "733"  # the piece is not


def test_a_neighbours_stroke_run_into_a_real_digit_is_given_back() -> None:
    # A 5 whose bar, written apart, runs into the 6 after it (NIST's reference: 832656).
    from ocr_core.reading.recognisers import Recognisers

    crops = cut_hsf_field("f0002_01-hsf_14", max_chars=8)
    assert crops.lattice is not None and crops.lattice.seams
    recognisers = Recognisers(DIGITS.parent)
    images = np.stack([c.image for c in crops.lattice.candidates])
    pred = recognisers.classify(images, "digits")
    _, readings = read_cut(crops, pred.labels, pred.probs, recognisers.one_character(images))
    assert "".join(r[0][0] for r in readings) == "832656"
