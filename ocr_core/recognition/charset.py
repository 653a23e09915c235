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


@dataclass(frozen=True, slots=True)
class Charset:
    """A field's allowed characters resolved against a bundle's labels.

    Attributes:
        classes: int (K,) indices of the bundle classes the field allows.
        reads_as: str (K,) what each allowed class is reported as (a merged class ``C`` reads
            as ``c`` in a field that allows only ``c``).
    """

    classes: np.ndarray
    reads_as: np.ndarray


@lru_cache(maxsize=256)
def resolve_charset(labels: tuple[str, ...], charset: str | None) -> Charset:
    """Resolve a charset against a bundle's labels.

    A class is allowed when its label is allowed. A merged upper-case class (``C`` when the
    labels have no ``c``) is also allowed when only its lower case is, and then reads as the lower
    case. So in the 47-class space an ``upper`` field reads the merged class as ``C`` and a
    ``lower`` field as ``c``.

    Args:
        labels: the bundle's class labels.
        charset: None (all classes), a name in ``NAMED``, or a literal string of allowed characters.

    Returns:
        The allowed classes and their readings.

    Raises:
        ValueError: the charset allows none of the bundle's classes.
    """
    if charset is None:
        return Charset(np.arange(len(labels)), np.array(labels))
    allowed = set(NAMED.get(charset, charset))
    classes, reads_as = [], []
    for i, label in enumerate(labels):
        if label in allowed:
            classes.append(i)
            reads_as.append(label)
        elif label.isupper() and label.lower() not in labels and label.lower() in allowed:
            classes.append(i)
            reads_as.append(label.lower())
    if not classes:
        raise ValueError(
            f"charset {charset!r} allows none of the model's classes ({''.join(labels)})"
        )
    return Charset(np.array(classes), np.array(reads_as))
