"""A reviewer's answers, read from a run's two sheets: review.csv and review_fields.csv."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ocr_core.results.records import CharKey, FieldKey
from ocr_core.review.sheets import SheetRow, int_cell, read_sheet, yes_cell

KEY_COLUMNS = ("document", "page", "field")


@dataclass(frozen=True, slots=True)
class CharAnswer:
    """A reviewer's answer about one character: a correction, or a confirmation as read."""

    correction: str
    confirmed: bool
    reviewer: str
    reviewed_at: str
    where: str  # "review.csv row 7", for messages


@dataclass(frozen=True, slots=True)
class FieldAnswer:
    """A reviewer's answer about one field: its right value, a confirmation, or unreadable."""

    correction: str
    confirmed: bool
    unreadable: bool
    reviewer: str
    reviewed_at: str
    where: str

    @property
    def answered(self) -> bool:
        """True when the reviewer said anything about the field."""
        return bool(self.correction) or self.confirmed or self.unreadable


def _key(path: Path, row: SheetRow) -> FieldKey:
    return (row.text("document"), int_cell(path, row, "page"), row.text("field"))


def read_char_answers(path: Path) -> dict[CharKey, CharAnswer]:
    """The answered rows of a ``review.csv``: a correction or a ``confirmed`` mark.

    A blank row (neither) is no answer: it keeps the character as read and teaches nothing.

    Raises:
        InputFileError: the sheet is unreadable, lacks a key column, or a cell is malformed
            (the row and column are named).
    """
    answers: dict[CharKey, CharAnswer] = {}
    for row in read_sheet(path, (*KEY_COLUMNS, "index")):
        answer = CharAnswer(
            correction=row.cells.get("correction", "").strip(),
            confirmed=yes_cell(path, row, "confirmed"),
            reviewer=row.text("reviewer"),
            reviewed_at=row.text("reviewed_at"),
            where=f"{path.name} row {row.number}",
        )
        if answer.correction or answer.confirmed:
            answers[(*_key(path, row), int_cell(path, row, "index"))] = answer
    return answers


def read_field_answers(path: Path) -> dict[FieldKey, FieldAnswer]:
    """The answered rows of a ``review_fields.csv`` (a missing file holds none).

    Raises:
        InputFileError: the sheet is unreadable, lacks a key column, or a cell is malformed.
    """
    if not path.exists():
        return {}
    answers: dict[FieldKey, FieldAnswer] = {}
    for row in read_sheet(path, KEY_COLUMNS):
        answer = FieldAnswer(
            correction=row.cells.get("correction", "").strip(),
            confirmed=yes_cell(path, row, "confirmed"),
            unreadable=yes_cell(path, row, "unreadable"),
            reviewer=row.text("reviewer"),
            reviewed_at=row.text("reviewed_at"),
            where=f"{path.name} row {row.number}",
        )
        if answer.answered:
            answers[_key(path, row)] = answer
    return answers
