"""Load a model bundle once and classify batches of character images with calibrated confidence."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from ocr_core.environment import quiet_native_logs, quiet_python_logs
from ocr_core.errors import ModelError
from ocr_core.recognition.bundle import META_FILE, MODEL_FILE, RETRAIN, read_metadata
from ocr_core.recognition.calibration import softmax
from ocr_core.recognition.charset import resolve_charset
from ocr_core.recognition.fold import fold_for_inference
from ocr_core.recognition.normalise import SIZE, frame_characters

BATCH: Final = 1024


@dataclass(frozen=True, slots=True, eq=False)
class Prediction:
    """Top-k readings of a batch of characters.

    Attributes:
        labels: str (N, top_k), best first ("" where the charset allows fewer than top_k).
        probs: float (N, top_k) calibrated probabilities, best first.
        needs_review: bool (N,), top-1 probability under the review threshold.
    """

    labels: np.ndarray
    probs: np.ndarray
    needs_review: np.ndarray


class Classifier:
    """A loaded model bundle: frames, classifies and calibrates batches of characters.

    Attributes:
        path: the bundle folder.
        name: the bundle's name.
        labels: the class labels, in model output order.
        contract: the normalisation contract the bundle was trained under.
        threshold: the default review threshold.
        temperature: the fitted calibration temperature.
        metadata: the whole ``bundle.json``.
        model: the Keras model as trained (float32 (N, 28, 28, 1) pixels 0..255 in, logits
            out); it reads with its batch norm folded in (``ocr_core.recognition.fold``).
    """

    def __init__(self, folder: Path, model: Any, meta: dict[str, Any]) -> None:
        import tensorflow as tf

        self.path = folder
        self.name: str = meta["name"]
        self.labels: tuple[str, ...] = tuple(meta["labels"])
        self.contract: dict[str, object] = meta["contract"]
        self.threshold = float(meta["threshold"])
        self.temperature = float(meta["temperature"])
        self.metadata = meta
        self.model = model
        # Batch norm folded into the weights (the same logits up to rounding, a fifth faster),
        # and one traced graph for every batch size: model.predict's per-call overhead avoided.
        reader = fold_for_inference(model)
        self._infer = tf.function(
            lambda x: reader(x, training=False),
            input_signature=[tf.TensorSpec([None, SIZE, SIZE, 1], tf.float32)],
        )

    def __repr__(self) -> str:
        return f"Classifier({self.name!r}, {len(self.labels)} classes, path={str(self.path)!r})"

    def logits(self, images: np.ndarray, *, framed: bool = False) -> np.ndarray:
        """Raw model logits of a batch, framed by the contract first.

        Args:
            images: uint8 (N, H, W), upright, white ink on black (N may be 0).
            framed: True when the images are known to be framed already (skips the check).

        Returns:
            float32 (N, C) logits, before temperature.
        """
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"expected uint8 (N, H, W) images, got {images.dtype} {images.shape}")
        if len(images) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        chunks = [images[i : i + BATCH] for i in range(0, len(images), BATCH)]
        if framed:
            return np.concatenate([self._run(c) for c in chunks])
        # Frame the next chunk on a thread while the model runs on this one: OpenCV and
        # TensorFlow release the GIL, so framing hides behind inference.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(frame_characters, chunks[0])
            out = []
            for following in [*chunks[1:], None]:
                ready = pending.result()
                if following is not None:
                    pending = pool.submit(frame_characters, following)
                out.append(self._run(ready))
        return np.concatenate(out)

    def _run(self, framed: np.ndarray) -> np.ndarray:
        return np.asarray(self._infer(framed[:, :, :, None].astype(np.float32)).numpy())

    def predict(
        self,
        images: np.ndarray,
        charset: str | None = None,
        top_k: int = 3,
        threshold: float | None = None,
    ) -> Prediction:
        """Classify a batch of character images.

        Args:
            images: uint8 (N, H, W), usually (N, 28, 28), upright, white ink on black, as MNIST
                stores them (framed internally by the contract). N may be 0.
            charset: None (all classes), ``digits``, ``upper``, ``lower``, ``letters``,
                ``alnum``, or a literal string of allowed characters.
            top_k: alternatives per character, best first.
            threshold: review threshold; the bundle's default when None.

        Returns:
            The top-k labels and calibrated probabilities, and the review flags.

        Raises:
            ValueError: wrong image dtype or shape, top_k < 1, threshold outside [0, 1], or a
                charset that allows none of the bundle's classes.
        """
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, not {top_k}")
        limit = self.threshold if threshold is None else float(threshold)
        if not 0.0 <= limit <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], not {threshold}")
        allowed = resolve_charset(self.labels, charset)
        logits = self.logits(images)[:, allowed.classes]
        probs = allowed.merge(softmax(logits, self.temperature))
        k = min(top_k, probs.shape[1])
        best = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        labels = np.full((len(probs), top_k), "", dtype=allowed.readings.dtype)
        top = np.zeros((len(probs), top_k), np.float64)
        labels[:, :k] = allowed.readings[best]
        top[:, :k] = np.take_along_axis(probs, best, axis=1)
        return Prediction(labels, top, top[:, 0] < limit)


_CACHE: dict[tuple[str, int, int], Classifier] = {}
_LOCK = threading.Lock()


def load_classifier(path: str | Path) -> Classifier:
    """Load a model bundle (once per process; later calls return the same Classifier).

    Args:
        path: the bundle folder, e.g. ``data/models/digits``.

    Returns:
        The classifier.

    Raises:
        ModelError: the bundle is missing, broken, or was trained under another contract; the
            message names the path and the fix.
    """
    folder = Path(path)
    meta = read_metadata(folder)
    model_path = folder / MODEL_FILE
    if not model_path.is_file():
        raise ModelError("bundle has no model.keras", path=model_path, remedy=RETRAIN)
    key = (
        str(folder.resolve()),
        (folder / META_FILE).stat().st_mtime_ns,
        model_path.stat().st_mtime_ns,
    )
    with _LOCK:
        if key not in _CACHE:
            model = _load_model(model_path)
            outputs = model.output_shape[-1]
            if outputs != len(meta["labels"]):
                raise ModelError(
                    f"model has {outputs} outputs, bundle.json {len(meta['labels'])} labels",
                    path=folder,
                    remedy=RETRAIN,
                )
            with quiet_native_logs():  # the first graph is where "cuInit" is printed
                _CACHE[key] = Classifier(folder, model, meta)
        return _CACHE[key]


def _load_model(model_path: Path) -> Any:
    """Load a bundle's Keras model, TensorFlow's start-up lines held back unless ``--verbose``.

    Raises:
        ModelError: the file cannot be loaded.
    """
    with quiet_native_logs():
        import keras

        quiet_python_logs()
        try:
            return keras.models.load_model(model_path, compile=False, safe_mode=True)
        except Exception as e:  # Keras raises many types for a broken file
            raise ModelError(
                f"model.keras cannot be loaded ({type(e).__name__}: {e})",
                path=model_path,
                remedy=RETRAIN,
            ) from e
