"""Box fields written with real handwriting: touching characters split, broken ones kept whole."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from segmentation.boxes import maybe_touching, split_touching
from segmentation.crops import cut_field
from segmentation.ink import Blob
from segmentation.records import FieldSpec
from segmentation.synthetic import GlyphPool, box_iou, load_glyph_pool

BOX = (50, 50, 850, 180)  # a 300-dpi box field's outer box: 130 px high, as on the forms
HEIGHT = 80  # written character height, about 0.6 of the box


@pytest.fixture(scope="module")
def pool(datasets_dir: Path) -> GlyphPool:
    """Real handwriting: the MNIST test digits and the EMNIST pool test-split letters."""
    return load_glyph_pool(datasets_dir)


def ink(image: np.ndarray, shear: float = 0.0) -> np.ndarray:
    """A 28x28 glyph (white on black) cropped to its ink, HEIGHT px high, float ink in [0, 1].

    ``shear`` slants it (x moves right by ``shear`` px per px up), as a slanted hand writes.
    """
    rows, cols = np.flatnonzero(image.max(1) > 40), np.flatnonzero(image.max(0) > 40)
    cropped = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255
    width = max(3, round(cropped.shape[1] * HEIGHT / cropped.shape[0]))
    glyph = np.asarray(cv2.resize(cropped, (width, HEIGHT), interpolation=cv2.INTER_LINEAR))
    if shear:
        extra = round(abs(shear) * HEIGHT)
        matrix = np.array([[1, -shear, extra if shear > 0 else 0], [0, 1, 0]], np.float32)
        glyph = np.asarray(cv2.warpAffine(glyph, matrix, (width + extra, HEIGHT)))
    return glyph


def write(glyphs: list[np.ndarray], gaps: list[float]) -> tuple[np.ndarray, list[list[int]]]:
    """A page with the box drawn and ``glyphs`` written in it, left to right.

    ``gaps`` (one fewer than the glyphs) are in character heights; negative ones make the
    neighbours overlap, so that their strokes cross or touch. Returns the page (uint8, dark
    ink on white) and each glyph's ink box (x0, y0, x1, y1).
    """
    page = np.full((230, 900), 255, np.uint8)
    x0, y0, x1, y1 = BOX
    page[y0 : y0 + 3, x0:x1] = page[y1 - 3 : y1, x0:x1] = 0
    page[y0:y1, x0 : x0 + 3] = page[y0:y1, x1 - 3 : x1] = 0
    x, top, boxes = x0 + 40, (y0 + y1 - HEIGHT) // 2, []
    for glyph, gap in zip(glyphs, [*gaps, 0.0][: len(glyphs)], strict=True):
        h, w = glyph.shape
        region = page[top : top + h, x : x + w].astype(np.float32)
        page[top : top + h, x : x + w] = np.minimum(region, 255 * (1 - glyph)).astype(np.uint8)
        cols = np.flatnonzero(glyph.max(0) > 0.16)
        boxes.append([x + int(cols[0]), top, x + int(cols[-1]) + 1, top + h])
        x += w + round(gap * HEIGHT)
    return page, boxes


def crops_of(page: np.ndarray) -> list[tuple[int, int, int, int]]:
    spec = FieldSpec("name", "box", "upper", BOX, (), 20)
    field = cut_field(page, spec, np.eye(3), 128, 300)
    assert all(c.status == "ok" for c in field.chars)
    return [c.box for c in field.chars]


def glyph(pool: GlyphPool, char: str, index: int) -> np.ndarray:
    return pool.glyphs[char][index]


def centre_in(crop: tuple[int, int, int, int], box: list[int]) -> bool:
    centre = (crop[0] + crop[2]) / 2
    return box[0] <= centre <= box[2]


def pieces_in_box(page: np.ndarray) -> int:
    """Connected pieces of ink inside the box, its lines left out."""
    x0, y0, x1, y1 = BOX
    inside = (page[y0 + 10 : y1 - 10, x0 + 10 : x1 - 10] < 128).astype(np.uint8)
    return int(cv2.connectedComponents(inside)[0]) - 1


# Pairs written a little too close (overlapping by 12% of the character height, as a hurried
# hand does), three samples each; those whose strokes happen not to meet are left out.
PAIRS = ["RO", "SO", "DE", "HO", "EL", "TH", "AN", "ON", "ER", "LA"]
PAIRS += ["OR", "ST", "NE", "BR", "KS", "PH", "EX", "YO", "CK", "RT"]


def test_touching_real_characters_are_mostly_split(pool: GlyphPool) -> None:
    split: list[str] = []
    whole: list[str] = []
    for pair in PAIRS:
        for index in range(3):
            page, boxes = write([ink(glyph(pool, c, index)) for c in pair], [-0.12])
            if pieces_in_box(page) != 1:
                continue
            crops = crops_of(page)
            assert len(crops) <= 2, (pair, index, crops)
            right = len(crops) == 2 and all(map(centre_in, crops, boxes))
            (split if right else whole).append(f"{pair}{index}")
    assert len(split) + len(whole) >= 30
    # Left whole: pairs with too little ink for two (a T's bar over its neighbour, an L or A
    # with a narrow partner), which a width-and-ink test cannot tell from one wide letter.
    assert len(split) >= 2 * len(whole), whole


def test_three_touching_characters_give_three_crops(pool: GlyphPool) -> None:
    for word, indices in (("SON", (1, 2, 1)), ("ROB", (0, 0, 0)), ("HEX", (0, 0, 0))):
        page, boxes = write(
            [ink(glyph(pool, c, i)) for c, i in zip(word, indices, strict=True)], [-0.12] * 2
        )
        assert pieces_in_box(page) == 1
        crops = crops_of(page)
        assert len(crops) == 3 and all(map(centre_in, crops, boxes)), (word, crops, boxes)


def test_a_slanted_touching_pair_is_cut_along_the_slant(pool: GlyphPool) -> None:
    pair = [ink(glyph(pool, "H", 1), shear=0.3), ink(glyph(pool, "O", 1), shear=0.3)]
    page, boxes = write(pair, [-0.42])
    assert pieces_in_box(page) == 1 and boxes[0][2] > boxes[1][0] + 20  # no upright gap
    crops = crops_of(page)
    assert len(crops) == 2, crops
    assert box_iou(crops[0], boxes[0]) > 0.8 and box_iou(crops[1], boxes[1]) > 0.8, (crops, boxes)


def test_wide_letters_stay_whole_and_spaced_letters_stay_apart(pool: GlyphPool) -> None:
    letters = [ink(glyph(pool, c, i)) for c, i in (("M", 1), ("W", 0), ("M", 3), ("N", 3))]
    assert max(g.shape[1] for g in letters) > 1.2 * HEIGHT  # wide enough to look like two
    page, boxes = write(letters, [0.2, 0.25, 0.15])
    crops = crops_of(page)
    assert len(crops) == 4, crops
    assert all(centre_in(c, b) for c, b in zip(crops, boxes, strict=True))


def test_dotted_letters_and_a_broken_five_stay_whole(pool: GlyphPool) -> None:
    dotted = [
        image
        for char in "ij"
        for image in pool.glyphs[char][:200]
        if cv2.connectedComponents((image > 60).astype(np.uint8))[0] == 3  # body and dot
    ][:2]
    five = ink(glyph(pool, "5", 1))
    rows = (five > 0.3).sum(axis=1)
    bar = int(np.argmax(rows[: HEIGHT // 3]))  # the bar: the widest row in the top third
    below = bar + int(np.argmax(rows[bar:] < 0.5 * rows[bar]))
    five[below : below + 6] = 0  # lift the pen under the bar: bar and body apart
    assert cv2.connectedComponents((five > 0.16).astype(np.uint8))[0] == 3
    page, boxes = write([ink(dotted[0]), ink(dotted[1]), five], [0.25, 0.25])
    crops = crops_of(page)
    assert len(crops) == 3, crops
    for crop, box in zip(crops, boxes, strict=True):
        assert crop[1] <= box[1] + 3 and crop[3] >= box[3] - 3  # dot and bar included


def test_dust_is_no_character(pool: GlyphPool) -> None:
    spec = FieldSpec("name", "box", "upper", BOX, (), 20)
    page, _ = write([], [])
    page[110:116, 500:506] = 0  # a speck of dust, 6 px across
    assert cut_field(page, spec, np.eye(3), 128, 300).status == "empty"
    page, boxes = write([ink(glyph(pool, "A", 0))], [])
    page[110:116, 500:506] = 0
    crops = crops_of(page)
    assert len(crops) == 1 and centre_in(crops[0], boxes[0])


def _drawn(*shapes: tuple[str, tuple[int, ...]]) -> Blob:
    """A piece of ink, 6 px strokes: ``("ring", (cx, cy, rx, ry))`` or ``("bar", (x0, y, x1))``."""
    canvas = np.zeros((120, 400), np.uint8)
    for kind, args in shapes:
        if kind == "ring":
            cx, cy, rx, ry = args
            cv2.ellipse(canvas, (cx, cy), (rx, ry), 0, 0, 360, 255, 6)
        else:
            x0, y, x1 = args
            cv2.line(canvas, (x0, y), (x1, y), 255, 6)
    return Blob.tight(canvas > 0)


def test_a_neighbours_stroke_run_into_a_character_is_offered_apart() -> None:
    # A 5's bar written apart runs into the 0 after it: one piece, 1.4 characters wide.
    piece = _drawn(("bar", (20, 22, 62)), ("ring", (90, 55, 28, 36)))
    slices = maybe_touching(piece, 75.0)
    assert slices is not None and len(slices) == 2
    bar, ring = slices
    assert bar.height < 0.3 * 75 and ring.height > 0.9 * 75
    assert bar.width >= 30  # the whole stroke, up to the character


def test_two_characters_written_into_each_other_are_offered_apart() -> None:
    piece = _drawn(("ring", (60, 55, 28, 36)), ("ring", (112, 55, 28, 36)))
    slices = maybe_touching(piece, 75.0)
    assert slices is not None and len(slices) == 2
    assert all(s.height > 0.9 * 75 and s.width > 0.3 * 75 for s in slices)


def test_writing_measured_a_pixel_or_two_tall_is_left_whole_not_an_error() -> None:
    # A standard-mode fax (98 dpi down) left a paragraph band whose only ink is a line's
    # remnant, 1 px tall and 26 long: its writing measures 1.25 px, and cutting it raised.
    remnant = Blob.tight(np.ones((1, 26), bool), 40, 3)
    assert split_touching([remnant], 1.25) == [remnant]


def test_one_character_narrower_than_it_is_tall_is_not_cut() -> None:
    assert maybe_touching(_drawn(("ring", (60, 55, 28, 36))), 75.0) is None
