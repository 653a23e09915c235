"""Confidence calibration: temperature scaling, ECE, error-vs-coverage and the review threshold."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

ECE_BINS = 15
# A calibrated top-1 probability under one half means the reading is more likely wrong than right.
MIN_THRESHOLD = 0.5


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax over the last axis of ``logits / temperature``, in float64.

    Args:
        logits: float (N, C); ``-inf`` marks a masked class.
        temperature: > 0.

    Returns:
        float64 (N, C) probabilities; each row sums to 1.
    """
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def nll(logits: np.ndarray, targets: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the targets under ``softmax(logits / temperature)``."""
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(log_norm - z[np.arange(len(z)), targets]))


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """Fit the temperature that minimises the NLL of held-out logits.

    The NLL is convex in 1/T, so a golden-section search over log T in [1/20, 20] is exact enough.

    Args:
        logits: float (N, C) held-out (validation) logits.
        targets: int (N,) true classes.

    Returns:
        The temperature (> 0); 1.0 for empty input.
    """
    if len(targets) == 0:
        return 1.0
    lo, hi = np.log(0.05), np.log(20.0)
    ratio = (np.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(logits, targets, np.exp(a)), nll(logits, targets, np.exp(b))
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(logits, targets, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(logits, targets, np.exp(b))
    return float(np.exp((lo + hi) / 2))


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> float:
    """Expected calibration error of top-1 confidences over equal-width bins.

    Args:
        confidence: float (N,) top-1 probabilities in [0, 1].
        correct: bool (N,) whether the top-1 answer was right.
        bins: number of equal-width bins over [0, 1].

    Returns:
        Sum over bins of (bin share) * |bin accuracy - bin mean confidence|; 0.0 for no input.
    """
    if len(confidence) == 0:
        return 0.0
    which = np.minimum((np.asarray(confidence) * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            gap = abs(float(np.mean(correct[in_bin])) - float(np.mean(confidence[in_bin])))
            total += in_bin.mean() * gap
    return float(total)


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> list[tuple[float, float, int]]:
    """Per-bin (mean confidence, accuracy, count) for a reliability diagram; empty bins skipped."""
    which = np.minimum((np.asarray(confidence) * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            out.append(
                (float(confidence[in_bin].mean()), float(correct[in_bin].mean()), int(in_bin.sum()))
            )
    return out


@dataclass(frozen=True, slots=True)
class CoverageCurve:
    """Error among accepted characters when accepting the most confident first.

    Attributes:
        confidence: float (N,) sorted, most confident first.
        coverage: float (N,) share accepted when accepting the first i + 1.
        error: float (N,) error rate among those accepted.
    """

    confidence: np.ndarray
    coverage: np.ndarray
    error: np.ndarray

    def error_at(self, coverage: float) -> float:
        """Error rate among the most confident ``coverage`` share (0 < coverage <= 1)."""
        if len(self.error) == 0:
            return 0.0
        i = max(0, int(np.ceil(coverage * len(self.error))) - 1)
        return float(self.error[i])


def coverage_curve(confidence: np.ndarray, correct: np.ndarray) -> CoverageCurve:
    """Build the error-vs-coverage curve of top-1 confidences (ties broken by input order)."""
    order = np.argsort(-np.asarray(confidence), kind="stable")
    wrong = np.cumsum(~np.asarray(correct, bool)[order])
    accepted = np.arange(1, len(order) + 1)
    return CoverageCurve(
        np.asarray(confidence)[order], accepted / max(1, len(order)), wrong / accepted
    )


def choose_threshold(
    confidence: np.ndarray, correct: np.ndarray, max_error: float, floor: float = MIN_THRESHOLD
) -> float:
    """Pick the lowest confidence threshold whose accepted characters have error <= max_error.

    Characters with top-1 confidence >= the threshold are accepted; the rest go to review. The
    threshold is never under ``floor``: when a model is accurate enough that even accepting
    everything meets ``max_error``, a reading that is more likely wrong than right still goes to
    review.

    Args:
        confidence: float (N,) calibrated top-1 probabilities on validation data.
        correct: bool (N,) whether each top-1 answer was right.
        max_error: the largest tolerated error rate among accepted characters.
        floor: the lowest threshold returned.

    Returns:
        The threshold in [floor, 1]; 1.0 (review everything uncertain) when none qualifies.
    """
    curve = coverage_curve(confidence, correct)
    ok = np.flatnonzero(curve.error <= max_error)
    if ok.size == 0:
        return 1.0
    # Only cut between distinct confidences: accepting one of a tie accepts them all.
    distinct = np.append(curve.confidence[1:] < curve.confidence[:-1], True)
    ok = ok[distinct[ok]]
    return max(floor, float(curve.confidence[ok[-1]])) if ok.size else 1.0


def choose_joint_thresholds(
    samples: dict[str, tuple[np.ndarray, np.ndarray]],
    max_error: float,
    floors: dict[str, float],
    steps: int = 200,
) -> dict[str, float]:
    """Pick one threshold per bundle so that, together, accepted characters have error <= max_error.

    Among the threshold pairs (or tuples) that meet the error bound over all characters, the
    one flagging the fewest is chosen: a form mixes digits and letters, and what matters to a
    clerk is how many characters in all go to review for a given error among the rest.

    Args:
        samples: bundle name to (calibrated top-1 confidences, whether each was right).
        max_error: the largest tolerated error rate among all accepted characters.
        floors: per bundle, the lowest threshold allowed (its own default).
        steps: candidate thresholds per bundle (quantiles of its confidences).

    Returns:
        Bundle name to threshold; 1.0 for every bundle when no choice meets the bound.
    """
    names = sorted(samples)
    options: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for name in names:
        confidence = np.asarray(samples[name][0], np.float64)
        wrong_mask = ~np.asarray(samples[name][1], bool)
        grid = np.quantile(confidence, np.linspace(0, 1, steps)) if len(confidence) else np.ones(1)
        candidates = np.unique(np.append(np.maximum(grid, floors[name]), [floors[name], 1.0]))
        taken = confidence[None, :] >= candidates[:, None]
        options.append((candidates, taken.sum(1), (taken & wrong_mask[None, :]).sum(1)))
    best: tuple[int, tuple[int, ...]] | None = None
    for picks in itertools.product(*(range(len(c)) for c, _, _ in options)):
        accepted = sum(int(options[b][1][i]) for b, i in enumerate(picks))
        wrong = sum(int(options[b][2][i]) for b, i in enumerate(picks))
        if wrong <= max_error * accepted and (best is None or accepted > best[0]):
            best = (accepted, picks)
    if best is None:
        return dict.fromkeys(names, 1.0)
    return {
        name: float(options[b][0][i])
        for b, (name, i) in enumerate(zip(names, best[1], strict=True))
    }
