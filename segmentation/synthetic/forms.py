"""Synthetic filled forms from real MNIST/EMNIST handwriting (test split by default), with truth."""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from segmentation.records import FieldSpec, Template
from segmentation.render import render_blank_form
from segmentation.synthetic.glyphs import GlyphPool
from segmentation.synthetic.penmarks import write_marks
from segmentation.synthetic.scan import ScanParams, random_params, scan_matrix, simulate_scan
from segmentation.synthetic.styles import HOUSE_STYLE, PageStyle, random_style

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


def field_value(spec: FieldSpec, rng: np.random.Generator) -> str:
    """A plausible value for a field (valid for its validators), sometimes short or empty."""
    if rng.random() < 0.05:
        return ""
    n = spec.max_chars
    validation = spec.validation
    if validation.choices:  # a value from the list, short enough to write in the box
        fits = [v for v in validation.choices if len(_writable(v)) <= n] or [""]
        return str(fits[int(rng.integers(len(fits)))])
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


def _writable(value: str) -> str:
    """The characters of a value a person writes in boxes (no spaces or punctuation)."""
    return "".join(c for c in value if c.isalnum())


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
    template: Template,
    pool: GlyphPool,
    rng: np.random.Generator,
    *,
    touch_rate: float | None = None,
    style: PageStyle = HOUSE_STYLE,
) -> tuple[np.ndarray, list[dict]]:
    """Write values into a blank form with real handwriting.

    Args:
        template: the form.
        pool: handwriting to write with.
        rng: the random source (seed it for reproducible forms).
        touch_rate: share of characters made to touch or cross a cell border or a neighbour
            (default: the style's ``cross_rate``).
        style: how the page is printed and written.

    Returns:
        (uint8 (height, width) filled form at the template's dpi, dark ink on light paper;
        ground truth per field: name, kind, value and chars [{char, index, box}], template
        coordinates).
    """
    page = render_blank_form(template, marks=style.marks, style=style.form)
    rate = style.cross_rate if touch_rate is None else touch_rate
    truth: list[dict] = []
    pen = _Pen(pool, rng, style, rate, float(rng.uniform(*style.pen)))
    for spec in template.fields:
        if spec.options:
            truth.append(write_marks(page, spec, rng, template.dpi))
            continue
        listed = field_value(spec, rng)
        if spec.kind == "comb":
            value = _writable(listed) if spec.validation.choices else listed
            chars = _write_comb(page, spec, value, pen)
        else:  # words apart, as people write them: "ST ALBANS"
            chars = _write_box(page, spec, " ".join(_writable(w) for w in listed.split()), pen)
        value = _words(chars)
        if spec.validation.choices and value.replace(" ", "") == _writable(listed):
            value = listed  # the list's spelling ("STRATFORD-UPON-AVON"), as a reader gives it
        truth.append({"name": spec.name, "kind": spec.kind, "value": value, "chars": chars})
    return page, truth


@dataclass(frozen=True, slots=True)
class _Pen:
    """How a page is written: the handwriting, the random source, the page's style and ink."""

    pool: GlyphPool
    rng: np.random.Generator
    style: PageStyle
    rate: float  # share of characters pushed over a line
    darkness: float


def _write_comb(page: np.ndarray, spec: FieldSpec, value: str, pen: _Pen) -> list[dict]:
    """Write one character per cell; return the characters' truth."""
    pool, rng, style, rate, darkness = pen.pool, pen.rng, pen.style, pen.rate, pen.darkness
    chars = []
    for index, (char, cell) in enumerate(zip(value, spec.cells, strict=False)):
        cw, ch = cell[2] - cell[0], cell[3] - cell[1]
        touch = rng.random() < rate
        share = rng.uniform(*style.writing) if style.writing else rng.uniform(0.55, 0.78)
        glyph = _glyph(pool, char, ch * share * (1.3 if touch else 1), rng)
        gx = (cell[0] + cell[2] - glyph.shape[1]) / 2 + rng.uniform(-0.12, 0.12) * cw
        gy = (cell[1] + cell[3] - glyph.shape[0]) / 2 + rng.uniform(-0.1, 0.1) * ch
        if touch:  # push it over the bottom line or a side tick
            gx += rng.choice([-1, 1]) * rng.uniform(0, 0.15) * cw
            gy += rng.uniform(0.05, 0.2) * ch
        box = _stamp(page, glyph, round(gx), round(gy), darkness)
        chars.append({"char": char, "index": index, "box": box})
    return chars


WORD_SPACE = 0.9
"""Between two words, the pen moves on this many character heights more than between letters:
the words' ink lies 0.76 to 1.26 heights apart (33 gaps of 400 generated forms, house and random
styles), as on NIST's real forms (about 0.6 to 1.6)."""


def _words(chars: list[dict]) -> str:
    """A box field's value as written: its characters, a space where a word ended."""
    return "".join((" " if c.get("space") else "") + str(c["char"]) for c in chars)


def _write_box(page: np.ndarray, spec: FieldSpec, value: str, pen: _Pen) -> list[dict]:
    """Write a box field's characters left to right; return the characters' truth.

    A space in ``value`` leaves a gap between words; the character after it is marked
    ``space`` in the truth.
    """
    pool, rng, style, rate, darkness = pen.pool, pen.rng, pen.style, pen.rate, pen.darkness
    x0, y0, x1, y1 = spec.box
    share = rng.uniform(*style.writing) if style.writing else rng.uniform(0.5, 0.72)
    height = (y1 - y0) * share
    x = x0 + rng.uniform(0.02, 0.06) * (x1 - x0)
    chars: list[dict] = []
    space = False
    for char in value:
        if char == " ":
            x += WORD_SPACE * height
            space = bool(chars)
            continue
        index = len(chars)
        glyph = _glyph(pool, char, height * rng.uniform(0.92, 1.08), rng)
        if x + glyph.shape[1] > x1 - 10:
            break
        gy = (y0 + y1 - glyph.shape[0]) / 2 + rng.uniform(-0.08, 0.08) * (y1 - y0)
        if style.writing and rng.random() < rate:  # written over the bottom or top line
            room = (y1 - y0 - glyph.shape[0]) / 2 + 0.15 * glyph.shape[0]
            gy += rng.choice([-1, 1]) * room
        box = _stamp(page, glyph, round(x), round(max(0, gy)), darkness)
        chars.append(
            {"char": char, "index": index, "box": box} | ({"space": True} if space else {})
        )
        space = False
        if style.writing:
            gap = rng.uniform(*style.spacing)
        else:
            gap = -0.12 if rng.random() < rate else rng.uniform(*style.spacing)
        x += glyph.shape[1] + gap * height
    return chars


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
    for written, spec in zip(truth, template.fields, strict=True):
        chars = [{**c, "box": _map_box(c["box"], matrix)} for c in written["chars"]]
        fields.append({**written, "box": _map_box(list(spec.box), matrix), "chars": chars})
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
    randomise: bool = False,
    pen: tuple[float, float] | None = None,
) -> tuple[list[np.ndarray], list[dict]]:
    """Fill and scan ``pages`` forms (each of a random template); return scans and truth.

    Args:
        templates: the forms to fill (one drawn per page).
        pool: handwriting to write with.
        rng: the random source.
        pages: how many pages.
        binarise: force black-and-white scans (True) or grey ones (False); None: random.
        turns: allow pages turned by quarter turns.
        randomise: draw each page in a random style (``random_style``), recorded in its
            truth's ``style``; segment it with ``styled_template``. False keeps the house
            style, with the same random draws as always.
        pen: the ink's darkness range instead of the style's (``styles.LIGHT_PEN``), also
            recorded in the truth's ``style``. A pen lighter than the usual is scanned in
            grey: a black-and-white scan drops such writing altogether, nothing to read.

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
        style = random_style(rng) if randomise else HOUSE_STYLE
        if pen is not None:
            style = replace(style, pen=pen)
        page, truth = fill_form(template, pool, rng, style=style)
        params = _scan_params(template, style, rng, turns, binarise)
        scan, record = scan_form(template, page, truth, params, rng)
        scans.append(scan)
        extra = {"style": style.as_record()} if randomise or pen is not None else {}
        records.append({"page": number, **record, **extra})
    return scans, records


def _scan_params(
    template: Template,
    style: PageStyle,
    rng: np.random.Generator,
    turns: bool,
    binarise: bool | None,
) -> ScanParams:
    """How a page in ``style`` is scanned: at random, grey where black and white loses it."""
    params = random_params(rng, turns=turns)
    while not params_fit(template, params):
        params = random_params(rng, turns=turns)
    # A dropout-colour or hairline form thresholded to black and white loses its lines (as it
    # is designed to), and a light pen its writing: such forms are scanned in grey, not faxed.
    if params.binarise and (
        style.form.shade or style.form.thickness == 1 or style.pen[0] < HOUSE_STYLE.pen[0]
    ):
        params = ScanParams(**{**_asdict(params), "binarise": False})
    if binarise is not None:
        # Thresholding a shaded page would blacken its dark side: no shading then.
        shading = 0.0 if binarise else params.shading
        params = ScanParams(**{**_asdict(params), "binarise": binarise, "shading": shading})
    return params


def _asdict(params: ScanParams) -> dict:
    return {name: getattr(params, name) for name in ScanParams.__slots__}
