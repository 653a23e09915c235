"""Labelled crops cut from synthetic forms written in training handwriting.

MNIST and EMNIST images are clean: one character, framed, nothing else. The crops this pipeline
cuts from scanned forms are not: a neighbour's stroke reaches across a comb separator, line
removal bites into a stroke, a box field's split leaves a sliver of the next letter. Forms are
filled with the *training* split's handwriting only (never val or test), scanned, segmented by
the product's own code, and each crop is labelled with the character written where it was cut.
A model trained on these learns what real crops look like, without seeing evaluation writing.

``python -m segmentation.synthetic.harvest --pages 1500 --out form-crops.npz``; then
``python -m ocr_core.training ... --form-crops form-crops.npz``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ocr_core.cli import EXIT_CODES_HELP, run_cli
from ocr_core.recognition.normalise import SIZE
from ocr_core.training.crop_file import write_crop_file
from segmentation.records import PageResult, Template
from segmentation.segment import segment_page
from segmentation.synthetic.forms import make_document
from segmentation.synthetic.glyphs import GlyphPool, load_glyph_pool
from segmentation.synthetic.match import match_crops
from segmentation.synthetic.styles import style_of, styled_template
from segmentation.templates import load_templates

CHUNK = 20  # pages generated at once, to bound memory


def cut_forms(
    templates: Sequence[Template],
    pool: GlyphPool,
    rng: np.random.Generator,
    pages: int,
    *,
    randomise: bool = False,
) -> Iterator[tuple[PageResult | None, dict]]:
    """Fill, scan and segment ``pages`` forms, a few at a time (scans are held in memory).

    With ``randomise``, each page is drawn in a random style (``make_document``) and cut with
    the template its user would have (``styled_template``: a page without marks is
    registered to its own blank).

    Yields:
        Per page, its segmentation (None when it did not register, or registered to another
        template than the one written) and its truth record.
    """
    for start in range(0, pages, CHUNK):
        count = min(CHUNK, pages - start)
        scans, records = make_document(templates, pool, rng, count, randomise=randomise)
        for scan, record in zip(scans, records, strict=True):
            styled = [styled_template(t, style_of(record)) for t in templates]
            result = segment_page(scan, styled)
            right = result.status == "ok" and result.template == record["template"]
            yield (result if right else None), record


def harvest(
    templates: Sequence[Template],
    pool: GlyphPool,
    rng: np.random.Generator,
    pages: int,
    *,
    on_chunk: Callable[[int, int], None] | None = None,
    randomise: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Fill, scan and segment ``pages`` forms; keep each crop that pairs with a written character.

    Pages that do not register, or register to the wrong template, give no crops. Spurious
    crops (pairing with nothing written) are left out.

    Args:
        templates: the forms to fill (one drawn at random per page).
        pool: the handwriting to fill them with.
        rng: draws everything (the same seed gives the same crops).
        pages: how many pages.
        on_chunk: called with (pages done, crops so far) after every few pages.
        randomise: draw each page in a random style (see ``cut_forms``).

    Returns:
        uint8 (N, 28, 28) model inputs, str (N,) their characters, and counts (pages, crops per
        field kind).
    """
    images: list[np.ndarray] = []
    chars: list[str] = []
    counts = {"pages": 0, "unregistered": 0, "comb": 0, "boxes": 0}
    for result, record in cut_forms(templates, pool, rng, pages, randomise=randomise):
        counts["pages"] += 1
        if result is None:
            counts["unregistered"] += 1
        else:
            for found, truth in zip(result.fields, record["fields"], strict=True):
                crops = [c for c in found.chars if c.status == "ok"]
                for position, char in match_crops(found, truth):
                    images.append(crops[position].image)
                    chars.append(char)
                    counts["comb" if found.kind == "comb" else "boxes"] += 1
        if on_chunk is not None and (counts["pages"] % CHUNK == 0 or counts["pages"] == pages):
            on_chunk(counts["pages"], len(chars))
    stack = np.stack(images) if images else np.zeros((0, SIZE, SIZE), np.uint8)
    return stack, np.array(chars, dtype="<U1"), counts


def write_harvest(args: argparse.Namespace) -> None:
    """Fill, scan and cut ``args.pages`` forms; write their labelled crops to ``args.out``."""
    templates = load_templates(args.templates)
    pool = load_glyph_pool(args.data_dir, split="train")
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)

    def progress(done: int, crops: int) -> None:
        print(f"{done}/{args.pages} pages, {crops} crops", file=sys.stderr, flush=True)

    images, chars, counts = harvest(
        templates, pool, rng, args.pages, on_chunk=progress, randomise=args.random_style
    )
    meta = {
        "pages": args.pages,
        "seed": args.seed,
        "templates": sorted(t.name for t in templates),
        "handwriting": "train split (MNIST train less the held-back slice, EMNIST pool train)",
        "style": "random" if args.random_style else "house",
        "counts": counts,
    }
    write_crop_file(args.out, images, chars, meta)
    print(
        f"{len(chars)} crops ({counts['comb']} comb, {counts['boxes']} box) from "
        f"{counts['pages'] - counts['unregistered']} of {counts['pages']} pages in "
        f"{time.perf_counter() - started:.0f} s -> {args.out}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write a crop file for ``ocr_core.training --form-crops``."""
    parser = argparse.ArgumentParser(
        prog="python -m segmentation.synthetic.harvest", description=__doc__, epilog=EXIT_CODES_HELP
    )
    parser.add_argument("--pages", type=int, default=1500, help="forms to fill and cut")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--templates", type=Path, nargs="+", default=[Path("data/templates")])
    parser.add_argument("--data-dir", type=Path, default=None, help="MNIST/EMNIST folder")
    parser.add_argument("--out", type=Path, required=True, help="the .npz file to write")
    parser.add_argument(
        "--random-style", action="store_true", help="draw each page in a random style"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    args = parser.parse_args(argv)
    return run_cli(lambda: write_harvest(args), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
