"""Digitise one document: pages -> registration -> crops -> batched classification -> field rows."""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from flows.fields import assemble_value, decode_field, validate_value
from flows.results import CharRow, FieldRow, model_input_path
from ocr_core.errors import ModelError, OutputError
from segmentation import draw_overlay, iter_pages, segment_page
from segmentation.records import FieldCrops, PageResult, Template

if TYPE_CHECKING:
    from ocr_core import Prediction
    from ocr_core.recognition.inference import Classifier

# Digit-only fields go to the digits bundle when the choice is "auto": it reads digits better.
AUTO = "auto"
DIGIT_CHARSETS = frozenset({"digits", "0123456789"})
CROP_MARGIN = 4
# Crops are small and written by the hundred per page: favour speed over size.
PNG_FAST = [cv2.IMWRITE_PNG_COMPRESSION, 1]


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


class Reader:
    """Routes each field's characters to a model bundle and classifies them in batches."""

    def __init__(self, models_dir: Path, model: str = AUTO, threshold: float | None = None):
        """Load the bundles ``model`` needs (``auto``: ``digits`` and ``alnum``).

        Raises:
            ModelError: a bundle is missing or broken, before any input is touched.
        """
        if model != AUTO and not re.fullmatch(r"[A-Za-z0-9_.-]+", model):
            raise ModelError(f"model {model!r} is not a bundle name", path=models_dir)
        names = ("digits", "alnum") if model == AUTO else (model,)
        from ocr_core import load_classifier  # loads each bundle once per process

        self.bundles = {name: load_classifier(models_dir / name) for name in names}
        self.model = model
        self.threshold = threshold
        self._lock = threading.Lock()

    def bundle_for(self, charset: str) -> str:
        """Name the bundle that reads a field of this charset."""
        if self.model != AUTO:
            return self.model
        return "digits" if charset in DIGIT_CHARSETS else "alnum"

    def threshold_for(self, charset: str) -> float:
        """The review threshold for a field of this charset: the override, else the bundle's.

        A bundle's pipeline threshold (``pipeline.threshold`` in its ``bundle.json``, set by
        ``python -m flows.calibrate`` on forms written with validation handwriting) wins over
        its plain threshold, which was chosen on isolated characters.
        """
        return self.bundle_threshold(self.bundle_for(charset))

    def bundle_threshold(self, name: str) -> float:
        """The review threshold applied to the characters bundle ``name`` reads."""
        if self.threshold is not None:
            return self.threshold
        return pipeline_threshold(self.bundles[name])

    def classify(self, images: np.ndarray, charset: str) -> Prediction:
        """Classify uint8 (N, 28, 28) white-on-black images of one charset in one batch."""
        classifier = self.bundles[self.bundle_for(charset)]
        threshold = self.threshold_for(charset)
        with self._lock:  # one model call at a time per process: TF already uses every core
            return classifier.predict(images, charset=charset, top_k=3, threshold=threshold)


def pipeline_threshold(classifier: Classifier) -> float:
    """A bundle's review threshold for forms: its calibrated pipeline one, else its default."""
    pipeline = classifier.metadata.get("pipeline") or {}
    return float(pipeline.get("threshold", classifier.threshold))


def _write_image(path: Path, image: np.ndarray, params: Sequence[int] = ()) -> None:
    # cv2.imwrite reports a failed write (disk full, folder gone) only by returning False.
    try:
        written = cv2.imwrite(str(path), image, list(params))
    except cv2.error:
        written = False
    if not written:
        raise OutputError(
            "cannot write image", path=path, remedy="Check that the output folder has free space"
        )


def _make_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot make folder ({e.strerror or e})", path=path) from e
    return path


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60] or "_"


def quarter_turns(transform: Sequence[float] | None) -> int:
    """Quarter turns (counter-clockwise, as ``np.rot90`` counts) that make page crops upright.

    Args:
        transform: row-major 3x3 map from template to page pixels, or None.
    """
    if transform is None:
        return 0
    angle = np.degrees(np.arctan2(transform[3], transform[0]))  # the template's x axis on the page
    return round(float(angle) / 90.0) % 4


def _save_crop(page: np.ndarray, box: tuple[int, int, int, int], turns: int, path: Path) -> None:
    x0, y0, x1, y1 = box
    height, width = page.shape
    region = page[
        max(0, y0 - CROP_MARGIN) : min(height, y1 + CROP_MARGIN),
        max(0, x0 - CROP_MARGIN) : min(width, x1 + CROP_MARGIN),
    ]
    if region.size:
        _write_image(path, np.ascontiguousarray(np.rot90(region, turns)), PNG_FAST)


Readings = dict[tuple[int, int], tuple[list[str], list[float], bool]]


def read_page(result: PageResult, reader: Reader) -> Readings:
    """Classify every readable character of a segmented page, and decode fields by format.

    Args:
        result: the page as segmented (status ``ok``).
        reader: the model bundles.

    Returns:
        (field position, crop position) to the character's top-3 labels and probabilities, best
        first, and whether it needs review.
    """
    # Every readable character of the page, grouped by charset: one model call per group.
    groups: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for f, crops in enumerate(result.fields):
        for c, char in enumerate(crops.chars):
            if char.status == "ok":
                groups[crops.charset].append((f, c))
    readings: Readings = {}
    for charset, members in groups.items():
        images = np.stack([result.fields[f].chars[c].image for f, c in members])
        pred = reader.classify(images, charset)
        for i, key in enumerate(members):
            readings[key] = (
                [str(s) for s in pred.labels[i]],
                [float(p) for p in pred.probs[i]],
                bool(pred.needs_review[i]),
            )
    for f, crops in enumerate(result.fields):
        _decode(f, crops, readings, reader.threshold_for(crops.charset))
    return readings


def _page_rows(
    document: str,
    number: int,
    page: np.ndarray,
    result: PageResult,
    reader: Reader,
    crop_dir: Path,
    run_dir: Path,
) -> tuple[list[FieldRow], list[CharRow]]:
    if result.status != "ok":
        status = "empty" if result.status == "blank" else "unreadable"
        return [FieldRow(document, number, "", "", None, True, status, result.reason)], []

    readings = read_page(result, reader)
    field_rows: list[FieldRow] = []
    char_rows: list[CharRow] = []
    turns = quarter_turns(result.transform)
    for f, crops in enumerate(result.fields):
        read = [c for c in range(len(crops.chars)) if (f, c) in readings]
        rows = [
            _char_row(document, number, crops, c, readings[(f, c)], page, turns, crop_dir, run_dir)
            for c in read
        ]
        field = _field_row(document, number, crops, rows)
        for c, char_row in zip(read, rows, strict=True):
            if char_row.needs_review or field.needs_review:
                # What the model saw, kept so that a reviewed character can become training data.
                path = run_dir / model_input_path(char_row.crop)
                _write_image(path, crops.chars[c].image, PNG_FAST)
        char_rows.extend(rows)
        field_rows.append(field)
    return field_rows, char_rows


def _decode(
    f: int,
    crops: FieldCrops,
    readings: Readings,
    threshold: float,
) -> None:
    """Re-read a field with validators as the most probable reading they accept, in place."""
    read = [c for c in range(len(crops.chars)) if (f, c) in readings]
    rules = rules_of(crops)
    if not rules or not read:
        return
    alternatives = [
        [(label, p) for label, p in zip(*readings[(f, c)][:2], strict=True) if label and p > 0]
        for c in read
    ]
    decoded = decode_field(alternatives, [crops.chars[c].index for c in read], rules)
    if decoded is None:
        return
    for c, reading in zip(read, decoded, strict=True):
        labels, probs = [a for a, _ in reading], [p for _, p in reading]
        readings[(f, c)] = (labels, probs, probs[0] < threshold)


def _char_row(
    document: str,
    number: int,
    crops: FieldCrops,
    c: int,
    reading: tuple[list[str], list[float], bool],
    page: np.ndarray,
    turns: int,
    crop_dir: Path,
    run_dir: Path,
) -> CharRow:
    labels, probs, review = reading
    labels = [*labels, "", ""][:3]
    probs = [*probs, 0.0, 0.0][:3]
    char = crops.chars[c]
    crop_path = crop_dir / f"p{number}-{_safe_name(crops.name)}-{char.index}.png"
    _save_crop(page, char.box, turns, crop_path)
    return CharRow(
        document,
        number,
        crops.name,
        char.index,
        labels[0],
        probs[0],
        labels[1],
        probs[1],
        labels[2],
        probs[2],
        review,
        *char.box,
        str(crop_path.relative_to(run_dir)),
    )


def rules_of(crops: FieldCrops) -> dict[str, object]:
    """The field's validators as a plain mapping (for the run manifest and re-checks)."""
    v = crops.validation
    return {k: val for k, val in (("regex", v.regex), ("date", v.date), ("luhn", v.luhn)) if val}


def _field_row(document: str, number: int, crops: FieldCrops, rows: list[CharRow]) -> FieldRow:
    if crops.status == "unreadable":
        return FieldRow(document, number, crops.name, "", None, True, "unreadable", crops.reason)
    if not rows:
        return FieldRow(document, number, crops.name, "", None, False, "empty", crops.reason)
    value = assemble_value((row.index, row.char) for row in rows)
    confidence = min(row.confidence for row in rows)
    reasons = []
    if any(row.needs_review for row in rows):
        reasons.append(f"{sum(r.needs_review for r in rows)} uncertain character(s)")
    reasons.extend(validate_value(value, rules_of(crops)))
    review = bool(reasons)
    status = "needs_review" if review else "ok"
    return FieldRow(
        document, number, crops.name, value, confidence, review, status, "; ".join(reasons)
    )


def digitise_document(
    path: Path,
    document: str,
    templates: Sequence[Template],
    reader: Reader,
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
        reader: the loaded classifiers.
        run_dir: the run's result folder; crops and overlays go in its ``crops/`` and
            ``overlays/`` sub-folders.
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
    folder = f"{slot:04d}-{_safe_name(Path(document).stem)}"
    crop_dir = run_dir / "crops" / folder
    _make_dir(crop_dir)
    field_rows: list[FieldRow] = []
    char_rows: list[CharRow] = []
    rules: list[tuple[int, str, dict[str, object]]] = []
    page_templates: list[str] = []
    pages = 0
    for pages, page in enumerate(iter_pages(path, dpi=dpi, timeout_s=timeout_s), start=1):
        result = segment_page(page, templates)
        fields, chars = _page_rows(document, pages, page, result, reader, crop_dir, run_dir)
        field_rows.extend(fields)
        char_rows.extend(chars)
        page_templates.append(result.template or "")
        rules.extend((pages, c.name, rules_of(c)) for c in result.fields if rules_of(c))
        if overlays:
            overlay_dir = run_dir / "overlays"
            _make_dir(overlay_dir)
            image = draw_overlay(page, result)
            small = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
            _write_image(overlay_dir / f"{folder}-p{pages}.jpg", small)
    seconds = time.perf_counter() - started
    return DocumentResult(
        document,
        pages,
        tuple(field_rows),
        tuple(char_rows),
        tuple(page_templates),
        tuple(rules),
        seconds,
    )
