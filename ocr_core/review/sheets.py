"""Read a review sheet as a spreadsheet saved it: BOM, ``;`` or tab, CRLF, columns in any order."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ocr_core.errors import InputFileError
from ocr_core.results.csvfiles import unneutralise

SEPARATORS = (",", ";", "\t")
YES = frozenset({"yes", "y", "true", "1", "x", "ok", "\u2713"})
NO = frozenset({"", "no", "n", "false", "0"})
REMEDY = "Fix that cell (or take the sheet again from the run folder) and apply again"


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One row of a sheet: its line number as a spreadsheet shows it, its cells by column name."""

    number: int
    cells: dict[str, str]

    def text(self, column: str) -> str:
        """The cell's text, trimmed; empty when the sheet has no such column."""
        return self.cells.get(column, "").strip()


def read_sheet(path: Path, required: Sequence[str]) -> list[SheetRow]:
    """Read a CSV sheet whichever way a spreadsheet saved it.

    Accepts UTF-8 with or without a byte-order mark (else Windows-1252), ``,``, ``;`` or tab
    separators, CRLF or LF line ends, column names in any case and order, extra columns and
    blank lines. Text cells are un-neutralised (a leading apostrophe we added is dropped).

    Args:
        path: the sheet.
        required: the columns it must have (lower case).

    Returns:
        The non-blank rows, numbered as a spreadsheet numbers them (the header is row 1).

    Raises:
        InputFileError: the file cannot be read or lacks a required column (named).
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputFileError(f"cannot read ({e.strerror or e})", path=path) from e
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    header = text.split("\n", 1)[0]
    separator = max(SEPARATORS, key=header.count)
    if header.lower().startswith("sep=") and len(header.strip()) == 5:  # Excel's hint line
        separator, text = header.strip()[4], text.split("\n", 1)[-1]
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    except csv.Error as e:
        raise InputFileError(f"not a readable CSV ({e})", path=path, remedy=REMEDY) from e
    if not table:
        raise InputFileError("the sheet is empty", path=path, remedy=REMEDY)
    names = [name.strip().lstrip("\ufeff").lower() for name in table[0]]
    missing = [c for c in required if c not in names]
    if missing:
        raise InputFileError(
            f"no {', '.join(missing)} column (the header has: {', '.join(n for n in names if n)})",
            path=path,
            remedy="Keep the header row the run wrote; columns may be reordered or added",
        )
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = {
            name: unneutralise(cell.strip("\r"))
            for name, cell in zip(names, cells, strict=False)
            if name
        }
        rows.append(SheetRow(number, values))
    return rows


def cell_error(path: Path, row: SheetRow, column: str, problem: str) -> InputFileError:
    """The one-line error for a bad cell: the file, the row and the column, then the fix."""
    return InputFileError(f"row {row.number}, column {column}: {problem}", path=path, remedy=REMEDY)


def int_cell(path: Path, row: SheetRow, column: str) -> int:
    """A whole number cell (``3`` or ``3.0``, as a spreadsheet may write it).

    Raises:
        InputFileError: the cell is not a whole number (the row and column are named).
    """
    text = row.text(column)
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not number.is_integer():
        raise cell_error(path, row, column, f"{text!r} is not a whole number")
    return int(number)


def yes_cell(path: Path, row: SheetRow, column: str) -> bool:
    """A yes/no cell: ``yes``, ``y``, ``true``, ``1``, ``x`` or a tick; blank or ``no`` is no.

    Raises:
        InputFileError: the cell holds something else (the row and column are named).
    """
    text = row.text(column).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise cell_error(path, row, column, f"{text!r} is neither yes nor blank")
