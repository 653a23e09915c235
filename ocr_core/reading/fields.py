"""Assemble field values from characters, run the template's validators, decode by format."""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from segmentation.records import FieldCrops

Reading = list[tuple[str, float]]  # one character's alternatives (character, probability)
CHECKSUM_ODDS = 20.0  # a Luhn or date rule may choose a reading at most this much less probable


def assemble_value(chars: Iterable[tuple[int, str]]) -> str:
    """Join a field's characters by index; a gap between read characters becomes one space.

    Args:
        chars: (index, character) pairs of the characters read (empty cells left out).

    Returns:
        The field's text with leading and trailing gaps dropped.
    """
    ordered = sorted(chars)
    text: list[str] = []
    previous: int | None = None
    for index, char in ordered:
        if previous is not None and index > previous + 1:
            text.append(" ")
        text.append(char)
        previous = index
    return "".join(text)


def luhn_ok(digits: str) -> bool:
    """Return True when ``digits`` (digits only) passes the Luhn checksum."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def validate_value(value: str, rules: Mapping[str, object]) -> list[str]:
    """Check a field's value against its validators.

    Args:
        value: the assembled field text.
        rules: ``regex`` (full match), ``date`` (a strptime format) and/or ``luhn`` (bool).

    Returns:
        One human-readable reason per failed validator; empty when all pass.
    """
    failures: list[str] = []
    regex = rules.get("regex")
    if regex and not re.fullmatch(str(regex), value):
        failures.append(f"does not match {regex}")
    date_format = rules.get("date")
    if date_format:
        try:
            datetime.strptime(value, str(date_format))
        except ValueError:
            failures.append(f"not a date in format {date_format}")
    if rules.get("luhn") and not luhn_ok(value):
        failures.append("Luhn checksum fails")
    return failures


def decode_field(
    readings: Sequence[Reading],
    indices: Sequence[int],
    rules: Mapping[str, object],
    *,
    budget: int = 1000,
) -> list[Reading] | None:
    """Choose the most probable reading of a field that its validators accept.

    Readings are tried best first (by the product of the characters' probabilities, over each
    character's alternatives), the way a clerk reads an ambiguous postcode: a character that
    looks like 0 where the format needs a letter is the O that came second. With a ``regex``,
    each character's probabilities are then conditioned on the format: renormalised over the
    alternatives that keep the value matching, the rest of the reading fixed (as a charset
    narrows the classes), with the probability left to unlisted characters counted as fitting.
    Luhn and date rules only choose, and only among readings at least 1/20 as probable as the
    best: a checksum is weak evidence against a confident reading (a number written short
    fails its Luhn sum however well it is read), and as every single-digit change breaks a
    Luhn sum, conditioning on one would claim certainty it does not have.

    Args:
        readings: per character read, its alternatives, best first (probabilities > 0).
        indices: each character's index in the field (gaps become spaces in the value).
        rules: the field's validators (``regex``, ``date``, ``luhn``).
        budget: most readings tried before giving up.

    Returns:
        Per character, its alternatives re-ranked: the chosen character first (with its
        conditioned probability under a regex, else its own), then the others; or None when
        the field has no validators, or no reading within ``budget`` passes them.
    """
    if not rules or not readings:
        return None
    slack = math.log(CHECKSUM_ODDS) if rules.get("luhn") or rules.get("date") else math.inf
    choice = _first_valid(readings, indices, rules, budget, slack)
    if choice is None:
        return None
    chars = [readings[i][k][0] for i, k in enumerate(choice)]
    regex = str(rules["regex"]) if rules.get("regex") else None
    out = []
    for i, k in enumerate(choice):
        chosen, others = readings[i][k], [a for j, a in enumerate(readings[i]) if j != k]
        if regex is None:
            out.append([chosen, *sorted(others, key=lambda a: -a[1])])
            continue
        fits = []
        for char, prob in readings[i]:
            trial = [*chars[:i], char, *chars[i + 1 :]]
            value = assemble_value(zip(indices, trial, strict=True))
            fits.append((char, prob if re.fullmatch(regex, value) else 0.0))
        # Probability beyond the alternatives listed may belong to characters that fit too.
        unseen = max(0.0, 1.0 - sum(p for _, p in readings[i]))
        total = sum(p for _, p in fits) + unseen
        out.append(sorted(((c, p / total) for c, p in fits), key=lambda a: -a[1]))
    return out


def _first_valid(
    readings: Sequence[Reading],
    indices: Sequence[int],
    rules: Mapping[str, object],
    budget: int,
    slack: float,
) -> list[int] | None:
    """The best-scoring choice of alternatives whose value passes ``rules``, or None.

    Choices come off a heap in order of falling joint probability; each is reached once, from
    the choice with its last changed character one alternative earlier. None when ``budget``
    choices or a cost ``slack`` (negative log probability) above the best are passed.
    """
    costs = [[-math.log(max(p, 1e-300)) for _, p in r] for r in readings]
    start = [0] * len(readings)
    best = sum(c[0] for c in costs)
    heap = [(best, start, 0)]
    for _ in range(budget):
        if not heap or heap[0][0] > best + slack:
            return None
        cost, choice, last = heapq.heappop(heap)
        chars = [readings[i][k][0] for i, k in enumerate(choice)]
        value = assemble_value(zip(indices, chars, strict=True))
        if not validate_value(value, rules):
            return choice
        for i in range(last, len(choice)):
            k = choice[i] + 1
            if k < len(readings[i]):
                step = [*choice[:i], k, *choice[i + 1 :]]
                heapq.heappush(heap, (cost - costs[i][k - 1] + costs[i][k], step, i))
    return None


def uncertain_by_field(
    confidences: Sequence[float], uncertain: Sequence[bool], field_threshold: float | None
) -> list[bool]:
    """Which of a field's characters to flag, when the field as a whole decides.

    A field's chance of being read right is the product of its characters' calibrated
    confidences. Bounding that, rather than each character's, treats a field of sixteen
    confident digits and one of three alike: the first no longer passes where its combined
    doubt is larger, and the second no longer goes to review for one character a little
    under a threshold chosen for characters.

    Args:
        confidences: each character's calibrated top-1 probability.
        uncertain: each character's own flag (its confidence under the character threshold).
        field_threshold: the bound on the product; None keeps the characters' own flags.

    Returns:
        No flags when the product is at least ``field_threshold``; else the characters' own
        flags, or the least confident character alone when none is flagged (so that a reviewer
        sees where the doubt lies).
    """
    flags = list(uncertain)
    if field_threshold is None or not flags:
        return flags
    if math.prod(confidences) >= field_threshold:
        return [False] * len(flags)
    if not any(flags):
        flags[min(range(len(flags)), key=lambda i: confidences[i])] = True
    return flags


def rules_of(crops: FieldCrops) -> dict[str, object]:
    """The field's validators as a plain mapping (for the run manifest and re-checks)."""
    v = crops.validation
    rules: dict[str, object] = {
        k: val for k, val in (("regex", v.regex), ("date", v.date), ("luhn", v.luhn)) if val
    }
    if v.choices:  # recorded, not re-checked: the reader already chose a value of the list
        rules["choices"] = v.choices_file or list(v.choices)
    return rules
