"""python -m flows.review on a real run: apply prints its counts, pending lists the run."""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import pytest

from flows.digitise import digitise_forms
from flows.review import main
from ocr_core.results.csvfiles import read_csv_rows

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def digitised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run of a sample form, made once for the module."""
    folder = tmp_path_factory.mktemp("digitised")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DIGITISE_OUTPUT_DIR", str(folder))
        summary = digitise_forms(input=["data/samples/scan-001.png"], templates=["data/templates"])
    return Path(summary.run_dir)


@pytest.fixture
def run(digitised: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the run of its own, in an output folder of its own."""
    for name in ("output", "reviewed"):
        monkeypatch.setenv(f"DIGITISE_{name.upper()}_DIR", str(tmp_path / name))
    return Path(shutil.copytree(digitised, tmp_path / "output" / digitised.name))


def save_as_excel(run: Path, answers: dict[str, dict[str, str]]) -> None:
    """review_fields.csv as Excel saves it: BOM, ';', CRLF, its columns reordered."""
    rows = read_csv_rows(run / "review_fields.csv")
    columns = ["correction", "unreadable", "confirmed", "field", "page", "document", "value"]
    lines = [";".join(columns)]
    lines += [";".join({**r, **answers.get(r["field"], {})}[c] for c in columns) for r in rows]
    (run / "review_fields.csv").write_bytes(codecs.BOM_UTF8 + "\r\n".join(lines).encode() + b"\r\n")


def test_apply_reads_a_spreadsheet_saved_sheet_and_prints_its_counts(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = read_csv_rows(run / "review_fields.csv")
    assert len(sheet) >= 2
    first = sheet[0]
    # Confirm a field whose only doubt is its characters' (a value that fails its validators
    # cannot be confirmed as it stands).
    second = next(r for r in sheet[1:] if r["reason"].endswith("uncertain character(s)"))
    # pending lists the run until every field has an answer.
    assert main(["pending"]) == 0
    assert f"{run}\t" in capsys.readouterr().out
    save_as_excel(run, {first["field"]: {"unreadable": "yes"}, second["field"]: {"confirmed": "x"}})
    assert main(["apply", str(run), "--reviewer", "ann"]) == 0
    out = capsys.readouterr().out
    assert "2 field(s) and 0 character(s) answered" in out
    assert f"training examples: {len(second['value'].replace(' ', ''))} added" in out
    reviewed = {r["field"]: r for r in read_csv_rows(run / "fields_reviewed.csv")}
    assert reviewed[first["field"]]["status"] == "unreadable"
    assert (reviewed[second["field"]]["status"], reviewed[second["field"]]["reviewer"]) == (
        "ok",
        "ann",
    )
    # The older form still applies (python -m flows.review RUN_DIR).
    assert main([str(run)]) == 0


def test_a_bad_sheet_is_one_line_and_a_refused_value_is_named(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    field = read_csv_rows(run / "review_fields.csv")[0]["field"]
    save_as_excel(run, {field: {"correction": "#?"}})
    assert main(["apply", str(run)]) == 2
    out = capsys.readouterr().out
    assert f"not applied: review_fields.csv row 2: {field}: reviewer's value '#?' rejected" in out
    text = (run / "review_fields.csv").read_bytes().replace(b";1;", b";one;", 1)
    (run / "review_fields.csv").write_bytes(text)
    assert main(["apply", str(run)]) == 2
    err = capsys.readouterr().err
    assert "row 2, column page: 'one' is not a whole number" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_serve_a_folder_that_is_not_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(tmp_path)]) == 2
    assert "not a finished digitise-forms run" in capsys.readouterr().err


def test_serve_on_a_port_in_use_is_one_line(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", str(run), "--port", str(port)]) == 5
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port 0" in err
