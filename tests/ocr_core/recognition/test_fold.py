"""Batch norm folded into the weights for reading: the same logits, fewer layers, or no fold."""

import math
from pathlib import Path

import numpy as np
import pytest

from ocr_core import load_classifier
from ocr_core.recognition import fold
from ocr_core.recognition.fold import fold_for_inference
from ocr_core.recognition.model import build_model
from ocr_core.recognition.normalise import frame_characters
from ocr_core.training.datasets import read_idx

MODELS = Path(__file__).resolve().parents[3] / "data" / "models"
FOLDED_AWAY = {"BatchNormalization", "Dropout", "Rescaling"}


def kinds(model: object) -> set[str]:
    return {type(layer).__name__ for layer in model.layers}  # type: ignore[attr-defined]


def logits(model: object, images: np.ndarray) -> np.ndarray:
    return np.asarray(model(images[..., None].astype(np.float32), training=False))  # type: ignore[operator]


@pytest.mark.parametrize("name", ["digits", "alnum", "junk"])
def test_shipped_bundles_read_real_digits_the_same_folded(name: str, datasets_dir: Path) -> None:
    model = load_classifier(MODELS / name).model
    images = frame_characters(read_idx(datasets_dir / "mnist/t10k-images-idx3-ubyte.gz")[:300])
    folded = fold_for_inference(model)
    assert folded is not model and not kinds(folded) & FOLDED_AWAY
    assert len(folded.layers) < len(model.layers)
    want, got = logits(model, images), logits(folded, images)
    assert np.abs(want - got).max() < 1e-3
    assert (want.argmax(axis=1) == got.argmax(axis=1)).all()


def test_a_norm_with_learnt_statistics_folds_exactly() -> None:
    model = build_model(10, dense=16, seed=3)
    rng = np.random.default_rng(3)
    for layer in model.layers:  # as after training: no norm is the identity
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 2.0, gamma.shape),
                    rng.normal(0, 0.5, beta.shape),
                    rng.normal(0, 2.0, mean.shape),
                    rng.uniform(0.1, 9.0, variance.shape),
                ]
            )
    images = rng.integers(0, 256, (32, 28, 28)).astype(np.uint8)
    folded = fold_for_inference(model)
    assert not kinds(folded) & FOLDED_AWAY
    np.testing.assert_allclose(logits(folded, images), logits(model, images), atol=1e-4)


def test_a_model_that_is_not_a_chain_is_read_as_it_is() -> None:
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Add()([x, inputs])  # a skip connection
    outputs = layers.Dense(3)(layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    assert fold_for_inference(model) is model


def test_a_norm_after_an_activation_is_not_folded(monkeypatch: pytest.MonkeyPatch) -> None:
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(4, 3, activation="relu")(inputs)
    x = layers.BatchNormalization()(x)  # after the relu: no scale of the weights equals it
    model = keras.Model(inputs, layers.Dense(3)(layers.Flatten()(x)))
    # With the probe's comparison off, only the rebuild's own rule keeps this model whole.
    monkeypatch.setattr(fold, "TOLERANCE", math.inf)
    assert fold_for_inference(model) is model
