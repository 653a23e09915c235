"""Records passed between segmentation stages: templates, fields, crops and page results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

Box = tuple[int, int, int, int]
"""An axis-aligned box ``(x0, y0, x1, y1)`` in pixels, x1 and y1 exclusive."""


@dataclass(frozen=True, slots=True)
class FieldValidation:
    """Checks a recognised field value must pass (applied by the recognition stage).

    Attributes:
        regex: a regular expression the whole value must match, or None.
        date: a ``strptime`` format the value must parse with (``%d%m%Y``), or None.
        luhn: True when the value's digits must pass the Luhn check.
    """

    regex: str | None = None
    date: str | None = None
    luhn: bool = False


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a template, in template pixel coordinates.

    Attributes:
        name: unique field name (a CSV column).
        kind: ``comb`` (one character per cell) or ``box`` (free writing inside one box).
        charset: ``digits | upper | lower | letters | alnum`` or a literal string of characters.
        box: the field's outer box ``(x0, y0, x1, y1)``.
        cells: comb cell boxes, left to right; empty for ``box`` fields.
        max_chars: most characters a ``box`` field holds (the cell count for a comb).
        validation: checks on the recognised value.
        label: text printed above the box on a blank form.
        explicit_cells: True when the cells were listed one by one (each drawn as a full box);
            False for equal cells separated by ticks rising from the bottom line.
    """

    name: str
    kind: str
    charset: str
    box: Box
    cells: tuple[Box, ...] = ()
    max_chars: int = 0
    validation: FieldValidation = FieldValidation()
    label: str = ""
    explicit_cells: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class Template:
    """A form template: page size, fields and what registration aligns pages to.

    Compared and hashed by identity (it holds an image).

    Attributes:
        name: the form's name, recorded per page.
        dpi: the resolution the coordinates are given at.
        size: page ``(width, height)`` in pixels at ``dpi``.
        fields: the fields, in the order written to the output.
        reference_image: uint8 (height, width) blank form, dark ink on light paper, or None
            (registration then uses the form as ``render_blank_form`` draws it).
        source: the YAML file it was read from.
        marks: True when the form carries the four printed registration marks.
        title: text printed at the top of a blank form.
    """

    name: str
    dpi: int
    size: tuple[int, int]
    fields: tuple[FieldSpec, ...]
    reference_image: np.ndarray | None
    source: Path
    marks: bool = True
    title: str = ""


@dataclass(frozen=True, slots=True)
class CharCrop:
    """One character position of a field.

    Attributes:
        index: 0-based position in the field, left to right.
        image: uint8 (28, 28), white ink on black, framed by
            ``ocr_core.recognition.normalise``; all zeros when the position is empty.
        box: ``(x0, y0, x1, y1)`` of the ink (or of the empty cell) in the page as loaded.
        status: ``ok`` or ``empty``.
    """

    index: int
    image: np.ndarray
    box: Box
    status: str


@dataclass(frozen=True, slots=True)
class FieldCrops:
    """The character crops cut from one field of one page.

    Attributes:
        name: field name from the template (``field_01``... in template-free mode).
        kind: ``comb`` or ``box``.
        charset: passed through from the template unchanged.
        box: the field's box in the page as loaded (bounding box of the registered outline).
        validation: passed through from the template.
        status: ``ok``, ``empty`` (no ink) or ``unreadable`` (see ``reason``).
        reason: why the status is not ``ok``; empty otherwise.
        chars: comb: one crop per cell, empty cells included; box: one per character found.
    """

    name: str
    kind: str
    charset: str
    box: Box
    validation: FieldValidation
    status: str
    reason: str
    chars: tuple[CharCrop, ...]


@dataclass(frozen=True, slots=True)
class PageResult:
    """What segmentation made of one page.

    Attributes:
        template: the name of the template the page was registered to, or None.
        status: ``ok``, ``unregistered`` (see ``reason``) or ``blank``.
        reason: why the status is not ``ok``; empty otherwise.
        fields: the fields' crops (empty unless the status is ``ok``).
        score: registration quality in [0, 1] (share of the form's printed lines found).
        transform: row-major 3x3 homography from template to page coordinates, or None.
    """

    template: str | None
    status: str
    reason: str
    fields: tuple[FieldCrops, ...]
    score: float
    transform: tuple[float, ...] | None = None
