"""Generated forms read with drafted templates against the templates written by hand.

    python -m benchmarks.draft_reading [--forms 40] [--seed 7]

The loan-application and change-of-address blanks are rendered, scanned with our scan
simulation (a user scanning the printed blank) and drafted; each drafted template then has
only its names and charsets edited to the hand-written template's (fields paired by box), as
a user would. Filled forms are generated (``benchmarks.pipeline.generate``, house style) and
read twice through the pipeline on a warm server: with the drafted templates, and with the
shipped ones; and a third time ``--template-free`` (fields named from their labels; the two
labels that do not give the template's name, "Date" and "Amount GBP", leave those fields
unpaired with the truth, so its accuracies are low by them: compare its share flagged).
Figures as ``benchmarks.pipeline`` prints them, side by side. Needs DIGITISE_DATASETS_DIR and
Tesseract.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

from benchmarks.pipeline import TEMPLATES, accuracy, generate
from flows.digitise import digitise_forms
from flows.prefect_server import local_server
from segmentation.draft.drafting import draft_template
from segmentation.render import render_blank_form
from segmentation.synthetic.scan import ScanParams, simulate_scan, write_pages
from segmentation.templates import load_template

NAMES = ("loan-application", "change-of-address")


def drafted_templates(folder: Path, seed: int) -> Path:
    """Draft each form from a scan of its blank; copy the hand template's names and charsets."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for name in NAMES:
        hand = load_template(TEMPLATES / f"{name}.yaml")
        params = ScanParams(
            angle=float(rng.uniform(-1.5, 1.5)),
            shift=(float(rng.uniform(-40, 40)), float(rng.uniform(-40, 40))),
            blur=0.6,
            noise=3.0,
        )
        scan, _ = simulate_scan(render_blank_form(hand), params, rng)
        blank = write_pages([scan], folder / f"{name}-scan.png", "png")
        out = folder / f"{name}.yaml"
        draft_template(blank, out, name=name)
        blank.unlink()
        data = yaml.safe_load(out.read_text())
        for field in data["fields"]:
            spec = min(hand.fields, key=lambda s: _distance(s.box, field["box"]))
            field.update(name=spec.name, charset=spec.charset)
        out.write_text(yaml.safe_dump(data, sort_keys=False))
        print(f"{out.name}: {len(data['fields'])} fields drafted, {len(hand.fields)} by hand")
    return folder


def _distance(a: tuple[int, ...], b: list[int]) -> int:
    return max(abs(u - v) for u, v in zip(a, b, strict=True))


def main() -> int:
    """Draft, generate, read twice, print both sets of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, local_server():
        folder = Path(tmp)
        drafted = drafted_templates(folder / "drafted", args.seed)
        forms = folder / "forms"
        generate(forms, args.forms, args.seed)
        for label, templates in (("drafted", drafted), ("by hand", TEMPLATES), ("free", None)):
            summary = digitise_forms(
                input=[str(forms)],
                output=str(folder / "out"),
                templates=[str(templates)] if templates else None,
                template_free=templates is None,
            )
            figures[label] = accuracy(Path(summary.run_dir), forms)
    keys = list(figures["drafted"])
    width = max(len(k) for k in keys)
    print(f"{'':<{width}}  " + "  ".join(f"{label:>10}" for label in figures))
    for key in keys:
        row = [figures[label][key] for label in figures]
        print(f"{key:<{width}}  " + "  ".join(f"{v:>10.4f}" for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
