"""The records of a run's result files: one field, one character, one failed input."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One field of one page, as ``fields.csv`` holds it (page is 1-based)."""

    document: str
    page: int
    field: str
    value: str
    confidence: float | None
    needs_review: bool
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class CharRow:
    """One character, as ``characters.csv`` holds it; ``crop`` is relative to the run folder."""

    document: str
    page: int
    field: str
    index: int
    char: str
    confidence: float
    alt1: str
    alt1_confidence: float
    alt2: str
    alt2_confidence: float
    needs_review: bool
    x0: int
    y0: int
    x1: int
    y1: int
    crop: str


@dataclass(frozen=True, slots=True)
class ErrorRow:
    """One input file that could not be processed, as ``errors.csv`` holds it."""

    document: str
    error: str
    message: str
    quarantined_to: str


FIELD_COLUMNS = tuple(f.name for f in fields(FieldRow))
CHAR_COLUMNS = tuple(f.name for f in fields(CharRow))
ERROR_COLUMNS = tuple(f.name for f in fields(ErrorRow))
REVIEW_COLUMNS = (*CHAR_COLUMNS, "correction")


def model_input_path(crop: str) -> str:
    """Where the 28x28 model input of a character with this crop path is kept (run-relative)."""
    return crop.removesuffix(".png") + ".input.png"
