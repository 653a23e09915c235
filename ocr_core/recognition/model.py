"""The compact CNN and its memory-bounded, augmented tf.data input pipeline (TensorFlow lazily)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from ocr_core.recognition.normalise import SIZE


@dataclass(frozen=True, slots=True)
class Augmentation:
    """Random distortions that mimic handwriting on forms, applied to training batches only.

    Attributes:
        rotation_deg: rotation drawn from +-this many degrees.
        shear: horizontal shear factor drawn from +-this (slanted writing).
        scale: relative size change drawn from +-this (per axis, so aspect varies a little).
        shift_px: translation drawn from +-this many pixels.
        stroke: stroke thickening/thinning strength drawn from +-this (0..1).
        share: share of images that get any distortion.
    """

    rotation_deg: float = 10.0
    shear: float = 0.2
    scale: float = 0.12
    shift_px: float = 2.0
    stroke: float = 0.5
    share: float = 0.85


def build_model(num_classes: int, *, dense: int = 256, seed: int = 0) -> Any:
    """Build the compact CNN: two conv blocks with batch norm, one dense layer, dropout.

    The seed article's lesson holds (a deep net overfits EMNIST; a compact one with dropout and
    early stopping generalises); batch norm lets it train in few epochs.

    Args:
        num_classes: output classes.
        dense: width of the hidden dense layer.
        seed: seeds the weight initialisation and dropout.

    Returns:
        An uncompiled ``keras.Model`` mapping float32 (N, 28, 28, 1) pixel values in 0..255 to
        logits (N, num_classes). No augmentation or Lambda layers: it is the inference model.
    """
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(SIZE, SIZE, 1), name="image")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    for filters in (32, 64):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=0.9)(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(0.1)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense, use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="charnet")


def compile_model(
    model: Any,
    *,
    steps_per_epoch: int,
    epochs: int,
    learning_rate: float,
    groups: list[list[int]] | None = None,
) -> None:
    """Compile with AdamW on a cosine schedule and cross-entropy on logits.

    Args:
        model: from ``build_model``.
        steps_per_epoch: steps in one epoch.
        epochs: epochs the learning rate decays over.
        learning_rate: the peak learning rate.
        groups: the classes that each target at or above the class count stands for (a letter
            whose case is unknown: either case is right). None or empty: every target is a class.
    """
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate,
        decay_steps=max(1, steps_per_epoch * epochs),
        alpha=0.02,
    )
    classes = int(model.output_shape[-1])
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4),
        loss=EitherOf(classes, groups or []),
        metrics=[EitherAccuracy(classes, groups or [])],
    )


def _either_table(classes: int, groups: list[list[int]]) -> np.ndarray:
    """float32 (classes + len(groups), classes): row t marks the classes that target t allows."""
    table = np.zeros((classes + len(groups), classes), np.float32)
    table[np.arange(classes), np.arange(classes)] = 1.0
    for k, members in enumerate(groups):
        table[classes + k, members] = 1.0
    return table


def _allowed(table: Any, y_true: Any) -> Any:
    import tensorflow as tf

    return tf.gather(table, tf.reshape(tf.cast(y_true, tf.int32), [-1]))


class _Either:
    """Keras-serialisable settings of the partial-label loss and metric."""

    def __init__(self, classes: int, groups: list[list[int]]) -> None:
        self.classes, self.groups = classes, [list(map(int, g)) for g in groups]
        self.table = _either_table(classes, self.groups)

    def either_config(self) -> dict[str, Any]:
        return {"classes": self.classes, "groups": self.groups}


@cache
def training_objects() -> tuple[type, type]:
    """The partial-label loss and metric classes, registered with Keras.

    Defined on first use, so that importing this module does not import Keras; a checkpoint
    compiled with them loads only after this has run.
    """
    import keras
    import tensorflow as tf

    @keras.saving.register_keras_serializable(package="digitise")
    class EitherOfLoss(keras.losses.Loss, _Either):
        """Cross-entropy of the classes a target allows: -log of their summed probability."""

        def __init__(self, classes: int, groups: list[list[int]], **kwargs: Any) -> None:
            keras.losses.Loss.__init__(self, **{"name": "either_of", **kwargs})
            _Either.__init__(self, classes, groups)

        def call(self, y_true: Any, y_pred: Any) -> Any:
            allowed = _allowed(self.table, y_true)
            kept = tf.where(allowed > 0, y_pred, tf.fill(tf.shape(y_pred), -1e9))
            return tf.reduce_logsumexp(y_pred, -1) - tf.reduce_logsumexp(kept, -1)

        def get_config(self) -> dict[str, Any]:
            return {**keras.losses.Loss.get_config(self), **self.either_config()}

    @keras.saving.register_keras_serializable(package="digitise")
    class EitherAccuracyMetric(keras.metrics.MeanMetricWrapper, _Either):
        """Share of images whose top class is one their target allows."""

        def __init__(self, classes: int, groups: list[list[int]], **kwargs: Any) -> None:
            _Either.__init__(self, classes, groups)
            table = self.table

            def hit(y_true: Any, y_pred: Any) -> Any:
                top = tf.one_hot(tf.argmax(y_pred, -1), tf.shape(y_pred)[-1])
                return tf.reduce_sum(_allowed(table, y_true) * top, -1)

            keras.metrics.MeanMetricWrapper.__init__(self, hit, **{"name": "accuracy", **kwargs})

        def get_config(self) -> dict[str, Any]:
            return {"name": self.name, "dtype": self.dtype, **self.either_config()}

    return EitherOfLoss, EitherAccuracyMetric


def EitherOf(classes: int, groups: list[list[int]]) -> Any:
    """The partial-label loss: a target of a group is right in any of its classes."""
    return training_objects()[0](classes, groups)


def EitherAccuracy(classes: int, groups: list[list[int]]) -> Any:
    """Accuracy where a target of a group is hit by any of its classes."""
    return training_objects()[1](classes, groups)


def _distort(images: Any, seed: Any, aug: Augmentation) -> Any:
    import tensorflow as tf

    n = tf.shape(images)[0]
    u = tf.random.stateless_uniform([n, 8], seed=seed, minval=-1.0, maxval=1.0)
    active = tf.cast(u[:, 7] * 0.5 + 0.5 < aug.share, tf.float32)
    # Stroke width: blend towards a 3x3 dilation (thicker) or erosion (thinner).
    grown = tf.nn.max_pool2d(images, 3, 1, "SAME")
    shrunk = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    amount = (u[:, 6] * aug.stroke * active)[:, None, None, None]
    images = tf.where(
        amount > 0, images + amount * (grown - images), images + amount * (images - shrunk)
    )
    # Output pixel p samples input pixel A (p - c) + c + t, with A = rotation * shear * scale.
    angle = u[:, 0] * math.radians(aug.rotation_deg) * active
    shear = u[:, 1] * aug.shear * active
    sx = 1.0 + u[:, 2] * aug.scale * active
    sy = 1.0 + u[:, 3] * aug.scale * active
    tx, ty = u[:, 4] * aug.shift_px * active, u[:, 5] * aug.shift_px * active
    cos, sin = tf.cos(angle), tf.sin(angle)
    a00, a01 = cos * sx, (cos * shear - sin) * sy
    a10, a11 = sin * sx, (sin * shear + cos) * sy
    c = (SIZE - 1) / 2.0
    transforms = tf.stack(
        [a00, a01, c - a00 * c - a01 * c + tx, a10, a11, c - a10 * c - a11 * c + ty]
        + [tf.zeros_like(a00)] * 2,
        axis=1,
    )
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=[SIZE, SIZE],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    return tf.clip_by_value(out, 0.0, 255.0)


def train_dataset(
    images: np.ndarray,
    targets: np.ndarray,
    *,
    batch_size: int,
    seed: int,
    first_epoch: int,
    epochs: int,
    augmentation: Augmentation | None = None,
) -> tuple[Any, int]:
    """Make the training stream: a fresh seeded shuffle and augmentation every epoch.

    Memory-bounded: the uint8 images are held once; batches are gathered, converted to float32
    and distorted on the fly. Shuffle and distortion depend only on (seed, epoch, step), so a
    resumed run sees exactly the batches the interrupted run would have seen.

    Args:
        images: uint8 (N, 28, 28) framed images.
        targets: int (N,) class indices.
        batch_size: images per step; a last partial batch is dropped.
        seed: the run's seed.
        first_epoch: the 0-based epoch to start from (after a resume).
        epochs: the total number of epochs.
        augmentation: distortions, or None for none.

    Returns:
        The ``tf.data.Dataset`` of (float32 (B, 28, 28, 1), int32 (B,)) and the steps per epoch.
    """
    import tensorflow as tf

    n = len(targets)
    steps = max(1, n // batch_size)
    batch_size = min(batch_size, n)
    x = tf.constant(images)
    y = tf.constant(targets.astype(np.int32))

    def epoch_batches(epoch: Any) -> Any:
        order = tf.argsort(tf.random.stateless_uniform([n], seed=tf.stack([seed, epoch])))
        batches = tf.reshape(order[: steps * batch_size], [steps, batch_size])
        return tf.data.Dataset.from_tensor_slices(batches)

    def load(step: Any, index: Any) -> Any:
        batch = tf.cast(tf.gather(x, index), tf.float32)[..., None]
        if augmentation is not None:
            batch = _distort(batch, tf.stack([seed + 1, tf.cast(step, tf.int32)]), augmentation)
        return batch, tf.gather(y, index)

    ds = tf.data.Dataset.range(first_epoch, epochs).map(lambda e: tf.cast(e, tf.int32))
    ds = ds.flat_map(epoch_batches).enumerate(start=first_epoch * steps)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(2), steps


def eval_dataset(images: np.ndarray, targets: np.ndarray, *, batch_size: int) -> Any:
    """Make an unshuffled, undistorted stream of (float32 (B, 28, 28, 1), int32 (B,)) batches."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((images, targets.astype(np.int32))).batch(batch_size)
    return ds.map(lambda x, y: (tf.cast(x, tf.float32)[..., None], y)).prefetch(2)
