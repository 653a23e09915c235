"""Fit the temperature and review threshold on val; measure every set (the bundle's figures)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from ocr_core.recognition.calibration import (
    choose_threshold,
    coverage_curve,
    expected_calibration_error,
    fit_temperature,
    reliability,
    softmax,
)
from ocr_core.recognition.charset import resolve_charset
from ocr_core.training.corpus import CharacterSet

COVERAGES: Final = (1.0, 0.98, 0.95, 0.9, 0.8)


@dataclass(frozen=True, slots=True)
class Report:
    """What evaluation found.

    Attributes:
        temperature: fitted on val.
        threshold: review threshold chosen on val.
        metrics: per set (``val``, ``test_mnist``, ``test_pool``) the measured figures.
        curves: per set, plot data (reliability bins before/after, coverage curve samples).
        confusions: most confused (true, predicted, count) pairs on the test sets.
    """

    temperature: float
    threshold: float
    metrics: dict[str, dict[str, float]]
    curves: dict[str, dict[str, Any]]
    confusions: list[tuple[str, str, int]]


def model_logits(model: Any, images: np.ndarray) -> np.ndarray:
    """Logits of framed uint8 (N, 28, 28) images; float32 (N, C)."""
    if len(images) == 0:
        return np.zeros((0, model.output_shape[-1]), np.float32)
    return np.asarray(
        model.predict(images[..., None].astype(np.float32), batch_size=1024, verbose=0)
    )


def measure(
    logits: np.ndarray,
    targets: np.ndarray,
    labels: tuple[str, ...],
    temperature: float,
    threshold: float,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Measure accuracy, calibration and coverage figures of one set's logits.

    Args:
        logits: float (N, C).
        targets: int (N,) true classes.
        labels: the class labels.
        temperature: the calibration temperature.
        threshold: the review threshold.

    Returns:
        Figures (accuracy, ECE before/after, error at each coverage, coverage and error at the
        threshold, digit and letter accuracies) and plot data.
    """
    raw, cal = softmax(logits), softmax(logits, temperature)
    correct = cal.argmax(axis=1) == targets
    conf = cal.max(axis=1)
    curve = coverage_curve(conf, correct)
    accepted = conf >= threshold
    figures: dict[str, float] = {
        "count": float(len(targets)),
        "accuracy": float(correct.mean()),
        "ece_before": expected_calibration_error(raw.max(axis=1), raw.argmax(axis=1) == targets),
        "ece_after": expected_calibration_error(conf, correct),
        "coverage_at_threshold": float(accepted.mean()),
        "error_at_threshold": float(1 - correct[accepted].mean()) if accepted.any() else 0.0,
    }
    for c in COVERAGES:
        figures[f"error_at_{round(c * 100)}"] = curve.error_at(c)
    is_digit = np.array([labels[t].isdigit() for t in targets], bool)
    if is_digit.any() and not is_digit.all():
        digits = resolve_charset(labels, "digits")
        pick = logits[is_digit][:, digits.classes].argmax(axis=1)
        figures["digit_accuracy_digits_charset"] = float(
            (digits.classes[pick] == targets[is_digit]).mean()
        )
        figures["digit_accuracy"] = float(correct[is_digit].mean())
        figures["letter_accuracy"] = float(correct[~is_digit].mean())
    step = max(1, len(curve.coverage) // 200)
    curves = {
        "reliability_before": reliability(raw.max(axis=1), raw.argmax(axis=1) == targets),
        "reliability_after": reliability(conf, correct),
        "coverage": curve.coverage[::step].tolist(),
        "error": curve.error[::step].tolist(),
    }
    return figures, curves


def confused_pairs(
    logits: np.ndarray, targets: np.ndarray, labels: tuple[str, ...], top: int = 12
) -> list[tuple[str, str, int]]:
    """The most frequent (true, predicted) mistakes, most frequent first."""
    pred = logits.argmax(axis=1)
    counts = Counter((labels[t], labels[p]) for t, p in zip(targets, pred, strict=True) if t != p)
    return [(t, p, n) for (t, p), n in counts.most_common(top)]


def evaluate(model: Any, sets: dict[str, CharacterSet], *, max_error: float) -> Report:
    """Fit the temperature and the review threshold on val; measure every set.

    Args:
        model: the trained Keras model (logits out).
        sets: ``val`` and the test sets from ``build_sets``.
        max_error: largest error tolerated among accepted val characters.

    Returns:
        The report.
    """
    logits = {name: model_logits(model, s.images) for name, s in sets.items() if name != "train"}
    val = sets["val"]
    temperature = fit_temperature(logits["val"], val.targets)
    cal = softmax(logits["val"], temperature)
    threshold = choose_threshold(cal.max(axis=1), cal.argmax(axis=1) == val.targets, max_error)
    metrics, curves = {}, {}
    for name, s in sets.items():
        if name != "train":
            metrics[name], curves[name] = measure(
                logits[name], s.targets, s.labels, temperature, threshold
            )
    tests = [name for name in logits if name.startswith("test")]
    all_logits = np.concatenate([logits[n] for n in tests])
    all_targets = np.concatenate([sets[n].targets for n in tests])
    confusions = confused_pairs(all_logits, all_targets, val.labels)
    return Report(temperature, threshold, metrics, curves, confusions)
