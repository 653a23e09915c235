import csv
from pathlib import Path

import pandas as pd
import pytest

from ocr_core.errors import OutputError
from ocr_core.files import write_atomic
from ocr_core.reading.fields import assemble_value, luhn_ok, validate_value
from ocr_core.results.csvfiles import neutralise, read_csv_rows, unneutralise, write_records
from ocr_core.results.records import (
    FIELD_COLUMNS,
    CharReading,
    CharRow,
    FieldRow,
    char_key,
    rules_key,
)

NASTY_NAMES = [
    "scan, with comma.pdf",
    'quote "inside".png',
    "naïve résumé 表格.tif",
    "=cmd|' /C calc'!A0.pdf",
    "+SUM(A1).png",
    "@import.pdf",
    "-2+3.pdf",
]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_cells_are_neutralised(text: str) -> None:
    assert neutralise(text).startswith("'")
    assert unneutralise(neutralise(text)) == text


def test_numbers_and_plain_text_are_kept() -> None:
    assert neutralise(-3) == "-3"
    assert neutralise(0.5) == "0.5000"
    assert neutralise(True) == "true"
    assert neutralise(None) == ""
    assert neutralise("A12") == "A12"


def test_names_survive_a_pandas_round_trip(tmp_path: Path) -> None:
    rows = [FieldRow(name, 1, "f", "=1+2", 0.5, True, "ok", "") for name in NASTY_NAMES]
    path = tmp_path / "fields.csv"
    write_records(path, FIELD_COLUMNS, rows)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    read_back = [unneutralise(n) for n in frame["document"]]
    assert read_back == NASTY_NAMES
    # What a spreadsheet would see never starts with a formula character.
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            assert not any(cell.startswith(("=", "+", "@")) for cell in row)
    assert [r["document"] for r in read_csv_rows(path)] == NASTY_NAMES


def test_atomic_write_leaves_no_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_atomic(path, b"old")
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    with pytest.raises(OutputError, match=r"file-not-folder.*cannot write results"):
        write_atomic(blocked / "fields.csv", b"data")


def test_assemble_value_marks_gaps() -> None:
    assert assemble_value([(2, "3"), (0, "1"), (1, "2")]) == "123"
    assert assemble_value([(0, "A"), (3, "B")]) == "A B"
    assert assemble_value([]) == ""


def test_validators() -> None:
    assert luhn_ok("79927398713") and not luhn_ok("79927398710") and not luhn_ok("12a")
    assert validate_value("12345678", {"regex": "^[0-9]{8}$"}) == []
    assert validate_value("1234567", {"regex": "^[0-9]{8}$"}) == ["does not match ^[0-9]{8}$"]
    assert validate_value("31122024", {"date": "%d%m%Y"}) == []
    assert validate_value("32122024", {"date": "%d%m%Y"}) == ["not a date in format %d%m%Y"]
    assert validate_value("79927398710", {"luhn": True}) == ["Luhn checksum fails"]


def test_a_char_row_is_built_from_a_reading_padded_to_three() -> None:
    reading = CharReading(labels=("7", "1"), probs=(0.8, 0.15), needs_review=True)
    row = CharRow.of(("a.pdf", 2, "amount", 3), reading, (1, 2, 3, 4), "crops/x.png")
    assert (row.char, row.alt1, row.alt2, row.alt2_confidence) == ("7", "1", "", 0.0)
    assert row.needs_review and (row.x0, row.y0, row.x1, row.y1) == (1, 2, 3, 4)
    assert row.key == ("a.pdf", 2, "amount", 3) and row.field_key == ("a.pdf", 2, "amount")
    assert char_key({"document": "a.pdf", "page": "2", "field": "amount", "index": "3"}) == row.key
    assert rules_key(row.field_key) == "a.pdf|2|amount"
    assert CharReading(("A", "", "4"), (0.5, 0.0, 0.2), False).alternatives() == [
        ("A", 0.5),
        ("4", 0.2),
    ]
