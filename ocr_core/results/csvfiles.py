"""Our CSV files: written atomically, every cell safe from spreadsheet formula injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import astuple
from pathlib import Path

from ocr_core.errors import OutputError
from ocr_core.files import write_atomic

# A spreadsheet executes a cell that starts with one of these; tab and CR start DDE payloads too.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """Return a cell's text so that no spreadsheet runs it as a formula.

    Numbers (including negative ones) are kept as they are; any other text starting with a
    formula character gets a leading apostrophe, which spreadsheets show as plain text.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """Undo ``neutralise`` for a text cell read back from one of our CSVs."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def format_csv(rows: Iterable[Sequence[object]]) -> str:
    """CSV text of ``rows``, every cell passed through ``neutralise``, lines ending in LF.

    The writer quotes a cell holding a line feed but not one holding a lone carriage return,
    which readers take for a line break (the rest of the cell would become a row, and could be a
    formula): a row with a carriage return in it has every cell quoted.
    """
    buffer = io.StringIO()
    plain = csv.writer(buffer, lineterminator="\n")
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        cells = [neutralise(cell) for cell in row]
        (quoted if any("\r" in cell for cell in cells) else plain).writerow(cells)
    return buffer.getvalue()


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a UTF-8 CSV atomically, every cell passed through ``neutralise``.

    Raises:
        OutputError: the file could not be written.
    """
    text = format_csv([columns, *rows])
    write_atomic(path, text.encode("utf-8"))


def write_records(path: Path, columns: Sequence[str], records: Iterable[object]) -> None:
    """Write dataclass records whose fields are ``columns``, atomically."""
    write_csv(path, columns, (astuple(record) for record in records))  # type: ignore[call-overload]


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """Read one of our CSVs back, text cells un-neutralised.

    Raises:
        OutputError: the file is missing or unreadable.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return [
                {k: unneutralise(v or "") for k, v in row.items()} for row in csv.DictReader(handle)
            ]
    except OSError as e:
        raise OutputError(f"cannot read ({e.strerror or e})", path=path) from e
