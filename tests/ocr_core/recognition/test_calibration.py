import numpy as np
import pytest

from ocr_core.recognition.calibration import (
    choose_joint_thresholds,
    choose_threshold,
    coverage_curve,
    expected_calibration_error,
    fit_temperature,
    nll,
    softmax,
)


def test_temperature_fit_recovers_a_known_temperature() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 4, size=(20000, 10))
    for true_t in (0.5, 2.0):
        probs = softmax(logits, true_t)
        # Targets drawn from softmax(logits / T): the NLL-optimal temperature is T.
        targets = (probs.cumsum(axis=1) > rng.random((len(probs), 1))).argmax(axis=1)
        assert fit_temperature(logits, targets) == pytest.approx(true_t, rel=0.05)


def test_temperature_lowers_nll_and_handles_empty_input() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 6, size=(2000, 5))
    targets = rng.integers(0, 5, 2000)  # overconfident logits, random targets
    t = fit_temperature(logits, targets)
    assert t > 3 and nll(logits, targets, t) < nll(logits, targets)
    assert fit_temperature(np.zeros((0, 5)), np.zeros(0, int)) == 1.0


def test_softmax_masks_minus_inf() -> None:
    p = softmax(np.array([[0.0, -np.inf, 0.0]]))
    np.testing.assert_allclose(p, [[0.5, 0.0, 0.5]])


def test_ece_on_known_inputs() -> None:
    conf = np.full(10, 0.8)
    correct = np.array([1] * 8 + [0] * 2, bool)
    assert expected_calibration_error(conf, correct) == pytest.approx(0.0)
    # Two bins: 0.95 conf all right (gap 0.05), 0.25 conf all wrong (gap 0.25), equal shares.
    conf = np.array([0.95, 0.95, 0.25, 0.25])
    correct = np.array([True, True, False, False])
    assert expected_calibration_error(conf, correct) == pytest.approx(0.15)
    assert expected_calibration_error(np.array([1.0]), np.array([True])) == 0.0  # top bin
    assert expected_calibration_error(np.zeros(0), np.zeros(0, bool)) == 0.0


def test_coverage_curve_and_threshold() -> None:
    conf = np.array([0.99, 0.97, 0.9, 0.8, 0.6, 0.5])
    correct = np.array([True, True, True, False, True, False])
    curve = coverage_curve(conf, correct)
    np.testing.assert_allclose(curve.error, [0, 0, 0, 0.25, 0.2, 2 / 6])
    assert curve.error_at(0.5) == 0.0 and curve.error_at(1.0) == pytest.approx(2 / 6)
    assert choose_threshold(conf, correct, 0.0) == 0.9
    assert choose_threshold(conf, correct, 0.21) == 0.6
    assert choose_threshold(conf, correct, 0.5) == 0.5
    assert choose_threshold(np.array([0.9]), np.array([False]), 0.01) == 1.0
    # Even when accepting everything meets the target, unlikely readings still go to review.
    conf = np.array([0.99, 0.98, 0.3])
    assert choose_threshold(conf, np.array([True, True, True]), 0.01) == 0.5
    assert choose_threshold(conf, np.array([True, True, True]), 0.01, floor=0.0) == 0.3


def test_threshold_never_splits_a_tie() -> None:
    conf = np.array([0.9, 0.9, 0.9, 0.5])
    correct = np.array([True, False, True, True])
    # Accepting "the first 0.9" alone would have 0 error, but ties are accepted together.
    assert choose_threshold(conf, correct, 0.0) == 1.0


def test_joint_thresholds_flag_the_fewest_characters_within_the_error_bound() -> None:
    # Digits: 1000 read, 2 wrong at low confidence. Letters: 100 read, 10 wrong, spread out.
    digit_conf = np.linspace(0.5, 1.0, 1000)
    digit_ok = np.ones(1000, bool)
    digit_ok[[0, 1]] = False
    letter_conf = np.linspace(0.5, 1.0, 100)
    letter_ok = np.ones(100, bool)
    letter_ok[::10] = False  # wrong at 0.5, 0.55, ... 0.95: high confidence too
    samples = {"digits": (digit_conf, digit_ok), "alnum": (letter_conf, letter_ok)}
    chosen = choose_joint_thresholds(samples, 0.002, {"digits": 0.5, "alnum": 0.5})
    accepted = wrong = 0
    for name, (conf, ok) in samples.items():
        keep = conf >= chosen[name]
        accepted, wrong = accepted + keep.sum(), wrong + (keep & ~ok).sum()
    assert wrong <= 0.002 * accepted
    # Both weak digits go to review; accepting nearly every digit leaves room for two wrong
    # letters, so fewer letters are flagged than all of those up to the last error (91).
    assert 0.5 < chosen["digits"] <= digit_conf[10]
    assert 1100 - accepted < 2 + 91
    assert choose_joint_thresholds(samples, 0.002, {"digits": 0.9, "alnum": 0.99})["digits"] >= 0.9


def test_joint_thresholds_review_everything_when_no_choice_meets_the_bound() -> None:
    samples = {"digits": (np.ones(10), np.zeros(10, bool))}
    assert choose_joint_thresholds(samples, 0.01, {"digits": 0.5}) == {"digits": 1.0}
