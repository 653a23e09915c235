"""Fields with a list of allowed values, and the tick boxes, on generated change-of-address forms.

Usage (from the repository root): DIGITISE_DATASETS_DIR=... python -m benchmarks.choices
[--pages 60] [--seed 11]. Fills change-of-address forms with the *test* handwriting, reads each
page twice (its town with the list of towns, and without), and prints the town's exact rate
before review both ways, the share flagged, the title and the tick box among those not
flagged, and the time the list look-up takes per field with a 10,000-value list.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from ocr_core.reading.choices import choose_value, row_alternatives
from ocr_core.reading.document import digitise_document
from ocr_core.reading.recognisers import Recognisers
from ocr_core.results.records import CharRow, FieldRow
from ocr_core.settings import load_settings
from segmentation import load_template
from segmentation.records import Template
from segmentation.synthetic import load_glyph_pool, make_document

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "data" / "templates" / "change-of-address.yaml"
LIST_SIZE = 10_000


def without_lists(template: Template) -> Template:
    """The template with every list of allowed values taken off its fields."""
    fields = tuple(
        replace(f, validation=replace(f.validation, choices=(), choices_file=None))
        if f.validation.choices
        else f
        for f in template.fields
    )
    return replace(template, fields=fields)


def long_list(choices: tuple[str, ...], size: int, seed: int = 0) -> tuple[str, ...]:
    """The list padded to ``size`` values with made-up town names (2-4 syllables)."""
    rng = np.random.default_rng(seed)
    syllables = [a + b for a in "BCDFGHKLMNPRSTW" for b in ("A", "E", "I", "O", "U", "AN", "ER")]
    names = dict.fromkeys(choices)
    while len(names) < size:
        parts = rng.choice(syllables, int(rng.integers(2, 5)))
        names.setdefault("".join(parts), None)
    return tuple(names)


def main(argv: list[str] | None = None) -> int:
    """Generate, read twice, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    settings = load_settings()
    template = load_template(TEMPLATE)
    plain = without_lists(template)
    recognisers = Recognisers(settings.models_dir)
    pool = load_glyph_pool()
    scans, truth = make_document([template], pool, np.random.default_rng(args.seed), args.pages)
    counts: dict[str, int] = {}
    towns: list[list[CharRow]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, (scan, record) in enumerate(zip(scans, truth, strict=True)):
            path = Path(tmp) / f"page-{number:03d}.png"
            cv2.imwrite(str(path), scan)
            want = {f["name"]: f["value"] for f in record["fields"]}
            for label, forms in (("list", [template]), ("plain", [plain])):
                run = Path(tmp) / label
                got = digitise_document(
                    path, path.name, forms, recognisers, run, slot=number, overlays=False
                )
                rows = {row.field: row for row in got.fields}
                tally(counts, label, rows, want)
                if label == "list":
                    towns.append([c for c in got.chars if c.field == "town"])
    report(counts, args.pages)
    time_lookup(towns, template)
    return 0


def tally(counts: dict[str, int], label: str, rows: dict[str, FieldRow], want: dict) -> None:
    """Count the town (exact before review, flagged, right when not flagged), title and mark."""

    def add(key: str, yes: bool = True) -> None:
        counts[key] = counts.get(key, 0) + int(yes)

    town, truth = rows.get("town"), want["town"]
    if town is not None and truth:
        read = town.value if label == "list" else town.value.replace(" ", "")
        expected = truth if label == "list" else "".join(c for c in truth if c.isalnum())
        add(f"{label} towns")
        add(f"{label} exact", read == expected)
        add(f"{label} flagged", town.needs_review)
        add(f"{label} right unflagged", read == expected and not town.needs_review)
        if label == "list" and read != expected:
            print(f"  town {expected!r} read {read!r} ({town.status}: {town.reason})")
    if label == "list":
        for name in ("title", "moved_before"):
            row = rows[name]
            add(f"{name} read")
            add(f"{name} flagged", row.needs_review)
            add(f"{name} right unflagged", not row.needs_review and row.value == want[name])


def report(counts: dict[str, int], pages: int) -> None:
    """Print the figures."""

    def rate(a: str, b: str) -> str:
        top, bottom = counts.get(a, 0), counts.get(b, 0)
        return f"{top}/{bottom} ({top / max(1, bottom):.2%})"

    print(f"pages={pages} (change-of-address, test handwriting, house style)")
    for label, what in (("list", "with the town list"), ("plain", "without the list")):
        towns = f"{label} towns"
        unflagged = counts.get(towns, 0) - counts.get(f"{label} flagged", 0)
        counts[f"{label} unflagged"] = unflagged
        print(
            f"town {what}: exact before review {rate(f'{label} exact', towns)}, flagged "
            f"{rate(f'{label} flagged', towns)}, exact among not flagged "
            f"{rate(f'{label} right unflagged', f'{label} unflagged')}"
        )
    for name in ("title", "moved_before"):
        counts[f"{name} unflagged"] = counts.get(f"{name} read", 0) - counts.get(
            f"{name} flagged", 0
        )
        print(
            f"{name}: flagged {rate(f'{name} flagged', f'{name} read')}, right among not flagged "
            f"{rate(f'{name} right unflagged', f'{name} unflagged')}"
        )
    print("target: fields with a list >= 99% exact before review")


def time_lookup(towns: list[list[CharRow]], template: Template) -> None:
    """Time the look-up of each town read against a 10,000-value list."""
    spec = next(f for f in template.fields if f.name == "town")
    choices = long_list(spec.validation.choices, LIST_SIZE)
    readings = [[row_alternatives(r) for r in rows] for rows in towns if rows]
    choose_value(readings[0], choices)  # the list is indexed once, on first use
    started = time.perf_counter()
    repeats = 10
    for _ in range(repeats):
        for reading in readings:
            choose_value(reading, choices)
    per_field = (time.perf_counter() - started) / (repeats * len(readings))
    print(
        f"list look-up, {len(choices)} values: {per_field * 1000:.3f} ms per field "
        f"({len(readings)} towns read x {repeats}); target <= 2 ms"
    )


if __name__ == "__main__":
    sys.exit(main())
