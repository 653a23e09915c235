"""The records of a run's result files: one field, one character, one failed input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Literal

# ok: read and every check passed; needs_review: an uncertain character or a failed validator;
# empty: nothing written (or a blank page); unreadable: the field or page could not be cut.
FieldStatus = Literal["ok", "needs_review", "empty", "unreadable"]
FieldKey = tuple[str, int, str]  # document, page (1-based), field
CharKey = tuple[str, int, str, int]  # document, page (1-based), field, index in the field


def char_key(row: Mapping[str, str]) -> CharKey:
    """The key of a character row read back from ``characters.csv`` or ``review.csv``."""
    return (row["document"], int(row["page"]), row["field"], int(row["index"]))


def rules_key(key: FieldKey) -> str:
    """The key under which ``run.json`` keeps a field's validators: ``document|page|field``."""
    document, page, field = key
    return f"{document}|{page}|{field}"


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One field of one page, as ``fields.csv`` holds it (page is 1-based)."""

    document: str
    page: int
    field: str
    value: str
    confidence: float | None
    needs_review: bool
    status: FieldStatus
    reason: str

    @property
    def key(self) -> FieldKey:
        """(document, page, field)."""
        return (self.document, self.page, self.field)


@dataclass(frozen=True, slots=True)
class CharReading:
    """One character as the model (and the field's validators) read it.

    ``labels`` and ``probs`` are its top readings, best first (up to three; a decoded field
    may re-rank them), and ``needs_review`` says whether the best is under the threshold.
    """

    labels: tuple[str, ...]
    probs: tuple[float, ...]
    needs_review: bool

    def alternatives(self) -> list[tuple[str, float]]:
        """(character, probability) pairs, best first, without empty or impossible ones."""
        return [(a, p) for a, p in zip(self.labels, self.probs, strict=True) if a and p > 0]


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

    @classmethod
    def of(
        cls, key: CharKey, reading: CharReading, box: tuple[int, int, int, int], crop: str
    ) -> CharRow:
        """The row of a character read: its top-3 readings (padded), its box and crop path."""
        document, page, field, index = key
        labels = [*reading.labels, "", ""][:3]
        probs = [*reading.probs, 0.0, 0.0][:3]
        x0, y0, x1, y1 = box
        return cls(
            document=document,
            page=page,
            field=field,
            index=index,
            char=labels[0],
            confidence=probs[0],
            alt1=labels[1],
            alt1_confidence=probs[1],
            alt2=labels[2],
            alt2_confidence=probs[2],
            needs_review=reading.needs_review,
            x0=x0,
            y0=y0,
            x1=x1,
            y1=y1,
            crop=crop,
        )

    @property
    def key(self) -> CharKey:
        """(document, page, field, index)."""
        return (self.document, self.page, self.field, self.index)

    @property
    def field_key(self) -> FieldKey:
        """(document, page, field) of the field this character is in."""
        return (self.document, self.page, self.field)


@dataclass(frozen=True, slots=True)
class ErrorRow:
    """One input file that could not be processed, as ``errors.csv`` holds it."""

    document: str
    error: str
    message: str
    quarantined_to: str


# The error of a file in an input folder that is not a document: listed, skipped, not a failure.
UNSUPPORTED = "unsupported"

FIELD_COLUMNS = tuple(f.name for f in fields(FieldRow))
CHAR_COLUMNS = tuple(f.name for f in fields(CharRow))
ERROR_COLUMNS = tuple(f.name for f in fields(ErrorRow))
# ``confirmed`` (yes) says a person checked the character as read; ``correction`` replaces it.
REVIEW_COLUMNS = (*CHAR_COLUMNS, "confirmed", "correction")
