"""Synthetic filled forms from real MNIST/EMNIST handwriting (test split by default), with truth."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import string
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ocr_core.corpus import mnist_val_mask
from ocr_core.datasets import emnist_upright, read_idx, read_mapping
from ocr_core.settings import load_settings
from segmentation.records import Box, FieldCrops, FieldSpec, Template
from segmentation.render import render_blank_form, write_blank_pdf
from segmentation.scansim import ScanParams, random_params, simulate_scan, write_pages
from segmentation.templates import load_templates

_WORDS = [
    "SMITH",
    "JONES",
    "TAYLOR",
    "BROWN",
    "WILLIAMS",
    "WILSON",
    "JOHNSON",
    "DAVIES",
    "ROBINSON",
    "WRIGHT",
    "THOMPSON",
    "EVANS",
    "WALKER",
    "WHITE",
    "ROBERTS",
    "GREEN",
    "HALL",
    "WOOD",
    "JACKSON",
    "CLARKE",
    "PATEL",
    "KHAN",
    "OKAFOR",
    "NOWAK",
    "MURPHY",
    "QUINN",
    "LEEDS",
    "YORK",
    "BATH",
    "DERBY",
    "EXETER",
    "OXFORD",
    "CARDIFF",
    "DUNDEE",
    "BRISTOL",
    "NORWICH",
    "PRESTON",
    "HEXHAM",
    "MAY",
    "ZOE",
]


@dataclass(frozen=True, slots=True)
class GlyphPool:
    """Real handwritten characters, upright, white ink on black, uint8 (N, 28, 28) per character.

    Attributes:
        glyphs: character to its images (MNIST test digits, EMNIST pool test split letters).
    """

    glyphs: dict[str, np.ndarray]


def load_glyph_pool(datasets_dir: Path | None = None, split: str = "test") -> GlyphPool:
    """Read the handwriting of one split to write forms with.

    Args:
        datasets_dir: folder holding mnist/ and emnist/ (default: the settings' datasets_dir).
        split: ``test``: the MNIST test set and the EMNIST pool test split, for benchmarks and
            demos. ``val``: the MNIST train images that training holds back for validation
            (``mnist_val_mask``, the same slice whatever a run's seed) and the pool's val split,
            for tuning (review thresholds) without touching the test handwriting. ``train``:
            the rest of MNIST train and the pool's train split, the only handwriting whose form
            crops may be trained on.

    Returns:
        The pool; letters come only from images whose case is known (62-class labels).

    Raises:
        ConfigurationError: the datasets folder is missing; InputFileError: a file is corrupt.
        ValueError: an unknown split.
    """
    if split not in ("test", "val", "train"):
        raise ValueError(f"split must be test, val or train, not {split!r}")
    root = Path(datasets_dir) if datasets_dir else load_settings().require_datasets_dir()
    stem = "t10k" if split == "test" else "train"
    images = read_idx(root / "mnist" / f"{stem}-images-idx3-ubyte.gz")
    labels = read_idx(root / "mnist" / f"{stem}-labels-idx1-ubyte.gz")
    if split != "test":
        held = mnist_val_mask(len(images))
        keep = held if split == "val" else ~held
        images, labels = images[keep], labels[keep]
    glyphs = {str(d): [images[labels == d]] for d in range(10)}
    pool = root / "emnist" / "pool"
    e_images = emnist_upright(read_idx(pool / f"emnist-pool-{split}-images-idx3-ubyte.gz"))
    e_labels = read_idx(pool / f"emnist-pool-{split}-labels62-idx1-ubyte.gz")
    mapping = read_mapping(root / "emnist" / "emnist-byclass-mapping.txt")
    for label, char in mapping.items():
        glyphs.setdefault(char, []).append(e_images[e_labels == label])
    return GlyphPool({c: np.concatenate(parts) for c, parts in glyphs.items()})


def field_value(spec: FieldSpec, rng: np.random.Generator) -> str:
    """A plausible value for a field (valid for its validators), sometimes short or empty."""
    if rng.random() < 0.05:
        return ""
    n = spec.max_chars
    validation = spec.validation
    if validation.date:
        day = dt.date(1940, 1, 1) + dt.timedelta(days=int(rng.integers(0, 30000)))
        return day.strftime(validation.date)[:n]
    if "postcode" in spec.name or spec.charset == "alnum":
        letters = string.ascii_uppercase
        pick = lambda k: "".join(rng.choice(list(letters), k))  # noqa: E731
        code = f"{pick(int(rng.integers(1, 3)))}{rng.integers(1, 10)}{rng.integers(0, 10)}{pick(2)}"
        return code[:n]
    if spec.charset == "digits":
        length = n if rng.random() < 0.85 else int(rng.integers(1, n + 1))
        digits = [int(d) for d in rng.integers(0, 10, length)]
        if validation.luhn and length == n:
            digits[-1] = _luhn_digit(digits[:-1])
        if validation.regex and validation.regex.startswith("^0"):
            digits[0] = 0
        return "".join(map(str, digits))
    if spec.kind == "box":
        word = str(rng.choice(_WORDS))
        return word[:n]
    return "".join(rng.choice(list(string.ascii_uppercase), int(rng.integers(1, n + 1))))


def _luhn_digit(body: list[int]) -> int:
    total = 0
    for i, digit in enumerate(reversed(body)):
        doubled = digit * 2 if i % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return (10 - total % 10) % 10


def _glyph(pool: GlyphPool, char: str, height: float, rng: np.random.Generator) -> np.ndarray:
    """One real handwritten ``char`` scaled to ``height`` px: float32 ink strength in [0, 1]."""
    images = pool.glyphs[char]
    image = images[int(rng.integers(len(images)))]
    rows, cols = np.flatnonzero(image.max(1) > 40), np.flatnonzero(image.max(0) > 40)
    ink = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255.0
    scale = height / ink.shape[0]
    width = max(3, round(ink.shape[1] * scale * rng.uniform(0.85, 1.15)))
    return cv2.resize(ink, (width, max(3, round(height))), interpolation=cv2.INTER_LINEAR)


def _stamp(page: np.ndarray, glyph: np.ndarray, x: int, y: int, darkness: float) -> list[int]:
    """Darken ``page`` with ``glyph`` at (x, y); return the ink's box [x0, y0, x1, y1]."""
    h, w = glyph.shape
    region = page[y : y + h, x : x + w].astype(np.float32)
    page[y : y + h, x : x + w] = np.minimum(region, 255.0 * (1 - glyph * darkness)).astype(np.uint8)
    rows, cols = np.flatnonzero(glyph.max(1) > 0.16), np.flatnonzero(glyph.max(0) > 0.16)
    return [x + int(cols[0]), y + int(rows[0]), x + int(cols[-1]) + 1, y + int(rows[-1]) + 1]


def fill_form(
    template: Template, pool: GlyphPool, rng: np.random.Generator, *, touch_rate: float = 0.06
) -> tuple[np.ndarray, list[dict]]:
    """Write values into a blank form with real handwriting.

    Args:
        template: the form.
        pool: handwriting to write with.
        rng: the random source (seed it for reproducible forms).
        touch_rate: share of characters made to touch or cross a cell border or a neighbour.

    Returns:
        (uint8 (height, width) filled form at the template's dpi, dark ink on light paper;
        ground truth per field: name, kind, value and chars [{char, index, box}], template
        coordinates).
    """
    page = render_blank_form(template)
    truth: list[dict] = []
    darkness = float(rng.uniform(0.75, 1.0))
    for spec in template.fields:
        value = field_value(spec, rng)
        chars: list[dict] = []
        x0, y0, x1, y1 = spec.box
        if spec.kind == "comb":
            for index, (char, cell) in enumerate(zip(value, spec.cells, strict=False)):
                cw, ch = cell[2] - cell[0], cell[3] - cell[1]
                touch = rng.random() < touch_rate
                glyph = _glyph(
                    pool, char, ch * rng.uniform(0.55, 0.78) * (1.3 if touch else 1), rng
                )
                gx = (cell[0] + cell[2] - glyph.shape[1]) / 2 + rng.uniform(-0.12, 0.12) * cw
                gy = (cell[1] + cell[3] - glyph.shape[0]) / 2 + rng.uniform(-0.1, 0.1) * ch
                if touch:  # push it over the bottom line or a side tick
                    gx += rng.choice([-1, 1]) * rng.uniform(0, 0.15) * cw
                    gy += rng.uniform(0.05, 0.2) * ch
                box = _stamp(page, glyph, round(gx), round(gy), darkness)
                chars.append({"char": char, "index": index, "box": box})
        else:
            height = (y1 - y0) * rng.uniform(0.5, 0.72)
            x = x0 + rng.uniform(0.02, 0.06) * (x1 - x0)
            for index, char in enumerate(value):
                glyph = _glyph(pool, char, height * rng.uniform(0.92, 1.08), rng)
                if x + glyph.shape[1] > x1 - 10:
                    break
                gy = (y0 + y1 - glyph.shape[0]) / 2 + rng.uniform(-0.08, 0.08) * (y1 - y0)
                box = _stamp(page, glyph, round(x), round(gy), darkness)
                chars.append({"char": char, "index": index, "box": box})
                gap = -0.12 if rng.random() < touch_rate else rng.uniform(0.1, 0.35)
                x += glyph.shape[1] + gap * height
        value = "".join(str(c["char"]) for c in chars)
        truth.append({"name": spec.name, "kind": spec.kind, "value": value, "chars": chars})
    return page, truth


def scan_form(
    template: Template,
    page: np.ndarray,
    truth: list[dict],
    params: ScanParams,
    rng: np.random.Generator,
) -> tuple[np.ndarray, dict]:
    """Scan a filled form and carry its ground truth into scan coordinates.

    Returns:
        (uint8 (H, W) scan, dark ink on light paper; the page's ground-truth record).
    """
    scan, matrix = simulate_scan(page, params, rng)
    fields = []
    for field, spec in zip(truth, template.fields, strict=True):
        chars = [{**c, "box": _map_box(c["box"], matrix)} for c in field["chars"]]
        fields.append({**field, "box": _map_box(list(spec.box), matrix), "chars": chars})
    record = {
        "template": template.name,
        "transform": [round(float(v), 6) for v in matrix.ravel()],
        "distortion": {
            "angle": round(params.angle, 3),
            "scale": round(params.scale, 4),
            "shift": [round(v, 1) for v in params.shift],
            "quarter_turns": params.quarter_turns,
            "blur": round(params.blur, 2),
            "noise": round(params.noise, 2),
            "binarise": params.binarise,
            "jpeg_quality": params.jpeg_quality,
            "shading": round(params.shading, 3),
        },
        "fields": fields,
    }
    return scan, record


def box_iou(a: Box | list[int], b: Box | list[int]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def match_boxes(
    boxes: Sequence[Box | list[int]], indices: Sequence[int], truth: list[dict], comb: bool
) -> list[tuple[int, str]]:
    """Pair characters read with the characters written, by box overlap (IoU >= 0.3).

    Args:
        boxes: each character read, its box in the scan.
        indices: each character read, its index in the field (its cell in a comb).
        truth: the field's written characters (``char``, ``index``, ``box`` in the scan).
        comb: True when a character read pairs only with the one written in its own cell.

    Returns:
        (position in ``boxes``, true character) per written character found; each written
        character takes the free box it overlaps most.
    """
    used: set[int] = set()
    pairs = []
    for char in truth:
        best, best_iou = -1, 0.3
        for i, box in enumerate(boxes):
            if i in used or (comb and indices[i] != char["index"]):
                continue
            overlap = box_iou(box, char["box"])
            if overlap >= best_iou:
                best, best_iou = i, overlap
        if best >= 0:
            used.add(best)
            pairs.append((best, char["char"]))
    return pairs


def match_crops(found: FieldCrops, truth: dict) -> list[tuple[int, str]]:
    """Pair a field's ``ok`` crops with the characters written (``match_boxes``).

    Returns:
        (crop's position among the field's ``ok`` crops, true character) per character found.
    """
    crops = [c for c in found.chars if c.status == "ok"]
    boxes, indices = [c.box for c in crops], [c.index for c in crops]
    return match_boxes(boxes, indices, truth["chars"], found.kind == "comb")


def _map_box(box: list[int], matrix: np.ndarray) -> list[int]:
    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], float) @ matrix.T
    return [
        round(corners[:, 0].min()),
        round(corners[:, 1].min()),
        round(corners[:, 0].max()),
        round(corners[:, 1].max()),
    ]


def params_fit(template: Template, params: ScanParams) -> bool:
    """True when every field (and its label) stays on the scanned page under these distortions.

    Registration marks may be cut off: registration then falls back on the others, or on
    the form's own features.
    """
    from segmentation.scansim import scan_matrix

    matrix, (width, height) = scan_matrix(template.size, params)
    label = template.dpi // 5
    boxes = [(x0, y0 - label, x1, y1) for x0, y0, x1, y1 in (f.box for f in template.fields)]
    for box in boxes:
        x0, y0, x1, y1 = _map_box(list(box), matrix)
        if x0 < 5 or y0 < 5 or x1 > width - 5 or y1 > height - 5:
            return False
    return True


def make_document(
    templates: Sequence[Template],
    pool: GlyphPool,
    rng: np.random.Generator,
    pages: int,
    *,
    binarise: bool | None = None,
    turns: bool = True,
) -> tuple[list[np.ndarray], list[dict]]:
    """Fill and scan ``pages`` forms (each of a random template); return scans and truth.

    Only forms this module draws itself are filled: a template with a ``reference_image`` (a
    real form's blank, such as ``nist-hsf``) is left out, since our drawing of it would not be
    the blank its pages are registered to. Real forms are measured by ``benchmarks.real_forms``.

    Raises:
        ValueError: every template given has a reference image.
    """
    drawn = [t for t in templates if t.reference_image is None]
    if not drawn:
        names = ", ".join(t.name for t in templates)
        raise ValueError(
            f"no template to draw forms from: {names} are real forms (reference_image)"
        )
    scans, records = [], []
    for number in range(1, pages + 1):
        template = drawn[int(rng.integers(len(drawn)))]
        page, truth = fill_form(template, pool, rng)
        params = random_params(rng, turns=turns)
        while not params_fit(template, params):
            params = random_params(rng, turns=turns)
        if binarise is not None:
            # Thresholding a shaded page would blacken its dark side: no shading then.
            shading = 0.0 if binarise else params.shading
            params = ScanParams(**{**_asdict(params), "binarise": binarise, "shading": shading})
        scan, record = scan_form(template, page, truth, params, rng)
        scans.append(scan)
        records.append({"page": number, **record})
    return scans, records


def _asdict(params: ScanParams) -> dict:
    return {name: getattr(params, name) for name in ScanParams.__slots__}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``forms`` writes filled, scanned forms; ``blank`` prints templates."""
    parser = argparse.ArgumentParser(prog="python -m segmentation.synth", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    forms = sub.add_parser("forms", help="synthetic filled forms with ground truth JSON")
    forms.add_argument("--templates", type=Path, nargs="+", default=[Path("data/templates")])
    forms.add_argument("--out", type=Path, required=True)
    forms.add_argument("--count", type=int, default=4, help="documents to write")
    forms.add_argument("--pages", type=int, default=1, help="pages per document")
    forms.add_argument("--format", choices=["pdf", "tiff", "png", "jpeg"], default="pdf")
    forms.add_argument("--seed", type=int, default=0)
    forms.add_argument("--prefix", default="form")
    forms.add_argument("--no-turns", action="store_true", help="never turn pages by 90/180")
    forms.add_argument("--binarise", action="store_true", help="black-and-white scans (small)")
    blank = sub.add_parser("blank", help="printable blank forms (PDF and PNG)")
    blank.add_argument("templates", type=Path, nargs="+")
    blank.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    templates = load_templates(args.templates)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.command == "blank":
        for template in templates:
            write_blank_pdf(template, args.out / f"{template.name}.pdf")
            cv2.imwrite(str(args.out / f"{template.name}.png"), render_blank_form(template))
            print(args.out / f"{template.name}.pdf")
        return 0
    pool = load_glyph_pool()
    rng = np.random.default_rng(args.seed)
    suffix = {"jpeg": "jpg", "tiff": "tif"}.get(args.format, args.format)
    pages = 1 if args.format in ("png", "jpeg") else args.pages
    for number in range(1, args.count + 1):
        binarise = True if args.format == "tiff" or args.binarise else None
        scans, records = make_document(
            templates, pool, rng, pages, binarise=binarise, turns=not args.no_turns
        )
        path = write_pages(scans, args.out / f"{args.prefix}-{number:03d}.{suffix}", args.format)
        truth = {"document": path.name, "format": args.format, "pages": records}
        path.with_suffix(".json").write_text(json.dumps(truth, indent=1))
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
