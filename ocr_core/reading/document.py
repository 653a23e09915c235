"""Digitise one document: pages -> registration -> crops -> batched classification -> field rows."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from ocr_core.files import PNG_FAST, make_dir, safe_name, write_image
from ocr_core.reading.choices import listed_field
from ocr_core.reading.fields import (
    assemble_value,
    rules_of,
    uncertain_by_field,
    validate_value,
)
from ocr_core.reading.page import Readings, read_page
from ocr_core.reading.recognisers import Recognisers
from ocr_core.reading.segmenter import segment
from ocr_core.reading.ticks import mark_rows
from ocr_core.results.char_crops import CROPS_SUFFIX, crop_ref, cut_field_crops
from ocr_core.results.field_images import (
    field_file,
    field_image,
    field_image_path,
    written_field_images,
)
from ocr_core.results.model_inputs import INPUTS_SUFFIX, write_sheet
from ocr_core.results.records import (
    CharKey,
    CharRow,
    FieldKey,
    FieldRow,
    FieldStatus,
)
from segmentation import draw_overlay, iter_pages
from segmentation.records import FieldCrops, PageResult, Template
from segmentation.tickspec import MARK_KINDS

CROP_MARGIN = 4
UNWRITTEN = "nothing written in any field of the page: left blank, or lost by the scan?"
# A field's image is for a person to look at: JPEG is a tenth of the time and a quarter of the
# size of the PNG (2.5 ms and 50 KiB for a field of the samples), and reads as well.
FIELD_JPEG = [cv2.IMWRITE_JPEG_QUALITY, 85]


@dataclass(frozen=True, slots=True)
class DocumentResult:
    """What one document produced; crops and overlays are already written under the run folder."""

    document: str
    pages: int
    fields: tuple[FieldRow, ...]
    chars: tuple[CharRow, ...]
    templates: tuple[str, ...]  # the template each page was registered to ("" when none)
    rules: tuple[tuple[int, str, dict[str, object]], ...]  # (page, field, validators) to re-check
    seconds: float
    images: tuple[tuple[FieldKey, str], ...] = ()  # each field's image, run-relative (review)
    # Tick boxes of fields that need review, as rows shaped like characters' (review.csv only).
    marks: tuple[CharRow, ...] = ()


def quarter_turns(transform: Sequence[float] | None) -> int:
    """Quarter turns (counter-clockwise, as ``np.rot90`` counts) that make page crops upright.

    Args:
        transform: row-major 3x3 map from template to page pixels, or None.
    """
    if transform is None:
        return 0
    angle = np.degrees(np.arctan2(transform[3], transform[0]))  # the template's x axis on the page
    return round(float(angle) / 90.0) % 4


@dataclass(frozen=True, slots=True)
class PageOutput:
    """Where one page's rows and files go: its document, its 1-based number, the folders."""

    document: str
    number: int
    crop_dir: Path  # the document's crops folder
    run_dir: Path  # crop paths in the rows are relative to it

    def key(self, crops: FieldCrops, c: int) -> CharKey:
        """The key of character ``c`` of a field on this page."""
        return (self.document, self.number, crops.name, crops.chars[c].index)

    def field_path(self, field: str, suffix: str) -> Path:
        """One of a field's files on this page: its crops image, its model inputs."""
        return field_file(self.crop_dir, self.number, field, suffix)


def _save_crops(
    out: PageOutput,
    page: np.ndarray,
    boxes: list[tuple[int, int, int, int]],
    field: str,
    turns: int,
) -> list[str]:
    """Write a field's crops image; each character's ``crop`` (its region of it), in order."""
    if not boxes:
        return []
    image, rects = cut_field_crops(page, boxes, turns, CROP_MARGIN)
    path = out.field_path(field, CROPS_SUFFIX)
    write_image(path, image, PNG_FAST)
    name = str(path.relative_to(out.run_dir))
    return [crop_ref(name, rect) for rect in rects]


def _page_rows(
    out: PageOutput, page: np.ndarray, result: PageResult, recognisers: Recognisers
) -> tuple[list[FieldRow], list[CharRow], list[CharRow]]:
    """The page's field rows, character rows, and tick-box rows to review."""
    if result.status != "ok":
        status: FieldStatus = "empty" if result.status == "blank" else "unreadable"
        row = FieldRow(out.document, out.number, "", "", None, True, status, result.reason)
        return [row], [], []

    result, readings = read_page(result, recognisers)
    field_rows: list[FieldRow] = []
    char_rows: list[CharRow] = []
    turns = quarter_turns(result.transform)
    boxes: list[CharRow] = []
    blank: list[bool] = []
    for f, crops in enumerate(result.fields):
        if crops.marks or crops.kind in MARK_KINDS:
            field, to_review = _mark_field(out, page, crops, turns)
            boxes.extend(to_review)
            rows: list[CharRow] = []
        else:
            field, rows = _char_field(out, page, crops, f, readings, recognisers, turns)
        # The field as it sits on the page, for the reviewer (tick boxes too).
        image = field_image(page, crops.box, rows, turns)
        if image is not None:
            write_image(field_image_path(out.crop_dir, field), image, FIELD_JPEG)
        char_rows.extend(rows)
        field_rows.append(field)
        blank.append(_nothing_in(field, crops))
    if field_rows and all(blank):
        field_rows = [_unwritten(f) for f in field_rows]
    return field_rows, char_rows, boxes


def _nothing_in(field: FieldRow, crops: FieldCrops) -> bool:
    """Whether a field was read as holding nothing: no character, no box ticked."""
    if crops.kind == "mark":  # a single box reads 0 when it is not ticked
        return field.status == "empty" or (field.value, field.status) == ("0", "ok")
    return field.status == "empty"


def _unwritten(field: FieldRow) -> FieldRow:
    """A field of a form page with nothing in any field: to review.

    A form left blank and a form whose writing the scan lost look the same: pencil or a light
    pen thresholded to black and white leaves no trace (on generated pencil pages so scanned,
    half of them read so). Read as empty and not flagged, the second would be a page of
    confident wrong values; a person glancing at the page tells the two apart.
    """
    status: FieldStatus = "empty" if field.status == "empty" else "needs_review"
    return replace(field, needs_review=True, status=status, reason=UNWRITTEN)


def _char_field(
    out: PageOutput,
    page: np.ndarray,
    crops: FieldCrops,
    f: int,
    readings: Readings,
    recognisers: Recognisers,
    turns: int,
) -> tuple[FieldRow, list[CharRow]]:
    """A character field's row and its characters' rows (their crops and model inputs written)."""
    read = [c for c in range(len(crops.chars)) if (f, c) in readings]
    refs = _save_crops(out, page, [crops.chars[c].box for c in read], crops.name, turns)
    rows = [
        CharRow.of(out.key(crops, c), readings[(f, c)], crops.chars[c].box, ref)
        for c, ref in zip(read, refs, strict=True)
    ]
    if not crops.validation.choices:  # a list decides those fields itself
        flags = uncertain_by_field(
            [r.confidence for r in rows],
            [r.needs_review for r in rows],
            recognisers.field_threshold_for(crops.charset),
        )
        rows = [replace(r, needs_review=u) for r, u in zip(rows, flags, strict=True)]
    field = _field_row(out.document, out.number, crops, rows)
    if crops.validation.choices:
        threshold = recognisers.threshold_for(crops.charset)
        field, rows = listed_field(field, rows, crops.validation.choices, threshold)
    # What the model saw, kept so that a character a reviewer confirms (in any field: a
    # reviewer may pull in one that was not flagged) can become training data.
    tiles = [(crops.chars[c].index, crops.chars[c].image) for c in read]
    write_sheet(out.field_path(crops.name, INPUTS_SUFFIX), tiles)
    return field, rows


def _mark_field(
    out: PageOutput, page: np.ndarray, crops: FieldCrops, turns: int
) -> tuple[FieldRow, list[CharRow]]:
    """A tick-box field's row, and its boxes' rows (their images written) when it needs review."""
    crop_dir = str(out.crop_dir.relative_to(out.run_dir))
    field, to_review = mark_rows(out.document, out.number, crops, crop_dir)
    for box in to_review:
        _save_box(page, (box.x0, box.y0, box.x1, box.y1), turns, out.run_dir / box.crop)
    return field, to_review


def _save_box(page: np.ndarray, box: tuple[int, int, int, int], turns: int, path: Path) -> None:
    """A tick box's image for review, with half its side around it (a cross-out runs out)."""
    x0, y0, x1, y1 = box
    grow = max(x1 - x0, y1 - y0) // 2
    image, _ = cut_field_crops(page, [box], turns, grow + CROP_MARGIN)
    if image.size:
        write_image(path, image, PNG_FAST)


def _field_row(document: str, number: int, crops: FieldCrops, rows: list[CharRow]) -> FieldRow:
    if crops.status == "unreadable":
        return FieldRow(document, number, crops.name, "", None, True, "unreadable", crops.reason)
    if not rows:
        return FieldRow(document, number, crops.name, "", None, False, "empty", crops.reason)
    value = assemble_value((row.index, row.char) for row in rows)
    confidence = min(row.confidence for row in rows)
    # Doubts segmentation already had: about the field (its reason), about the page (its doubt).
    reasons = [r for r in (crops.doubt, crops.reason) if r]
    if any(row.needs_review for row in rows):
        reasons.append(f"{sum(r.needs_review for r in rows)} uncertain character(s)")
    reasons.extend(validate_value(value, rules_of(crops)))
    return FieldRow(
        document=document,
        page=number,
        field=crops.name,
        value=value,
        confidence=confidence,
        needs_review=bool(reasons),
        status="needs_review" if reasons else "ok",
        reason="; ".join(reasons),
    )


@dataclass(slots=True)
class _Rows:
    """A document's rows as its pages are read: fields, characters, tick boxes to review."""

    fields: list[FieldRow] = field(default_factory=list)
    chars: list[CharRow] = field(default_factory=list)
    marks: list[CharRow] = field(default_factory=list)

    def add(self, fields: list[FieldRow], chars: list[CharRow], marks: list[CharRow]) -> None:
        """Add one page's rows."""
        self.fields += fields
        self.chars += chars
        self.marks += marks


def digitise_document(
    path: Path,
    document: str,
    templates: Sequence[Template],
    recognisers: Recognisers,
    run_dir: Path,
    *,
    slot: int,
    dpi: int = 300,
    timeout_s: float = 120.0,
    overlays: bool = True,
) -> DocumentResult:
    """Read every page of one document.

    Args:
        path: the file to read (PDF, TIFF, PNG, JPEG or BMP, sniffed by content).
        document: the name people know it by (written to every row).
        templates: the candidate form templates; empty for template-free mode.
        recognisers: the loaded classifiers.
        run_dir: the run's result folder (crops go in ``crops/``, overlays in ``overlays/``).
        slot: the document's position in the run, to keep its file names unique.
        dpi: PDF rendering resolution.
        timeout_s: bound on each external call (poppler).
        overlays: write a debug overlay image per page.

    Returns:
        The document's field and character rows.

    Raises:
        InputFileError: the file cannot be read at all (corrupt, encrypted, empty, unsupported).
        OutputError: a crop, overlay or folder could not be written (disk full, unwritable).
    """
    started = time.perf_counter()
    folder = f"{slot:04d}-{safe_name(Path(document).stem)}"
    crop_dir = make_dir(run_dir / "crops" / folder)
    rows = _Rows()
    rules: list[tuple[int, str, dict[str, object]]] = []
    page_templates: list[str] = []
    pages = 0
    for pages, page in enumerate(iter_pages(path, dpi=dpi, timeout_s=timeout_s), start=1):
        result = segment(page, templates)  # in a worker process where one can run
        out = PageOutput(document, pages, crop_dir, run_dir)
        fields, chars, marks = _page_rows(out, page, result, recognisers)
        rows.add(fields, chars, marks)
        page_templates.append(result.template or "")
        rules.extend((pages, c.name, rules_of(c)) for c in result.fields if rules_of(c))
        if overlays:
            _write_overlay(run_dir / "overlays" / f"{folder}-p{pages}.jpg", page, result, fields)
    return DocumentResult(
        document=document,
        pages=pages,
        fields=tuple(rows.fields),
        chars=tuple(rows.chars),
        templates=tuple(page_templates),
        rules=tuple(rules),
        seconds=time.perf_counter() - started,
        images=tuple(written_field_images(run_dir, crop_dir, rows.fields)),
        marks=tuple(rows.marks),
    )


def _write_overlay(
    path: Path, page: np.ndarray, result: PageResult, fields: Sequence[FieldRow]
) -> None:
    """A half-size debug image of the page, its fields labelled as read (``review`` or status)."""
    make_dir(path.parent)
    labels = {f.field: "review" if f.needs_review else f.status for f in fields}
    image = draw_overlay(page, result, labels)
    small = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    write_image(path, small)
