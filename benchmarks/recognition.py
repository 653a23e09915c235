"""Measure the shipped recognition bundles on the test splits: accuracy, coverage, ECE, speed.

Usage: ``DIGITISE_DATASETS_DIR=... python -m benchmarks.recognition [bundle ...]``
(default: every bundle under the models folder). Prints measured figures; nothing is tuned here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from ocr_core import load_classifier
from ocr_core.cli import EXIT_CODES_HELP, run_cli
from ocr_core.recognition.bundle import META_FILE
from ocr_core.recognition.calibration import coverage_curve, expected_calibration_error, softmax
from ocr_core.recognition.charset import resolve_charset
from ocr_core.recognition.inference import Classifier
from ocr_core.recognition.normalise import frame_characters
from ocr_core.settings import load_settings
from ocr_core.training.corpus import to_bundle_space
from ocr_core.training.datasets import emnist_upright, read_idx, read_mapping

COVERAGES = (1.0, 0.98, 0.95, 0.9, 0.8)
SPEED_BATCH = 8192


def load_tests(datasets: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Raw test images (upright, as in the files) and their characters."""
    mnist = datasets / "mnist"
    pool = datasets / "emnist" / "pool"
    mapping = read_mapping(datasets / "emnist" / "emnist-balanced-mapping.txt")
    table = np.array([mapping.get(i, "") for i in range(256)])
    return {
        "MNIST test": (
            read_idx(mnist / "t10k-images-idx3-ubyte.gz"),
            np.array(list("0123456789"))[read_idx(mnist / "t10k-labels-idx1-ubyte.gz")],
        ),
        "pool test": (
            emnist_upright(read_idx(pool / "emnist-pool-test-images-idx3-ubyte.gz")),
            table[read_idx(pool / "emnist-pool-test-labels47-idx1-ubyte.gz")],
        ),
    }


def accuracy_figures(clf: Classifier, images: np.ndarray, chars: np.ndarray) -> dict[str, float]:
    """Accuracy, coverage and calibration figures of one bundle on one test set.

    Of what the bundle reads with no charset: a bundle of both cases reads a look-alike
    letter's two cases as one, as the test labels (47 classes) do.
    """
    view = resolve_charset(clf.labels, None)
    targets = to_bundle_space(chars, tuple(view.readings.tolist()))
    keep = targets >= 0
    images, targets, chars = images[keep], targets[keep], chars[keep]
    logits = clf.logits(images)
    raw, cal = view.merge(softmax(logits)), view.merge(softmax(logits, clf.temperature))
    correct = cal.argmax(axis=1) == targets
    conf = cal.max(axis=1)
    curve = coverage_curve(conf, correct)
    accepted = conf >= clf.threshold
    out = {
        "n": float(len(targets)),
        "accuracy": float(correct.mean()),
        "ece_before": expected_calibration_error(raw.max(axis=1), raw.argmax(axis=1) == targets),
        "ece_after": expected_calibration_error(conf, correct),
        "accepted": float(accepted.mean()),
        "error_accepted": float(1 - correct[accepted].mean()) if accepted.any() else 0.0,
    }
    for c in COVERAGES:
        out[f"err@{round(100 * c)}%"] = curve.error_at(c)
    is_digit = np.char.isdigit(chars)
    if is_digit.any():
        digits = resolve_charset(clf.labels, "digits")
        pick = digits.readings[logits[is_digit][:, digits.classes].argmax(axis=1)]
        out["digits (digits charset)"] = float((pick == chars[is_digit]).mean())
    if (~is_digit).any():
        out["letters"] = float(correct[~is_digit].mean())
    return out


def throughput(clf: Classifier, images: np.ndarray, repeats: int = 3) -> tuple[float, float, float]:
    """Measure chars/s of predict, of a bare model.predict, and of the traced model alone.

    ``clf.predict`` frames, runs the model, calibrates and takes the top 3; the bare
    ``model.predict`` runs on the same raw batch; the traced model alone on pre-framed input.
    """
    batch = images[:SPEED_BATCH]
    floats = batch[..., None].astype(np.float32)
    framed = frame_characters(batch)
    clf.predict(batch[:256])
    clf.model.predict(floats[:256], batch_size=1024, verbose=0)
    ours, bare, model_only = [], [], []
    for _ in range(repeats):  # interleaved, best of each: other processes share the cores
        t = time.perf_counter()
        clf.model.predict(batch[..., None].astype(np.float32), batch_size=1024, verbose=0)
        bare.append(len(batch) / (time.perf_counter() - t))
        t = time.perf_counter()
        clf.predict(batch)
        ours.append(len(batch) / (time.perf_counter() - t))
        t = time.perf_counter()
        clf.logits(framed, framed=True)
        model_only.append(len(batch) / (time.perf_counter() - t))
    return max(ours), max(bare), max(model_only)


def main(argv: list[str]) -> int:
    """Print the figures of each named bundle (all bundles in the models folder by default)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.recognition", description=__doc__, epilog=EXIT_CODES_HELP
    )
    parser.add_argument("bundles", nargs="*", help="bundle names (default: every bundle)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    args = parser.parse_args(argv)
    return run_cli(lambda: _measure(args.bundles), debug=args.debug)


def _measure(names: list[str]) -> int:
    settings = load_settings()
    tests = load_tests(settings.require_datasets_dir())
    folders = [settings.models_dir / n for n in names] or sorted(
        p for p in settings.models_dir.iterdir() if (p / META_FILE).is_file()
    )
    for folder in folders:
        clf = load_classifier(folder)
        print(
            f"\n## {clf.name}: {len(clf.labels)} classes, T={clf.temperature:.3f}, "
            f"threshold={clf.threshold:.4f}"
        )
        for set_name, (images, chars) in tests.items():
            figures = accuracy_figures(clf, images, chars)
            print(
                f"{set_name:10s} "
                + "  ".join(
                    f"{k} {v:.0f}" if k == "n" else f"{k} {100 * v:.2f}%"
                    for k, v in figures.items()
                )
            )
        for set_name, (images, _) in tests.items():
            ours, bare, model_only = throughput(clf, images)
            print(
                f"throughput on {set_name} ({min(len(images), SPEED_BATCH)} chars): predict "
                f"{ours:.0f} chars/s, bare model.predict {bare:.0f} chars/s "
                f"({100 * ours / bare:.0f}%); traced model alone on framed input "
                f"{model_only:.0f} chars/s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
