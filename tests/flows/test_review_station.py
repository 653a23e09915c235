"""The review station in a real browser (Debian's chromium through Playwright), on a real run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks import free_port
from benchmarks.browser import CHROMIUM, launch
from flows.digitise import digitise_forms
from ocr_core.results.csvfiles import read_csv_rows
from tests.folders import use_run_folders

SAMPLES = Path("data/samples")
TEMPLATES = Path("data/templates")
SHOTS = os.environ.get("REVIEW_SHOTS_DIR")  # set it to keep screenshots of the page

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _need_browser() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "playwright (pip install playwright)"
    else:
        missing = "" if CHROMIUM.exists() else "chromium (make chromium)"
    if missing and os.environ.get("CI"):
        pytest.fail(f"the browser test needs {missing}")
    if missing:
        pytest.skip(f"the browser test needs {missing}")


def _truth(document: str) -> dict[tuple[int, str], str]:
    data = json.loads((SAMPLES / Path(document).with_suffix(".json").name).read_text())
    return {(p["page"], f["name"]): f["value"] for p in data["pages"] for f in p["fields"]}


class Station:
    """``python -m flows.review serve RUN_DIR`` as a user starts it, on a free port."""

    def __init__(self, run: Path) -> None:
        self.run = run
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> str:
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "flows.review",
            "serve",
            str(self.run),
            "--port",
            str(port),
        ]
        self.process = subprocess.Popen([*command, "--reviewer", "tester"])
        self.url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "api/state", timeout=2).close()
                return self.url
            except OSError:
                assert self.process.poll() is None, "the review station exited"
                time.sleep(0.3)
        raise AssertionError("the review station did not answer in 60 s")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)  # no goodbye: what was acknowledged is on disk
            self.process.wait(10)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real run of two sample forms (a PDF of two pages, and one with a surname cut wrongly)."""
    use_run_folders(tmp_path, monkeypatch)
    inputs = [str(SAMPLES / "change-of-address-001.pdf"), str(SAMPLES / "loan-application-001.pdf")]
    summary = digitise_forms(input=inputs, templates=[str(TEMPLATES)])
    return Path(summary.run_dir)


@pytest.fixture
def station(run: Path) -> Iterator[Station]:
    _need_browser()
    server = Station(run)
    yield server
    server.kill()


def _pick(sheet: list[dict[str, str]]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Fields from the run's own review sheet: one misread, one read right, one more.

    The misread one is corrected (one whose length differs first: a letter cut in two), the one
    read right is accepted, the third is marked unreadable.
    """
    truth = {id(r): _truth(r["document"]).get((int(r["page"]), r["field"]), "") for r in sheet}
    wrong = [r for r in sheet if truth[id(r)] and truth[id(r)] != r["value"]]
    wrong.sort(key=lambda r: len(truth[id(r)]) == len(r["value"]))  # another length first
    right = [r for r in sheet if truth[id(r)] == r["value"]]
    assert wrong and right, "the run has no misread field, or no field read right, in review"
    fix, accept = wrong[0], right[0]
    rest = [r for r in sheet if r is not fix and r is not accept]
    assert rest, "the run has only two fields in review"
    return {**fix, "truth": truth[id(fix)]}, accept, rest[0]


def _card(page: Any, row: dict[str, str]) -> Any:
    where = f"[data-document='{row['document']}'][data-page='{row['page']}']"
    return page.locator(f".field{where}[data-field='{row['field']}']")


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=False)


def test_a_run_reviewed_end_to_end_in_a_browser(
    run: Path, station: Station, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    fix, accept, unreadable = _pick(read_csv_rows(run / "review_fields.csv"))
    total = len(read_csv_rows(run / "review_fields.csv"))
    with sync_playwright() as p:
        browser = launch(p, tmp_path / "profile", viewport={"width": 1280, "height": 900})
        page = browser.new_page()
        page.goto(station.start())
        expect(page.locator("#progress")).to_have_text(f"0 of {total} fields")
        _shot(page, "1-field-list.png")

        # A field cut wrongly: typing replaces the value read, Enter saves the right one.
        _card(page, fix).locator("input").click()
        page.keyboard.type(fix["truth"])
        _shot(page, "2-field-being-corrected.png")
        page.keyboard.press("Enter")
        expect(_card(page, fix)).to_have_attribute("data-state", "corrected")
        # A field read right: one keystroke.
        _card(page, accept).locator("input").click()
        page.keyboard.press("Enter")
        expect(_card(page, accept)).to_have_attribute("data-state", "accepted")
        expect(page.locator("#progress")).to_have_text(f"2 of {total} fields")

        # The server is killed mid-review and started again: nothing is lost.
        station.kill()
        page.goto(station.start())
        expect(page.locator("#progress")).to_have_text(f"2 of {total} fields")
        expect(_card(page, fix)).to_have_attribute("data-state", "corrected")
        expect(_card(page, fix).locator("input")).to_have_value(fix["truth"])
        expect(_card(page, accept)).to_have_attribute("data-state", "accepted")

        # One key marks a field unreadable on paper; Up reopens it.
        _card(page, unreadable).locator("input").click()
        page.keyboard.press("Escape")
        expect(_card(page, unreadable)).to_have_attribute("data-state", "unreadable")
        page.keyboard.press("ArrowUp")
        expect(_card(page, unreadable)).to_have_class("field current")
        expect(page.locator("#progress")).to_have_text(f"3 of {total} fields")
        _shot(page, "3-progress.png")

        page.locator("#apply").click()
        expect(page.locator("#report")).to_contain_text("training examples:")
        _shot(page, "4-applied.png")
        browser.close()

    _check_applied(run, fix, accept, unreadable)


def _check_applied(
    run: Path, fix: dict[str, str], accept: dict[str, str], unreadable: dict[str, str]
) -> None:
    rows = read_csv_rows(run / "fields_reviewed.csv")
    reviewed = {(r["document"], r["page"], r["field"]): r for r in rows}
    after = reviewed[(fix["document"], fix["page"], fix["field"])]
    assert (after["value"], after["status"], after["changed"]) == (fix["truth"], "ok", "true")
    assert reviewed[(accept["document"], accept["page"], accept["field"])]["status"] == "ok"
    gone = reviewed[(unreadable["document"], unreadable["page"], unreadable["field"])]
    assert (gone["value"], gone["status"]) == ("", "unreadable")
    changes = {(c["field"], c["before"], c["after"]) for c in read_csv_rows(run / "changes.csv")}
    assert (fix["field"], fix["value"], fix["truth"]) in changes
    labels = read_csv_rows(Path(os.environ["DIGITISE_REVIEWED_DIR"]) / "labels.csv")
    # Examples only from the accepted field (and the corrected one only if it pairs with its crops).
    by_field: dict[tuple[str, str, str], list[str]] = {}
    for row in labels:
        by_field.setdefault((row["document"], row["page"], row["field"]), []).append(row["label"])
        assert row["reviewer"] == "tester" and row["reviewed_at"]
    key = (accept["document"], accept["page"], accept["field"])
    assert "".join(by_field.pop(key)) == accept["value"].replace(" ", "")
    fixed = (fix["document"], fix["page"], fix["field"])
    if len(fix["truth"]) != len(fix["value"]):
        assert fixed not in by_field
    assert set(by_field) <= {fixed}
    shutil.rmtree(run / "crops", ignore_errors=True)  # keep tmp small


def test_a_paragraph_is_shown_large_enough_to_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real HSF sample's preamble is shown large once it is the field being reviewed.

    A field of one line keeps its usual height.
    """
    from playwright.sync_api import expect, sync_playwright

    _need_browser()
    use_run_folders(tmp_path, monkeypatch)
    summary = digitise_forms(
        input=[str(SAMPLES / "nist-hsf-f0000_14.png")],
        templates=[str(TEMPLATES / "nist-hsf.yaml")],
    )
    server = Station(Path(summary.run_dir))
    try:
        with sync_playwright() as p:
            browser = launch(p, tmp_path / "profile", viewport={"width": 1280, "height": 900})
            page = browser.new_page()
            page.goto(server.start())
            heights = {}
            for field in ("preamble", "uppercase"):
                card = page.locator(f".field[data-field='{field}']")
                card.locator("input").click()
                expect(card).to_have_class("field current")
                image = card.locator("img.page")
                page.wait_for_function("img => img.complete", arg=image.element_handle())
                heights[field] = image.bounding_box()["height"]
            _shot(page, "5-paragraph.png")
            browser.close()
    finally:
        server.kill()
    assert heights["preamble"] >= 400  # at most 150 px it was shown at a fifth of its size
    assert heights["uppercase"] <= 150
    shutil.rmtree(Path(summary.run_dir) / "crops", ignore_errors=True)
