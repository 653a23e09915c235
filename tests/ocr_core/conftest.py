"""Fixtures for ocr_core: a tiny synthetic datasets folder, a tiny bundle, reviewed crops."""

from __future__ import annotations

import csv
import gzip
import json
import string
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr_core.training.corpus import ALNUM47

BYCLASS = string.digits + string.ascii_uppercase + string.ascii_lowercase


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write an IDX gzip file of a uint8 array (the MNIST/EMNIST distribution format)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))
    return path


def draw_characters(chars: list[str], seed: int) -> np.ndarray:
    """Render characters as uint8 (N, 28, 28) white-on-black images with a little jitter."""
    rng = np.random.default_rng(seed)
    out = np.zeros((len(chars), 28, 28), np.uint8)
    for i, c in enumerate(chars):
        x, y = (int(v) for v in rng.integers(3, 8, size=2))
        cv2.putText(out[i], c, (x, 18 + y), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 255, 2)
    return out


def make_tiny_datasets(root: Path, *, mnist_train: int = 400, pool: int = 120) -> Path:
    """Write mnist/ and emnist/pool/ IDX files of synthetic characters, and mapping files."""
    rng = np.random.default_rng(0)
    for stem, n in (("train", mnist_train), ("t10k", 100)):
        digits = rng.integers(0, 10, n).astype(np.uint8)
        write_idx(
            root / f"mnist/{stem}-images-idx3-ubyte.gz",
            draw_characters([str(d) for d in digits], seed=n),
        )
        write_idx(root / f"mnist/{stem}-labels-idx1-ubyte.gz", digits)
    emnist = root / "emnist"
    for split_seed, split in enumerate(("train", "val", "test")):
        labels62 = rng.integers(0, 62, pool).astype(np.uint8)
        chars = [BYCLASS[i] for i in labels62]
        labels47 = np.array([ALNUM47.index(c if c in ALNUM47 else c.upper()) for c in chars])
        unknown = np.array([c.upper() != c.lower() and c.lower() not in ALNUM47 for c in chars])
        labels62[unknown & (rng.random(pool) < 0.3)] = 255  # some merged letters: case unknown
        images = np.transpose(draw_characters(chars, seed=10 + split_seed), (0, 2, 1))
        write_idx(emnist / f"pool/emnist-pool-{split}-images-idx3-ubyte.gz", images)
        write_idx(emnist / f"pool/emnist-pool-{split}-labels47-idx1-ubyte.gz", labels47)
        write_idx(emnist / f"pool/emnist-pool-{split}-labels62-idx1-ubyte.gz", labels62)
    (emnist / "emnist-balanced-mapping.txt").write_text(
        "".join(f"{i} {ord(c)}\n" for i, c in enumerate(ALNUM47))
    )
    (emnist / "emnist-byclass-mapping.txt").write_text(
        "".join(f"{i} {ord(c)}\n" for i, c in enumerate(BYCLASS))
    )
    return root


@pytest.fixture(scope="session")
def idx_writer() -> Callable[[Path, np.ndarray], Path]:
    """``write_idx(path, array)``: write a uint8 IDX gzip file."""
    return write_idx


@pytest.fixture(scope="session")
def char_drawer() -> Callable[[list[str], int], np.ndarray]:
    """``draw_characters(chars, seed)``: render characters as uint8 (N, 28, 28) images."""
    return draw_characters


@pytest.fixture(scope="session")
def tiny_datasets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic datasets folder (mnist/ and emnist/pool/), a few hundred images."""
    return make_tiny_datasets(tmp_path_factory.mktemp("datasets"))


def write_tiny_bundle(folder: Path, labels: tuple[str, ...], **meta: object) -> Path:
    """Write an untrained bundle with the given labels; ``meta`` overrides bundle.json keys."""
    from ocr_core.recognition.model import build_model
    from ocr_core.recognition.normalise import CONTRACT

    folder.mkdir(parents=True, exist_ok=True)
    build_model(len(labels), dense=8).save(folder / "model.keras")
    data: dict[str, object] = {
        "name": folder.name,
        "labels": list(labels),
        "contract": CONTRACT,
        "temperature": 1.5,
        "threshold": 0.9,
    }
    data.update(meta)
    (folder / "bundle.json").write_text(json.dumps(data))
    return folder


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 47-class bundle (for API shape and error tests, not accuracy)."""
    return write_tiny_bundle(tmp_path_factory.mktemp("models") / "tiny", ALNUM47)


def review_characters(
    reviewed_dir: Path, run_dir: Path, images: np.ndarray, labels: list[str]
) -> int:
    """Add reviewed crops to ``reviewed_dir`` through the real apply-review code path.

    Writes a run folder with the pipeline's own writers (one field of ``len(labels)`` flagged
    characters whose model inputs are ``images``), fills in review.csv's ``correction`` column
    with ``labels`` as a reviewer would, and applies it.

    Args:
        reviewed_dir: the reviewed folder to append to.
        run_dir: a new run folder (its name is recorded as the examples' run).
        images: uint8 (N, H, W) model inputs, white ink on black.
        labels: N single characters, the reviewer's corrections.

    Returns:
        How many examples apply-review added.
    """
    from ocr_core.results.char_crops import crop_ref
    from ocr_core.results.csvfiles import read_csv_rows
    from ocr_core.results.model_inputs import input_sheet, legacy_input_path, sheet_of
    from ocr_core.results.records import REVIEW_COLUMNS, CharRow, FieldRow
    from ocr_core.results.write import write_results
    from ocr_core.review.apply import apply_review

    sheets = images.shape[1:] == (28, 28)  # as digitise-forms keeps them: one sheet a field

    def crop(i: int) -> str:  # one crops image a field, or (runs before) a file a character
        return (
            crop_ref("crops/form/p1-code.crops.png", (10 * i, 0, 9, 20))
            if sheets
            else f"crops/form/p1-code-{i}.png"
        )

    chars = [
        CharRow(
            "form.png",
            1,
            "code",
            i,
            "?",
            0.3,
            "x",
            0.1,
            "y",
            0.05,
            True,
            10 * i,
            0,
            10 * i + 9,
            20,
            crop(i),
        )
        for i in range(len(labels))
    ]
    field = FieldRow("form.png", 1, "code", "?" * len(labels), 0.3, True, "needs_review", "low")
    write_results(run_dir, [field], chars, [], {})
    sheet = run_dir / sheet_of(chars[0].crop, 0)[0]
    sheet.parent.mkdir(parents=True, exist_ok=True)
    if sheets:
        tiles = [(c.index, image) for c, image in zip(chars, images, strict=True)]
        cv2.imwrite(str(sheet), input_sheet(tiles))
    else:  # another size: only a file of its own (as runs before the sheets) can hold it
        for char, image in zip(chars, images, strict=True):
            cv2.imwrite(str(run_dir / legacy_input_path(char.crop)), image)
    review = run_dir / "review.csv"
    rows = read_csv_rows(review)
    with review.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, REVIEW_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "correction": labels[int(row["index"])]})
    return apply_review(run_dir, review, reviewed_dir).examples_added


@pytest.fixture(scope="session")
def reviewer() -> Callable[[Path, Path, np.ndarray, list[str]], int]:
    """``review_characters(reviewed_dir, run_dir, images, labels)``: apply-review's output."""
    return review_characters
