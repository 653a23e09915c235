"""Tick boxes and tick-one groups on generated, scanned tick sheets: accuracy, review, speed.

Usage (from the repository root): python -m benchmarks.ticks [--sheets 40] [--split test|val]
[--fit]. ``--split val`` draws other marks (other seeds) to choose the thresholds on; ``--fit``
prints each state's measured ink, from which ``segmentation.ticks`` took its constants.
No datasets are needed: the marks are drawn, not taken from MNIST.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter

import cv2
import numpy as np

from ocr_core.reading.ticks import MARK_THRESHOLD, read_mark_field
from segmentation import segment_page
from segmentation.paper import flatten_background, ink_threshold
from segmentation.records import MarkInk
from segmentation.synthetic.penmarks import MARKS
from segmentation.synthetic.ticksheet import scanned_sheet
from segmentation.ticks import FILL_FLOOR, cut_marks

SEEDS = {"test": 0, "val": 100_000}
TARGETS = "targets: marks >= 99.5% right among not flagged, <= 3% flagged; choices >= 99.5%"


def truth_state(state: str) -> str:
    """A drawn state as the reader should see it: ticked, empty or crossed_out."""
    return "ticked" if state in MARKS else state


def main(argv: list[str] | None = None) -> int:
    """Generate tick sheets, read them, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sheets", type=int, default=40)
    parser.add_argument("--split", choices=sorted(SEEDS), default="test")
    parser.add_argument("--threshold", type=float, default=MARK_THRESHOLD)
    parser.add_argument("--fit", action="store_true", help="print the ink measured per state")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)  # the target is time per box on one core
    confusion: Counter[tuple[str, str]] = Counter()
    choices: Counter[str] = Counter()
    inks: list[tuple[str, MarkInk]] = []
    seconds, boxes, unregistered = 0.0, 0, 0
    for sheet in range(args.sheets):
        rng = np.random.default_rng(SEEDS[args.split] + sheet)
        template, scan, truth, _ = scanned_sheet(rng)
        result = segment_page(scan, [template])
        if result.status != "ok" or result.transform is None:
            unregistered += 1
            continue
        page = flatten_background(scan)
        threshold, homography = ink_threshold(page), np.array(result.transform).reshape(3, 3)
        started = time.perf_counter()
        fields = [cut_marks(page, s, homography, threshold, template.dpi) for s in template.fields]
        reads = [read_mark_field(f, args.threshold) for f in fields]
        seconds += time.perf_counter() - started
        boxes += sum(len(s.options) for s in template.fields)
        for spec, field, read, want in zip(template.fields, fields, reads, truth, strict=True):
            inks += [
                (truth_state(s), ink) for s, ink in zip(want["states"], field.marks, strict=True)
            ]
            if spec.kind == "mark":
                seen = read.boxes[0].state if read.boxes else "unsure"
                confusion[(truth_state(want["states"][0]), seen)] += 1
            else:
                choices[
                    "flagged"
                    if read.needs_review
                    else "right"
                    if read.value == want["value"]
                    else "wrong"
                ] += 1
    report(confusion, choices, seconds / max(1, boxes), unregistered, args)
    if args.fit:
        print_inks(inks)
        slope, centre = fit_logistic(inks)
        print(f"fitted p(ticked): SLOPE = {slope:.2f}, CENTRE = {centre:.3f}")
    return 0


def report(
    confusion: Counter[tuple[str, str]],
    choices: Counter[str],
    per_box: float,
    unregistered: int,
    args: argparse.Namespace,
) -> None:
    """Print the confusion of lone marks, the choice groups' figures and the time per box."""
    print(
        f"split={args.split} sheets={args.sheets} unregistered={unregistered} "
        f"threshold={args.threshold}"
    )
    seen = ("ticked", "empty", "crossed_out", "unsure")
    print("lone marks: truth \\ read   " + "  ".join(f"{s:>11}" for s in seen))
    for want in ("ticked", "empty", "crossed_out"):
        print(f"  {want:>24}   " + "  ".join(f"{confusion[(want, s)]:>11}" for s in seen))
    total = sum(confusion.values())
    flagged = sum(n for (w, s), n in confusion.items() if s in ("unsure", "crossed_out"))
    # Crossed-out boxes must go to review: the share flagged is also given without them.
    plain = sum(n for (w, _), n in confusion.items() if w != "crossed_out")
    plain_flagged = sum(
        n
        for (w, s), n in confusion.items()
        if w != "crossed_out" and s in ("unsure", "crossed_out")
    )
    print(
        f"ticked or empty boxes flagged: {plain_flagged}/{plain} "
        f"({plain_flagged / max(1, plain):.2%})"
    )
    accepted = total - flagged
    right = sum(n for (w, s), n in confusion.items() if w == s and s in ("ticked", "empty"))
    crossed = sum(n for (w, _), n in confusion.items() if w == "crossed_out")
    crossed_flagged = (
        confusion[("crossed_out", "crossed_out")] + confusion[("crossed_out", "unsure")]
    )
    print(
        f"marks: {total} read, flagged {flagged} ({flagged / max(1, total):.2%}), right among "
        f"not flagged {right}/{accepted} ({right / max(1, accepted):.2%}); crossed-out boxes "
        f"flagged {crossed_flagged}/{crossed}"
    )
    shown = choices["right"] + choices["wrong"]
    groups = shown + choices["flagged"]
    print(
        f"choice groups: {groups} read, flagged {choices['flagged']} "
        f"({choices['flagged'] / max(1, groups):.2%}), exact among not flagged "
        f"{choices['right']}/{shown} ({choices['right'] / max(1, shown):.2%})"
    )
    print(f"seconds per tick box (frame erased, measured, read; one core): {per_box:.5f}")
    print(TARGETS + "; <= 0.01 s per box")


def fit_logistic(inks: list[tuple[str, MarkInk]]) -> tuple[float, float]:
    """SLOPE and CENTRE of p(ticked) on log10 fill, fitted to ticked and empty boxes.

    A little L2 on the slope keeps it finite when the two are separated, as they mostly are.
    """
    pairs = [
        (math.log10(max(i.fill, FILL_FLOOR)), s == "ticked") for s, i in inks if s != "crossed_out"
    ]
    x = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs], float)
    slope, bias = 1.0, 0.0
    for _ in range(20_000):
        p = 1.0 / (1.0 + np.exp(-np.clip(slope * x + bias, -50, 50)))
        slope -= 0.5 * (float(((p - y) * x).mean()) + 1e-3 * slope)
        bias -= 0.5 * float((p - y).mean())
    return slope, -bias / slope


def print_inks(inks: list[tuple[str, MarkInk]]) -> None:
    """Quantiles of each measure per true state: what the thresholds were chosen from."""
    for state in ("empty", "ticked", "crossed_out"):
        rows = np.array([(i.fill, i.spill, i.around) for s, i in inks if s == state])
        if not rows.size:
            continue
        q = np.quantile(rows, [0.0, 0.001, 0.01, 0.5, 0.99, 0.999, 1.0], axis=0)
        print(f"{state} ({len(rows)}): quantiles 0/0.1/1/50/99/99.9/100%")
        for name, column in zip(("fill", "spill", "around"), q.T, strict=True):
            print(f"  {name:>5}: " + " ".join(f"{v:.4f}" for v in column))


if __name__ == "__main__":
    sys.exit(main())
