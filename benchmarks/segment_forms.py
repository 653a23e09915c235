"""Segmentation benchmark on freshly generated synthetic forms: registration, recall, speed.

Usage (from the repository root): DIGITISE_DATASETS_DIR=... python -m benchmarks.segment_forms
[--pages 60] [--seed 7]

Each page is also segmented with its own form left out, against every other form we have
(``data/templates`` and ``benchmarks/templates``), as a page of a form a user has no template
for would be: refused, read loosely (every field sent to review), or read as another form
with a sure fit, which must never happen.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from ocr_core.settings import load_settings
from segmentation import load_templates, segment_page
from segmentation.records import FieldCrops, Template
from segmentation.synthetic import (
    GlyphPool,
    load_glyph_pool,
    make_document,
    match_crops,
    style_of,
    styled_template,
)

ROOT = Path(__file__).resolve().parents[1]


def match_field(found: FieldCrops, truth: dict) -> tuple[int, int, int, list[tuple[int, str]]]:
    """(characters written, of them found, spurious crops, [(crop index, true char)])."""
    pairs = match_crops(found, truth)
    crops = sum(c.status == "ok" for c in found.chars)
    return len(truth["chars"]), len(pairs), crops - len(pairs), pairs


def main() -> int:
    """Generate pages, segment them, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--style",
        choices=["house", "random", "both"],
        default="both",
        help="forms as we print them, in random styles (lines, cells, shade, marks, writing), "
        "or both, reported apart",
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)  # the target is time per page on one core
    templates = load_templates([ROOT / "data" / "templates"])
    others = load_templates([ROOT / "benchmarks" / "templates"])
    pool = load_glyph_pool()
    for style in ("house", "random") if args.style == "both" else (args.style,):
        print(f"== {style} style ==")
        rng = np.random.default_rng(args.seed)
        measure(templates, pool, rng, args.pages, style == "random", others)
    return 0


def measure(
    templates: list[Template],
    pool: GlyphPool,
    rng: np.random.Generator,
    pages: int,
    randomise: bool,
    others: list[Template],
) -> None:
    """Generate ``pages`` forms, segment them, print the figures.

    ``others`` are forms no page is drawn from: candidates when a page's own form is left out.
    """
    scans, records = make_document(templates, pool, rng, pages, randomise=randomise)
    counts: Counter[str] = Counter()
    seconds: list[float] = []
    cpu_seconds: list[float] = []
    crops, labels, charsets = [], [], []
    for scan, record in zip(scans, records, strict=True):
        page_templates = [styled_template(t, style_of(record)) for t in templates + others]
        start, cpu = time.perf_counter(), time.process_time()
        result = segment_page(scan, page_templates[: len(templates)])
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu)
        counts["pages"] += 1
        counts[left_out(scan, [t for t in page_templates if t.name != record["template"]])] += 1
        if result.status != "ok" or result.template != record["template"]:
            counts["unregistered"] += 1
            print(f"page {record['page']}: {result.status} {result.reason} {record['distortion']}")
            continue
        for found, truth in zip(result.fields, record["fields"], strict=True):
            counts["fields"] += 1
            written, hit, spurious, pairs = match_field(found, truth)
            counts[f"{found.kind}_written"] += written
            counts[f"{found.kind}_found"] += hit
            counts[f"{found.kind}_spurious"] += spurious
            counts[f"{found.kind}_crops"] += sum(c.status == "ok" for c in found.chars)
            ok = [c for c in found.chars if c.status == "ok"]
            for index, char in pairs:
                crops.append(ok[index].image)
                labels.append(char)
                charsets.append(found.charset)
    _report(counts, seconds, cpu_seconds, templates)
    _accuracy(crops, labels, charsets)


def _report(
    counts: Counter[str], seconds: list[float], cpu_seconds: list[float], templates: list[Template]
) -> None:
    """Print registration, left-out forms, crop recall and time per page."""
    done = counts["pages"]
    print(f"pages {done}, fields {counts['fields']}, templates {[t.name for t in templates]}")
    print(f"registration success: {(done - counts['unregistered']) / done:.1%}")
    print(
        f"own form left out: refused {counts['left out: refused'] / done:.1%}, read loosely"
        f" (every field to review) {counts['left out: loose'] / done:.1%}, read as another"
        f" form with a sure fit {counts['left out: sure']} of {done} pages (must be 0)"
    )
    for kind in ("comb", "box"):
        written, crops_n = counts[f"{kind}_written"], counts[f"{kind}_crops"]
        hits, spurious = counts[f"{kind}_found"], counts[f"{kind}_spurious"]
        if written:
            print(
                f"{kind}: {written} characters written, recall {hits / written:.2%}"
                f", spurious {spurious} of {crops_n} crops ({spurious / max(1, crops_n):.2%})"
            )
    times = np.array(seconds)
    cpu_times = np.array(cpu_seconds)
    print(
        f"time per page (one OpenCV thread): wall mean {times.mean():.3f} s, median"
        f" {np.median(times):.3f} s, p95 {np.percentile(times, 95):.3f} s; CPU mean"
        f" {cpu_times.mean():.3f} s, p95 {np.percentile(cpu_times, 95):.3f} s"
        f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )


def left_out(scan: np.ndarray, forms: list[Template]) -> str:
    """What segmentation makes of a page whose own form is not among ``forms``.

    ``left out: refused``, ``left out: loose`` (read, its fields doubted: sent to review) or
    ``left out: sure`` (read as another form with no doubt: a confident wrong form).
    """
    result = segment_page(scan, forms)
    if result.status != "ok":
        return "left out: refused"
    return "left out: loose" if all(f.doubt for f in result.fields) else "left out: sure"


def _accuracy(crops: list[np.ndarray], labels: list[str], charsets: list[str]) -> None:
    """End-to-end character accuracy with the shipped classifiers, where they exist.

    Digit fields use the ``digits`` bundle when there is one, everything else the ``alnum`` one.
    """
    models = load_settings().models_dir
    models = models if models.is_absolute() else ROOT / models
    bundles = {name: models / name for name in ("digits", "alnum") if (models / name).is_dir()}
    if not bundles:
        print(f"end-to-end accuracy: skipped (no model bundle under {models} yet)")
        return
    from ocr_core.recognition.inference import load_classifier

    right = total = 0
    for charset in sorted(set(charsets)):
        name = "digits" if charset == "digits" and "digits" in bundles else "alnum"
        if name not in bundles:
            print(f"  charset {charset}: skipped (no {name} bundle)")
            continue
        index = [i for i, c in enumerate(charsets) if c == charset]
        predicted = (
            load_classifier(bundles[name])
            .predict(np.stack([crops[i] for i in index]), charset=charset)
            .labels[:, 0]
        )
        hits = sum(str(p) == labels[i] for p, i in zip(predicted, index, strict=True))
        print(f"  charset {charset} ({name} bundle): {hits / len(index):.2%} of {len(index)}")
        right, total = right + hits, total + len(index)
    if total:
        print(f"end-to-end character accuracy: {right / total:.2%} of {total} found characters")


if __name__ == "__main__":
    sys.exit(main())
