"""Charset constraints: which of a bundle's classes a field allows, and what each one reads as."""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np

NAMED: Final[dict[str, str]] = {
    "digits": string.digits,
    "upper": string.ascii_uppercase,
    "lower": string.ascii_lowercase,
    "letters": string.ascii_letters,
    "alnum": string.digits + string.ascii_letters,
}
# The letters whose two cases EMNIST ByMerge merges because written they look alike. A field
# that allows both cases of one of them cannot tell which was meant, so it reads the upper case.
LOOK_ALIKE: Final = frozenset("cijklmopsuvwxyz")


@dataclass(frozen=True, slots=True)
class Charset:
    """A field's allowed characters resolved against a bundle's labels.

    Attributes:
        classes: int (K,) indices of the bundle classes the field allows.
        readings: str (R,) what the allowed classes are reported as, each once, in order of
            first appearance (R <= K). A merged class ``C`` reads as ``c`` in a field that
            allows only ``c``.
        columns: int (K,) each allowed class's index into ``readings``; classes that read
            alike share one, and their probabilities add up.
    """

    classes: np.ndarray
    readings: np.ndarray
    columns: np.ndarray

    def merge(self, probs: np.ndarray) -> np.ndarray:
        """Probabilities over ``classes`` (N, K) summed into ``readings`` (N, R)."""
        if len(self.readings) == len(self.classes):
            return probs
        merged = np.zeros((probs.shape[0], len(self.readings)), probs.dtype)
        for k, column in enumerate(self.columns):
            merged[:, column] += probs[:, k]
        return merged


def holds_letters(charset: str | None) -> bool:
    """Whether a field of this charset may hold letters (without a charset, anything may be)."""
    return not charset or any(c.isalpha() for c in NAMED.get(charset, charset))


def both_cases(labels: tuple[str, ...]) -> bool:
    """Whether a bundle's labels tell apart the two cases of look-alike letters (ByClass).

    The 47-class space has both cases of a, b, d, ... but not of these, so it does not.
    """
    return any(c in labels and c.upper() in labels for c in LOOK_ALIKE)


def case_unknown(label: str, charset: str) -> bool:
    """Whether ``label``, confirmed by a person in a field of ``charset``, may be either case.

    A field that allows both cases of a look-alike letter reads both as the upper case
    (``resolve_charset``), so confirming ``C`` there says nothing of whether ``c`` was
    written. An empty ``charset`` (the field's is not known) counts as allowing both.
    """
    if len(label) != 1:
        return False
    letter = label.lower()
    allowed = set(NAMED.get(charset, charset)) if charset else {letter, letter.upper()}
    return _read_as_one(letter, allowed)


def _read_as_one(letter: str, allowed: set[str]) -> bool:
    """Whether a field allowing ``allowed`` reads both cases of lower-case ``letter`` as one."""
    return letter in LOOK_ALIKE and letter in allowed and letter.upper() in allowed


def _reading(label: str, labels: tuple[str, ...], allowed: set[str]) -> str | None:
    """What one class reads as in a field allowing ``allowed``, or None when it is not allowed."""
    if label in allowed:
        reading = label
    elif label.isupper() and label.lower() not in labels and label.lower() in allowed:
        reading = label.lower()  # a merged class of the 47-class space in a lower-case field
    else:
        return None
    if _read_as_one(reading, allowed) and reading.upper() in labels:
        return reading.upper()  # both cases allowed and one can't tell them apart: one reading
    return reading


@lru_cache(maxsize=256)
def resolve_charset(labels: tuple[str, ...], charset: str | None) -> Charset:
    """Resolve a charset against a bundle's labels.

    A class is allowed when its label is allowed. A merged upper-case class (``C`` when the
    labels have no ``c``) is also allowed when only its lower case is, and then reads as the lower
    case. So in the 47-class space an ``upper`` field reads the merged class as ``C`` and a
    ``lower`` field as ``c``. In a space with both cases (62 classes), a field that allows both
    cases of a look-alike letter (``LOOK_ALIKE``) reads both classes as the upper case, so
    ``alnum`` and ``letters`` fields, and no charset at all, read as in the 47-class space, while
    ``upper`` and ``lower`` fields tell ``l`` from ``I``.

    Args:
        labels: the bundle's class labels.
        charset: None (all classes), a name in ``NAMED``, or a literal string of allowed characters.

    Returns:
        The allowed classes and their readings.

    Raises:
        ValueError: the charset allows none of the bundle's classes.
    """
    allowed = set(labels) if charset is None else set(NAMED.get(charset, charset))
    classes, reads_as = [], []
    for i, label in enumerate(labels):
        reading = _reading(label, labels, allowed)
        if reading is not None:
            classes.append(i)
            reads_as.append(reading)
    if not classes:
        raise ValueError(
            f"charset {charset!r} allows none of the model's classes ({''.join(labels)})"
        )
    readings = list(dict.fromkeys(reads_as))
    columns = [readings.index(r) for r in reads_as]
    return Charset(np.array(classes), np.array(readings), np.array(columns))
