"""The loaded classifiers of a run and the review threshold each charset's characters get."""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ocr_core.errors import ModelError
from ocr_core.reading.lattice import JUNK_THRESHOLD
from ocr_core.recognition.calibration import softmax
from ocr_core.recognition.normalise import SIZE

if TYPE_CHECKING:
    from ocr_core import Prediction
    from ocr_core.recognition.inference import Classifier

# Digit-only fields go to the digits bundle when the choice is "auto": it reads digits better.
AUTO = "auto"
# The bundle that tells one character from junk (``ocr_core.training.junk``), used where present.
JUNK = "junk"
DIGIT_CHARSETS = frozenset({"digits", "0123456789"})

log = logging.getLogger(__name__)


class Recognisers:
    """The model bundles of a run: routes each field's characters to one, classifies in batches."""

    def __init__(self, models_dir: Path, model: str = AUTO, threshold: float | None = None):
        """Load the bundles ``model`` needs (``auto``: ``digits`` and ``alnum``).

        Args:
            models_dir: the folder of model bundles.
            model: ``auto`` or one bundle name.
            threshold: a review threshold overriding every bundle's own, or None.

        Raises:
            ModelError: a bundle is missing or broken, before any input is touched.
        """
        if model != AUTO and not re.fullmatch(r"[A-Za-z0-9_.-]+", model):
            raise ModelError(f"model {model!r} is not a bundle name", path=models_dir)
        from ocr_core import load_classifier  # loads each bundle once per process

        self.bundles = {name: load_classifier(models_dir / name) for name in bundle_names(model)}
        # Box-field cutting weighs its candidates by it; a models folder without it cuts by
        # the classifier and the candidates' shapes alone, as before it existed.
        junk = models_dir / JUNK
        self.junk = load_classifier(junk) if (junk / "bundle.json").is_file() else None
        self.model = model
        self.threshold = threshold
        self._lock = threading.Lock()

    def bundle_for(self, charset: str) -> str:
        """Name the bundle that reads a field of this charset."""
        if self.model != AUTO:
            return self.model
        return "digits" if charset in DIGIT_CHARSETS else "alnum"

    def threshold_for(self, charset: str) -> float:
        """The review threshold for a field of this charset: the override, else the bundle's.

        A bundle's pipeline threshold (``pipeline.threshold`` in its ``bundle.json``, set by
        ``python -m flows.thresholds`` on forms written with validation handwriting) wins over
        its plain threshold, which was chosen on isolated characters.
        """
        return self.bundle_threshold(self.bundle_for(charset))

    def bundle_threshold(self, name: str) -> float:
        """The review threshold applied to the characters bundle ``name`` reads."""
        if self.threshold is not None:
            return self.threshold
        return pipeline_threshold(self.bundles[name])

    def thresholds(self) -> dict[str, float]:
        """The review threshold each loaded bundle applies, by bundle name."""
        return {name: self.bundle_threshold(name) for name in self.bundles}

    def field_threshold_for(self, charset: str) -> float | None:
        """The bound on a field's chance of being read right, under which it goes to review.

        That chance is the product of its characters' confidences
        (``ocr_core.reading.fields.uncertain_by_field``); the bound is the bundle's
        ``pipeline.field_threshold``, set by ``python -m flows.thresholds``. None, so that any
        character under its threshold flags its field, with a threshold override (a user who
        sets one means it for every character) or a bundle that has no field threshold.
        """
        if self.threshold is not None:
            return None
        return pipeline_field_threshold(self.bundles[self.bundle_for(charset)])

    def field_thresholds(self) -> dict[str, float]:
        """The field threshold each loaded bundle applies, by bundle name (those that have one)."""
        if self.threshold is not None:
            return {}
        found = {name: pipeline_field_threshold(b) for name, b in self.bundles.items()}
        return {name: bound for name, bound in found.items() if bound is not None}

    def one_character(self, images: np.ndarray) -> np.ndarray | None:
        """Calibrated P(one whole character) of uint8 (N, 28, 28) crops (None: no junk bundle)."""
        if self.junk is None:
            return None
        one = self.junk.labels.index("one")
        with self._lock:
            logits = self.junk.logits(images)
        return np.asarray(softmax(logits, self.junk.temperature)[:, one], np.float64)

    @property
    def junk_threshold(self) -> float:
        """Under this P(one), the junk bundle judges a candidate not one character."""
        return self.junk.threshold if self.junk is not None else JUNK_THRESHOLD

    def classify(self, images: np.ndarray, charset: str) -> Prediction:
        """Classify uint8 (N, 28, 28) white-on-black images of one charset in one batch."""
        classifier = self.bundles[self.bundle_for(charset)]
        threshold = self.threshold_for(charset)
        with self._lock:  # one model call at a time per process: TF already uses every core
            return classifier.predict(images, charset=charset, top_k=3, threshold=threshold)


def pipeline_threshold(classifier: Classifier) -> float:
    """A bundle's review threshold for forms: its calibrated pipeline one, else its default."""
    pipeline = classifier.metadata.get("pipeline") or {}
    return float(pipeline.get("threshold", classifier.threshold))


def pipeline_field_threshold(classifier: Classifier) -> float | None:
    """A bundle's field threshold for forms (``pipeline.field_threshold``), or None."""
    bound = (classifier.metadata.get("pipeline") or {}).get("field_threshold")
    return None if bound is None else float(bound)


@lru_cache(maxsize=4)
def load_recognisers(models_dir: str, model: str, threshold: float | None) -> Recognisers:
    """The recognisers for these arguments, loaded once per process (each task reuses them)."""
    return Recognisers(Path(models_dir), model, threshold)


def bundle_names(model: str) -> tuple[str, ...]:
    """The classifier bundles that ``model`` reads with (``auto``: ``digits`` and ``alnum``)."""
    return ("digits", "alnum") if model == AUTO else (model,)


def preload(models_dir: Path, model: str = AUTO) -> threading.Thread:
    """Start loading a run's bundles, TensorFlow first, on a thread of their own.

    A command calls it (``context.prepare_run``) once the Prefect server is starting:
    importing TensorFlow and loading the bundles (about 4 s) then happens during that wait of
    several seconds, instead of after it. The run still loads its bundles with
    ``load_recognisers``: one loaded here comes from the cache, one still loading is waited
    for (``load_classifier`` holds a lock while it loads). A bundle that fails to load here
    is left for the run to load again and report.

    The thread is not a daemon: while it loads, standard error is held back (TensorFlow's
    native start-up lines are dropped, the rest passed on after), so a command that stops
    early waits for it rather than lose its own last line.
    """
    from ocr_core import load_classifier

    folders = [models_dir / name for name in (*bundle_names(model), JUNK)]

    def load() -> None:
        for folder in folders:
            if not (folder / "bundle.json").is_file():
                continue
            try:
                # One image traces the model's graph, the first call's extra tenth of a second.
                load_classifier(folder).logits(np.zeros((1, SIZE, SIZE), np.uint8), framed=True)
            except Exception as e:  # any failure: the run loads it again and reports it
                log.debug("preloading %s failed: %s", folder, e)

    thread = threading.Thread(target=load, name="preload-models")
    thread.start()
    return thread
