import pytest

from ocr_core.recognition.charset import resolve_charset
from ocr_core.training.corpus import ALNUM47, DIGITS


def readings(charset: str | None, labels: tuple[str, ...] = ALNUM47) -> dict[str, str]:
    allowed = resolve_charset(labels, charset)
    return {labels[c]: r for c, r in zip(allowed.classes, allowed.reads_as, strict=True)}


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
