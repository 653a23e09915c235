"""Measure the keystrokes a reviewer needs for the demo run's flagged fields, in a real browser.

    python -m benchmarks.review_keystrokes

Digitises ``data/samples`` (what ``make demo`` reads) on a throw-away Prefect server, serves
the run with ``python -m flows.review serve`` and, in Debian's chromium, answers every field
in review from the samples' ground truth, as a clerk would: Enter where the reading is right,
the right value typed then Enter where it is not, Esc where nothing was written. Only keys are
pressed (the page moves to the next field by itself). Prints the keystrokes against the
target (one per accepted field plus each correction's characters), and the training examples
applying added before any answer (must be 0) and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks import free_port
from benchmarks.browser import launch

SAMPLES = Path("data/samples")


def _truth() -> dict[tuple[str, int, str], str]:
    out = {}
    for path in SAMPLES.glob("*.json"):
        data = json.loads(path.read_text())
        for page in data["pages"]:
            for field in page["fields"]:
                out[(data["document"], page["page"], field["name"])] = field["value"]
    return out


def _char_truth() -> dict[tuple[str, int, str, int], str]:
    out = {}
    for path in SAMPLES.glob("*.json"):
        data = json.loads(path.read_text())
        for page in data["pages"]:
            for field in page["fields"]:
                for char in field.get("chars", []):
                    out[(data["document"], page["page"], field["name"], char["index"])] = char[
                        "char"
                    ]
    return out


def _label_agreement(reviewed: Path) -> tuple[int, int, int]:
    """Labels equal to the character written at the crop's index, labels with such a truth, all.

    The NIST page's ground truth has field values only, no characters: its labels are counted
    apart.
    """
    from ocr_core.results.csvfiles import read_csv_rows

    truth = _char_truth()
    rows = [r for r in read_csv_rows(reviewed / "labels.csv") if r["label"]]
    known = [
        (truth.get((Path(r["document"]).name, int(r["page"]), r["field"], int(r["index"]))), r)
        for r in rows
    ]
    checked = [(t, r) for t, r in known if t is not None]
    return sum(t == r["label"] for t, r in checked), len(checked), len(rows)


def _serve(run: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "flows.review", "serve", str(run), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "api/state", timeout=2).close()
            return process, url
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the review station did not start")


def _review(url: str, truth: dict[tuple[str, int, str], str]) -> dict[str, int]:
    from playwright.sync_api import expect, sync_playwright

    counts = {
        "accepted": 0,
        "corrected": 0,
        "unreadable": 0,
        "typed": 0,
        "keystrokes": 0,
        "refused": 0,
    }
    with sync_playwright() as p, tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        browser = launch(p, profile)
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector(".field.current input")
        with urllib.request.urlopen(url + "api/state") as reply:
            state = json.loads(reply.read())
        for _ in range(state["total"]):
            current = page.locator(".field.current")
            document = current.get_attribute("data-document") or ""
            field = current.get_attribute("data-field") or ""
            where = (document, int(current.get_attribute("data-page") or 0), field)
            item = next(
                f for f in state["fields"] if (f["document"], f["page"], f["field"]) == where
            )
            right = truth.get((Path(document).name, item["page"], field), "")
            before = page.inner_text("#progress")
            if not right:
                page.keyboard.press("Escape")
                counts["unreadable"] += 1
            elif right == item["value"]:
                page.keyboard.press("Enter")
                counts["accepted"] += 1
            else:
                page.keyboard.type(right)
                page.keyboard.press("Enter")
                counts["corrected"] += 1
                counts["typed"] += len(right)
                counts["keystrokes"] += len(right)
            counts["keystrokes"] += 1
            message = current.locator(".msg")
            page.wait_for_timeout(300)
            if message.inner_text():  # refused (it fails its checks as written): unreadable
                page.keyboard.press("Escape")
                counts["keystrokes"] += 1
                counts["refused"] += 1
                counts["accepted" if right == item["value"] else "corrected"] -= 1
            expect(page.locator("#progress")).not_to_have_text(before)
        browser.close()
    return counts


def main() -> int:
    """Run the measurement and print its figures."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.digitise import digitise_forms
    from ocr_core.review.apply import apply_review

    with tempfile.TemporaryDirectory() as scratch:
        os.environ["DIGITISE_OUTPUT_DIR"] = f"{scratch}/output"
        reviewed = Path(scratch) / "reviewed"
        with prefect_test_harness():
            summary = digitise_forms(input=[str(SAMPLES)], templates=["data/templates"])
        run = Path(summary.run_dir)
        untouched = apply_review(run, run / "review.csv", reviewed).examples_added
        process, url = _serve(run)
        try:
            counts = _review(url, _truth())
        finally:
            process.kill()
        outcome = apply_review(run, run / "review.csv", reviewed, reviewer="benchmark")
        agree, checked, labelled = _label_agreement(reviewed)
    typed = counts["typed"]
    fields = sum(counts[k] for k in ("accepted", "corrected", "unreadable", "refused"))
    print(
        f"fields in review: {fields} ({counts['accepted']} accepted, "
        f"{counts['corrected']} corrected, {counts['unreadable']} blank on paper and marked "
        f"unreadable, {counts['refused']} whose written value fails its checks: refused, then "
        "marked unreadable)"
    )
    print(f"keystrokes: {counts['keystrokes']}; mouse clicks: 0")
    print(
        f"  per accepted field: 1 ({counts['accepted']}); per correction: its {typed} typed "
        f"characters in all, then Enter ({counts['corrected']}); Esc per unreadable field "
        f"({counts['unreadable'] + counts['refused']}); Enter on a refused value "
        f"({counts['refused']})"
    )
    print(f"training examples from applying before any answer: {untouched}")
    print(
        f"training examples after the review: {outcome.examples_added} "
        f"({len(outcome.problems)} answer(s) refused)"
    )
    print(
        f"labels equal to the character written at the crop's place: {agree} of the {checked} "
        f"with character ground truth ({labelled - checked} more from a page without it)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
