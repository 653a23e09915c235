"""Tick boxes and tick-one groups into field values: ``1``/``0``, or the one option ticked."""

from __future__ import annotations

from dataclasses import dataclass

from ocr_core.files import safe_name
from ocr_core.results.records import CharReading, CharRow, FieldRow, FieldStatus
from segmentation.records import FieldCrops
from segmentation.ticks import MarkReading, read_mark

MARK_THRESHOLD = 0.9
"""A box whose more probable reading (ticked or empty) is under this goes to review. Chosen
on generated validation marks (``python -m benchmarks.ticks --split val``)."""


@dataclass(frozen=True, slots=True)
class MarkField:
    """A ``mark`` or ``choice`` field as read.

    Attributes:
        value: a mark's ``1`` or ``0`` (``""`` when crossed out); a choice's ticked option
            (``""`` when none is, or more than one).
        confidence: the probability that every box was read right (None when unreadable).
        status: ``ok``, ``needs_review``, ``empty`` (a choice with nothing ticked) or
            ``unreadable``.
        reason: why it needs review, or is not ``ok``.
        boxes: per option, its reading.
    """

    value: str
    confidence: float | None
    status: FieldStatus
    reason: str
    boxes: tuple[MarkReading, ...]

    @property
    def needs_review(self) -> bool:
        """Whether a person should look at it."""
        return self.status in ("needs_review", "unreadable")


def read_mark_field(crops: FieldCrops, threshold: float = MARK_THRESHOLD) -> MarkField:
    """Read a ``mark`` or ``choice`` field from its boxes' ink.

    Args:
        crops: the field as segmented (``marks`` holds each box's ink).
        threshold: a box whose reading is less probable than this goes to review.

    Returns:
        The field's value, confidence and status. A crossed-out or doubtful box, or two or more
        options ticked, sends the field to review with the reason; a choice with two ticks
        has an empty value.
    """
    if crops.status == "unreadable" or not crops.marks:
        reason = crops.reason or "no tick box found"
        return MarkField("", None, "unreadable", reason, ())
    boxes = tuple(read_mark(ink, threshold) for ink in crops.marks)
    confidence = 1.0
    for box in boxes:
        confidence *= box.confidence
    doubts = [
        f"{_name(crops, i)} {'crossed out' if b.state == 'crossed_out' else 'unclear'}"
        for i, b in enumerate(boxes)
        if b.state in ("crossed_out", "unsure")
    ]
    if crops.doubt:  # a doubt segmentation had about the page (a loose registration)
        doubts.insert(0, crops.doubt)
    ticked = [crops.marks[i].value for i, b in enumerate(boxes) if b.state == "ticked"]
    if crops.kind == "mark":
        state = boxes[0].state
        value = "" if state == "crossed_out" else "1" if boxes[0].p_ticked >= 0.5 else "0"
    elif len(ticked) > 1:
        doubts.insert(0, f"{len(ticked)} options ticked ({', '.join(ticked)})")
        value = ""
    else:
        value = ticked[0] if ticked else ""
    confidence = round(confidence, 4)
    if doubts:
        return MarkField(value, confidence, "needs_review", "; ".join(doubts), boxes)
    if crops.kind == "choice" and not ticked:
        return MarkField("", confidence, "empty", "no option ticked", boxes)
    return MarkField(value, confidence, "ok", "", boxes)


def _name(crops: FieldCrops, index: int) -> str:
    return "box" if crops.kind == "mark" else f"option {crops.marks[index].value!r}"


def mark_rows(
    document: str, page: int, crops: FieldCrops, crop_dir: str, threshold: float = MARK_THRESHOLD
) -> tuple[FieldRow, list[CharRow]]:
    """The ``fields.csv`` row of a tick-box field, and a review row per box when it needs review.

    Tick boxes have no ``characters.csv`` rows. A field that needs review gets one
    ``review.csv`` row per box, shaped like a character's: ``1`` (ticked) or ``0`` (empty) as
    read, its confidence, and the box's image (``crop_dir``/``p<page>-<field>-box<i>.png``,
    run-relative), which the caller writes.

    Args:
        document: the document's name.
        page: the 1-based page.
        crops: the field as segmented.
        crop_dir: run-relative folder of the document's crops.
        threshold: a box read less surely than this goes to review.
    """
    read = read_mark_field(crops, threshold)
    row = FieldRow(
        document,
        page,
        crops.name,
        read.value,
        read.confidence,
        read.needs_review,
        read.status,
        read.reason,
    )
    if not read.needs_review:
        return row, []
    boxes = []
    for ink, box in zip(crops.marks, read.boxes, strict=True):
        ticked = box.p_ticked >= 0.5
        char, other = ("1", "0") if ticked else ("0", "1")
        confidence = round(max(box.p_ticked, 1.0 - box.p_ticked), 4)
        reading = CharReading(
            (char, other),
            (confidence, round(1.0 - confidence, 4)),
            box.state in ("unsure", "crossed_out"),
        )
        crop = f"{crop_dir}/p{page}-{safe_name(crops.name)}-box{ink.index}.png"
        boxes.append(CharRow.of((document, page, crops.name, ink.index), reading, ink.box, crop))
    return row, boxes
