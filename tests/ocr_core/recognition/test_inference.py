import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ocr_core import Classifier, Prediction, load_classifier
from ocr_core.errors import ModelError
from ocr_core.recognition.normalise import CONTRACT
from ocr_core.training.corpus import ALNUM47, ALNUM62


def test_import_is_cheap() -> None:
    code = "import sys, ocr_core; assert not {'tensorflow', 'keras'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_loads_once_and_predicts_shapes(tiny_bundle: Path) -> None:
    clf = load_classifier(tiny_bundle)
    assert isinstance(clf, Classifier) and load_classifier(str(tiny_bundle)) is clf
    assert clf.labels == ALNUM47 and clf.contract == CONTRACT and clf.threshold == 0.9
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    pred = clf.predict(images)
    assert isinstance(pred, Prediction)
    assert (
        pred.labels.shape == (5, 3)
        and pred.probs.shape == (5, 3)
        and pred.needs_review.shape == (5,)
    )
    assert (np.diff(pred.probs, axis=1) <= 0).all() and (pred.probs.sum(axis=1) <= 1 + 1e-9).all()
    assert clf.predict(images, threshold=0.0).needs_review.sum() == 0
    assert clf.predict(images, threshold=1.0).needs_review.all()
    digits = clf.predict(images, charset="digits", top_k=12)
    assert set(digits.labels[:, :10].ravel()) <= set("0123456789")
    assert (digits.labels[:, 10:] == "").all() and (digits.probs[:, 10:] == 0).all()
    np.testing.assert_allclose(digits.probs.sum(axis=1), 1.0)


def test_predict_on_no_images(tiny_bundle: Path) -> None:
    pred = load_classifier(tiny_bundle).predict(np.zeros((0, 28, 28), np.uint8), top_k=2)
    assert pred.labels.shape == (0, 2) and pred.probs.shape == (0, 2)
    assert pred.needs_review.shape == (0,) and pred.needs_review.dtype == bool


def test_predict_rejects_bad_input(tiny_bundle: Path) -> None:
    clf = load_classifier(tiny_bundle)
    with pytest.raises(ValueError, match="uint8"):
        clf.predict(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError, match="threshold"):
        clf.predict(np.zeros((1, 28, 28), np.uint8), threshold=1.5)


class FixedLogits:
    """Stands in for a Keras model: the same logits for every image."""

    def __init__(self, logits: list[float]) -> None:
        self.logits = np.array(logits, np.float32)

    def __call__(self, x: Any, training: bool = False) -> Any:
        import tensorflow as tf

        return tf.tile(tf.constant(self.logits)[None], [tf.shape(x)[0], 1])


def test_charset_masks_renormalises_and_maps_merged_classes() -> None:
    logits = np.zeros(47)
    logits[ALNUM47.index("C")] = 5.0  # merged c/C
    logits[ALNUM47.index("0")] = 4.0
    logits[ALNUM47.index("a")] = 3.0
    meta = {"name": "x", "labels": list(ALNUM47), "contract": CONTRACT}
    clf = Classifier(
        Path("x"), FixedLogits(logits.tolist()), {**meta, "temperature": 2.0, "threshold": 0.5}
    )
    one = np.zeros((1, 28, 28), np.uint8)
    assert clf.predict(one).labels[0].tolist() == ["C", "0", "a"]
    assert clf.predict(one, charset="upper").labels[0, 0] == "C"
    lower = clf.predict(one, charset="lower")
    assert lower.labels[0, :2].tolist() == ["c", "a"]
    # Renormalised over the 26 allowed classes after the temperature.
    z = np.array([5.0, 3.0] + [0.0] * 24) / 2.0
    np.testing.assert_allclose(lower.probs[0, :2], (np.exp(z) / np.exp(z).sum())[:2])
    assert clf.predict(one, charset="digits").labels[0, 0] == "0"
    assert clf.predict(one, charset="0a").labels[0].tolist() == ["0", "a", ""]


def test_a_field_of_both_cases_adds_up_a_look_alikes_two_classes() -> None:
    logits = np.full(62, -10.0)
    for char, value in (("C", 3.0), ("c", 3.0), ("0", 3.5), ("l", 1.0)):
        logits[ALNUM62.index(char)] = value
    meta = {"name": "x", "labels": list(ALNUM62), "contract": CONTRACT}
    clf = Classifier(
        Path("x"), FixedLogits(logits.tolist()), {**meta, "temperature": 1.0, "threshold": 0.5}
    )
    one = np.zeros((1, 28, 28), np.uint8)
    # c and C are one reading, C, whose probability is theirs together: it beats the 0.
    both = clf.predict(one)
    z = np.exp([3.0, 3.0, 3.5, 1.0])
    assert both.labels[0].tolist() == ["C", "0", "L"]
    np.testing.assert_allclose(both.probs[0, 0], (z[0] + z[1]) / z.sum(), rtol=1e-4)
    assert clf.predict(one, charset="lower").labels[0, :2].tolist() == ["c", "l"]
    assert clf.predict(one, charset="upper").labels[0, 0] == "C"


def test_missing_folder_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"nowhere.*not found.*ocr_core.training") as e:
        load_classifier(tmp_path / "nowhere")
    assert e.value.exit_code == 4


def copy_bundle(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_corrupt_json_names_the_file(tiny_bundle: Path, tmp_path: Path) -> None:
    folder = copy_bundle(tiny_bundle, tmp_path / "broken")
    (folder / "bundle.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"broken/bundle.json.*corrupt"):
        load_classifier(folder)
    (folder / "bundle.json").write_text(json.dumps({"name": "broken"}))
    with pytest.raises(ModelError, match=r"bundle.json lacks labels"):
        load_classifier(folder)
    (folder / "bundle.json").unlink()
    with pytest.raises(ModelError, match=r"broken/bundle.json.*no bundle.json"):
        load_classifier(folder)


def test_contract_mismatch_names_the_file(tiny_bundle: Path, tmp_path: Path) -> None:
    folder = copy_bundle(tiny_bundle, tmp_path / "old")
    meta = json.loads((folder / "bundle.json").read_text())
    meta["contract"] = {**CONTRACT, "version": 0}
    (folder / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"old/bundle.json.*contract.*v0.*Train the bundle again"):
        load_classifier(folder)


def test_missing_or_broken_model_file(tiny_bundle: Path, tmp_path: Path) -> None:
    folder = copy_bundle(tiny_bundle, tmp_path / "nomodel")
    (folder / "model.keras").write_bytes(b"PK\x03\x04 not a keras file")
    with pytest.raises(ModelError, match=r"nomodel/model.keras.*cannot be loaded"):
        load_classifier(folder)
    (folder / "model.keras").unlink()
    with pytest.raises(ModelError, match=r"nomodel/model.keras.*no model.keras"):
        load_classifier(folder)


def test_label_count_mismatch(tiny_bundle: Path, tmp_path: Path) -> None:
    folder = copy_bundle(tiny_bundle, tmp_path / "tenlabels")
    meta = json.loads((folder / "bundle.json").read_text())
    meta["labels"] = list("0123456789")
    (folder / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"tenlabels.*47 outputs"):
        load_classifier(folder)
