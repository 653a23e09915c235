"""End-to-end runs of digitise-forms on the committed sample forms and the shipped models."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from flows.digitise import main, run_digitise_forms
from ocr_core.errors import ModelError
from ocr_core.reading.document import CROP_MARGIN
from ocr_core.results.char_crops import read_crop, split_crop
from ocr_core.results.csvfiles import read_csv_rows
from ocr_core.results.records import CHAR_COLUMNS, ERROR_COLUMNS, FIELD_COLUMNS, REVIEW_COLUMNS
from ocr_core.review.apply import apply_review
from ocr_core.settings import load_settings
from tests.folders import use_run_folders

SAMPLES = Path("data/samples")
TEMPLATES = Path("data/templates")

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run-time folders of a fresh installation, under tmp_path."""
    use_run_folders(tmp_path, monkeypatch, settle_s=1)
    return tmp_path


def drop(inbox: Path, source: Path, name: str | None = None) -> Path:
    target = inbox / (name or source.name)
    shutil.copyfile(source, target)
    past = time.time() - 30
    os.utime(target, (past, past))
    return target


def truth(document: str) -> dict[tuple[int, str], str]:
    data = json.loads((SAMPLES / Path(document).with_suffix(".json").name).read_text())
    return {(p["page"], f["name"]): f["value"] for p in data["pages"] for f in p["fields"]}


def char_truth(document: str) -> dict[tuple[int, str, int], str]:
    data = json.loads((SAMPLES / Path(document).with_suffix(".json").name).read_text())
    return {
        (p["page"], f["name"], c["index"]): c["char"]
        for p in data["pages"]
        for f in p["fields"]
        for c in f["chars"]
    }


def test_samples_in_every_format(folders: Path) -> None:
    inputs = [
        SAMPLES / n for n in ("loan-application-001.pdf", "mixed-fax-001.tif", "scan-002.png")
    ]
    summary = run_digitise_forms(
        input=[str(p) for p in inputs], output=str(folders / "out"), templates=[str(TEMPLATES)]
    )
    assert (summary.processed, summary.failed, summary.pages) == (3, 0, 6)
    run = Path(summary.run_dir)
    fields = pd.read_csv(run / "fields.csv", dtype=str, keep_default_na=False)
    assert tuple(fields.columns) == FIELD_COLUMNS
    for name, columns in (
        ("characters.csv", CHAR_COLUMNS),
        ("review.csv", REVIEW_COLUMNS),
        ("errors.csv", ERROR_COLUMNS),
    ):
        assert tuple(pd.read_csv(run / name, nrows=0).columns) == columns
    manifest = json.loads((run / "run.json").read_text())
    # Every field of every page is a row, the page's template chosen as the generator used.
    for document in inputs:
        expected = truth(document.name)
        rows = fields[fields["document"] == str(document)]
        assert {(int(str(r.page)), str(r.field)) for r in rows.itertuples()} == set(expected)
        data = json.loads(document.with_suffix(".json").read_text())
        assert manifest["page_templates"][str(document)] == [p["template"] for p in data["pages"]]
    # Characters read without a review flag are nearly all right (the shipped models' job).
    chars = read_csv_rows(run / "characters.csv")
    assert len(chars) > 300
    # Each character's crop is its box (and a margin) in its field's one crops image.
    for c in chars:
        crop = read_crop(run, c["crop"])
        assert crop is not None, c["crop"]
        box = sorted((int(c["x1"]) - int(c["x0"]), int(c["y1"]) - int(c["y0"])))
        sides = sorted(crop.shape)
        assert all(b <= s <= b + 2 * CROP_MARGIN for b, s in zip(box, sides, strict=True)), c
    images = {split_crop(c["crop"])[0] for c in chars}
    assert len(images) == len({(c["document"], c["page"], c["field"]) for c in chars})
    expected_chars = {
        (str(d), *key): value for d in inputs for key, value in char_truth(d.name).items()
    }
    accepted = [c for c in chars if c["needs_review"] == "false"]
    right = sum(
        expected_chars.get((c["document"], int(c["page"]), c["field"], int(c["index"])))
        == c["char"]
        for c in accepted
    )
    # A regression guard on these few pages (measured 96.6% with the shipped bundles); the
    # pipeline's accuracy targets are measured by benchmarks/pipeline.py on fresh forms.
    assert len(accepted) > 0.6 * len(chars)
    assert right >= 0.95 * len(accepted)
    assert len(list((run / "overlays").iterdir())) == 6


def test_bad_files_are_errors_and_the_batch_goes_on(folders: Path) -> None:
    empty = folders / "empty.pdf"
    empty.write_bytes(b"")
    text = folders / "notes, really.pdf"
    text.write_text("this is not a PDF")
    good = SAMPLES / "scan-001.png"
    code = main([str(empty), str(good), str(text), "--output", str(folders / "out")])
    assert code == 2
    [run] = (folders / "out").iterdir()
    errors = read_csv_rows(run / "errors.csv")
    assert [e["document"] for e in errors] == [str(empty), str(text)]
    assert all(e["error"] == "input_file" and e["message"] for e in errors)
    assert {r["document"] for r in read_csv_rows(run / "fields.csv")} == {str(good)}
    assert empty.exists() and text.exists()  # manual runs never move the user's files


def test_folder_watch_archives_quarantines_and_skips_duplicates(folders: Path) -> None:
    inbox = folders / "inbox"
    drop(inbox, SAMPLES / "scan-001.png")
    drop(inbox, SAMPLES / "scan-001.png", "same bytes again.png")
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    os.utime(inbox / "broken.pdf", (time.time() - 30, time.time() - 30))
    drop(inbox, SAMPLES / "scan-002.png", "still-copying.png")
    # Just written: not settled. Its mtime is set ahead so that the run, however slow to start
    # on a loaded machine, still finds it younger than the 5 s settle time.
    later = time.time() + 300
    os.utime(inbox / "still-copying.png", (later, later))

    summary = run_digitise_forms(watch_inbox=True, templates=[str(TEMPLATES)])
    assert (summary.processed, summary.failed, summary.skipped) == (1, 1, 1)
    run = Path(summary.run_dir)
    [error] = read_csv_rows(run / "errors.csv")
    assert error["document"] == "broken.pdf"
    quarantined = Path(error["quarantined_to"])
    assert quarantined.exists() and quarantined.parent.parent == folders / "quarantine"
    assert quarantined.with_name("broken.pdf.reason.txt").read_text().startswith("input_file")
    archived = sorted(p.name for p in (folders / "archive").rglob("*.png"))
    assert archived == ["same bytes again.png", "scan-001.png"]
    assert [p.name for p in inbox.iterdir()] == ["still-copying.png"]
    assert not any((folders / "processing").iterdir())

    # The same file dropped again later is archived without being read a second time.
    drop(inbox, SAMPLES / "scan-001.png", "resent.png")
    past = time.time() - 30
    os.utime(inbox / "still-copying.png", (past, past))  # its copy has finished meanwhile
    again = run_digitise_forms(watch_inbox=True, templates=[str(TEMPLATES)])
    assert (again.skipped, again.failed) == (1, 0)
    assert {r["document"] for r in read_csv_rows(Path(again.run_dir) / "fields.csv")} == {
        "still-copying.png"
    }


def test_files_left_by_a_killed_run_are_processed(folders: Path) -> None:
    dead = folders / "processing" / "20260101T000000Z-killed-run"
    dead.mkdir(parents=True)
    shutil.copyfile(SAMPLES / "scan-002.png", dead / "left-behind.png")
    summary = run_digitise_forms(watch_inbox=True, templates=[str(TEMPLATES)])
    assert summary.processed == 1
    assert [p.name for p in (folders / "archive").rglob("left-behind.png")] == ["left-behind.png"]
    assert not dead.exists()


def test_broken_model_stops_before_any_input_is_claimed(
    folders: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGITISE_MODELS_DIR", str(folders / "no-models"))
    dropped = drop(folders / "inbox", SAMPLES / "scan-001.png")
    with pytest.raises(ModelError, match="no-models"):
        run_digitise_forms(watch_inbox=True, templates=[str(TEMPLATES)])
    assert dropped.exists()


def test_review_of_a_real_run(folders: Path) -> None:
    # A threshold of 1 sends every character to review.
    summary = run_digitise_forms(
        input=[str(SAMPLES / "scan-001.png")], templates=[str(TEMPLATES)], threshold=1.0
    )
    run = Path(summary.run_dir)
    rows = read_csv_rows(run / "review.csv")
    assert len(rows) == summary.characters == summary.needs_review > 20
    first = rows[0]
    corrected = "7" if first["char"] != "7" else "1"
    text = (run / "review.csv").read_text(encoding="utf-8").splitlines()
    text[1] = text[1] + corrected  # the correction column is the last one
    (run / "review.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    outcome = apply_review(run, run / "review.csv", load_settings().reviewed_dir)
    # Only the corrected character teaches: nobody looked at the others.
    assert outcome.changed == 1 and outcome.examples_added == 1
    [change] = read_csv_rows(run / "changes.csv")
    assert (change["field"], change["before"], change["after"]) == (
        first["field"],
        first["char"],
        corrected,
    )


def test_review_threshold_setting_applies_below_the_flag(
    folders: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGITISE_REVIEW_THRESHOLD", "0.5")
    document = [str(SAMPLES / "scan-001.png")]
    summary = run_digitise_forms(input=document, templates=[str(TEMPLATES)])
    manifest = json.loads((Path(summary.run_dir) / "run.json").read_text())
    assert manifest["thresholds"] == {"digits": 0.5, "alnum": 0.5}
    assert manifest["threshold"] == 0.5
    rows = read_csv_rows(Path(summary.run_dir) / "characters.csv")
    clear = [r for r in rows if abs(float(r["confidence"]) - 0.5) > 1e-3]  # not rounded across
    assert all((float(r["confidence"]) < 0.5) == (r["needs_review"] == "true") for r in clear)
    # The run's own threshold wins over the setting.
    flagged = run_digitise_forms(input=document, templates=[str(TEMPLATES)], threshold=1.0)
    manifest = json.loads((Path(flagged.run_dir) / "run.json").read_text())
    assert manifest["thresholds"] == {"digits": 1.0, "alnum": 1.0}
