import numpy as np
import pytest

from ocr_core.recognition.charset import case_unknown, resolve_charset
from ocr_core.training.corpus import ALNUM47, ALNUM62, DIGITS


def readings(charset: str | None, labels: tuple[str, ...] = ALNUM47) -> dict[str, str]:
    allowed = resolve_charset(labels, charset)
    reads_as = allowed.readings[allowed.columns]
    return {labels[c]: r for c, r in zip(allowed.classes, reads_as, strict=True)}


def test_named_charsets_in_the_47_class_space() -> None:
    assert set(readings("digits")) == set(DIGITS)
    upper = readings("upper")
    assert len(upper) == 26 and all(k == v for k, v in upper.items())
    lower = readings("lower")
    # 11 lower-case classes of their own, 15 merged upper-case classes read as lower case.
    assert len(lower) == 26 and lower["C"] == "c" and lower["O"] == "o" and lower["a"] == "a"
    assert "A" not in lower  # A has its own lower case class a
    assert len(readings("letters")) == 37 and readings("letters")["C"] == "C"
    assert len(readings("alnum")) == 47 and len(readings(None)) == 47


def test_literal_charsets() -> None:
    assert readings("MF") == {"M": "M", "F": "F"}
    assert readings("mf") == {"M": "m", "f": "f"}  # merged M reads as m; f is its own class
    assert readings("0O") == {"0": "0", "O": "O"}  # never maps letters to digits


def test_charset_allowing_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="allows none"):
        resolve_charset(DIGITS, "upper")


def test_a_space_of_both_cases_reads_look_alikes_as_one_where_both_are_allowed() -> None:
    upper = readings("upper", ALNUM62)
    assert len(upper) == 26 and "l" not in upper and upper["I"] == "I"
    lower = readings("lower", ALNUM62)
    assert len(lower) == 26 and lower["l"] == "l" and lower["c"] == "c" and "C" not in lower
    # Both cases allowed: a look-alike's two classes are one reading, the upper case, as in
    # the 47-class space; letters whose cases differ keep both.
    alnum = resolve_charset(ALNUM62, "alnum")
    assert len(alnum.classes) == 62 and tuple(alnum.readings) == ALNUM47
    both = readings("letters", ALNUM62)
    assert both["c"] == both["C"] == "C" and both["l"] == "L" and both["a"] == "a"
    assert tuple(resolve_charset(ALNUM62, None).readings) == ALNUM47
    assert readings("Cc", ALNUM62) == {"C": "C", "c": "C"}


def test_merge_adds_the_probabilities_of_classes_read_alike() -> None:
    view = resolve_charset(ALNUM62, "Cca")
    probs = np.array([[0.3, 0.2, 0.5]])  # over C, a, c in the order of the labels
    assert [ALNUM62[c] for c in view.classes] == ["C", "a", "c"]
    np.testing.assert_allclose(view.merge(probs), [[0.8, 0.2]])
    assert view.readings.tolist() == ["C", "a"]


@pytest.mark.parametrize(
    ("label", "charset", "unknown"),
    [
        ("C", "alnum", True),  # c and C read as C: a C confirmed may have been a c
        ("c", "letters", True),
        ("C", "upper", False),  # an upper field tells them apart
        ("l", "lower", False),
        ("O", "0123456789ABCO", False),  # a literal charset without o
        ("o", "oO", True),
        ("A", "alnum", False),  # a and A are told apart in any field
        ("C", "", True),  # the field's charset not recorded: either case
        ("7", "", False),
    ],
)
def test_a_confirmed_look_alike_is_of_unknown_case_where_both_cases_read_as_one(
    label: str, charset: str, unknown: bool
) -> None:
    assert case_unknown(label, charset) is unknown
