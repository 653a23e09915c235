"""Drafting templates from blanks: round trip, the real HSF blank, and the time per page.

    python -m benchmarks.draft [--scans N] [--styles N] [--seed S] [--hsf DIR]

- Round trip: every shipped template's blank (rendered, in the house style and in N random
  line styles), scanned with our scan simulation (N scans each, no quarter turns) and drafted.
  Each drafted box is mapped back through the scan and the drafter's own deskew, and compared
  with the template's: within 3 px, same kind, same cell count, and the name the printed label
  gives (``label_name`` of the template's label, the name a user would expect from the print).
- HSF: the real blank ``hsftmplt.png`` drafted; its 34 boxes compared with ``hsftmplt.pts``
  (within 6 px, no extra fields).
- Speed: seconds per draft, Tesseract included (the machine's cores as they are).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from segmentation.draft.drafting import draft_page
from segmentation.draft.naming import label_name
from segmentation.records import Box, Template
from segmentation.render import FormStyle, render_blank_form
from segmentation.synthetic.scan import ScanParams, simulate_scan
from segmentation.synthetic.styles import random_style
from segmentation.templates import load_templates

ROOT = Path(__file__).resolve().parent.parent


def _params(rng: np.random.Generator, faint_lines: bool) -> ScanParams:
    """A scan of a blank as a user makes one: small skew and shift, blur, noise, JPEG or b/w.

    A blank printed with light grey or 1-2 px lines is scanned in grey, as the README tells
    the user: black and white loses such lines (a blurred hairline falls under the threshold).
    """
    binarise = bool(rng.random() < 0.3) and not faint_lines
    return ScanParams(
        angle=float(rng.uniform(-2, 2)),
        shift=(float(rng.uniform(-60, 60)), float(rng.uniform(-60, 60))),
        blur=float(rng.choice([0.0, rng.uniform(0.4, 1.0)])),
        noise=float(rng.uniform(1, 6)),
        binarise=binarise,
        jpeg_quality=0 if binarise else int(rng.choice([0, int(rng.integers(60, 90))])),
        shading=float(rng.choice([0.0, rng.uniform(0.1, 0.3)])),
    )


def _faint(style: FormStyle | None) -> bool:
    """True for a blank printed with light grey lines or hairlines (1-2 px)."""
    return style is not None and (style.shade > 0 or 0 < style.thickness <= 2)


def _map(box: Box, matrix: np.ndarray) -> Box:
    """A box mapped by a 3x3 matrix (small rotations: the corners' bounding box centre-kept)."""
    x0, y0, x1, y1 = box
    pts = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], float) @ matrix.T
    return (
        round((pts[0, 0] + pts[3, 0]) / 2),
        round((pts[0, 1] + pts[1, 1]) / 2),
        round((pts[1, 0] + pts[2, 0]) / 2),
        round((pts[2, 1] + pts[3, 1]) / 2),
    )


def round_trip(template: Template, blank: np.ndarray, params: ScanParams, seed: int) -> dict:
    """Scan a blank, draft it, and compare the draft with the template."""
    scan, to_scan = simulate_scan(blank, params, np.random.default_rng(seed))
    start = time.perf_counter()
    found, _marks = draft_page(scan, template.dpi)
    seconds = time.perf_counter() - start
    to_draft = found.matrix @ to_scan
    drafted = [f for f in found.fields if f.kind != "mark"]
    out = {"fields": len(template.fields), "found": len(drafted), "seconds": seconds}
    within = kinds = cells = names = labelled = 0
    wrong: list[str] = []
    for spec in template.fields:
        expected = _map(spec.box, to_draft)
        near = min(drafted, key=lambda f: box_error(f.box, expected), default=None)
        if near is None or box_error(near.box, expected) > 3:
            continue
        within += 1
        kinds += near.kind == spec.kind
        cells += len(near.cells) == len(spec.cells)
        name = label_name(_plain(spec.label))
        if name and sum(label_name(_plain(s.label)) == name for s in template.fields) == 1:
            labelled += 1
            names += near.name == name
            if near.name != name:
                wrong.append(f"{near.name}!={name}")
    out.update(within=within, kinds=kinds, cells=cells, labelled=labelled, names=names)
    if wrong:
        out["wrong_names"] = wrong  # type: ignore[assignment]
    return out


def _plain(label: str) -> str:
    import re

    return re.sub(r"\b(DD|MM|YY|YYYY)+\b", " ", label)


def box_error(a: Box, b: Box) -> int:
    """The largest difference, in pixels, between two boxes' sides."""
    return max(abs(u - v) for u, v in zip(a, b, strict=True))


def hsf(folder: Path) -> dict:
    """Draft the real HSF blank and compare with NIST's 34 boxes."""
    import cv2

    blank = np.asarray(cv2.imread(str(folder / "hsftmplt.png"), cv2.IMREAD_GRAYSCALE), np.uint8)
    rows = (folder / "hsftmplt.pts").read_text().split("\n")[1:35]
    truth = []
    for row in rows:
        v = [int(x) for x in row.split()]
        truth.append((v[0], v[1], v[6] + 1, v[7] + 1))
    start = time.perf_counter()
    found, _ = draft_page(blank, 300)
    seconds = time.perf_counter() - start
    errors = []
    for box in truth:
        errors.append(min((box_error(f.box, box) for f in found.fields), default=999))
    matched = sum(e <= 6 for e in errors)
    return {
        "fields": len(found.fields),
        "matched_6px": matched,
        "worst_px": max(errors),
        "extra": len(found.fields) - matched,
        "seconds": seconds,
    }


def main() -> None:
    """Print the round trip, HSF and speed figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=3, help="scans per blank and style")
    parser.add_argument("--styles", type=int, default=2, help="random line styles per template")
    parser.add_argument("--seed", type=int, default=0)
    datasets = Path(os.environ.get("DIGITISE_DATASETS_DIR", "data/datasets"))
    parser.add_argument("--hsf", type=Path, default=datasets / "hsf-dev" / "template")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    totals: dict[str, float] = {}
    times = []
    for template in load_templates([ROOT / "data" / "templates"]):
        styles = [None] + [random_style(rng).form for _ in range(args.styles)]
        for style in styles:
            if style is not None:
                style = replace(style, shade=min(style.shade, 200))
            blank = render_blank_form(template, style=style)
            for _ in range(args.scans):
                result = round_trip(
                    template,
                    blank,
                    _params(rng, _faint(style)),
                    int(rng.integers(1 << 30)),
                )
                times.append(result.pop("seconds"))
                what = "house" if style is None else f"{style.cells}/{style.thickness}px"
                print(template.name, what, result)
                for key, value in result.items():
                    if key != "wrong_names":
                        totals[key] = totals.get(key, 0) + value
    print("round trip totals:", totals)
    if (args.hsf / "hsftmplt.png").exists():
        result = hsf(args.hsf)
        times.append(result.pop("seconds"))
        print("HSF blank:", result)
    print(f"seconds per draft: median {np.median(times):.2f}, max {max(times):.2f}")


if __name__ == "__main__":
    main()
