"""Every bad input, through a manual run and the folder watch: a result or a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.faults.badfiles import FORMULA_NAME, Case, make_corpus
from flows.digitise import run_digitise_forms
from ocr_core.results.csvfiles import read_csv_rows

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _check_outcomes(
    cases: list[Case], mode: str, run: Path, name_of: dict[str, str]
) -> dict[str, str]:
    """Assert each case's outcome in the run's result files; return document -> outcome."""
    fields = read_csv_rows(run / "fields.csv")
    errors = {e["document"]: e for e in read_csv_rows(run / "errors.csv")}
    seen: dict[str, str] = {}
    for case in cases:
        expected = getattr(case, mode)
        if expected in ("", "waits"):
            continue
        document = name_of[case.name]
        rows = [r for r in fields if r["document"] == document]
        error = errors.get(document)
        outcome = "error" if error else "result" if rows else "missing"
        assert not (rows and error), f"{case.name}: both rows and an error"
        assert outcome == expected or (expected == "either" and outcome != "missing"), (
            f"{case.name}: expected {expected}, got {outcome}"
        )
        if error:
            assert error["error"] == "input_file", error
            assert case.name in error["message"], error  # the message names the file
            assert "\n" not in error["message"] and "processing" not in error["message"], error
        else:
            assert rows
            if case.statuses:
                assert {r["status"] for r in rows} <= case.statuses, (case.name, rows[:3])
            unreadable = [r for r in rows if r["status"] == "unreadable"]
            assert all(r["reason"] for r in unreadable), unreadable[:3]
        seen[case.name] = outcome
    return seen


def test_manual_run_reads_or_reports_every_bad_file(tmp_path: Path) -> None:
    cases = [c for c in make_corpus(tmp_path / "in", tmp_path / "outside") if c.manual]
    inputs = [str(tmp_path / "in" / c.name) for c in cases]
    summary = run_digitise_forms(input=inputs, output=str(tmp_path / "out"))
    run = Path(summary.run_dir)
    seen = _check_outcomes(
        cases, "manual", run, {c.name: str(tmp_path / "in" / c.name) for c in cases}
    )
    assert summary.documents == len(cases) == summary.processed + summary.failed
    assert seen["200-pages.pdf"] == "result"
    pages = {
        r["page"]
        for r in read_csv_rows(run / "fields.csv")
        if r["document"].endswith("200-pages.pdf")
    }
    assert len(pages) == 200
    assert all((tmp_path / "in" / c.name).exists() for c in cases)  # never moved in manual runs


def test_folder_watch_archives_quarantines_or_waits(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGITISE_SETTLE_S", "120")  # the corpus is 600 s old, two files fresh
    inbox = folders["inbox"]
    cases = make_corpus(inbox, folders["inbox"].parent / "outside")
    secret = folders["inbox"].parent / "outside" / "secret-scan.png"
    secret_bytes = secret.read_bytes()
    summary = run_digitise_forms(watch_inbox=True)
    run = Path(summary.run_dir)
    seen = _check_outcomes(cases, "watch", run, {c.name: c.name for c in cases})

    waiting = sorted(c.name for c in cases if c.watch == "waits")
    assert sorted(p.name for p in inbox.iterdir()) == waiting
    archived = {p.name for p in folders["archive"].rglob("*") if p.is_file()} - {"ledger.tsv"}
    quarantined = {
        p.name for p in folders["quarantine"].rglob("*") if not p.name.endswith(".reason.txt")
    } - {p.name for p in folders["quarantine"].iterdir()}
    for case in cases:
        where = seen.get(case.name)
        if where == "result":
            assert case.name in archived and case.name not in quarantined, case.name
        elif where == "error":
            assert case.name in quarantined and case.name not in archived, case.name
            [note] = folders["quarantine"].rglob(f"{case.name}.reason.txt")
            text = note.read_text(encoding="utf-8")
            assert text.startswith("input_file: ") and text.count("\n") == 1, text
    assert not [p for p in folders["processing"].rglob("*") if p.is_file()]
    assert summary.documents == len(cases) - len(waiting)

    # The link was moved, never followed: its target is untouched and was not read.
    assert secret.read_bytes() == secret_bytes
    assert "link-out.png" not in {r["document"] for r in read_csv_rows(run / "fields.csv")}
    [link] = folders["quarantine"].rglob("link-out.png")
    assert link.is_symlink()

    # A formula-like file name is text in every CSV we write and in the ledger.
    raw = (run / "fields.csv").read_text(encoding="utf-8")
    assert "\n\"'=cmd|" in raw and '\n"=cmd' not in raw and "\n=cmd" not in raw
    assert FORMULA_NAME in {r["document"] for r in read_csv_rows(run / "fields.csv")}
    ledger = (folders["archive"] / "ledger.tsv").read_text(encoding="utf-8")
    assert "\t'=cmd|" in ledger and "\t=cmd" not in ledger


def test_a_copy_of_a_failing_file_is_quarantined_with_it(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGITISE_SETTLE_S", "0")
    for name in ("a-empty.pdf", "b-copy.pdf"):  # read in name order: b is the copy
        (folders["inbox"] / name).write_bytes(b"")
    summary = run_digitise_forms(watch_inbox=True)
    assert (summary.processed, summary.failed, summary.skipped) == (0, 2, 0)
    errors = read_csv_rows(Path(summary.run_dir) / "errors.csv")
    assert sorted(e["document"] for e in errors) == ["a-empty.pdf", "b-copy.pdf"]
    copy = next(e for e in errors if e["document"] == "b-copy.pdf")
    assert copy["message"].startswith("b-copy.pdf: identical to a-empty.pdf: file is empty")
    quarantined = sorted(p.name for p in folders["quarantine"].rglob("*.pdf"))
    assert quarantined == ["a-empty.pdf", "b-copy.pdf"]
    assert not folders["archive"].exists() or not any(folders["archive"].rglob("*.pdf"))
