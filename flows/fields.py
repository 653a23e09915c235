"""Assemble field values from characters and run the template's field validators."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime


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
