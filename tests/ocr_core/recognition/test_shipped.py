"""The bundles the product ships reach sane accuracies on slices of the real test splits."""

import json
from pathlib import Path

import numpy as np
import pytest

from ocr_core import load_classifier
from ocr_core.recognition.charset import NAMED
from ocr_core.recognition.normalise import CONTRACT
from ocr_core.training.datasets import emnist_upright, read_idx, read_mapping

MODELS = Path(__file__).resolve().parents[3] / "data" / "models"
SLICE = 2000


def pool_test(datasets_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    folder = datasets_dir / "emnist"
    images = emnist_upright(read_idx(folder / "pool/emnist-pool-test-images-idx3-ubyte.gz"))
    labels = read_idx(folder / "pool/emnist-pool-test-labels47-idx1-ubyte.gz")
    mapping = read_mapping(folder / "emnist-balanced-mapping.txt")
    return images[:SLICE], np.array([mapping[int(i)] for i in labels[:SLICE]])


@pytest.mark.parametrize("name", ["digits", "alnum"])
def test_bundle_is_complete_and_small(name: str) -> None:
    folder = MODELS / name
    meta = json.loads((folder / "bundle.json").read_text())
    assert meta["contract"] == CONTRACT and 0 < meta["threshold"] < 1
    assert (folder / "model.keras").stat().st_size < 8_000_000
    card = (folder / "README.md").read_text()
    for png in ("training_curves", "confused_pairs", "reliability", "error_vs_coverage"):
        assert (folder / f"{png}.png").is_file() and f"{png}.png" in card


def test_digits_bundle_on_real_test_data(datasets_dir: Path) -> None:
    clf = load_classifier(MODELS / "digits")
    images = read_idx(datasets_dir / "mnist/t10k-images-idx3-ubyte.gz")[:SLICE]
    labels = read_idx(datasets_dir / "mnist/t10k-labels-idx1-ubyte.gz")[:SLICE]
    pred = clf.predict(images, top_k=1)
    assert (pred.labels[:, 0] == labels.astype(str)).mean() >= 0.99
    images, chars = pool_test(datasets_dir)
    digits = np.char.isdigit(chars)
    pred = clf.predict(images[digits])
    assert (pred.labels[:, 0] == chars[digits]).mean() >= 0.99
    assert (pred.labels == chars[digits, None]).any(axis=1).mean() >= 0.998  # top-3


def test_alnum_bundle_on_real_test_data(datasets_dir: Path) -> None:
    clf = load_classifier(MODELS / "alnum")
    images, chars = pool_test(datasets_dir)
    pred = clf.predict(images)
    assert (pred.labels[:, 0] == chars).mean() >= 0.88
    accepted = ~pred.needs_review
    assert accepted.mean() > 0.5 and (pred.labels[accepted, 0] == chars[accepted]).mean() >= 0.96
    digits = np.char.isdigit(chars)
    in_field = clf.predict(images[digits], charset="digits", top_k=1)
    assert (in_field.labels[:, 0] == chars[digits]).mean() >= 0.985


def test_alnum_bundle_tells_the_case_in_a_field_of_one_case(datasets_dir: Path) -> None:
    # The written bar: upper-case I in an upper field, lower-case l in a lower one (a 47-class
    # bundle merges l into L, so it read many a written I as L).
    clf = load_classifier(MODELS / "alnum")
    folder = datasets_dir / "emnist"
    images = emnist_upright(read_idx(folder / "pool/emnist-pool-test-images-idx3-ubyte.gz"))
    labels = read_idx(folder / "pool/emnist-pool-test-labels62-idx1-ubyte.gz")
    mapping = read_mapping(folder / "emnist-byclass-mapping.txt")
    chars = np.array([mapping.get(int(i), "") for i in labels])
    for charset, wanted, least in (("upper", "I", 0.9), ("lower", "l", 0.85)):
        mask = chars == wanted
        read = clf.predict(images[mask], charset=charset, top_k=1).labels[:, 0]
        assert mask.sum() > 100 and (read == wanted).mean() >= least, charset
    # Every letter of known case, read in a field of its case (the 47-class bundle: 96.4% and
    # 94.9%).
    for charset, least in (("upper", 0.97), ("lower", 0.95)):
        mask = np.isin(chars, list(NAMED[charset]))
        read = clf.predict(images[mask], charset=charset, top_k=1).labels[:, 0]
        assert (read == chars[mask]).mean() >= least, charset
