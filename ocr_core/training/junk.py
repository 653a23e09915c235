"""Train the "is this one character?" model that box-field cutting weighs its candidates with.

The classifier reads any crop as some character: half an H, two touching digits framed as one,
the tail of a neighbour. Cutting a box field (``ocr_core.reading.lattice``) needs the other
question answered, so this bundle (``data/models/junk``) has two classes, ``junk`` and
``one``, over the same 28x28 model inputs as the classifiers (the same normalisation
contract). It is fitted on the candidates that the product's own segmentation proposes on box
sheets written in the training handwriting (``segmentation.synthetic.junk``), calibrated (its
temperature) on sheets written in the validation handwriting, and measured on sheets written in
the test handwriting.

    python -m ocr_core.training.junk --train junk-train.npz --val junk-val.npz
        --test junk-test.npz [--out data/models/junk] [--epochs 6]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ocr_core.cli import EXIT_CODES_HELP, run_cli
from ocr_core.errors import InputFileError
from ocr_core.files import write_atomic
from ocr_core.recognition.bundle import MODEL_FILE, write_metadata
from ocr_core.recognition.calibration import fit_temperature, softmax
from ocr_core.recognition.normalise import CONTRACT, SIZE, frame_characters
from ocr_core.training.evaluate import model_logits

LABELS = ("junk", "one")  # class 1: the crop is one whole character


def build_junk_model(seed: int = 0) -> Any:
    """A small CNN (a sixth of the classifier's work a crop): 28x28 pixels in, 2 logits out."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(SIZE, SIZE, 1), name="image")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    for filters in (16, 32):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(32, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.ReLU()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(len(LABELS), name="logits")(x)
    return keras.Model(inputs, outputs, name="junknet")


def load_candidates(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The framed images and labels of a harvest file (``segmentation.synthetic.junk``).

    Raises:
        InputFileError: the file is missing or is not a harvest file.
    """
    try:
        with np.load(path) as data:
            images, labels = data["images"], data["labels"].astype(np.int64)
    except (OSError, KeyError, ValueError) as e:
        raise InputFileError(f"not a candidates file ({e})", path=path) from e
    return frame_characters(images), labels


def measure(model: Any, images: np.ndarray, labels: np.ndarray, temperature: float) -> dict:
    """Accuracy, and how often junk passes for one character (and back), at P(one) = 0.5."""
    p_one = softmax(model_logits(model, images), temperature)[:, 1]
    said_one = p_one >= 0.5
    junk, one = labels == 0, labels == 1
    return {
        "candidates": len(labels),
        "junk_share": round(float(junk.mean()), 4) if len(labels) else 0.0,
        "accuracy": round(float((said_one == one).mean()), 4),
        "junk_taken_for_one": round(float(said_one[junk].mean()), 4) if junk.any() else 0.0,
        "one_taken_for_junk": round(float((~said_one[one]).mean()), 4) if one.any() else 0.0,
        "mean_log_p_one_of_ones": round(float(np.log(np.maximum(p_one[one], 1e-9)).mean()), 4),
    }


def train(
    train_file: Path, val_file: Path, test_file: Path, out: Path, epochs: int, seed: int
) -> dict:
    """Fit, calibrate and measure the model; write the bundle to ``out``. Returns its metadata."""
    import keras

    started = time.monotonic()
    x_train, y_train = load_candidates(train_file)
    x_val, y_val = load_candidates(val_file)
    x_test, y_test = load_candidates(test_file)
    model = build_junk_model(seed)
    # The classes are weighed equally whatever their shares: neither error is the cheap one.
    counts = np.bincount(y_train, minlength=2)
    weights = {k: float(len(y_train) / (2 * max(1, counts[k]))) for k in range(2)}
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train[..., None].astype(np.float32),
        y_train,
        batch_size=256,
        epochs=epochs,
        class_weight=weights,
        validation_data=(x_val[..., None].astype(np.float32), y_val),
        verbose=2,
    )
    temperature = fit_temperature(model_logits(model, x_val), y_val)
    meta = {
        "format": 1,
        "name": "junk",
        "labels": list(LABELS),
        "contract": CONTRACT,
        "temperature": temperature,
        "threshold": 0.5,
        "metrics": {
            "val": measure(model, x_val, y_val, temperature),
            "test": measure(model, x_test, y_test, temperature),
        },
        "training": {
            "train": train_file.name,
            "val": val_file.name,
            "test": test_file.name,
            "train_candidates": len(y_train),
            "train_junk": int(counts[0]),
            "epochs": epochs,
            "seed": seed,
            "history": {k: [round(float(v), 4) for v in vs] for k, vs in history.history.items()},
            "seconds": round(time.monotonic() - started),
        },
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_bundle(out, model, meta)
    return meta


def _write_bundle(out: Path, model: Any, meta: dict) -> None:
    """Write model, ``bundle.json`` and card aside, then move them in whole (no half bundle)."""
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save(tmp / MODEL_FILE)
    write_metadata(tmp, meta)
    write_atomic(tmp / "README.md", model_card(meta).encode())
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def model_card(meta: dict) -> str:
    """The bundle's model card: what it answers, how it was made, what it measured."""
    t, m = meta["training"], meta["metrics"]

    def row(split: str) -> str:
        x = m[split]
        return (
            f"| {split} | {x['candidates']} | {x['junk_share']:.1%} | {x['accuracy']:.2%} | "
            f"{x['junk_taken_for_one']:.2%} | {x['one_taken_for_junk']:.2%} |"
        )

    return "\n".join(
        [
            "# junk: is this crop one whole character?",
            "",
            "Two classes, `junk` and `one`, over the classifiers' 28x28 model inputs (contract",
            f"`{meta['contract']['name']}`). Box-field cutting multiplies each candidate's",
            "classifier probability by its P(one) (`ocr_core.reading.lattice.read_cut`), so that",
            "halves, pairs and fragments lose to whole characters. Without this folder, cutting",
            "weighs candidates by the classifier and their shapes alone.",
            "",
            "## How it was made",
            "",
            "Candidates proposed by the product's own segmentation on sheets of 12 box fields",
            "(`segmentation.synthetic.junk`: a third in house style, the rest in random styles),",
            "labelled by their overlap with the characters written there (one: IoU >= 0.6 with",
            "one and covering no other; junk: IoU < 0.45 with all, or covering two).",
            "",
            f"- fitted on `{t['train']}`: {t['train_candidates']} candidates, {t['train_junk']}",
            "  junk, written in the *training* handwriting; classes weighed equally;",
            f"  {t['epochs']} epochs, seed {t['seed']}, {t['seconds']} s on the build machine;",
            f"- temperature {meta['temperature']:.3f}, fitted on `{t['val']}` (validation",
            "  handwriting);",
            f"- measured on `{t['test']}` (test handwriting).",
            "",
            "## Measured (P(one) >= 0.5 read as one character)",
            "",
            "| split | candidates | junk | accuracy | junk taken for one | one taken for junk |",
            "|---|---|---|---|---|---|",
            row("val"),
            row("test"),
            "",
            "Made with: `python -m segmentation.synthetic.junk --pages 600 --seed 21 --out",
            "junk-train.npz`, the same with `--pages 120 --seed 22 --split val` and `--seed 23",
            "--split test`, then `python -m ocr_core.training.junk --train junk-train.npz --val",
            "junk-val.npz --test junk-test.npz`.",
            "",
            "Weak: the candidates come from generated forms only; halves of wide letters (an H, an",
            "M) and a 1 look alike once framed, so the model cannot tell them apart by itself.",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Train the junk model from harvested candidates and write its bundle."""
    parser = argparse.ArgumentParser(
        prog="python -m ocr_core.training.junk", description=__doc__, epilog=EXIT_CODES_HELP
    )
    parser.add_argument("--train", type=Path, required=True, help="candidates to fit on")
    parser.add_argument("--val", type=Path, required=True, help="candidates to calibrate on")
    parser.add_argument("--test", type=Path, required=True, help="candidates to report on")
    parser.add_argument("--out", type=Path, default=Path("data/models/junk"))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    def run() -> int:
        meta = train(args.train, args.val, args.test, args.out, args.epochs, args.seed)
        print(json.dumps(meta["metrics"], indent=2))
        print(f"temperature {meta['temperature']:.3f}; bundle written to {args.out}")
        return 0

    return run_cli(run)


if __name__ == "__main__":
    sys.exit(main())
