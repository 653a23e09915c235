"""Box-field candidates labelled one character or junk by what was written where they lie."""

import numpy as np

from segmentation.records import Candidate, FieldCrops, FieldValidation, Lattice
from segmentation.synthetic import GlyphPool
from segmentation.synthetic.junk import box_sheet, harvest_candidates, label_candidates

BLANK = np.zeros((28, 28), np.uint8)


def _field(boxes: list[tuple[int, int, int, int]]) -> FieldCrops:
    candidates = tuple(Candidate(0, 1, BLANK, box, 0.0) for box in boxes)
    lattice = Lattice(1, candidates, (0.0,))
    return FieldCrops(
        "f", "box", "digits", (0, 0, 300, 60), FieldValidation(), "ok", "", (), lattice
    )


def test_a_candidate_is_one_character_only_where_it_matches_one_written_there() -> None:
    truth = {"chars": [{"box": [10, 10, 40, 50]}, {"box": [45, 10, 75, 50]}]}
    found = _field(
        [
            (10, 10, 40, 50),  # the first character
            (46, 11, 75, 50),  # the second, a pixel off
            (10, 10, 75, 50),  # both: a pair
            (10, 10, 22, 50),  # the left part of the first
            (200, 20, 210, 30),  # a speck where nothing was written
            (10, 10, 26, 50),  # half of it: neither, left out
        ]
    )
    assert label_candidates(found, truth) == [(0, 1), (1, 1), (2, 0), (3, 0), (4, 0)]


def test_box_sheets_give_both_kinds_of_candidate(drawn_pool: GlyphPool) -> None:
    sheet = box_sheet(np.random.default_rng(0))
    assert len(sheet.fields) == 12 and all(f.kind == "box" for f in sheet.fields)
    assert all(
        0 < f.box[2] <= sheet.size[0] and 0 < f.box[3] <= sheet.size[1] for f in sheet.fields
    )
    images, labels, counts = harvest_candidates(drawn_pool, np.random.default_rng(1), 2)
    assert images.shape == (len(labels), 28, 28) and counts["pages"] == 2
    assert counts["one"] > 20 and counts["junk"] > 5
    assert counts["one"] + counts["junk"] == len(labels)
