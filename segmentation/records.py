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
        choices: the values the field may take (``validate: {choices: [...]}`` or
            ``choices_file:``); empty when any value may be written.
        choices_file: the file the choices were read from (its name, for the run manifest).
    """

    regex: str | None = None
    date: str | None = None
    luhn: bool = False
    choices: tuple[str, ...] = ()
    choices_file: str | None = None


@dataclass(frozen=True, slots=True)
class MarkOption:
    """One tick box of a field: the value it stands for and its box (template pixels).

    A ``mark`` field has one, whose value is ``1``; a ``choice`` field one per option.
    """

    value: str
    box: Box


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a template, in template pixel coordinates.

    Attributes:
        name: unique field name (a CSV column).
        kind: ``comb`` (one character per cell), ``box`` (free writing inside one box),
            ``mark`` (one tick box) or ``choice`` (tick one of ``options``).
        charset: ``digits | upper | lower | letters | alnum`` or a literal string of characters.
        box: the field's outer box ``(x0, y0, x1, y1)`` (a choice: around all its options).
        cells: comb cell boxes, left to right; empty for ``box`` fields.
        max_chars: most characters a ``box`` field holds (the cell count for a comb).
        validation: checks on the recognised value.
        label: text printed above the box on a blank form.
        explicit_cells: True when the cells were listed one by one (each drawn as a full box);
            False for equal cells separated by ticks rising from the bottom line.
        options: the tick boxes of a ``mark`` (one) or ``choice`` field; empty otherwise.
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
    options: tuple[MarkOption, ...] = ()


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
class MarkInk:
    """What is in one tick box of a page, its printed frame erased.

    Attributes:
        index: the option's position in the field (0 for a lone ``mark``).
        value: the option's value (``1`` for a lone ``mark``).
        box: the box's ``(x0, y0, x1, y1)`` in the page as loaded.
        fill: share of the box's inside that is ink (specks dropped).
        spill: how far ink joined to the ink inside runs out beyond the frame on *both* of two
            opposite sides, in box sides (a cross-out's strokes; never a tick's tail alone).
        around: ink beyond the frame joined to the frame or to ink inside, in box areas (a loop
            drawn around the box, or over its frame, leaves little inside).
    """

    index: int
    value: str
    box: Box
    fill: float
    spill: float
    around: float


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way to read a run of a box field's ink pieces as a single character.

    Attributes:
        start: the first ink piece (atom) it spans, counted left to right.
        stop: one past the last atom it spans.
        image: uint8 (28, 28), white ink on black, framed like every crop.
        box: ``(x0, y0, x1, y1)`` of its ink in the page as loaded.
        prior: log-weight of its shape as one character (0 for a well-shaped one; negative
            for one too wide, with gaps inside, or too small to be a character alone).
    """

    start: int
    stop: int
    image: np.ndarray
    box: Box
    prior: float


@dataclass(frozen=True, slots=True)
class Lattice:
    """Every plausible way to cut a box field into characters, for the reader to choose from.

    Segmentation proposes; the classifier scores each candidate, and the reading step picks
    the path through the atoms (0 to ``atoms``) whose characters are most probable together.

    Attributes:
        atoms: how many ink pieces the field was over-cut into.
        candidates: candidate characters, each spanning consecutive atoms.
        skips: per atom, the log-weight of leaving it out as noise (``-inf`` where it cannot be).
        max_chars: the most characters the field holds (a longer cut goes to review).
        seams: the atoms that continue a piece of ink cut only tentatively into slices (it
            may hold touching characters, or be one wide character): atom ``i`` in seams is a
            slice of the same piece as atom ``i - 1``. The reader weighs candidates that start
            or end inside a piece only where it judges the whole piece not one character.
        extents: per atom, its ink's first and last column ``(left, right)``, in character
            heights of its line of writing: the gaps between the characters chosen tell words
            apart (``segmentation.lattice.word_spaces``). Empty when not measured (a paragraph
            with a line too scribbled to cut).
        lines: the atoms that begin a paragraph's second line of writing, and each one after.
    """

    atoms: int
    candidates: tuple[Candidate, ...]
    skips: tuple[float, ...]
    max_chars: int = 0
    seams: tuple[int, ...] = ()
    extents: tuple[tuple[float, float], ...] = ()
    lines: tuple[int, ...] = ()


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
        lattice: box fields: the candidate cuts the reader may choose from instead of ``chars``
            (which is segmentation's own best guess), or None.
        marks: ``mark`` and ``choice`` fields: what is in each tick box, in option order.
        doubt: why whatever the field reads must go to review however surely it reads (the
            page fits its form only loosely), or empty.
    """

    name: str
    kind: str
    charset: str
    box: Box
    validation: FieldValidation
    status: str
    reason: str
    chars: tuple[CharCrop, ...]
    lattice: Lattice | None = None
    marks: tuple[MarkInk, ...] = ()
    doubt: str = ""


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


def box_overlap(a: Box | list[int], b: Box | list[int]) -> int:
    """The area two (x0, y0, x1, y1) boxes share (0 when they do not meet)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0


def box_iou(a: Box | list[int], b: Box | list[int]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    inter = box_overlap(a, b)
    if not inter:
        return 0.0
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union
