"""Review sheets as spreadsheets save them: every dialect read, a bad cell named in one line."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from ocr_core.errors import InputFileError
from ocr_core.review.answers import read_char_answers, read_field_answers
from ocr_core.review.sheets import read_sheet

HEADER = ["document", "page", "field", "index", "char", "confirmed", "correction"]
ROWS = [
    ["a.png", "1", "surname", "0", "S", "", "Z"],
    ["a.png", "1", "surname", "1", "M", "yes", ""],
]


def _text(separator: str, newline: str, header: list[str], rows: list[list[str]]) -> str:
    return newline.join(separator.join(cells) for cells in [header, *rows]) + newline


def _expected_answers(path: Path) -> None:
    answers = read_char_answers(path)
    assert {k: (a.correction, a.confirmed) for k, a in answers.items()} == {
        ("a.png", 1, "surname", 0): ("Z", False),
        ("a.png", 1, "surname", 1): ("", True),
    }


@pytest.mark.parametrize(
    ("name", "separator", "newline", "bom"),
    [
        ("ours", ",", "\n", False),
        ("excel-csv-utf8", ",", "\r\n", True),
        ("excel-semicolon", ";", "\r\n", True),
        ("tab-separated", "\t", "\n", False),
        ("semicolon-no-bom", ";", "\n", False),
    ],
)
def test_every_spreadsheet_dialect_is_read(
    tmp_path: Path, name: str, separator: str, newline: str, bom: bool
) -> None:
    path = tmp_path / f"{name}.csv"
    data = _text(separator, newline, HEADER, ROWS).encode("utf-8")
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    _expected_answers(path)


def test_reordered_extra_and_renamed_case_columns_and_blank_lines(tmp_path: Path) -> None:
    order = [6, 2, 0, 5, 3, 1, 4]
    header = ["Notes", *[HEADER[i].upper() for i in order]]
    rows = [["looked twice", *[r[i] for i in order]] for r in ROWS]
    text = _text(";", "\r\n", header, rows) + ";;;;;;;\r\n\r\n"
    (tmp_path / "r.csv").write_text(text, encoding="utf-8")
    _expected_answers(tmp_path / "r.csv")


def test_excel_separator_hint_line_and_windows_1252(tmp_path: Path) -> None:
    rows = [["Müller.png", "1", "surname", "0", "S", "", "Z"]]
    (tmp_path / "r.csv").write_bytes(
        ("sep=;\r\n" + _text(";", "\r\n", HEADER, rows)).encode("cp1252")
    )
    [(key, answer)] = read_char_answers(tmp_path / "r.csv").items()
    assert key == ("Müller.png", 1, "surname", 0) and answer.correction == "Z"


def test_untouched_rows_are_no_answer(tmp_path: Path) -> None:
    rows = [["a.png", "1", "surname", "0", "S", "", ""]]
    (tmp_path / "r.csv").write_text(_text(",", "\n", HEADER, rows), encoding="utf-8")
    assert read_char_answers(tmp_path / "r.csv") == {}


def test_a_bad_cell_is_one_line_naming_row_and_column(tmp_path: Path) -> None:
    rows = [ROWS[0], ["a.png", "one", "surname", "1", "M", "yes", ""]]
    (tmp_path / "r.csv").write_text(_text(";", "\r\n", HEADER, rows), encoding="utf-8")
    with pytest.raises(InputFileError, match=r"r\.csv: row 3, column page: 'one' is not a whole"):
        read_char_answers(tmp_path / "r.csv")
    rows = [["a.png", "1", "surname", "1", "M", "perhaps", ""]]
    (tmp_path / "r.csv").write_text(_text(",", "\n", HEADER, rows), encoding="utf-8")
    with pytest.raises(InputFileError, match=r"row 2, column confirmed: 'perhaps'") as caught:
        read_char_answers(tmp_path / "r.csv")
    assert "\n" not in str(caught.value)


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("document;field;value\na.png;x;1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no page column"):
        read_field_answers(tmp_path / "r.csv")
    with pytest.raises(InputFileError, match="no page, index column"):
        read_sheet(tmp_path / "r.csv", ("document", "page", "index"))
