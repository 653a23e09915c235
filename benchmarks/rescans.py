"""The real HSF pages as other scanners would give them: does the reading hold?

    python -m benchmarks.rescans [--pages DIR] [--refs DIR] [--template PATH]

NIST scanned the HSF pages black and white at 300 dpi. Our users' scanners give grey pages, at
600, 200, 150 or 100 dpi, JPEG-compressed, noisy, a little turned or fed upside down, or pale (a
scanner set light, a faded pen), some of forms printed on coloured paper; fax servers give
1-bit pages of 204 dpi across and 196 or 98 down. Each variant below is made from the same
real pages (the same handwriting, so the figures compare). All are read in one run of the
one-shot command, as ``benchmarks.real_forms`` reads pages, and scored the same way: character
accuracy per field kind, digit fields exact, the share of digit fields flagged and the exact
share of the rest, and the spaces between words: the preamble's read, and those read that
stand between words.
The variants are fixed (seeded), so a run is repeatable.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml
from PIL import Image

from benchmarks.montage import read_gray
from benchmarks.real_forms import (
    KINDS,
    Tally,
    add_page_arguments,
    parse_fields,
    read_fields_csv,
    run_pipeline,
    score,
)

PAPER, INK = 235, 30  # gray levels of a grey scan's paper and ink


@dataclass(frozen=True, slots=True)
class Rescan:
    """How a scanner other than NIST's gives a page.

    Attributes:
        name: what the variant is called in the table.
        dpi: resolution (the pages are 300 dpi).
        blur: Gaussian blur sigma in 300 dpi pixels (optics; 0: none).
        angle: turn in degrees (counter-clockwise).
        noise: Gaussian noise sigma in gray levels.
        jpeg: JPEG quality, or 0 to keep the page lossless.
        contrast: the share of the ink's darkness kept (a scanner set light, a faded pen).
        paper: the paper's gray level (lower: a form printed on coloured stock).
        down: the resolution down the page where it differs from ``dpi`` across (a fax in
            standard mode); 0: the same.
        bilevel: 1 bit a pixel (a fax): written as a CCITT G4 TIFF that records both
            resolutions, as a fax server stores it.
    """

    name: str
    dpi: int
    blur: float = 0.0
    angle: float = 0.0
    noise: float = 0.0
    jpeg: int = 0
    contrast: float = 1.0
    paper: int = PAPER
    down: int = 0
    bilevel: bool = False


RESCANS = (
    Rescan("as NIST scanned them (bilevel, 300 dpi)", 300),
    Rescan("grey, 300 dpi, JPEG 60, turned 0.7 deg", 300, blur=0.8, angle=0.7, noise=4, jpeg=60),
    Rescan("grey, 200 dpi", 200, blur=0.6),
    Rescan("grey, 200 dpi, JPEG 70, turned -1.2 deg", 200, blur=0.6, angle=-1.2, noise=3, jpeg=70),
    Rescan("grey, 150 dpi", 150, blur=0.6),
    Rescan("grey, 600 dpi", 600, blur=0.8),
    Rescan("grey, 300 dpi, turned 3 deg", 300, blur=0.8, angle=3.0, noise=3),
    Rescan("grey, 300 dpi, upside down", 300, blur=0.8, angle=180.0),
    Rescan("grey, 300 dpi, pale: 45% of the contrast", 300, blur=0.8, noise=3, contrast=0.45),
    Rescan("grey, 300 dpi, pale: 30% of the contrast", 300, blur=0.8, noise=3, contrast=0.3),
    Rescan("grey, 300 dpi, coloured paper (at 150)", 300, blur=0.8, noise=3, paper=150),
    Rescan("fax, fine mode (204 x 196 dpi, 1 bit)", 204, blur=0.8, down=196, bilevel=True),
    Rescan("fax, standard mode (204 x 98 dpi, 1 bit)", 204, blur=0.8, down=98, bilevel=True),
    Rescan("grey, 100 dpi (a scan shrunk to be sent)", 100, blur=0.8),
)  # each variant's noise is seeded by its place: a new one goes last, the others keep theirs


def rescan(page: np.ndarray, how: Rescan, rng: np.random.Generator) -> np.ndarray:
    """The page (uint8 (H, W) at 300 dpi, dark ink on light paper) as ``how`` scans it."""
    if how == Rescan(how.name, 300):
        return page
    ink = how.paper - how.contrast * (how.paper - INK)
    image: np.ndarray = ink + page.astype(np.float32) * (how.paper - ink) / 255
    if how.blur:
        image = cv2.GaussianBlur(image, (0, 0), how.blur)
    if how.angle:
        height, width = image.shape
        turn = cv2.getRotationMatrix2D((width / 2, height / 2), how.angle, 1.0)
        image = cv2.warpAffine(image, turn, (width, height), borderValue=how.paper)
    if how.dpi != 300 or how.down:
        across, down = how.dpi / 300, (how.down or how.dpi) / 300
        image = cv2.resize(image, None, fx=across, fy=down, interpolation=cv2.INTER_AREA)
    if how.noise:
        image = image + rng.normal(0.0, how.noise, image.shape)
    out: np.ndarray = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    if how.jpeg:
        _, encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, how.jpeg])
        out = np.asarray(cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE), np.uint8)
    if how.bilevel:
        out = np.where(out < (how.paper + INK) // 2, 0, 255).astype(np.uint8)
    return out


def write_scan(image: np.ndarray, how: Rescan, stem: Path) -> None:
    """Save a variant's page as its scanner would: PNG, or a fax's G4 TIFF with its two dpi."""
    if how.bilevel:
        dpi = (how.dpi, how.down or how.dpi)
        Image.fromarray(image > 127).save(stem.with_suffix(".tif"), compression="group4", dpi=dpi)
    else:
        cv2.imwrite(str(stem.with_suffix(".png")), image)


def main(argv: list[str] | None = None) -> int:
    """Make each variant of the pages, read them all in one run, print a row per variant."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_page_arguments(parser)
    args = parser.parse_args(argv)
    pages = [p for p in sorted(args.pages.glob("*.png")) if (args.refs / f"{p.stem}.ref").exists()]
    if not pages:
        sys.exit(f"no page in {args.pages} has a reference in {args.refs}")
    refs = {p.stem: parse_fields((args.refs / f"{p.stem}.ref").read_text()) for p in pages}
    names = [f["name"] for f in yaml.safe_load(args.template.read_text())["fields"]]
    work = Path(tempfile.mkdtemp(prefix="rescans-"))
    try:
        (work / "pages").mkdir()
        for k, how in enumerate(RESCANS):  # variant k of page X is k-X.png (or .tif)
            rng = np.random.default_rng(k)
            for page in pages:
                image = rescan(read_gray(page), how, rng)
                write_scan(image, how, work / "pages" / f"{k}-{page.stem}")
        (work / "out").mkdir()
        run_dir, _ = run_pipeline([work / "pages"], args.template.resolve(), work / "out")
        reads = read_fields_csv(run_dir / "fields.csv", names)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(pages)} pages ({', '.join(refs)}), template {args.template}\n")
    heads = ["digit fields exact", "flagged", "exact unflagged", "spaces read", "spaces right"]
    print(f"| variant | {' | '.join([*KINDS, *heads])} |")
    print("|---|" + "---|" * (len(KINDS) + len(heads)))
    for k, how in enumerate(RESCANS):
        variant = {stem: reads.get(f"{k}-{stem}", {}) for stem in refs}
        print(_row(how.name, score(refs, variant)))
    return 0


def _row(name: str, tallies: dict[str, Tally]) -> str:
    """One table row: character accuracy per kind, the digit fields' figures, the spaces'."""
    digits = tallies["digits"]
    unflagged, right = digits.unflagged, digits.unflagged_exact
    cells = [f"{100 * tallies[kind].accuracy():.2f}%" for kind in KINDS]
    cells += [
        f"{100 * digits.exact / max(1, digits.fields):.2f}%",
        f"{100 * digits.flagged / max(1, digits.fields):.2f}%",
        f"{100 * right / max(1, unflagged):.2f}% ({right}/{unflagged})",
    ]
    preamble, every = tallies["preamble"], tallies["all"]
    cells += [
        f"{preamble.spaces_right}/{preamble.spaces_ref}",
        f"{every.spaces_right}/{every.spaces_read}",
    ]
    return f"| {name} | {' | '.join(cells)} |"


if __name__ == "__main__":
    sys.exit(main())
