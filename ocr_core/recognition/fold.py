"""A bundle's model made cheaper to run: batch norm folded into the layer before it.

At inference a batch norm layer is a fixed scale and shift per channel, and so is a
``Rescaling`` of the input. Both fold into the weights of the convolution or dense layer next
to them, and dropout does nothing, so the model that reads is the same chain with fewer layers:
about a fifth less time a character for the classifiers, a third for the junk bundle, with
logits that differ only by float rounding (``fold_for_inference`` checks this on every load).
The files on disk and the training code keep the layers as trained.
"""

from __future__ import annotations

import itertools
from typing import Any, Final

import numpy as np

from ocr_core.recognition.normalise import SIZE

# Largest logit difference, against the model as trained, at which the folded model is used.
TOLERANCE: Final = 1e-3


def fold_for_inference(model: Any) -> Any:
    """The model with its batch norm and input scaling folded in, or the model itself.

    Only a plain chain is folded (each layer takes the one before it), and only where the
    folded model's logits match the model's on a probe batch within ``TOLERANCE``; any other
    model is returned as it is: folding makes reading faster, never different beyond
    float rounding.

    Args:
        model: a loaded bundle model (float32 (N, 28, 28, 1) pixels 0..255 in, logits out).

    Returns:
        A ``keras.Model`` with the same inputs and outputs.
    """
    import keras

    if not isinstance(model, keras.Model):
        return model  # something else that maps images to logits: read as it is
    layers = _chain(model)
    if layers is None:
        return model
    folded = _build(model, layers)
    if folded is None:
        return model
    probe = np.random.default_rng(0).integers(0, 256, (16, SIZE, SIZE, 1)).astype(np.float32)
    probe[:4] = 0.0  # blank inputs too: biases alone
    want = np.asarray(model(probe, training=False))
    got = np.asarray(folded(probe, training=False))
    return folded if float(np.abs(want - got).max()) <= TOLERANCE else model


def _chain(model: Any) -> list[Any] | None:
    """The model's layers after its input, if each takes exactly the output of the one before."""
    layers = list(model.layers)
    if len(model.inputs) != 1 or len(model.outputs) != 1 or not layers:
        return None
    for before, layer in itertools.pairwise(layers):
        nodes = layer._inbound_nodes  # Keras keeps no public view of a layer's inputs
        if len(nodes) != 1 or len(nodes[0].input_tensors) != 1:
            return None
        if nodes[0].input_tensors[0] is not before.output:
            return None
    return layers[1:]


def _build(model: Any, layers: list[Any]) -> Any | None:
    """Rebuild the chain with batch norm, input scaling and dropout folded away (None: cannot)."""
    import keras

    x = inputs = keras.Input(model.inputs[0].shape[1:], name=model.inputs[0].name)
    scale = 1.0  # a Rescaling waiting to be folded into the next weighted layer
    i = 0
    while i < len(layers):
        layer = layers[i]
        kind = type(layer).__name__
        if kind == "Rescaling" and _plain_rescaling(layer) and scale == 1.0:
            scale = float(layer.scale)
        elif kind in ("Conv2D", "Dense"):
            norm = layers[i + 1] if i + 1 < len(layers) else None
            if norm is not None and type(norm).__name__ != "BatchNormalization":
                norm = None
            rebuilt = _weighted(layer, norm, scale)
            if rebuilt is None:
                return None
            copy, weights = rebuilt
            x = copy(x)
            copy.set_weights(weights)
            scale = 1.0
            i += norm is not None
        elif kind == "Dropout":
            pass
        elif kind == "BatchNormalization" or scale != 1.0:
            return None  # a norm with nothing to fold into, or scaling not next to weights
        else:
            copy = type(layer).from_config(layer.get_config())
            x = copy(x)
            copy.set_weights(layer.get_weights())
        i += 1
    return keras.Model(inputs, x, name=f"{model.name}_folded")


def _plain_rescaling(layer: Any) -> bool:
    offset = layer.offset
    return np.ndim(layer.scale) == 0 and np.ndim(offset) == 0 and float(offset) == 0.0


def _weighted(layer: Any, norm: Any | None, scale: float) -> tuple[Any, list[np.ndarray]] | None:
    """A copy of a Conv2D or Dense layer, and its weights with ``scale`` and ``norm`` folded in.

    None where they cannot be folded (a norm after the layer's own activation, or on another
    axis than the channels).
    """
    config = layer.get_config()
    if norm is not None and config.get("activation") not in ("linear", None):
        return None  # the norm acts after the activation: nothing to fold
    weights = layer.get_weights()
    kernel = weights[0] * np.float32(scale)
    bias = weights[1] if config.get("use_bias") else np.zeros(kernel.shape[-1], np.float32)
    if norm is not None:
        axis = norm.axis if isinstance(norm.axis, int) else norm.axis[0]
        if axis not in (-1, len(norm.input.shape) - 1):
            return None
        gamma = np.asarray(norm.gamma) if norm.scale else 1.0
        beta = np.asarray(norm.beta) if norm.center else 0.0
        factor = gamma / np.sqrt(np.asarray(norm.moving_variance) + norm.epsilon)
        kernel = kernel * factor
        bias = (bias - np.asarray(norm.moving_mean)) * factor + beta
    config.update(use_bias=True, name=f"{config['name']}_folded")
    return type(layer).from_config(config), [
        kernel.astype(np.float32),
        np.asarray(bias, np.float32),
    ]
