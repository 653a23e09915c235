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
from ocr_core.recognition.charset import NAMED, both_cases, resolve_charset
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


def in_readings(
    probs: np.ndarray, targets: np.ndarray, labels: tuple[str, ...], bundle: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Probabilities and targets in the space of what a bundle reads with no charset.

    A bundle with both cases reads look-alike letters (``c``/``C``) as one, as the 47-class
    space does (``resolve_charset``); for other bundles this is the identity.

    Args:
        probs: float (N, C) over the bundle's classes.
        targets: int (N,) into ``labels``: the bundle's own labels or its readings.
        labels: the set's labels.
        bundle: the bundle's labels.

    Returns:
        Probabilities (N, R), targets into the readings, and the readings.
    """
    view = resolve_charset(bundle, None)
    readings = tuple(view.readings.tolist())
    if labels == bundle:
        targets = view.columns[targets]
    elif labels != readings:
        raise ValueError("a set must be labelled in its bundle's classes or readings")
    return view.merge(probs), targets, readings


def _charset_figures(
    cal: np.ndarray, targets: np.ndarray, labels: tuple[str, ...]
) -> dict[str, float]:
    """Accuracy of digits read with the ``digits`` charset.

    Likewise of upper and lower case letters, where the classes tell their cases apart.
    """
    names = ("digits", "upper", "lower") if both_cases(labels) else ("digits",)
    truth = np.array(labels)[targets]
    figures = {}
    for name in names:
        mask = np.isin(truth, list(NAMED[name]))
        if mask.any() and not mask.all():
            view = resolve_charset(labels, name)
            pick = view.readings[view.merge(cal[mask][:, view.classes]).argmax(axis=1)]
            figures[f"{name.rstrip('s')}_accuracy_{name}_charset"] = float(
                (pick == truth[mask]).mean()
            )
    return figures


def measure(
    logits: np.ndarray,
    targets: np.ndarray,
    labels: tuple[str, ...],
    bundle: tuple[str, ...],
    temperature: float,
    threshold: float,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Measure accuracy, calibration and coverage figures of one set's logits.

    The figures are of what the bundle reads with no charset (``in_readings``); the charset
    figures are of digits, upper and lower case letters each read in a field of their own.

    Args:
        logits: float (N, C).
        targets: int (N,) true classes, into ``labels``.
        labels: the set's labels (the bundle's, or its readings).
        bundle: the bundle's labels.
        temperature: the calibration temperature.
        threshold: the review threshold.

    Returns:
        Figures (accuracy, ECE before/after, error at each coverage, coverage and error at the
        threshold, digit and letter accuracies) and plot data.
    """
    cal_classes = softmax(logits, temperature)
    raw, _, _ = in_readings(softmax(logits), targets, labels, bundle)
    cal, read_targets, readings = in_readings(cal_classes, targets, labels, bundle)
    correct = cal.argmax(axis=1) == read_targets
    conf = cal.max(axis=1)
    curve = coverage_curve(conf, correct)
    accepted = conf >= threshold
    raw_correct = raw.argmax(axis=1) == read_targets
    figures: dict[str, float] = {
        "count": float(len(targets)),
        "accuracy": float(correct.mean()),
        "ece_before": expected_calibration_error(raw.max(axis=1), raw_correct),
        "ece_after": expected_calibration_error(conf, correct),
        "coverage_at_threshold": float(accepted.mean()),
        "error_at_threshold": float(1 - correct[accepted].mean()) if accepted.any() else 0.0,
    }
    for c in COVERAGES:
        figures[f"error_at_{round(c * 100)}"] = curve.error_at(c)
    is_digit = np.array([readings[t].isdigit() for t in read_targets], bool)
    if is_digit.any() and not is_digit.all():
        figures["digit_accuracy"] = float(correct[is_digit].mean())
        figures["letter_accuracy"] = float(correct[~is_digit].mean())
    if labels == bundle:
        figures.update(_charset_figures(cal_classes, targets, labels))
    step = max(1, len(curve.coverage) // 200)
    curves = {
        "reliability_before": reliability(raw.max(axis=1), raw_correct),
        "reliability_after": reliability(conf, correct),
        "coverage": curve.coverage[::step].tolist(),
        "error": curve.error[::step].tolist(),
    }
    return figures, curves


def confused_pairs(
    truth: np.ndarray, read: np.ndarray, top: int = 12
) -> list[tuple[str, str, int]]:
    """The most frequent (true, read) mistakes, most frequent first."""
    counts = Counter((t, r) for t, r in zip(truth.tolist(), read.tolist(), strict=True) if t != r)
    return [(t, r, n) for (t, r), n in counts.most_common(top)]


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
    bundle = val.labels
    temperature = fit_temperature(logits["val"], val.targets)
    cal, targets, _ = in_readings(softmax(logits["val"], temperature), val.targets, bundle, bundle)
    threshold = choose_threshold(cal.max(axis=1), cal.argmax(axis=1) == targets, max_error)
    metrics, curves = {}, {}
    truth, read = [], []
    for name, s in sets.items():
        if name == "train":
            continue
        metrics[name], curves[name] = measure(
            logits[name], s.targets, s.labels, bundle, temperature, threshold
        )
        # Confusions once per test image: test_pool_all holds test_pool's images too.
        if name.startswith("test") and not (name == "test_pool" and "test_pool_all" in sets):
            probs, targets, readings = in_readings(
                softmax(logits[name]), s.targets, s.labels, bundle
            )
            truth.append(np.array(readings)[targets])
            read.append(np.array(readings)[probs.argmax(axis=1)])
    confusions = confused_pairs(np.concatenate(truth), np.concatenate(read))
    return Report(temperature, threshold, metrics, curves, confusions)
