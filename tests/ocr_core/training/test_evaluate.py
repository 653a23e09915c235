"""Figures of a bundle: measured on what it reads with no charset, and per field charset."""

import numpy as np
import pytest

from ocr_core.training.corpus import ALNUM47, ALNUM62
from ocr_core.training.evaluate import confused_pairs, in_readings, measure


def logits_for(chars: list[str], labels: tuple[str, ...] = ALNUM62) -> np.ndarray:
    """Logits that read each character with probability ~0.97 over 62 classes."""
    out = np.zeros((len(chars), len(labels)))
    for i, c in enumerate(chars):
        out[i, labels.index(c)] = 8.0
    return out


def test_a_look_alikes_two_cases_are_one_reading_and_a_field_of_one_case_tells_them() -> None:
    logits = logits_for(["C", "l", "a"])
    logits[1, ALNUM62.index("I")] = 6.0  # a bar: l, else I
    targets = np.array([ALNUM62.index(c) for c in "cIa"])
    figures, _ = measure(logits, targets, ALNUM62, ALNUM62, 1.0, 0.5)
    # With no charset, true c read C is right (one reading, as a 47-class bundle reads), and
    # the bar read l is L: wrong, for the writer meant I.
    assert figures["accuracy"] == pytest.approx(2 / 3)
    # In an upper-case field the bar is I; in a lower-case field the c, read C, is wrong.
    assert figures["upper_accuracy_upper_charset"] == 1.0
    assert figures["lower_accuracy_lower_charset"] == pytest.approx(1 / 2)


def test_a_set_labelled_in_the_readings_is_measured_as_read() -> None:
    logits = logits_for(["c", "O", "7"])
    targets = np.array([ALNUM47.index(c) for c in "CO1"])
    probs, read_targets, readings = in_readings(
        np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), targets, ALNUM47, ALNUM62
    )
    assert readings == ALNUM47 and probs.shape == (3, 47)
    assert (probs.argmax(axis=1) == read_targets).tolist() == [True, True, False]
    with pytest.raises(ValueError, match="labelled"):
        in_readings(probs, targets, tuple("0123456789"), ALNUM62)


def test_confused_pairs_counts_mistakes_most_frequent_first() -> None:
    truth, read = np.array(list("IIIOO5")), np.array(list("LLLO05"))
    assert confused_pairs(truth, read) == [("I", "L", 3), ("O", "0", 1)]


def test_a_letter_of_unknown_case_is_right_in_either_case() -> None:
    from ocr_core.recognition.model import EitherAccuracy, EitherOf
    from ocr_core.training.corpus import either_case_groups

    groups = either_case_groups(ALNUM62)
    c_either = 62 + sorted("cijklmopsuvwxyz").index("c")
    assert groups[c_either - 62] == [ALNUM62.index("C"), ALNUM62.index("c")]
    assert either_case_groups(ALNUM47) == []
    logits = np.zeros((2, 62), np.float32)
    logits[:, ALNUM62.index("c")] = 3.0
    logits[1, ALNUM62.index("C")] = 3.0
    targets = np.array([c_either, ALNUM62.index("C")])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    want = -np.log([probs[0, 12] + probs[0, 38], probs[1, 12]])
    loss = EitherOf(62, groups)
    # Keras averages over the batch; each image's loss is -log of what its target allows.
    assert float(loss(targets[:1], logits[:1])) == pytest.approx(want[0], rel=1e-5)
    assert float(loss(targets[1:], logits[1:])) == pytest.approx(want[1], rel=1e-5)
    # Read c: a hit for c-or-C, a miss for C.
    accuracy = EitherAccuracy(62, groups)
    accuracy.update_state(np.array([c_either, ALNUM62.index("C")]), logits[:1].repeat(2, axis=0))
    assert float(accuracy.result()) == 0.5
