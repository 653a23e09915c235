"""Candidate cuts of box fields, labelled "one character" or "not one character" (junk).

A box field's lattice proposes every run of atoms shaped like a character
(``segmentation.lattice``). Most are right; many are halves, pairs, fragments, or a character
with a sliver of its neighbour. The classifier cannot say so (its classes are characters), so
the reader wants a second opinion: how likely a crop is one whole character. This module writes
sheets of box fields in the *training* handwriting (house and random styles: writing 40-80 % of
the box, tight and touching spacing, strokes over the lines), scans them, cuts them with the
product's own segmentation, and labels every candidate by its overlap with what was written:

- 1, one character: its box matches one written character's (IoU >= ONE_IOU), and it covers
  no other written character (COVER of its box or more);
- 0, junk: it matches no written character (IoU < JUNK_IOU), or it covers two or more;
- anything in between is left out (a near miss is neither).

``python -m segmentation.synthetic.junk --pages 600 --out junk-train.npz`` (and ``--split val``,
``--split test`` with other seeds); then ``python -m ocr_core.training.junk``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ocr_core.cli import EXIT_CODES_HELP, run_cli
from ocr_core.recognition.normalise import SIZE
from segmentation.records import Box, FieldCrops, FieldSpec, Template, box_iou, box_overlap
from segmentation.synthetic.glyphs import GlyphPool, load_glyph_pool
from segmentation.synthetic.harvest import cut_forms

ONE_IOU = 0.6
JUNK_IOU = 0.45
COVER = 0.5
CHARSETS = ("digits", "digits", "upper", "alnum")
SHEET_PAGES = 10  # pages written on each sheet layout


def box_sheet(rng: np.random.Generator, dpi: int = 300) -> Template:
    """An A4 form of 12 box fields, 70-170 px high and 900-2000 px wide at 300 dpi.

    Box heights, widths and charsets are drawn per sheet, as different forms print them.
    """
    width, height = round(8.27 * dpi), round(11.69 * dpi)
    left, top, pitch = round(0.6 * dpi), round(1.1 * dpi), round(0.8 * dpi)
    fields = []
    for f in range(12):
        tall = int(rng.integers(70, 171)) * dpi // 300
        wide = int(rng.integers(900, 2001)) * dpi // 300
        y = top + f * pitch
        charset = CHARSETS[int(rng.integers(len(CHARSETS)))]
        box = (left, y, left + wide, y + tall)
        fields.append(FieldSpec(f"box_{f}", "box", charset, box, max_chars=wide // tall + 2))
    return Template("box-sheet", dpi, (width, height), tuple(fields), None, Path("box-sheet"))


def label_candidates(found: FieldCrops, truth: dict) -> list[tuple[int, int]]:
    """(candidate position, 1 for one character or 0 for junk) for a field's lattice.

    Args:
        found: the field as segmented (with its lattice, or none: then nothing).
        truth: the field's record (``chars``: each written character's ``box`` in the scan).
    """
    if found.lattice is None:
        return []
    written = [tuple(c["box"]) for c in truth["chars"]]
    labels = []
    for k, candidate in enumerate(found.lattice.candidates):
        best = max((box_iou(candidate.box, box) for box in written), default=0.0)
        covered = sum(_covers(candidate.box, box) >= COVER for box in written)
        if covered >= 2 or best < JUNK_IOU:
            labels.append((k, 0))
        elif best >= ONE_IOU and covered == 1:
            labels.append((k, 1))
    return labels


def _covers(outer: Box, inner: Box) -> float:
    """Share of ``inner``'s area that lies inside ``outer``."""
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return box_overlap(outer, inner) / area if area > 0 else 0.0


def harvest_candidates(
    pool: GlyphPool, rng: np.random.Generator, pages: int
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Write ``pages`` box sheets (a third in house style), cut them, label their candidates.

    Returns:
        uint8 (N, 28, 28) candidate images (model inputs), uint8 (N,) labels (1 one
        character, 0 junk), and counts.
    """
    images: list[np.ndarray] = []
    labels: list[int] = []
    counts = {"pages": 0, "unregistered": 0, "one": 0, "junk": 0}
    for start in range(0, pages, SHEET_PAGES):
        sheet = box_sheet(rng)
        count = min(SHEET_PAGES, pages - start)
        randomise = start % (3 * SHEET_PAGES) != 0
        for result, record in cut_forms([sheet], pool, rng, count, randomise=randomise):
            counts["pages"] += 1
            if result is None:
                counts["unregistered"] += 1
                continue
            for found, truth in zip(result.fields, record["fields"], strict=True):
                for k, label in label_candidates(found, truth):
                    assert found.lattice is not None
                    images.append(found.lattice.candidates[k].image)
                    labels.append(label)
                    counts["one" if label else "junk"] += 1
    stack = np.stack(images) if images else np.zeros((0, SIZE, SIZE), np.uint8)
    return stack, np.array(labels, np.uint8), counts


def main(argv: Sequence[str] | None = None) -> int:
    """Harvest labelled candidates from box sheets written in the training handwriting."""
    parser = argparse.ArgumentParser(
        prog="python -m segmentation.synthetic.junk", description=__doc__, epilog=EXIT_CODES_HELP
    )
    parser.add_argument("--pages", type=int, default=400, help="sheets of 12 box fields")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument(
        "--split",
        choices=["train", "val", "test"],
        default="train",
        help="handwriting to write with: train to fit on, val to calibrate, test to report",
    )
    parser.add_argument("--out", type=Path, required=True, help="the .npz file to write")
    args = parser.parse_args(argv)

    def run() -> int:
        started = time.monotonic()
        pool = load_glyph_pool(split=args.split)
        images, labels, counts = harvest_candidates(
            pool, np.random.default_rng(args.seed), args.pages
        )
        np.savez_compressed(args.out, images=images, labels=labels)
        print(
            f"{len(labels)} candidates ({counts['one']} one character, {counts['junk']} junk) "
            f"from {counts['pages']} pages ({counts['unregistered']} not registered) in "
            f"{time.monotonic() - started:.0f} s: {args.out}"
        )
        return 0

    return run_cli(run)


if __name__ == "__main__":
    sys.exit(main())
